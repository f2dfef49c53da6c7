import numpy as np
import pytest

from nnfit.errors import NnfitError
from nnfit.evaluation.task import Classification, Regression, choose_loss

BINARY = Classification("binary_cross_entropy", ["y"], classes=["no", "yes"])
THREE = Classification("cross_entropy", ["y"], classes=["a", "b", "c"])
REG = Regression("mse", ["y", "z"], target_scale=[[10.0, 2.0], [0.0, 1.0]])


def test_a_binary_tie_goes_to_the_first_class_in_every_path():
    logits = np.array([[0.0], [1e-3], [-1e-3]], dtype=np.float32)  # p = 0.5, a bit above, below
    assert BINARY.decide(logits).tolist() == [0, 1, 0]
    assert BINARY.prediction_columns(logits)["predicted_y"].tolist() == ["no", "yes", "no"]
    assert BINARY.metrics(logits, np.array([0, 1, 0]))["accuracy"] == 1.0


def test_softmax_decision_and_probability_columns():
    logits = np.array([[0.0, 2.0, 1.0], [3.0, 3.0, 0.0]])
    assert THREE.decide(logits).tolist() == [1, 0]
    columns = THREE.prediction_columns(logits)
    assert list(columns) == ["predicted_y", "probability_a", "probability_b", "probability_c"]
    np.testing.assert_allclose(columns["probability_a"] + columns["probability_b"]
                               + columns["probability_c"], 1.0)


def test_baselines_are_priors_and_the_training_mean():
    y = np.array([0, 0, 0, 1])
    base = BINARY.baseline_logits(y, 2, np.float32)
    assert base.shape == (2, 1) and base.dtype == np.float32
    np.testing.assert_allclose(base, np.log(1 / 3))  # logit of P(yes) = 1/4
    np.testing.assert_allclose(THREE.baseline_logits(np.array([0, 1, 1, 2]), 1, np.float64),
                               [np.log([0.25, 0.5, 0.25])])
    np.testing.assert_allclose(REG.baseline_logits(np.array([[1.0, 2.0], [3.0, 4.0]]), 3, np.float64),
                               [[2.0, 3.0]] * 3)


def test_regression_reports_in_the_targets_units():
    scaled = np.array([[0.0, 1.0], [1.0, -1.0]])
    np.testing.assert_allclose(REG.decode(scaled), [[10.0, 1.0], [12.0, -1.0]])
    assert list(REG.prediction_columns(scaled)) == ["predicted_y", "predicted_z"]
    m = REG.metrics(scaled, np.array([[0.5, 1.0], [1.0, -1.0]]))  # y off by 1.0 unit in one row
    assert m["mae"] == pytest.approx(0.25) and m["mse"] == pytest.approx(0.25)


@pytest.mark.parametrize("kind,n,requested,expected", [
    ("regression", None, "auto", "mse"), ("regression", None, "rss", "rss"),
    ("classification", 2, "auto", "binary_cross_entropy"),
    ("classification", 5, "auto", "cross_entropy"),
    ("classification", 2, "cross_entropy", "cross_entropy"),
])
def test_choose_loss(kind, n, requested, expected):
    assert choose_loss(kind, n, requested, ["y"], "c.yaml") == expected


def test_a_loss_that_does_not_fit_the_task_is_refused():
    with pytest.raises(NnfitError, match="c.yaml: training.loss: binary_cross_entropy needs "
                                         "exactly 2 classes, 'y' has 3"):
        choose_loss("classification", 3, "binary_cross_entropy", ["y"], "c.yaml")
    with pytest.raises(NnfitError, match="training.loss: mse is for regression"):
        choose_loss("classification", 3, "mse", ["y"], "c.yaml")


# -- class weights and the metrics of two classes ---------------------------------------------

from nnfit.evaluation.task import check_class_weight, resolve_class_weight  # noqa: E402


def test_binary_tasks_add_roc_auc_and_log_loss_and_every_class_task_balanced_accuracy():
    logits = np.array([[-2.0], [0.5], [0.2], [-0.1]])  # p(yes) = σ(z)
    m = BINARY.metrics(logits, np.array([0, 1, 0, 1]))
    assert list(m) == ["accuracy", "f1_macro", "balanced_accuracy", "roc_auc", "log_loss"]
    assert m["roc_auc"] == 0.75  # yes rows 0.5, -0.1 vs no rows -2, 0.2: 3 of 4 pairs in order
    p = 1 / (1 + np.exp(-logits[:, 0]))
    assert m["log_loss"] == pytest.approx(-np.mean(np.log([1 - p[0], p[1], 1 - p[2], p[3]])))
    assert BINARY.metrics(logits, np.array([1, 1, 1, 1]))["roc_auc"] is None
    assert list(THREE.metrics(np.zeros((2, 3)), np.array([0, 2]))) == [
        "accuracy", "f1_macro", "balanced_accuracy"]
    two_softmax = Classification("cross_entropy", ["y"], classes=["no", "yes"])
    assert two_softmax.metrics(np.column_stack([np.zeros(4), logits[:, 0]]),
                               np.array([0, 1, 0, 1]))["roc_auc"] == 0.75


def test_evaluate_scores_probabilities_on_the_known_rows_only():
    logits = np.array([[-2.0], [0.5], [1.0], [3.0]])
    y = np.array([0, 1, 0, -1])  # the last row's class was never seen in training
    result = BINARY.evaluate(logits, y, unseen=np.array(["maybe"]))
    assert result["roc_auc"] == 0.5 and result["unseen_rows"] == 1
    assert result["balanced_accuracy"] == pytest.approx((1 / 2 + 1 + 0) / 3)  # "maybe": recall 0
    assert result["log_loss"] == pytest.approx(BINARY.metrics(logits[:3], y[:3])["log_loss"])


def test_balanced_weights_are_scikit_learns_formula_on_the_training_rows():
    y_train = np.array([0, 0, 0, 1, 2, 2])  # n = 6, 3 classes: 6 / (3 · n_k)
    weights = resolve_class_weight("balanced", ["a", "b", "c"], y_train, ["y"], "c.yaml")
    assert weights == pytest.approx([2 / 3, 2.0, 1.0])
    sk = pytest.importorskip("sklearn.utils.class_weight")
    assert weights == pytest.approx(sk.compute_class_weight("balanced", classes=np.arange(3),
                                                            y=y_train).tolist())
    assert resolve_class_weight("balanced", ["a", "b"], np.array([1, 0, 1, 0]), ["y"],
                                "c.yaml") == [1.0, 1.0]
    assert resolve_class_weight(None, ["a", "b"], y_train, ["y"], "c.yaml") is None


def test_a_mapping_weighs_the_classes_it_names_and_leaves_the_others_at_one():
    assert resolve_class_weight({"c": 4.0, "a": 0.5}, ["a", "b", "c"], np.array([0, 1, 2]),
                                ["y"], "c.yaml") == [0.5, 1.0, 4.0]


def test_class_weight_errors_name_the_label_or_the_target():
    with pytest.raises(NnfitError) as info:
        resolve_class_weight({"malignent": 2.0}, ["benign", "malignant"], np.array([0, 1]),
                             ["diagnosis"], "c.yaml")
    assert info.value.message == (
        "c.yaml: training.class_weight: 'malignent' is not a class of 'diagnosis' (its classes: "
        "benign, malignant) (did you mean 'malignant'?)")
    with pytest.raises(NnfitError) as info:
        resolve_class_weight("balanced", None, None, ["progression"], "c.yaml")
    assert info.value.message == (
        "c.yaml: training.class_weight needs a classification target, but 'progression' is a "
        "regression target (leave class_weight out, or set data.task: classification)")


def test_the_task_owns_the_weighted_loss():
    task = Classification("binary_cross_entropy", ["y"], classes=["no", "yes"],
                          class_weight=[0.5, 2.0])
    assert task.loss.weight.tolist() == [0.5, 2.0] and task.n_outputs == 1
    assert task.weight_by_class == {"no": 0.5, "yes": 2.0} and BINARY.weight_by_class is None
    logits, y = np.array([[0.3], [-1.0], [2.0]]), np.array([1, 0, 0])
    assert task.score(logits, y)["loss"] == pytest.approx(task.loss.value(
        logits, task.loss.targets(y, np.float64)))
    assert task.score(logits, y)["loss"] != pytest.approx(BINARY.score(logits, y)["loss"])
    assert task.row_losses(logits, y).mean() == pytest.approx(task.score(logits, y)["loss"])
    assert REG.class_weight is None


def _weighted_loss_of_constant(task, row, y):
    return task.score(np.tile(np.asarray(row, dtype=np.float64), (len(y), 1)), y)["loss"]


@pytest.mark.parametrize("task,weights,y", [
    (BINARY, [1.0, 3.0], np.array([0, 0, 0, 0, 1, 1])),
    (THREE, [2.0, 1.0, 4.0], np.array([0, 1, 1, 2, 1, 1, 0])),
])
def test_the_weighted_baseline_is_the_best_constant_under_the_weighted_loss(task, weights, y):
    from dataclasses import replace

    weighted = replace(task, class_weight=weights)
    base = weighted.baseline_logits(y, 1, np.float64)[0]
    counts = np.bincount(y, minlength=len(task.classes)) * np.array(weights)
    p = counts / counts.sum()  # p_k ∝ w_k·n_k
    np.testing.assert_allclose(base, np.log(p[1:] / p[:1]) if task.n_outputs == 1 else np.log(p))
    best = _weighted_loss_of_constant(weighted, base, y)
    priors = task.baseline_logits(y, 1, np.float64)[0]  # the unweighted baseline's row
    assert best < _weighted_loss_of_constant(weighted, priors, y) - 1e-3
    rng = np.random.default_rng(0)
    for _ in range(20):  # no nearby constant does better
        assert best <= _weighted_loss_of_constant(weighted, base + 0.05 * rng.standard_normal(
            base.shape), y) + 1e-12


def test_saved_class_weights_are_checked():
    assert check_class_weight([1, 2.5], ["a", "b"]) == [1.0, 2.5]
    for bad, message in [([1.0], "must be a list of 2 weights"), ("1,2", "must be a list of 2"),
                         ([1.0, -1.0], "positive finite numbers (got -1.0)"),
                         ([1.0, float("inf")], "positive finite"), ([1.0, True], "positive")]:
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            check_class_weight(bad, ["a", "b"])
    with pytest.raises(ValueError, match="a model without classes"):
        check_class_weight([1.0], None)


@pytest.mark.parametrize("task,weights,y", [
    (BINARY, None, np.array([0, 0, 0, 0, 1, 1])),
    (THREE, None, np.array([0, 1, 1, 2, 1, 1, 0])),
    (THREE, [2.0, 1.0, 4.0], np.array([0, 1, 1, 2, 1, 1, 0])),
])
def test_the_smoothed_baseline_is_the_best_constant_under_the_smoothed_loss(task, weights, y):
    """Scored loss, baseline and the trainer's loss are one smoothed loss (like with like);
    its best constant is the mean soft target, (1 − ε)·p + ε/K."""
    from dataclasses import replace

    smoothed = replace(task, class_weight=weights, label_smoothing=0.2)
    base = smoothed.baseline_logits(y, 1, np.float64)[0]
    counts = np.bincount(y, minlength=len(task.classes)) * np.array(weights or 1.0)
    p = 0.8 * counts / counts.sum() + 0.2 / len(task.classes)
    np.testing.assert_allclose(base, np.log(p[1:] / p[:1]) if task.n_outputs == 1 else np.log(p))
    best = _weighted_loss_of_constant(smoothed, base, y)
    rng = np.random.default_rng(0)
    for _ in range(20):
        assert best <= _weighted_loss_of_constant(smoothed, base + 0.05 * rng.standard_normal(
            base.shape), y) + 1e-12
    logits = rng.normal(size=(len(y), task.n_outputs))
    plain = replace(task, class_weight=weights)
    # the metrics stay unsmoothed; the loss is the smoothed one
    assert {k: v for k, v in smoothed.score(logits, y).items() if k != "loss"} == \
        {k: v for k, v in plain.score(logits, y).items() if k != "loss"}
    assert smoothed.score(logits, y)["loss"] == pytest.approx(smoothed.loss.value(
        logits, smoothed.loss.targets(y, np.float64)))


def test_label_smoothing_is_refused_for_regression_naming_the_key():
    from nnfit.evaluation.task import check_label_smoothing

    assert check_label_smoothing(0.1, "classification", ["y"], "c.yaml") == 0.1
    assert check_label_smoothing(0.0, "regression", ["y"], "c.yaml") == 0.0
    with pytest.raises(NnfitError, match="c.yaml: training.label_smoothing: 0.1 needs a "
                                         "classification target, but 'y' is a regression"):
        check_label_smoothing(0.1, "regression", ["y"], "c.yaml")

import numpy as np
import pytest

from nnfit.errors import NnfitError
from nnfit.task import Classification, Regression, choose_loss

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

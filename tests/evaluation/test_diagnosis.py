"""The fit diagnosis: constructed fits whose truth is known, and the rule's thresholds."""

import numpy as np
import pytest
from diagnosis_cases import CASES

from nnfit.config.load import load_config
from nnfit.evaluation import diagnosis as dx
from nnfit.evaluation.diagnosis import Evidence, diagnose
from nnfit.workflows import fit, prepare, score


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("case", list(CASES))
def test_constructed_fits_get_the_right_verdict(tmp_path, case, seed):
    make, config_text, right = CASES[case]
    make(np.random.default_rng(seed)).to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "c.yaml").write_text(config_text)
    prepared = prepare(load_config(tmp_path / "c.yaml", [f"training.seed={seed}"]),
                       tmp_path / "d.csv")
    d = score(prepared, fit(prepared)).diagnosis
    assert d["verdict"] in right, d["reason"]
    assert d["reason"] and d["advice"] and isinstance(d["evidence"], list)


def _evidence(**changes):
    """A good fit: 100 val rows, train 0.2 of a baseline of 1, val a little above."""
    rng = np.random.default_rng(0)
    train = list(np.linspace(0.9, 0.2, 35)) + [0.2] * 15  # flat at the end: not still learning
    base = dict(train_loss=0.2, base_train=1.0, train_rows=0.2 + 0.1 * rng.standard_normal(300),
                history={"train_loss": train, "val_loss": list(np.linspace(0.9, 0.22, 50))},
                best_epoch=50, epochs_run=50, stop_reason="completed", val_loss=0.22,
                base_val=1.0, val_rows=0.22 + 0.1 * rng.standard_normal(100))
    return Evidence(**{**base, **changes})


def test_a_good_fit_checks_the_curve_the_gap_and_the_trend():
    d = diagnose(_evidence())
    assert d["verdict"] == "good fit" and d["not_checked"] == []
    assert [c["check"] for c in d["evidence"]] == ["generalization gap", "still learning"]


@pytest.mark.parametrize("n_val,verdict", [(dx.MIN_VAL_ROWS - 1, "inconclusive"),
                                           (dx.MIN_VAL_ROWS, "good fit")])
def test_too_few_validation_rows_is_inconclusive(n_val, verdict):
    rows = 0.22 + 0.1 * np.random.default_rng(1).standard_normal(n_val)
    assert diagnose(_evidence(val_rows=rows))["verdict"] == verdict


def test_a_material_gap_within_the_noise_is_inconclusive_and_beyond_it_overfitting():
    rng = np.random.default_rng(2)
    noisy = 0.9 + 3.0 * rng.standard_normal(25)  # gap 0.6 = 60 % of the baseline, se ≈ 0.6
    d = diagnose(_evidence(val_loss=0.9, val_rows=noisy))
    assert d["verdict"] == "inconclusive" and "standard errors" in d["reason"]
    quiet = 0.9 + 0.1 * rng.standard_normal(25)
    assert diagnose(_evidence(val_loss=0.9, val_rows=quiet))["verdict"] == "overfitting"


def test_a_rise_after_an_early_best_is_overfitting_even_with_the_early_weights_restored():
    val = [0.5] + list(np.linspace(0.55, 0.9, 40))
    train = list(np.linspace(0.5, 0.1, 41))
    rise = 0.4 + 0.05 * np.random.default_rng(3).standard_normal(100)
    d = diagnose(_evidence(train_loss=0.5, val_loss=0.5, best_epoch=1, epochs_run=41,
                           history={"train_loss": train, "val_loss": val}, rise_rows=rise))
    assert d["verdict"] == "overfitting" and "epoch 1" in d["reason"]
    assert d["evidence"][0]["check"] == "val rose after its best" and d["evidence"][0]["paired"]


def test_high_train_loss_asks_the_probe_and_its_answer_decides():
    noise = 0.1 * np.random.default_rng(4).standard_normal(300)
    rigid = _evidence(train_loss=0.8, train_rows=0.8 + noise, val_loss=0.82)
    assert diagnose(rigid).get("probe_wanted")
    assert diagnose(rigid)["verdict"] == "inconclusive"
    helped = dict(train_loss=0.3, val_loss=0.35, layers="64→64", epochs=20, seconds=0.1)
    rigid.probe = helped
    d = diagnose(rigid)
    assert d["verdict"] == "underfitting" and "64→64" in d["reason"]
    rigid.probe = {**helped, "train_loss": 0.78}
    d = diagnose(rigid)
    assert d["verdict"] == "good fit" and d["advice"] == dx.ADVICE[dx.Kind.GOOD_FIT_DATA_LIMITED]
    assert d["kind"] == dx.Kind.GOOD_FIT_DATA_LIMITED


def test_without_validation_overfitting_is_listed_as_not_checked():
    d = diagnose(_evidence(val_loss=None, val_rows=None, base_val=None,
                           history={"train_loss": [0.2] * 50}))
    assert d["verdict"] == "good fit"
    assert {"check": "overfitting", "why": "no validation split"} in d["not_checked"]


def test_probe_skipped_is_reported_with_its_reason():
    e = _evidence(train_loss=0.8, val_loss=0.82, probe_skipped="--no-probe")
    d = diagnose(e)
    assert d["verdict"] == "inconclusive"
    assert {"check": "capacity probe", "why": "--no-probe"} in d["not_checked"]


def test_a_probe_over_its_budget_leaves_the_verdict_inconclusive_unless_forced():
    asked = []

    def probe(full):
        asked.append(full)
        return {"train_loss": 0.2, "val_loss": 0.25, "layers": "64", "epochs": 20,
                "seconds": 0.1, "lr": 3e-3, "main_lr": 1e-3,
                "same_width": {"train_loss": 0.8, "val_loss": 0.82, "epochs": 20}} if full \
            else "the probe's budget was too small: run with --probe"

    d, ran = dx.judge(_evidence(train_loss=0.8, val_loss=0.82), "auto", probe)
    assert (d["verdict"], ran, asked) == ("inconclusive", False, [False])
    assert d["reason"].endswith("did not run (the probe's budget was too small: run with "
                                "--probe)")
    d, ran = dx.judge(_evidence(train_loss=0.8, val_loss=0.82), "always", probe)
    assert (d["verdict"], ran, asked) == ("underfitting", True, [False, True])


def test_a_constant_target_is_inconclusive_not_a_division_by_zero():
    d = diagnose(_evidence(base_train=0.0, base_val=0.0, train_loss=0.0, val_loss=0.0))
    assert d["verdict"] == "inconclusive" and "constant" in d["reason"]


def _collapsed_classes(n=200, minority=0.06):
    true = (np.arange(n) < int(minority * n)).astype(np.intp)  # class 1: the 6 % minority
    return dict(classes=["no", "yes"], held_true=true, held_pred=np.zeros(n, dtype=np.intp))


def test_a_classifier_that_never_gets_the_minority_right_is_a_collapse_not_overfitting():
    d = diagnose(_evidence(val_loss=0.9, val_rows=0.9 + 0.1 * np.random.default_rng(5)
                           .standard_normal(200), **_collapsed_classes()))
    assert d["kind"] == dx.Kind.UNDERFITTING_COLLAPSE and d["verdict"] == "underfitting"
    assert "predicts 'no' for 100%" in d["reason"]
    assert "gets 0 of the 12 rows of 'yes' right" in d["reason"]
    assert "class_weight: balanced" in d["advice"]
    weighted = diagnose(_evidence(class_weighted=True, **_collapsed_classes()))
    assert weighted["kind"] != dx.Kind.UNDERFITTING_COLLAPSE  # already weighted: not the advice


def test_no_collapse_when_the_classes_are_balanced_or_the_minority_is_predicted():
    n = 200
    balanced = np.arange(n) % 2
    assert diagnose(_evidence(classes=["a", "b"], held_true=balanced,
                              held_pred=np.zeros(n, dtype=np.intp)))["kind"] == dx.Kind.GOOD_FIT
    some = _collapsed_classes()
    some["held_pred"] = some["held_true"].copy()
    assert diagnose(_evidence(**some))["kind"] == dx.Kind.GOOD_FIT


def test_a_rise_is_judged_at_its_peak_even_when_the_last_epoch_dips_back():
    val = [0.9, 0.5] + [0.8] * 38 + [0.52]  # best at epoch 2, back near it at the end
    train = list(np.linspace(0.9, 0.1, 41))
    rise = 0.3 + 0.05 * np.random.default_rng(6).standard_normal(100)  # peak − best, per row
    d = diagnose(_evidence(train_loss=0.5, val_loss=0.5, best_epoch=2, epochs_run=41,
                           peak_epoch=3, history={"train_loss": train, "val_loss": val},
                           rise_rows=rise))
    assert d["kind"] == dx.Kind.OVERFITTING_ROSE and "less patience" in d["advice"]
    check = d["evidence"][0]
    assert check["peak_epoch"] == 3 and check["mean_rise"] > 0.2


def test_overfitting_from_the_gap_alone_does_not_advise_less_patience():
    d = diagnose(_evidence(val_loss=0.9, val_rows=0.9 + 0.1 * np.random.default_rng(7)
                           .standard_normal(100)))
    assert d["kind"] == dx.Kind.OVERFITTING and "patience" not in d["advice"]


def test_a_network_whose_train_loss_is_a_small_fraction_of_val_is_never_nothing_to_fix():
    # 32 classes: baseline 3.47; val 0.33 is 6× a train loss of 0.055 but < 20 % of the baseline
    rng = np.random.default_rng(8)
    d = diagnose(_evidence(train_loss=0.055, train_rows=0.055 + 0.01 * rng.standard_normal(300),
                           base_train=3.47, base_val=3.47, val_loss=0.33,
                           val_rows=0.33 + 0.2 * rng.standard_normal(400)))
    assert d["verdict"] == "overfitting", d["reason"]
    tiny = diagnose(_evidence(train_loss=0.01, train_rows=0.01 + 0.001 * rng.standard_normal(300),
                              val_loss=0.045, val_rows=0.045 + 0.01 * rng.standard_normal(100)))
    assert tiny["verdict"] == "good fit" and "nothing to fix" not in tiny["advice"]


def test_memorizing_with_an_identifier_column_advises_excluding_it():
    rng = np.random.default_rng(9)
    e = _evidence(train_loss=0.01, train_rows=0.01 + 0.001 * rng.standard_normal(300),
                  val_loss=0.9, val_rows=0.9 + 0.1 * rng.standard_normal(100),
                  identifiers=["rownames"])
    d = diagnose(e)
    assert d["kind"] == dx.Kind.OVERFITTING_IDENTIFIER and d["columns"] == ["rownames"]
    assert "rownames" in d["reason"] and "data.exclude" in d["advice"]


def test_a_verdict_near_its_line_is_borderline_with_the_margin():
    rng = np.random.default_rng(10)
    rows = rng.standard_normal(100)
    rows = 0.9 + (rows - rows.mean()) / rows.std(ddof=1) * 0.7 * 10 / 2.4  # gap 0.7 ≈ 2.4 SE
    d = diagnose(_evidence(val_loss=0.9, val_rows=rows))
    assert d["verdict"] == "overfitting" and d["borderline"].startswith("borderline:")
    assert diagnose(_evidence())["borderline"] is None


def test_weights_restored_to_epoch_1_say_the_model_is_nearly_untrained():
    d = diagnose(_evidence(best_epoch=1, epochs_run=40))
    assert d["notes"] and "nearly) untrained" in d["notes"][0] and "epoch 1" in d["notes"][0]
    assert diagnose(_evidence())["notes"] == []


def test_a_real_rise_just_under_the_material_line_is_a_borderline_good_fit():
    val = [0.9, 0.5] + [0.56] * 38  # best at epoch 2, then a sustained rise of 0.06
    train = list(np.linspace(0.9, 0.1, 40))
    rows = np.random.default_rng(11).standard_normal(100)
    rise = 0.09 + 0.02 * (rows - rows.mean()) / rows.std(ddof=1)  # 9 % of B_val, ~45 SE
    d = diagnose(_evidence(train_loss=0.2, val_loss=0.22, best_epoch=2, epochs_run=40,
                           peak_epoch=3, history={"train_loss": train, "val_loss": val},
                           rise_rows=rise))
    assert d["verdict"] == "good fit" and d["borderline"].startswith("borderline: val rose")
    assert "under the 10% that counts" in d["borderline"] and "regularization" in d["advice"]


def test_a_row_identifier_column_makes_the_advice_to_exclude_it_before_anything_else():
    d = diagnose(_evidence(identifiers=["rownames"], row_ids=["rownames"]))
    assert d["kind"] == dx.Kind.OVERFITTING_IDENTIFIER and d["columns"] == ["rownames"]
    assert "row identifier column(s) rownames" in d["reason"]
    high = diagnose(_evidence(identifiers=["city"]))  # many values, but rows share them
    assert high["kind"] == dx.Kind.GOOD_FIT


def test_too_few_rare_rows_held_out_are_judged_on_the_training_rows():
    few = _collapsed_classes(n=60, minority=0.06)  # 3 rare val rows: too few to tell
    assert diagnose(_evidence(**few))["kind"] == dx.Kind.GOOD_FIT
    train = _collapsed_classes(n=300, minority=0.06)
    train["held_pred"][:1] = 1  # 1 of its 18 rare training rows right: (almost) never
    d = diagnose(_evidence(**few, train_true=train["held_true"], train_pred=train["held_pred"]))
    assert d["kind"] == dx.Kind.UNDERFITTING_COLLAPSE
    assert "of the 300 training rows and gets 1 of the 18 rows of 'yes' right" in d["reason"]
    train["held_pred"][:4] = 1  # 4 of 18: the class is found now and then, no collapse
    d = diagnose(_evidence(**few, train_true=train["held_true"], train_pred=train["held_pred"]))
    assert d["kind"] == dx.Kind.GOOD_FIT


@pytest.mark.parametrize("kind", [dx.Kind.GOOD_FIT, dx.Kind.OVERFITTING])
def test_a_column_that_copies_the_target_turns_a_fit_into_overfitting_through_the_leak(kind):
    gap = {} if kind == dx.Kind.GOOD_FIT else dict(
        val_loss=0.9, val_rows=0.9 + 0.1 * np.random.default_rng(9).standard_normal(100))
    assert diagnose(_evidence(**gap))["kind"] == kind
    d = diagnose(_evidence(leaks=["flag"], row_ids=["rownames"], **gap))
    assert d["kind"] == dx.Kind.OVERFITTING_LEAK and d["verdict"] == "overfitting"
    assert d["columns"] == ["flag"] and d["borderline"] is None
    assert d["reason"].startswith("column(s) flag give the target almost exactly")
    assert "data.exclude" in d["advice"]


def _rigid_probe(same_val: float, main_lr: float = 1e-3) -> dict:
    return dict(train_loss=0.3, val_loss=0.35, layers="64→64", epochs=20, seconds=0.1,
                lr=3e-3, main_lr=main_lr,
                same_width={"train_loss": same_val - 0.05, "val_loss": same_val, "epochs": 20})


@pytest.mark.parametrize("same_val,main_lr,history,kind", [
    (0.75, 1e-3, None, dx.Kind.UNDERFITTING_CAPACITY),  # same width gains little: the size
    (0.45, 1e-3, None, dx.Kind.UNDERFITTING_EPOCHS),  # most of the gain: the training
    (0.45, 3.0, [1.0] * 50, dx.Kind.UNDERFITTING_RATE),  # stuck at the baseline, a high rate
    (0.45, 3.0, None, dx.Kind.UNDERFITTING_EPOCHS),  # it did learn: longer, not lower
])
def test_the_probe_tells_the_training_from_the_size(same_val, main_lr, history, kind):
    noise = 0.1 * np.random.default_rng(4).standard_normal(300)
    e = _evidence(train_loss=0.8, train_rows=0.8 + noise, val_loss=0.82,
                  probe=_rigid_probe(same_val, main_lr))
    if history:
        e.history = {"train_loss": history, "val_loss": history}
        e.train_loss, e.train_rows = 0.97, 0.97 + noise
    d = diagnose(e)
    assert d["kind"] == kind and d["verdict"] == "underfitting", d["reason"]
    same = next(c for c in d["evidence"] if c["check"] == "same network, probe's recipe")
    assert same["result"] == (kind != dx.Kind.UNDERFITTING_CAPACITY)

"""The fit diagnosis: constructed fits whose truth is known, and the rule's thresholds."""

import numpy as np
import pytest
from diagnosis_cases import CASES

from nnfit.config.load import load_config
from nnfit.evaluation import diagnosis as dx
from nnfit.evaluation.diagnosis import Evidence, diagnose, needs_probe
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
    assert needs_probe(rigid)
    assert diagnose(rigid)["verdict"] == "inconclusive"
    helped = dict(train_loss=0.3, val_loss=0.35, layers="64→64", epochs=20, seconds=0.1)
    rigid.probe = helped
    d = diagnose(rigid)
    assert d["verdict"] == "underfitting" and "64→64" in d["reason"]
    rigid.probe = {**helped, "train_loss": 0.75}
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


def test_a_constant_target_is_inconclusive_not_a_division_by_zero():
    d = diagnose(_evidence(base_train=0.0, base_val=0.0, train_loss=0.0, val_loss=0.0))
    assert d["verdict"] == "inconclusive" and "constant" in d["reason"]

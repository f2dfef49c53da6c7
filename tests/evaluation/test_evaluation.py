import numpy as np
import pytest

from nnfit.evaluation.diagnosis import dead_units, diagnose
from nnfit.evaluation.metrics import classification_metrics, regression_metrics
from nnfit.nn.build import build_network


def test_classification_metrics_by_hand():
    true = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 1, 1, 1, 2, 0])
    m = classification_metrics(true, pred)
    assert m["accuracy"] == pytest.approx(4 / 6)
    # F1 per class: 0: 2·1/(2+2)=0.5; 1: 2·2/(3+2)=0.8; 2: 2·1/(1+2)=2/3
    assert m["f1_macro"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)


def test_regression_metrics_by_hand():
    true = np.array([[1.0], [2.0], [3.0], [4.0]])
    pred = np.array([[1.0], [3.0], [3.0], [2.0]])
    m = regression_metrics(true, pred)
    assert m["rmse"] == pytest.approx(np.sqrt(5 / 4))
    assert m["mae"] == pytest.approx(3 / 4)
    assert m["r2"] == pytest.approx(1 - 5 / 5)


@pytest.mark.parametrize("train,val,best_val,best_epoch,epochs,verdict", [
    (0.85, 0.80, 0.80, 40, 60, "underfitting"),     # barely beats the baseline
    (0.02, 0.40, 0.35, 900, 2000, "overfitting"),   # val 20× train, gap 38% of baseline
    (0.20, 0.60, 0.20, 10, 200, "overfitting"),     # val climbed far above its best
    (0.25, 0.27, 0.27, 150, 250, "good fit"),
    (0.35, 0.51, 0.51, 144, 184, "good fit"),       # a noisy target: gap 16%, ratio 1.5
])
def test_verdict_rule(train, val, best_val, best_epoch, epochs, verdict):
    d = diagnose(train, val, base_train=1.0, base_val=1.0, best_val=best_val,
                 best_epoch=best_epoch, epochs_run=epochs)
    assert d["verdict"] == verdict
    assert d["gap"] == pytest.approx(val - train) and d["epochs_since_best"] == epochs - best_epoch


def test_worse_than_the_baseline_says_so():
    d = diagnose(4.5e10, 4e5, 1.1, 1.1, best_val=4e5, best_epoch=2, epochs_run=7)
    assert d["verdict"] == "underfitting"
    assert "worse than ignoring the inputs (is the learning rate too high?)" in d["reason"]


def test_reason_says_numbers_and_hints_at_more_epochs():
    d = diagnose(0.3, 0.32, 1.0, 1.0, best_val=0.32, best_epoch=100, epochs_run=100)
    assert d["verdict"] == "good fit"
    assert "train loss 0.3 is 30%" in d["reason"]
    assert "still improving at the last epoch" in d["reason"]


def test_dead_relu_units_are_counted_per_layer():
    net = build_network([{"type": "dense", "units": 4, "activation": "relu"},
                         {"type": "dense", "units": 3, "activation": "tanh"},
                         {"type": "activation", "activation": "relu"}], n_features=2,
                        dtype="float64")
    net.param("0.b")[...] = [0.0, 0.0, -100.0, -100.0]  # units 2 and 3 can never fire
    found = dead_units(net, np.random.default_rng(0).standard_normal((50, 2)))
    assert [(d["layer"], d["units"]) for d in found] == [(0, 4), (2, 3)]
    assert found[0]["dead"] == 2 and found[0]["share"] == 0.5

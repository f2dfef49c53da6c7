import numpy as np
import pytest

from nnfit.evaluation.metrics import classification_metrics, regression_metrics
from nnfit.evaluation.scoring import dead_units
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


def test_dead_relu_units_are_counted_per_layer():
    net = build_network([{"type": "dense", "units": 4, "activation": "relu"},
                         {"type": "dense", "units": 3, "activation": "tanh"},
                         {"type": "activation", "activation": "relu"}], n_features=2,
                        dtype="float64")
    net.param("0.b")[...] = [0.0, 0.0, -100.0, -100.0]  # units 2 and 3 can never fire
    found = dead_units(net, np.random.default_rng(0).standard_normal((50, 2)))
    assert [(d["layer"], d["units"]) for d in found] == [(0, 4), (2, 3)]
    assert found[0]["dead"] == 2 and found[0]["share"] == 0.5


def test_outputs_and_dead_units_in_one_pass_are_predict_and_the_census():
    from nnfit.evaluation.scoring import outputs_and_dead_units

    net = build_network([{"type": "dense", "units": 16, "activation": "relu"},
                         {"type": "dense", "units": 8, "activation": "relu"},
                         {"type": "dense", "units": 3}], n_features=5, dtype="float32")
    net.param("1.b")[:4] = -100.0  # four units of the second layer never fire
    X = np.random.default_rng(1).standard_normal((1000, 5))
    for x in (X, X.astype(np.float32)):
        outputs, dead = outputs_and_dead_units(net, x, chunk=96)  # chunks that do not divide the rows
        assert outputs.dtype == np.float32 and outputs.shape == (1000, 3)
        np.testing.assert_array_equal(outputs, net.predict(x, batch_size=96))
        assert dead == dead_units(net, x)
        assert [(d["layer"], d["units"], d["dead"]) for d in dead] == [(0, 16, 0), (1, 8, 4)]


def test_the_census_pass_adds_the_linear_skip():
    from nnfit.evaluation.scoring import outputs_and_dead_units

    net = build_network([{"type": "dense", "units": 6, "activation": "relu"},
                         {"type": "dense", "units": 2}], n_features=3, seed=0, linear_skip=True)
    net.param("skip.W")[...] = 0.5
    x = np.random.default_rng(1).standard_normal((50, 3)).astype(np.float32)
    outputs, _ = outputs_and_dead_units(net, x, chunk=16)
    np.testing.assert_array_equal(outputs, net.predict(x, batch_size=16))

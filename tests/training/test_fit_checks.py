"""Trainer.fit and nnfit.fit check their arguments once, before any step or observer call."""

import re

import numpy as np
import pytest

import nnfit
from nnfit.nn.build import build_network
from nnfit.nn.optimizers import make_optimizer
from nnfit.training.observers import Observer
from nnfit.training.trainer import Trainer

rng = np.random.default_rng(0)
X = rng.standard_normal((12, 3)).astype(np.float32)
CLASSES = np.arange(12) % 3
VALUES = rng.standard_normal((12, 1))


class Began(Observer):
    """Records whether training began (it must not, for a refused call)."""

    began = False

    def on_train_begin(self, trainer):
        super().on_train_begin(trainer)
        self.began = True


def _net(n_out=3):
    return build_network([{"type": "dense", "units": 4, "activation": "relu"},
                          {"type": "dense", "units": n_out}], n_features=3)


def _refused(message, loss="cross_entropy", X=X, y=CLASSES, n_out=3, **kwargs):
    """``nnfit.fit`` raises ``message`` exactly, leaving the weights and observers untouched."""
    net, spy = _net(n_out), Began()
    before = net.params.copy()
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        nnfit.fit(net, X, y, loss=loss, observers=[spy], **kwargs)
    np.testing.assert_array_equal(net.params, before)
    assert not spy.began


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": 0}, "epochs must be a positive integer, got 0"),
    ({"epochs": -3}, "epochs must be a positive integer, got -3"),
    ({"epochs": 2.5}, "epochs must be a positive integer, got 2.5"),
    ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
    ({"batch_size": 4.5}, "batch_size must be a positive integer, got 4.5"),
    ({"lr": 0.0}, "lr must be a positive finite number, got 0.0"),
    ({"lr": float("inf")}, "lr must be a positive finite number, got inf"),
    ({"lr": float("nan")}, "lr must be a positive finite number, got nan"),
    ({"weight_decay": -0.1}, "weight_decay must be a non-negative finite number, got -0.1"),
    ({"weight_decay": float("inf")}, "weight_decay must be a non-negative finite number, got inf"),
])
def test_counts_and_rates_are_checked(kwargs, message):
    _refused(message, **kwargs)


def test_nan_and_inf_in_the_inputs_are_counted_and_located():
    bad = X.copy()
    bad[7, 2], bad[9, 0] = np.nan, np.inf
    _refused("X has 2 NaN or infinite values; the first (nan) is at row 7, column 2", X=bad)


def test_nan_regression_targets_are_refused_not_trained_into_a_nan_loss():
    y = VALUES.copy()
    y[3, 0] = np.inf
    _refused("y has 1 NaN or infinite value; the first (inf) is at row 3, column 0", loss="mse",
             y=y, n_out=1)


def test_the_validation_pair_gets_the_same_checks_under_its_own_name():
    bad = X.copy()
    bad[1, 1] = -np.inf
    _refused("validation X has 1 NaN or infinite value; the first (-inf) is at row 1, column 1",
             validation=(bad, CLASSES))
    _refused("validation X has rows of shape (2,) but the network takes (3,)",
             validation=(X[:, :2], CLASSES))
    _refused("validation y has 11 rows but validation X has 12", validation=(X, CLASSES[:11]))
    _refused("validation: class index 3 is outside [0, 3) for a network with 3 outputs",
             validation=(X, CLASSES + 1))
    _refused("validation must be a pair (X_val, y_val)", validation=(X,))


@pytest.mark.parametrize("loss, y, n_out, message", [
    ("cross_entropy", CLASSES - 1, 3, "class index -1 is outside [0, 3) for a network with 3 "
                                      "outputs"),
    ("cross_entropy", np.r_[CLASSES, CLASSES], 3, "y has 24 rows but X has 12"),
    ("cross_entropy", CLASSES.astype(float), 3, "cross_entropy targets must be integer class "
                                                "indices of shape (n_samples,) (got float64 of "
                                                "shape (12,))"),
    ("binary_cross_entropy", np.full((12, 1), 2.0), 1, "binary_cross_entropy targets must lie in "
                                                       "[0, 1] (got 2)"),
    ("binary_cross_entropy", np.full((12, 1), -1.0), 1, "binary_cross_entropy targets must lie in "
                                                        "[0, 1] (got -1)"),
    ("mse", VALUES[:10], 1, "y has 10 rows but X has 12"),
])
def test_targets_that_the_fuzzing_pass_found_are_refused(loss, y, n_out, message):
    _refused(message, loss=loss, y=y, n_out=n_out)


def test_the_trainer_checks_its_batch_size_when_built():
    net = _net()
    with pytest.raises(ValueError, match=r"^batch_size must be a positive integer, got -1$"):
        Trainer(net, "cross_entropy", make_optimizer("sgd", lr=0.1), batch_size=-1)


def test_text_in_x_is_refused_in_words():
    with pytest.raises(ValueError, match=r"^X must hold numbers \(could not convert string"):
        nnfit.fit(_net(), np.array([["a", "b", "c"]] * 12), CLASSES, loss="cross_entropy")


def test_a_checked_fit_still_trains_and_integer_inputs_pass():
    history = nnfit.fit(_net(), np.arange(36).reshape(12, 3) % 5, CLASSES, loss="cross_entropy",
                        epochs=3, lr=0.01)
    assert history.epochs == [1, 2, 3] and all(np.isfinite(history["train_loss"]))

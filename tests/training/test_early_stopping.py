"""The best weights come back on every exit path."""

import math

import numpy as np

from nnfit.nn.build import build_network
from nnfit.nn.optimizers import make_optimizer
from nnfit.training.early_stopping import EarlyStopping
from nnfit.training.observers import History, Observer
from nnfit.training.trainer import Trainer


class Scripted(Observer):
    """Overwrites each epoch's val_loss with a scripted value, and can act at one epoch."""

    def __init__(self, values, at=None, action=None):
        self.values, self.at, self.action = values, at, action

    def on_epoch_end(self, epoch, logs):
        logs["val_loss"] = self.values[epoch - 1]
        self.params_at = getattr(self, "params_at", {})
        self.params_at[epoch] = self.trainer.network.params.copy()
        if epoch == self.at:
            self.action(self.trainer)


def _run(values, epochs, stopper, at=None, action=None, lr=0.01):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 3)), rng.standard_normal(40)
    net = build_network([{"type": "dense", "units": 4, "activation": "tanh"},
                         {"type": "dense", "units": 1}], n_features=3)
    script = Scripted(values, at, action)
    trainer = Trainer(net, "mse", make_optimizer("sgd", lr=lr), batch_size=8,
                      observers=[script, stopper, History()])
    trainer.fit(X, y, epochs, validation=(X[:10], y[:10]))
    return trainer, script


def test_patience_runs_out_and_best_weights_return():
    stopper = EarlyStopping(patience=2)
    trainer, script = _run([5, 3, 4, 4, 4, 4], epochs=6, stopper=stopper)
    assert trainer.stop_reason == "early_stopping" and trainer.epoch == 4
    assert stopper.best_epoch == 2 and stopper.best == 3
    np.testing.assert_array_equal(trainer.network.params, script.params_at[2])


def test_last_epoch_restores_best_when_asked_and_keeps_final_when_not():
    trainer, script = _run([5, 1, 4, 4], epochs=4, stopper=EarlyStopping(patience=10))
    assert trainer.stop_reason == "completed"
    np.testing.assert_array_equal(trainer.network.params, script.params_at[2])
    trainer, script = _run([5, 1, 4, 4], epochs=4,
                           stopper=EarlyStopping(patience=None, restore_best=False))
    np.testing.assert_array_equal(trainer.network.params, script.params_at[4])


def test_min_delta_ignores_tiny_improvements():
    stopper = EarlyStopping(patience=2, min_delta=0.5)
    trainer, _ = _run([5, 4.9, 4.8, 4.7], epochs=4, stopper=stopper)
    assert stopper.best_epoch == 1 and trainer.epoch == 3


def test_interrupt_keeps_best_weights_even_without_restore_best():
    def interrupt(trainer):
        raise KeyboardInterrupt

    stopper = EarlyStopping(patience=None, restore_best=False)
    trainer, script = _run([5, 1, 4, 4, 4], epochs=5, stopper=stopper, at=3, action=interrupt)
    assert trainer.stop_reason == "interrupted" and trainer.epoch == 3
    np.testing.assert_array_equal(trainer.network.params, script.params_at[2])


def test_divergence_stops_and_keeps_the_best_finite_weights():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 3)), 1e3 * rng.standard_normal(64)
    net = build_network([{"type": "dense", "units": 8, "activation": "relu"},
                         {"type": "dense", "units": 1}], n_features=3)
    stopper, history = EarlyStopping("train_loss", patience=None, restore_best=False), History()
    trainer = Trainer(net, "sse", make_optimizer("sgd", lr=10.0), batch_size=16,
                      observers=[stopper, history])
    trainer.fit(X, y, 50)
    assert trainer.stop_reason == "diverged" and trainer.epoch < 50
    assert math.isnan(history["train_loss"][-1])
    assert np.isfinite(net.params).all()


class Poison(Observer):
    """Writes inf into the first parameter after mini-batch ``at`` (an update gone wrong)."""

    def __init__(self, at):
        self.at = at

    def on_batch_end(self, step, loss):
        if step == self.at:
            self.trainer.network.params[0] = np.inf


def test_divergence_in_the_first_epoch_falls_back_to_initial_weights():
    rng = np.random.default_rng(0)
    net = build_network([{"type": "dense", "units": 1}], n_features=2)
    initial = net.params.copy()
    stopper = EarlyStopping("train_loss", patience=None)
    X = rng.standard_normal((8, 2))  # inf in X itself is refused before any step
    trainer = Trainer(net, "mse", make_optimizer("sgd", lr=0.1), batch_size=4,
                      observers=[stopper, Poison(at=1)])
    trainer.fit(X, rng.standard_normal(8), 3)
    assert trainer.stop_reason == "diverged" and trainer.epoch == 1
    np.testing.assert_array_equal(net.params, initial)

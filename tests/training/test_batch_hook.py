"""``Observer.on_batch_end``: called once per mini-batch with its loss, able to stop
training, and costing a loop without such observers nothing."""

import numpy as np
import pytest

import nnfit
from nnfit.nn.build import build_network
from nnfit.nn.optimizers import make_optimizer
from nnfit.training.early_stopping import EarlyStopping
from nnfit.training.observers import History, Observer
from nnfit.training.trainer import Trainer


def noisy_sine(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, size=(n, 1))
    return X, np.sin(2 * X[:, 0]) + 0.1 * rng.standard_normal(n)


class Batches(Observer):
    def __init__(self, stop_at=None):
        self.stop_at = stop_at

    def on_train_begin(self, trainer):
        super().on_train_begin(trainer)
        self.calls = []

    def on_batch_end(self, step, loss):
        self.calls.append((step, loss))
        if step == self.stop_at:
            self.trainer.stop_training = True


def net64(seed=0):
    return build_network([{"type": "dense", "units": 8, "activation": "tanh"},
                          {"type": "dense", "units": 1}], n_features=1, dtype="float64", seed=seed)


@pytest.mark.parametrize("loss", ["mse", "sse"])
def test_the_hook_gets_every_batch_loss_per_row_before_its_update(loss):
    X, y = noisy_sine(37)
    net = net64()
    spy, history = Batches(), History()
    # lr tiny: the weights barely move, so each batch's loss is that of the initial weights
    trainer = Trainer(net, loss, make_optimizer("sgd", lr=1e-12), batch_size=10,
                      rng=np.random.default_rng(5), observers=[history, spy])
    trainer.fit(X, y, epochs=2)
    assert [step for step, _ in spy.calls] == list(range(1, 9))  # 4 batches (10+10+10+7) × 2

    replay, order, expected = np.random.default_rng(5), np.arange(37), []
    for _ in range(2):
        replay.shuffle(order)
        for start in range(0, 37, 10):
            idx = order[start:start + 10]
            value = nnfit.make_loss(loss).value(net.predict(X[idx]), y[idx].reshape(-1, 1))
            expected.append(value / idx.size if loss == "sse" else value)
    assert [value for _, value in spy.calls] == pytest.approx(expected, rel=1e-9)
    sizes = [10, 10, 10, 7]
    for epoch in range(2):  # the epoch's loss is the rows' mean of its batch losses
        batch = [value for _, value in spy.calls[4 * epoch:4 * epoch + 4]]
        assert history["train_loss"][epoch] == pytest.approx(np.dot(batch, sizes) / 37, rel=1e-12)


def test_a_hook_that_sets_stop_training_ends_training_after_that_batch():
    X, y = noisy_sine(37)
    spy, history = Batches(stop_at=6), History()
    trainer = Trainer(net64(), "mse", make_optimizer("adam", lr=0.01), batch_size=10,
                      observers=[history, spy])
    logs = trainer.fit(X, y, epochs=10)
    assert [step for step, _ in spy.calls] == [1, 2, 3, 4, 5, 6]
    assert trainer.optimizer.t == 6 and trainer.step == 6
    # the second epoch ends after its second batch and is reported over the 20 rows it saw
    assert history.epochs == [1, 2] and trainer.stop_reason == "stopped"
    assert logs["train_loss"] == pytest.approx((spy.calls[4][1] + spy.calls[5][1]) / 2)


def test_without_a_hook_the_loop_is_unchanged():
    X, y = noisy_sine(53)

    def run(*observers):
        net = net64(seed=3)
        history = History()
        trainer = Trainer(net, "mse", make_optimizer("adam", lr=0.01), batch_size=8,
                          rng=np.random.default_rng(1),
                          observers=[EarlyStopping("train_loss"), history, *observers])
        trainer.fit(X, y, epochs=5)
        return trainer, history["train_loss"], net.params.copy()

    plain, losses, params = run()
    assert plain._batch_hooks == [] and plain.step == 0  # nothing found, nothing counted
    watched, watched_losses, watched_params = run(Batches())
    assert len(watched._batch_hooks) == 1 and watched.step == 5 * 7
    assert losses == watched_losses  # a hook that only watches changes no number
    np.testing.assert_array_equal(params, watched_params)

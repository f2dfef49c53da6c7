"""A loss or weights gone NaN/inf in any layer stop training as diverged, with the best finite
weights (and batchnorm statistics) back in place."""

import numpy as np
import pytest

from nnfit.nn.build import build_network
from nnfit.nn.optimizers import make_optimizer
from nnfit.training.early_stopping import EarlyStopping
from nnfit.training.observers import History, Observer
from nnfit.training.trainer import Trainer

N, BATCH = 48, 16  # three mini-batches an epoch
DENSE = {"type": "dense", "units": 8, "activation": "relu"}
# Each stack, and the index of the layer under test (whose parameters get poisoned).
STACKS = {
    "dense": ([DENSE], 0),
    "batchnorm": ([{"type": "dense", "units": 8}, {"type": "batchnorm"},
                   {"type": "activation", "activation": "relu"}], 1),
    "layernorm": ([{"type": "dense", "units": 8}, {"type": "layernorm"},
                   {"type": "activation", "activation": "tanh"}], 1),
    "dropout": ([{"type": "dense", "units": 8, "activation": "gelu"}, {"type": "dropout",
                                                                       "rate": 0.2}], 0),
    "attention": ([{"type": "tokens", "dim": 8, "cls": True},
                   {"type": "attention", "dim": 8, "heads": 2, "dropout": 0.1}, {"type": "pool"}],
                  1),
}


class Poison(Observer):
    """After mini-batch ``at``, writes inf into the first parameter of layer ``layer`` (or into
    its state, e.g. batchnorm's running variance), as an update gone wrong would; and keeps
    a copy of the weights and state at the end of every epoch."""

    def __init__(self, at, layer, state=False):
        self.at, self.layer, self.state = at, layer, state

    def on_train_begin(self, trainer):
        super().on_train_begin(trainer)
        self.params_at, self.state_at = {}, {}

    def on_batch_end(self, step, loss):
        if step == self.at:
            net = self.trainer.network
            slots = net.state_layout if self.state else net.layout
            slot = next(s for s in slots if s.name.startswith(f"{self.layer}."))
            (net.state if self.state else net.params)[slot.offset] = np.inf

    def on_epoch_end(self, epoch, logs):
        self.params_at[epoch] = self.trainer.network.params.copy()
        self.state_at[epoch] = self.trainer.network.state.copy()


def _train(stack, poison, validation=True, lr=0.01, optimizer="adam", restore_best=True):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((N, 4)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.intp)
    layers, _ = STACKS[stack]
    net = build_network([*layers, {"type": "dense", "units": 2}], n_features=4, seed=3)
    stopper = EarlyStopping("val_loss" if validation else "train_loss", patience=None,
                            restore_best=restore_best)
    history = History()
    trainer = Trainer(net, "cross_entropy", make_optimizer(optimizer, lr=lr), batch_size=BATCH,
                      rng=np.random.default_rng(0), observers=[poison, stopper, history])
    with np.errstate(over="ignore", invalid="ignore"):
        trainer.fit(X, y, 6, validation=(X[:16], y[:16]) if validation else None)
    return trainer, stopper, history, X


def _assert_restored_and_finite(trainer, stopper, poison, X):
    assert stopper.restored and 1 <= stopper.best_epoch < trainer.epoch
    net = trainer.network
    np.testing.assert_array_equal(net.params, poison.params_at[stopper.best_epoch])
    np.testing.assert_array_equal(net.state, poison.state_at[stopper.best_epoch])
    assert np.isfinite(net.params).all() and np.isfinite(net.state).all()
    assert np.isfinite(net.predict(X)).all()


@pytest.mark.parametrize("validation", [True, False])
@pytest.mark.parametrize("stack", sorted(STACKS))
def test_inf_in_a_layer_mid_epoch_stops_training_as_diverged(stack, validation):
    poison = Poison(at=2 * 3 + 2, layer=STACKS[stack][1])  # the second batch of epoch 3
    trainer, stopper, history, X = _train(stack, poison, validation)
    assert trainer.stop_reason == "diverged" and trainer.epoch == 3
    assert np.isnan(history["train_loss"][-1]) and np.isfinite(history["train_loss"][:2]).all()
    _assert_restored_and_finite(trainer, stopper, poison, X)


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_inf_from_the_last_step_of_an_epoch_is_never_kept_as_the_best_weights(stack):
    # Every batch loss of epoch 2 was finite (each is taken before its update), so only the
    # weights show it; monitoring train_loss, the snapshot of epoch 2 would keep the inf.
    poison = Poison(at=2 * 3, layer=STACKS[stack][1])
    trainer, stopper, history, X = _train(stack, poison, validation=False)
    assert trainer.stop_reason == "diverged" and trainer.epoch == 2
    assert np.isnan(history["train_loss"][1])
    assert stopper.best_epoch == 1
    _assert_restored_and_finite(trainer, stopper, poison, X)


def test_batchnorm_statistics_gone_infinite_are_caught_and_restored():
    # Training normalizes with the batch's statistics, so the loss stays finite; eval would not.
    poison = Poison(at=2 * 3, layer=1, state=True)
    trainer, stopper, history, X = _train("batchnorm", poison, validation=False)
    assert trainer.stop_reason == "diverged" and trainer.epoch == 2
    _assert_restored_and_finite(trainer, stopper, poison, X)


def test_restore_best_brings_back_the_batchnorm_statistics_of_the_best_epoch():
    poison = Poison(at=-1, layer=1)  # never fires: it only records each epoch
    trainer, stopper, history, X = _train("batchnorm", poison, lr=0.05)
    assert trainer.stop_reason == "completed" and stopper.best_epoch < 6
    np.testing.assert_array_equal(trainer.network.state, poison.state_at[stopper.best_epoch])
    assert not np.array_equal(poison.state_at[stopper.best_epoch], poison.state_at[6])


@pytest.mark.parametrize("stack", ["dense", "batchnorm", "dropout", "attention"])
def test_a_huge_learning_rate_diverges_and_keeps_finite_weights(stack):
    # (layernorm renormalizes whatever the rate, so its stack does not diverge this way)
    poison = Poison(at=-1, layer=0)
    trainer, stopper, history, X = _train(stack, poison, lr=1e6, optimizer="sgd",
                                          restore_best=False)
    assert trainer.stop_reason == "diverged"
    assert np.isfinite(trainer.network.params).all() and np.isfinite(trainer.network.state).all()
    with np.errstate(over="ignore", invalid="ignore"):  # huge kept weights: GELU's z³ overflows
        assert np.isfinite(trainer.network.predict(X)).all()

"""Learning-rate schedules: hand-computed rates, hand-computed parameter updates through an
optimizer, and the wiring through the trainer (every update at the scheduled rate, ``lr`` logged)."""

import math

import numpy as np
import pytest

from nnfit.nn.build import build_network
from nnfit.nn.optimizers import make_optimizer
from nnfit.training.observers import History, Observer
from nnfit.training.schedules import SCHEDULES, make_schedule
from nnfit.training.trainer import Trainer


def rates(spec, lr, steps_per_epoch, epochs, losses=None):
    """Every update's rate as the trainer asks for them (``losses``: per epoch, for plateau)."""
    schedule = make_schedule(spec)
    schedule.start(lr, steps_per_epoch, epochs)
    out = []
    for epoch in range(epochs):
        for i in range(steps_per_epoch):
            out.append(schedule.rate(epoch * steps_per_epoch + i))
        schedule.epoch_end(epoch + 1, {"val_loss": losses[epoch]} if losses else {})
    return out


COS_QUARTER = 0.5 * (1 + math.cos(math.pi / 4))  # 0.85355
HAND = {
    # 2 updates an epoch, 3 epochs
    "constant": ("constant", [0.5] * 6),
    # warm-up over the first epoch (2 updates) to 0.5, then half a cosine over 4 updates
    "cosine": ({"name": "cosine", "warmup": 1},
               [0.25, 0.5, 0.5, 0.5 * COS_QUARTER, 0.25, 0.5 * (1 - COS_QUARTER) ]),
    "cosine no warmup": ("cosine", [0.5 * 0.5 * (1 + math.cos(math.pi * s / 6)) for s in range(6)]),
    # peak at update 0.3·6 − 1 = 0.8: 0.02 → (0.5 at 0.8) → 0.5/25/1e4 at update 5
    "onecycle": ("onecycle", [0.02,
                              2e-6 + (0.5 - 2e-6) * 0.5 * (1 + math.cos(math.pi * 0.2 / 4.2)),
                              2e-6 + (0.5 - 2e-6) * 0.5 * (1 + math.cos(math.pi * 1.2 / 4.2)),
                              2e-6 + (0.5 - 2e-6) * 0.5 * (1 + math.cos(math.pi * 2.2 / 4.2)),
                              2e-6 + (0.5 - 2e-6) * 0.5 * (1 + math.cos(math.pi * 3.2 / 4.2)),
                              2e-6]),
    # ×0.1 after every 2 epochs
    "step": ({"name": "step", "step_size": 2}, [0.5, 0.5, 0.5, 0.5, 0.05, 0.05]),
}


@pytest.mark.parametrize("case", sorted(HAND))
def test_rates_by_hand(case):
    spec, expected = HAND[case]
    np.testing.assert_allclose(rates(spec, 0.5, 2, 3), expected, rtol=1e-12)


def test_onecycle_rises_then_falls_as_pytorch_onecyclelr():
    # 10 updates: initial 1/25 at update 0, the peak at update 0.3·10 − 1 = 2, 1/25/1e4 at the last
    got = rates("onecycle", 1.0, 5, 2)
    np.testing.assert_allclose(got[:3], [0.04, 0.04 + 0.96 * 0.5, 1.0], rtol=1e-12)
    np.testing.assert_allclose(got[3], 4e-6 + (1 - 4e-6) * 0.5 * (1 + math.cos(math.pi / 7)))
    assert got[-1] == pytest.approx(4e-6, rel=1e-12)
    assert all(a > b for a, b in zip(got[2:], got[3:], strict=False))


def test_plateau_cuts_after_patience_epochs_without_a_new_best():
    losses = [1.0, 0.9, 0.95, 0.91, 0.8, 0.8, 0.8, math.nan]
    got = rates({"name": "plateau", "factor": 0.5, "patience": 2}, 1.0, 1, 8, losses)
    # epochs 3, 4 are no better than 0.9 → cut after epoch 4; 6, 7 no better than 0.8 → again
    assert got == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]


def test_plateau_needs_a_relative_improvement_and_stops_at_min_lr():
    losses = [1.0, 1.0 - 1e-6, 1.0 - 2e-6, 0.5, 0.5, 0.5]  # creeping by 1e-6 is no improvement
    got = rates({"name": "plateau", "factor": 0.1, "patience": 2, "min_lr": 0.05}, 1.0, 1, 6,
                losses)
    assert got == [1.0, 1.0, 1.0, 0.1, 0.1, 0.1]
    got = rates({"name": "plateau", "factor": 0.1, "patience": 1, "min_lr": 0.05}, 1.0, 1, 6,
                [1.0] * 6)
    assert got == [1.0, 1.0, 0.1, 0.05, 0.05, 0.05]


@pytest.mark.parametrize("case", sorted(HAND))
def test_momentum_updates_by_hand_under_each_schedule(case):
    """θ ← θ − η_s·v_s with v_s = μ·v_{s−1} + g: a constant g = 1, μ = 0.5 gives v = 1, 1.5, 1.75…"""
    spec, expected = HAND[case]
    p, g = np.array([3.0]), np.array([1.0])
    opt = make_optimizer("momentum", lr=0.5, momentum=0.5).bind(p, g)
    schedule = make_schedule(spec)
    schedule.start(opt.lr, 2, 3)
    theta, v = 3.0, 0.0
    for s in range(6):
        opt.lr = schedule.rate(s)
        g[...] = 1.0
        opt.step()
        v = 0.5 * v + 1.0
        theta -= expected[s] * v
        assert p[0] == pytest.approx(theta, rel=1e-12)


def test_adamw_decay_follows_the_scheduled_rate():
    p, g = np.array([1.0]), np.array([0.0])
    opt = make_optimizer("adamw", lr=1.0, weight_decay=0.1).bind(p, g)
    for lr in (0.5, 0.25):  # a zero gradient: only the decay θ·(1 − η_s·λ) moves θ
        opt.lr = lr
        opt.step()
    assert p[0] == pytest.approx((1 - 0.05) * (1 - 0.025), rel=1e-12)


class Rates(Observer):
    def on_train_begin(self, trainer):
        super().on_train_begin(trainer)
        self.used = []

    def on_batch_end(self, step, loss):
        self.used.append(self.trainer.optimizer.lr)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_the_trainer_updates_at_the_scheduled_rate_and_logs_it(name):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    layers = [{"type": "dense", "units": 4, "activation": "tanh"}, {"type": "dense", "units": 1}]
    net = build_network(layers, n_features=3, dtype="float64", seed=0)
    seen, history = Rates(), History()
    spec = {"name": name, **({"patience": 1} if name == "plateau" else {}),
            **({"step_size": 1} if name == "step" else {})}
    trainer = Trainer(net, "mse", make_optimizer("sgd", lr=0.1), batch_size=8, rng=0,
                      observers=[seen, history], schedule=make_schedule(spec))
    trainer.fit(X, y, epochs=4, validation=(X[:5], y[:5]))
    assert len(seen.used) == 12  # 3 updates an epoch
    val = history["val_loss"]
    expected = rates(spec, 0.1, 3, 4, val)
    np.testing.assert_allclose(seen.used, expected, rtol=1e-12)
    # history's lr is the rate of each epoch's last update
    np.testing.assert_allclose(history["lr"], expected[2::3], rtol=1e-12)
    # a second fit starts the schedule again from the optimizer's configured rate
    trainer.fit(X, y, epochs=1)
    assert seen.used[0] == pytest.approx(rates(spec, 0.1, 3, 1, [0.0])[0])


def test_unknown_schedule_and_option():
    with pytest.raises(ValueError, match="unknown schedule 'cosin'"):
        make_schedule("cosin")
    with pytest.raises(ValueError, match="cosine takes no option 'gamma'"):
        make_schedule({"name": "cosine", "gamma": 0.1})
    assert make_schedule(None) is None
    assert repr(make_schedule({"name": "cosine", "warmup": 3})) == "cosine(warmup=3)"

"""Packed members: an ensemble's networks trained in one loop give the numbers of separate fits."""

import math
import os
import signal
import threading
from pathlib import Path

import numpy as np
import pytest

import nnfit.workflows.ensemble as ensemble_module
from nnfit.config.schema import Config
from nnfit.errors import NnfitError
from nnfit.nn.build import build_network
from nnfit.nn.optimizers import make_optimizer
from nnfit.nn.packed import PackedNetwork, unpackable
from nnfit.training.packed import _Loop, train_packed
from nnfit.workflows.ensemble import fit_ensemble, packs
from nnfit.workflows.fit import _Run, packing_refusal
from nnfit.workflows.prepared import prepare

ROOT = Path(__file__).parents[2]
DATA = ROOT / "sample_data"
EMBED = {"type": "numeric_embedding", "frequencies": 4, "dim": 3, "inputs": "all"}
HIDDEN = {"type": "dense", "units": 6, "activation": "relu"}


def config(target: str, layers=(EMBED, HIDDEN), **training) -> Config:
    return Config.model_validate({
        "data": {"target": target},
        "model": {"layers": list(layers)},
        "training": {"lr": 0.02, "epochs": 12, "batch_size": 16, "seed": 4, "ensemble": 3,
                     "early_stopping": {"patience": 3}, **training}})


def _same_members(a, b):
    for left, right in zip(a, b, strict=True):
        x, y = left.result, right.result
        np.testing.assert_array_equal(x.network.params, y.network.params)
        np.testing.assert_array_equal(x.network.state, y.network.state)
        assert (x.epochs_run, x.best_epoch, x.stop_reason, x.restored) == \
            (y.epochs_run, y.best_epoch, y.stop_reason, y.restored)
        assert x.history.keys() == y.history.keys()
        for key in x.history:
            if key != "seconds":
                np.testing.assert_array_equal(x.history[key], y.history[key], err_msg=key)
        for kept in ("val_best_outputs", "val_peak_outputs"):
            first, second = getattr(x, kept), getattr(y, kept)
            assert (first is None) == (second is None)
            if first is not None:
                np.testing.assert_array_equal(first, second)


CASES = {
    "regression, adamw, cosine": ("diabetes.csv", "progression", {}),
    "three classes, adam": ("iris.csv", "species", {"optimizer": "adam", "l2": 0.01}),
    "two classes, momentum, step schedule, no val": (
        "titanic.csv", "survived",
        {"optimizer": "momentum", "schedule": {"name": "step", "step_size": 3},
         "early_stopping": False}),
    "sgd without early stopping": ("iris.csv", "species",
                                   {"optimizer": "sgd", "early_stopping": False}),
    "diverging members": ("diabetes.csv", "progression",
                          {"optimizer": "sgd", "lr": 1.4, "ensemble": 4, "seed": 5}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_packed_members_match_separate_fits_bit_for_bit(case):
    csv, target, training = CASES[case]
    data = {"val_fraction": 0.0, "missing": "mean"} if "no val" in case else {}
    raw = config(target, **training).model_dump(mode="json")
    raw["data"].update(data)
    cfg = Config.model_validate(raw)
    prepared = prepare(cfg, DATA / csv)
    assert packing_refusal(prepared, cfg) is None
    _, separate = fit_ensemble(prepared, cfg, pack=False)
    _, packed = fit_ensemble(prepared, cfg, pack=True)
    _same_members(separate, packed)
    reasons = [m.result.stop_reason for m in packed]
    if case == "diverging members":  # two diverge at different epochs; the others go on
        assert reasons == ["early_stopping", "diverged", "diverged", "early_stopping"]
    elif "early_stopping" not in training:
        assert "early_stopping" in reasons  # some stopped before the others


def test_an_ensemble_packs_when_it_pays_and_says_why_not(monkeypatch):
    prepared = prepare(config("species"), DATA / "iris.csv")
    calls = []
    real = ensemble_module.fit_packed
    monkeypatch.setattr(ensemble_module, "fit_packed",
                        lambda *args: calls.append(1) or real(*args))
    _, alone = fit_ensemble(prepared, prepared.config)
    assert calls == [1]
    fit_ensemble(prepared, prepared.config, pack=False)
    assert calls == [1]
    assert packs(prepared, prepared.config, 2) == [[0], [1, 2]]  # a pack per local worker
    assert packs(prepared, prepared.config, 2, scheduler="tcp://x:8786") == []
    _, two = fit_ensemble(prepared, prepared.config, n_jobs=2)
    _same_members(alone, two)  # --jobs 2 gives the numbers of --jobs 1

    def refusal(layers=(EMBED, HIDDEN), **training):
        return packing_refusal(prepared, config("species", layers, **training))

    assert refusal((HIDDEN, {"type": "dropout", "rate": 0.1})) == "dropout layers"
    assert refusal(clip_norm=1.0) == "clip_norm"
    assert refusal(schedule={"name": "plateau"}) == "the plateau schedule"
    assert refusal(({"type": "dense", "units": 1024, "activation": "relu"},) * 2,
                   batch_size=64) == "a network large enough that packing does not pay"


def test_interrupting_packed_members_stops_them_all():
    prepared = prepare(config("species", epochs=50), DATA / "iris.csv")
    stop = threading.Event()
    runs = [_Run(prepared, c, (), None, stop) for c in
            [prepared.config.model_copy(update={"training": prepared.config.training.model_copy(
                update={"seed": s})}) for s in (0, 1)]]
    class StopAfter:
        def __init__(self):
            self.epochs = 0

        def on_train_begin(self, trainer):
            self.trainer = trainer

        def on_epoch_end(self, epoch, logs):
            if epoch == 2:
                stop.set()

        def on_train_end(self, logs):
            pass

    runs[0].trainer.observers.append(StopAfter())
    starts = [run.trainer.network.params.copy() for run in runs]
    train_packed([run.trainer for run in runs], *runs[0].data)
    for run, start in zip(runs, starts, strict=True):
        assert run.trainer.stop_reason == "interrupted" and run.trainer.epoch == 2
        assert run.stopper.restored and run.history.epochs == [1, 2]
        assert not np.array_equal(run.trainer.network.params, start)  # best of epochs 1-2


def test_a_packed_network_runs_each_member_forward_and_backward():
    layers = [{"type": "numeric_embedding", "frequencies": 3, "dim": 4, "positions": [0, 2]},
              {"type": "dense", "units": 5, "activation": "tanh"}, {"type": "dense", "units": 2}]
    members = [build_network(layers, input_shape=(4,), seed=s) for s in range(3)]
    before = [m.params.copy() for m in members]
    packed = PackedNetwork(members)
    for member, params in zip(members, before, strict=True):  # moved into the packed rows
        np.testing.assert_array_equal(member.params, params)
        assert np.shares_memory(member.params, packed.params)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 7, 4)).astype(np.float32)
    dout = rng.standard_normal((3, 7, 2)).astype(np.float32)
    out = packed.forward(x).copy()
    packed.backward(dout)
    grads = packed.grads.copy()
    for i, member in enumerate(members):
        np.testing.assert_array_equal(out[i], member.forward(x[i], training=True))
        member.backward(dout[i], need_dx=False)
        np.testing.assert_array_equal(grads[i], member.grads)
    assert unpackable(build_network([{"type": "dropout", "rate": 0.1}, {"type": "dense",
                                                                         "units": 1}],
                                    input_shape=(3,))) == "a dropout layer"
    with pytest.raises(ValueError, match="one architecture"):
        PackedNetwork([members[0], build_network(layers[1:], input_shape=(4,))])


def test_an_optimizer_keeps_its_members_moments_when_some_leave():
    rng = np.random.default_rng(1)
    params = rng.standard_normal((3, 6)).astype(np.float32)
    grads = [rng.standard_normal((3, 6)).astype(np.float32) for _ in range(4)]
    alone = []
    for i in range(3):  # each member's own Adam over its own row
        p, g = params[i].copy(), np.zeros(6, np.float32)
        opt = make_optimizer("adamw", lr=0.1, weight_decay=0.1).bind(p, g, 4)
        for step in grads if i != 1 else grads[:2]:
            g[:] = step[i]
            opt.step()
        alone.append(p)
    packed_p, packed_g = params.copy(), np.zeros((3, 6), np.float32)
    opt = make_optimizer("adamw", lr=0.1, weight_decay=0.1).bind(packed_p, packed_g, 4)
    for step in grads[:2]:
        packed_g[:] = step
        opt.step()
    kept_p, kept_g = packed_p[[0, 2]].copy(), np.zeros((2, 6), np.float32)
    opt = opt.rows([0, 2], kept_p, kept_g)
    for step in grads[2:]:
        kept_g[:] = step[[0, 2]]
        opt.step()
    np.testing.assert_array_equal(kept_p[0], alone[0])
    np.testing.assert_array_equal(packed_p[1], alone[1])
    np.testing.assert_array_equal(kept_p[1], alone[2])


def test_ctrl_c_during_a_packed_ensemble_saves_nothing(monkeypatch):
    prepared = prepare(config("species"), DATA / "iris.csv")
    real = _Loop._train_epoch

    def pressed_in_epoch_2(loop):
        if loop.updates > 0:
            os.kill(os.getpid(), signal.SIGINT)  # as a terminal's Ctrl-C
        return real(loop)

    monkeypatch.setattr(_Loop, "_train_epoch", pressed_in_epoch_2)
    with pytest.raises(NnfitError, match="interrupted: 0 of 3 ensemble members had finished"):
        fit_ensemble(prepared, prepared.config)


@pytest.mark.parametrize("name", ["mse", "sse", "cross_entropy", "binary_cross_entropy"])
def test_the_members_losses_at_once_are_each_members_own(name):
    from nnfit.nn.losses import make_loss
    from nnfit.nn.member_losses import members_value_and_grad

    rng = np.random.default_rng(1)
    loss = make_loss(name)
    logits = rng.standard_normal((4, 9, 3)).astype(np.float32) * 3
    logits[2, 0, 0] = 3e38  # a member whose float32 sums overflow: its own fallback
    if name == "cross_entropy":
        y = rng.integers(0, 3, (4, 9))
    elif name == "binary_cross_entropy":
        y = (rng.random((4, 9, 3)) < 0.5).astype(np.float32)
    else:
        y = rng.standard_normal((4, 9, 3)).astype(np.float32)
    out = np.empty_like(logits)
    with np.errstate(over="ignore", invalid="ignore"):
        values = members_value_and_grad(loss, logits, y, out)
        for i in range(4):
            alone = np.empty_like(logits[i])
            own = loss.value_and_grad(logits[i], y[i], alone)
            assert values[i] == own or (math.isnan(own) and math.isnan(values[i])), (i, own)
            np.testing.assert_array_equal(out[i], alone)
    assert members_value_and_grad(make_loss("cross_entropy", smoothing=0.1), logits, y, out) \
        is None  # not covered: the packed loop takes each member's loss in turn


def test_trainings_with_different_optimizer_settings_are_not_packed():
    prepared = prepare(config("species"), DATA / "iris.csv")
    runs = [_Run(prepared, prepared.config.model_copy(update={"training": prepared.config.training
                                                               .model_copy(update={"lr": lr})}),
                 (), None, None) for lr in (0.01, 0.02)]
    with pytest.raises(ValueError, match="different optimizers, losses or schedules"):
        train_packed([run.trainer for run in runs], *runs[0].data)

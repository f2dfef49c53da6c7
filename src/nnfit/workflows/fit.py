"""*fit*: train a fresh network on prepared data, printing and writing nothing.

Every command that trains calls :func:`fit`, many times on one Prepared when it
runs many trainings (with overridden configs, in worker processes).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data.seeds import TRAIN_STREAM, stream
from ..errors import NnfitError
from ..nn.optimizers import make_optimizer
from ..nn.packed import PACKABLE
from ..runtime.threads import blas_threads, choose_threads
from ..training.early_stopping import EarlyStopping
from ..training.observers import EpochMetrics, History, ValOutputs
from ..training.packed import train_packed
from ..training.schedules import follows_losses, make_schedule
from ..training.trainer import Trainer
from .prepared import Prepared

if TYPE_CHECKING:
    from ..config.schema import Config
    from ..evaluation.task import Task
    from ..nn.ensemble import Ensemble
    from ..nn.network import Network


@dataclass
class FitResult:
    """What training produced: the (restored) network, its history and how it ended."""

    network: Network | Ensemble  # an Ensemble: training.ensemble's members, combined
    history: dict[str, list[float]]
    epochs: list[int]
    epochs_run: int
    best_epoch: int  # 0: no epoch improved on the start
    best_loss: float | None  # of the monitored loss (val_loss, or train_loss without val)
    stop_reason: str  # completed, early_stopping, diverged, interrupted
    restored: bool
    seconds: float
    threads: int
    threads_reason: str
    patience: int | None
    val_best_outputs: np.ndarray | None = None  # validation outputs at the best epoch
    val_peak_outputs: np.ndarray | None = None  # and at the worst epoch after it (paired evidence)
    peak_epoch: int = 0  # that epoch (0: none after the best)

    def val_rise(self, task: Task, y_val: np.ndarray) -> np.ndarray | None:
        """Per validation row, its loss at the peak after the best epoch minus at the best
        (None when no epoch followed the best one, or the run kept no validation outputs)."""
        if self.val_best_outputs is None or self.val_peak_outputs is None:
            return None
        with np.errstate(over="ignore", invalid="ignore"):
            return (task.row_losses(self.val_peak_outputs, y_val)
                    - task.row_losses(self.val_best_outputs, y_val))


def refuse_ensemble(config, command: str):
    """``config``, refused when it asks for an ensemble: ``command`` trains single networks."""
    if config.training.ensemble > 1:
        raise NnfitError(f"training.ensemble: {command} trains single networks; set "
                         f"training.ensemble to 1 (--set training.ensemble=1)")
    return config


def single_network(config, command: str, *, seeds: str | None = None
                   ) -> tuple[Any, str | None]:
    """``config`` as one network, and a note when it asked for an ensemble: ``command``
    trains (and compares) single networks, so a starter config with ``ensemble: K`` runs
    as its first member would. The note says so, and how to train the ensemble.

    ``seeds``: the seeds the runs train from, in words, when not all train from the
    config's (``nnfit curve``'s repeats: ``"seeds 0…2, one per repeat"``).
    """
    k = config.training.ensemble
    if k <= 1:
        return config, None
    dumped = config.model_dump()
    dumped["training"]["ensemble"] = 1
    return type(config).model_validate(dumped), (
        f"training.ensemble is {k}: {command} trains single networks, so each run is one "
        f"network ({seeds or f'seed {config.training.seed}'}); train the chosen config as "
        f"the ensemble of {k} with nnfit train")


def make_stopper(training, has_val: bool):
    """The EarlyStopping observer: the one place the best epoch is tracked, with or without patience."""
    es = training.early_stopping
    return EarlyStopping("val_loss" if has_val else "train_loss",
                         patience=es.patience if es else None,
                         min_delta=es.min_delta if es else 0.0,
                         restore_best=bool(es and es.restore_best))


def optimizer_for(training, lr: float | None = None):
    """The optimizer ``training`` names, at ``lr`` (default: ``training.lr``)."""
    options = {"lr": training.lr if lr is None else lr, "weight_decay": training.weight_decay,
               "l2": training.l2, "clip_norm": training.clip_norm}
    if training.optimizer in ("momentum", "nesterov"):
        options["momentum"] = training.momentum
    return make_optimizer(training.optimizer, **options)


def schedule_for(training):
    """The learning-rate schedule ``training`` names, or None for a constant rate."""
    spec = training.schedule.model_dump()
    return None if spec["name"] == "constant" else make_schedule(spec)


def threads_for(network, training) -> tuple[int, str]:
    """``(BLAS threads, why)`` for training ``network`` with ``training``'s settings."""
    return choose_threads(None if training.threads == "auto" else training.threads,
                          network.macs_per_row() * training.batch_size)


def fit(prepared: Prepared, config: Config | None = None, *, observers: Sequence = (),
        stopper=None, stop=None) -> FitResult:
    """Train a fresh network on the prepared data; print and write nothing.

    ``config`` overrides the prepared one (its ``data`` section must be the same).
    ``observers`` run after the built-in ones (metrics, early stopping, history);
    ``stopper`` may be passed in to share the best-epoch tracker with a view;
    ``stop`` (anything with ``is_set()``) asks the trainer to stop after the
    current mini-batch.
    """
    run = _Run(prepared, config or prepared.config, observers, stopper, stop)
    started = time.perf_counter()
    with blas_threads(run.threads):
        run.trainer.fit(*run.data)
    return run.result(time.perf_counter() - started)


def fit_packed(prepared: Prepared, configs: Sequence[Config]) -> list[FitResult]:
    """:func:`fit` for each config (same architecture and optimizer settings, e.g. an
    ensemble's seeds), trained together as packed members (:mod:`nnfit.training.packed`):
    the same results, in fewer NumPy calls. Each result's ``seconds`` is its share of
    the shared wall time. Check :func:`packing_refusal` first."""
    runs = [_Run(prepared, config, (), None, None) for config in configs]
    started = time.perf_counter()
    with blas_threads(runs[0].threads):
        train_packed([run.trainer for run in runs], *runs[0].data)
    share = (time.perf_counter() - started) / len(runs)
    return [run.result(share) for run in runs]


#: packed members pay while a member's step is mostly call overhead: up to this many
#: multiply-adds per mini-batch (the crossover measured in bench/packing.py)
PACK_UP_TO_MACS = 2_000_000


def packing_refusal(prepared: Prepared, config: Config) -> str | None:
    """Why ``config``'s members would not train packed (None: they would, and it pays)."""
    t = config.training
    layers = prepared.planned(config)
    if config.model.linear_skip:
        return "a linear skip"
    types = {layer.type for layer in layers}
    if not types <= set(PACKABLE):
        return f"{', '.join(sorted(types - set(PACKABLE)))} layers"
    if t.clip_norm is not None:
        return "clip_norm"
    schedule = schedule_for(t)  # the rule train_packed holds it to
    if schedule is not None and follows_losses(schedule):
        return f"the {schedule.name} schedule"
    if sum(layer.macs_per_row() for layer in layers) * t.batch_size > PACK_UP_TO_MACS:
        return "a network large enough that packing does not pay"
    return None


class _Run:
    """One fit set up: its network, trainer and observers (``data``: what ``fit`` takes)."""

    def __init__(self, prepared: Prepared, config: Config, observers, stopper, stop):
        if config.data != prepared.config.data:
            raise ValueError("config.data differs from the prepared data's: prepare again for it")
        if config.training.loss not in ("auto", prepared.task.loss_name):
            raise ValueError(f"training.loss {config.training.loss} differs from the prepared "
                             f"{prepared.task.loss_name}: prepare again for it")
        for key in ("class_weight", "label_smoothing"):
            if getattr(config.training, key) != getattr(prepared.config.training, key):
                raise ValueError(f"training.{key} differs from the prepared task's: prepare "
                                 f"again for it")
        t, ds, task = config.training, prepared.data, prepared.task
        network = prepared.build(config)
        has_val = "val" in ds.X
        self.stopper = stopper or make_stopper(t, has_val)
        self.history = History()
        self.kept = ValOutputs(self.stopper)
        builtin = ([EpochMetrics(lambda logits, y: task.metrics(logits, y), ds.y["val"])]
                   if has_val else [])
        self.trainer = Trainer(network, task.loss, optimizer_for(t), batch_size=t.batch_size,
                               rng=stream(t.seed, TRAIN_STREAM),
                               observers=[*builtin, self.stopper, self.kept, self.history,
                                          *observers],
                               schedule=schedule_for(t), stop=stop)
        self.threads, self.why = threads_for(network, t)
        self.data = (ds.X["train"], ds.y["train"], t.epochs,
                     (ds.X["val"], ds.y["val"]) if has_val else None)

    def result(self, seconds: float) -> FitResult:
        trainer, stopper, kept = self.trainer, self.stopper, self.kept
        return FitResult(trainer.network, self.history.history, self.history.epochs,
                         trainer.epoch, stopper.best_epoch,
                         stopper.best if stopper.best_epoch else None, trainer.stop_reason,
                         stopper.restored, seconds, self.threads, self.why, stopper.patience,
                         kept.best, kept.peak, kept.peak_epoch)

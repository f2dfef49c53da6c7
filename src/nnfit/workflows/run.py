"""One training run as four typed steps: prepare → fit → score → save.

Every command that trains (``train``, and the many-run commands built on it)
goes through these steps. *prepare* (``workflows.prepared``) reads the data
once; *fit* can then run many times on it — with overridden configs, in worker
processes — printing and writing nothing; *score* judges a fit (and may train
the capacity probe); *save* writes a run directory.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..evaluation.diagnosis import ADVICE
from .prepared import TRAIN_STREAM, Prepared, stream

if TYPE_CHECKING:
    from ..config.schema import Config
    from ..nn.network import Network

ADVICE_DATA_LIMITED = ADVICE["good fit (data)"]

@dataclass
class FitResult:
    """What training produced: the (restored) network, its history and how it ended."""

    network: Network
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
    val_last_outputs: np.ndarray | None = None  # and at the last one: the curve's paired evidence


@dataclass
class Scores:
    """Per-split loss and metrics, the input-ignoring baseline's, and the verdict."""

    splits: dict
    baseline: dict
    diagnosis: dict
    dead_relu: list
    confusion: tuple[str, list] | None = None  # classification: (split, matrix), rows = true class


def one_network(config, command: str):
    """``config``, refused when it asks for an ensemble: ``command`` trains single networks."""
    from ..errors import NnfitError

    if config.training.ensemble > 1:
        raise NnfitError(f"training.ensemble: {command} trains single networks; set "
                         f"training.ensemble to 1 (--set training.ensemble=1)")
    return config


def make_stopper(training, has_val: bool):
    """The EarlyStopping observer: the one place the best epoch is tracked, with or without patience."""
    from ..training.early_stopping import EarlyStopping

    es = training.early_stopping
    return EarlyStopping("val_loss" if has_val else "train_loss",
                         patience=es.patience if es else None,
                         min_delta=es.min_delta if es else 0.0,
                         restore_best=bool(es and es.restore_best))


def optimizer_for(training, lr: float | None = None):
    """The optimizer ``training`` names, at ``lr`` (default: ``training.lr``)."""
    from ..nn.optimizers import make_optimizer

    options = {"lr": training.lr if lr is None else lr, "weight_decay": training.weight_decay,
               "l2": training.l2, "clip_norm": training.clip_norm}
    if training.optimizer in ("momentum", "nesterov"):
        options["momentum"] = training.momentum
    return make_optimizer(training.optimizer, **options)


def schedule_for(training):
    """The learning-rate schedule ``training`` names, or None for a constant rate."""
    from ..training.schedules import make_schedule

    spec = training.schedule.model_dump()
    return None if spec["name"] == "constant" else make_schedule(spec)


def threads_for(network, training) -> tuple[int, str]:
    """``(BLAS threads, why)`` for training ``network`` with ``training``'s settings."""
    from ..runtime.threads import choose_threads, dense_macs

    return choose_threads(None if training.threads == "auto" else training.threads,
                          dense_macs(network, training.batch_size))


def fit(prepared: Prepared, config: Config | None = None, *, observers: Sequence = (),
        stopper=None, stop=None) -> FitResult:
    """Train a fresh network on the prepared data; print and write nothing.

    ``config`` overrides the prepared one (its ``data`` section must be the same).
    ``observers`` run after the built-in ones (metrics, early stopping, history);
    ``stopper`` may be passed in to share the best-epoch tracker with a view;
    ``stop`` (anything with ``is_set()``) asks the trainer to stop after the
    current mini-batch.
    """
    from ..runtime.threads import blas_threads
    from ..training.observers import EpochMetrics, History, ValOutputs
    from ..training.trainer import Trainer

    config = config or prepared.config
    if config.data != prepared.config.data:
        raise ValueError("config.data differs from the prepared data's: prepare again for it")
    if config.training.loss not in ("auto", prepared.task.loss_name):
        raise ValueError(f"training.loss {config.training.loss} differs from the prepared "
                         f"{prepared.task.loss_name}: prepare again for it")
    if config.training.class_weight != prepared.config.training.class_weight:
        raise ValueError("training.class_weight differs from the prepared task's: prepare "
                         "again for it")
    t, ds, task = config.training, prepared.data, prepared.task
    network = prepared.build(config)
    has_val = "val" in ds.X
    stopper = stopper or make_stopper(t, has_val)
    history = History()
    kept = ValOutputs(stopper)
    builtin = [EpochMetrics(lambda logits, y: task.metrics(logits, y), ds.y["val"])] if has_val else []
    trainer = Trainer(network, task.loss, optimizer_for(t), batch_size=t.batch_size,
                      rng=stream(t.seed, TRAIN_STREAM),
                      observers=[*builtin, stopper, kept, history, *observers],
                      schedule=schedule_for(t), stop=stop)
    threads, why = threads_for(network, t)
    started = time.perf_counter()
    with blas_threads(threads):
        trainer.fit(ds.X["train"], ds.y["train"], t.epochs,
                    validation=(ds.X["val"], ds.y["val"]) if has_val else None)
    return FitResult(network, history.history, history.epochs, trainer.epoch, stopper.best_epoch,
                     stopper.best if stopper.best_epoch else None, trainer.stop_reason,
                     stopper.restored, time.perf_counter() - started, threads, why,
                     stopper.patience, kept.best, kept.last)


def score(prepared: Prepared, result: FitResult, config: Config | None = None,
          probe: str = "auto") -> Scores:
    """Loss and metrics per split for the fitted network and the baseline; the verdict.

    ``probe``: ``auto`` trains the capacity probe when the diagnosis needs it
    (see ``nnfit.evaluation.diagnosis``), ``always`` forces it, ``never`` skips it.
    """
    from ..runtime.threads import blas_threads

    with blas_threads(result.threads):  # the run's thread count, for scoring as for training
        return _score(prepared, result, config or prepared.config, probe)


def _score(prepared: Prepared, result: FitResult, config: Config, probe: str) -> Scores:
    from ..evaluation.diagnosis import Evidence, diagnose, needs_probe, outputs_and_dead_units

    ds, task, net = prepared.data, prepared.task, result.network
    splits, baseline, logits = {}, {}, {}
    for name, X in ds.X.items():
        y, rows = ds.y[name], int(X.shape[0])
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged net scores inf; said in words
            if name == "train":  # the dead-unit census rides along on the same pass
                logits[name], dead = outputs_and_dead_units(net, X)
            else:
                logits[name] = net.predict(X)
            splits[name] = {"rows": rows, **task.score(logits[name], y)}
        base = task.baseline_logits(ds.y["train"], rows, net.dtype)
        baseline[name] = {"rows": rows, **task.score(base, y)}
    held_out = next(name for name in ("test", "val", "train") if name in logits)
    matrix = task.confusion(logits[held_out], ds.y[held_out])
    confusion = None if matrix is None else (held_out, matrix)
    has_val = "val" in splits
    with np.errstate(over="ignore", invalid="ignore"):
        evidence = Evidence(
            train_loss=splits["train"]["loss"], base_train=baseline["train"]["loss"],
            train_rows=task.row_losses(logits["train"], ds.y["train"]), history=result.history,
            best_epoch=result.best_epoch, epochs_run=result.epochs_run,
            stop_reason=result.stop_reason, patience=result.patience,
            val_loss=splits["val"]["loss"] if has_val else None,
            base_val=baseline["val"]["loss"] if has_val else None,
            val_rows=task.row_losses(logits["val"], ds.y["val"]) if has_val else None)
        if has_val and result.val_best_outputs is not None and result.val_last_outputs is not None:
            evidence.rise_rows = (task.row_losses(result.val_last_outputs, ds.y["val"])
                                  - task.row_losses(result.val_best_outputs, ds.y["val"]))
        if probe == "always" and result.stop_reason != "diverged" or \
                probe == "auto" and needs_probe(evidence):
            evidence.probe = capacity_probe(prepared, config, result)
            if evidence.probe is None:
                evidence.probe_skipped = "the wider network would not fit in memory"
        elif probe == "never":
            evidence.probe_skipped = "--no-probe"
    return Scores(splits, baseline, diagnose(evidence), dead, confusion)


PROBE_BUDGET = 0.5  # the probe may cost about this share of the main training's time
PROBE_MIN_EPOCHS = 10
PROBE_LR = 3e-3  # its own optimizer settings: a probe stuck on a plateau would hide underfitting
BATCH_OVERHEAD = 4_000  # a mini-batch's fixed cost, in parameters' worth of work (measured)


def probe_layers(layers: list[dict]) -> list[dict]:
    """The hidden layers of a wider variant: each dense layer 4× as wide (at least 64
    units) and never linear; a model without hidden layers gets two of 64 ReLU units."""
    hidden = [dict(layer) for layer in layers[:-1]]  # the last one is the output layer
    for layer in hidden:
        if layer["type"] == "dense":
            layer["units"] = max(4 * layer["units"], 64)
            if layer.get("activation") in (None, "identity", "linear"):
                layer["activation"] = "relu"
    if not any(layer["type"] == "dense" for layer in hidden):
        hidden = [{"type": "dense", "units": 64, "activation": "relu"}] * 2
    return hidden


def capacity_probe(prepared: Prepared, config: Config, result: FitResult) -> dict | None:
    """Train the wider variant briefly on the same split; its restored losses and cost.

    None, without training, when the wider network would not fit in the memory this
    machine has available (the main run's results are then kept, the probe skipped).
    """
    from ..nn.build import plan_layers
    from ..runtime import memory as resources

    full = prepared.layers(config)
    layers = probe_layers(full)
    wider = plan_layers([*layers, full[-1]], (prepared.prep.n_inputs,))  # counted, not allocated
    # Epochs from a cost model, not a clock, so the verdict is the same on any machine:
    # an epoch costs (overhead + parameters) per batch, for both networks alike.
    n_params = sum(layer.n_params for layer in wider)
    ratio = (BATCH_OVERHEAD + n_params) / (BATCH_OVERHEAD + result.network.n_params)
    epochs = max(PROBE_MIN_EPOCHS, int(PROBE_BUDGET * result.epochs_run / ratio))
    dumped = config.model_dump()
    dumped["model"]["layers"] = layers
    dumped["training"].update(optimizer="adam", lr=PROBE_LR, weight_decay=0.0, l2=0.0,
                              schedule="constant", clip_norm=None, epochs=epochs)
    probe_config = type(config).model_validate(dumped)
    available = resources.available_memory()
    if available is not None and prepared.memory(probe_config).total > available:
        return None
    fitted = fit(prepared, probe_config)
    net, ds, task = fitted.network, prepared.data, prepared.task
    losses = {name: task.score(net.predict(ds.X[name]), ds.y[name])["loss"]
              for name in ("train", "val") if name in ds.X}
    widths = "→".join(str(layer["units"]) for layer in layers if layer["type"] == "dense")
    return {"train_loss": losses["train"], "val_loss": losses.get("val"), "layers": widths,
            "epochs": fitted.epochs_run, "seconds": round(fitted.seconds, 3)}


def metrics_record(prepared: Prepared, result: FitResult, scores: Scores) -> dict:
    """The content of ``metrics.json``."""
    return {
        "task": prepared.task.kind, "loss": prepared.task.loss_name,
        "splits": scores.splits, "baseline": scores.baseline, "diagnosis": scores.diagnosis,
        "epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
        "seconds": round(result.seconds, 3), "stop_reason": result.stop_reason,
        "restored_best": result.restored, "threads": result.threads,
        "threads_reason": result.threads_reason,
        "dead_relu": scores.dead_relu,
        **({"confusion_split": scores.confusion[0]} if scores.confusion else {}),
        **({"class_weight": prepared.task.weight_by_class} if prepared.task.class_weight else {}),
        "data": {"csv": prepared.source, "rows": prepared.n_rows, "inputs": prepared.prep.n_inputs},
    }


def resolved_config(prepared: Prepared, config=None, overrides: Sequence[str] = ()) -> str:
    """``config.yaml`` of a run: every default filled in, what ``auto`` chose, the overrides noted."""
    import yaml

    config = config or prepared.config
    resolved = config.model_dump(mode="json")
    if resolved.get("sweep") is None:
        resolved.pop("sweep", None)
    resolved["data"]["task"] = prepared.task.kind
    resolved["data"]["split_seed"] = prepared.split_seed  # the split stays when the seed changes
    resolved["training"]["loss"] = prepared.task.loss_name
    head = "".join(f"# --set {o}\n" for o in overrides)
    return (f"# overrides applied to the config file:\n{head}" if head else "") + \
        yaml.safe_dump(resolved, sort_keys=False)


def curves_title(name: str, result: FitResult, scores: Scores) -> str:
    if result.stop_reason == "diverged":
        return f"{name}: diverged at epoch {result.epochs_run}"
    if result.epochs_run == 0:
        return f"{name}: interrupted before the first epoch ended"
    d = scores.diagnosis
    limited = d.get("advice") == ADVICE_DATA_LIMITED
    return f"{name}: {d['verdict']}{' (limited by the data)' if limited else ''}"


def save(run_dir: str | Path, prepared: Prepared, result: FitResult, scores: Scores, *, name: str,
         config=None, overrides: Sequence[str] = (), history_written: bool = False,
         config_written: bool = False, config_header: str = "") -> dict:
    """Write the run directory; return the metrics record.

    ``history_written`` / ``config_written``: the caller already wrote that file (a
    live run writes both before training); ``config_header`` goes above the config.

    The model and metrics are written before the plot, so a plotting failure
    cannot cost the model.
    """
    from ..report.console import diverged_message
    from ..report.plots.learning_curves import learning_curves
    from ..report.tables import confusion_csv
    from ..store.atomic import write_atomic, write_json
    from ..store.history import write_history
    from ..store.model_file import save_model

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if not config_written:
        write_atomic(run_dir / "config.yaml",
                     config_header + resolved_config(prepared, config, overrides))
    save_model(run_dir, result.network, prepared.prep, prepared.task.loss_name,
               prepared.task.class_weight)
    metrics = metrics_record(prepared, result, scores)
    write_json(run_dir / "metrics.json", metrics)
    if not history_written:
        write_history(run_dir / "history.csv", result.history, result.epochs)
    if scores.confusion is not None:
        write_atomic(run_dir / "confusion.csv", confusion_csv(prepared.task.classes,
                                                              scores.confusion[1]))
    diverged = result.stop_reason == "diverged"
    rose = any(c["check"] == "val rose after its best" and c["result"]
               for c in scores.diagnosis.get("evidence", []))
    write_atomic(run_dir / "curves.png", learning_curves(
        result.history, result.epochs, result.best_epoch, curves_title(name, result, scores),
        note=diverged_message(result.epochs_run) if diverged else None, rose=rose))
    return metrics



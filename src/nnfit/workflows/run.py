"""One training run as four typed steps: prepare → fit → score → save.

Every command that trains (``train``, and the many-run commands built on it)
goes through these steps. *prepare* reads the data once; *fit* can then run
many times on it — with overridden configs, in worker processes — printing and
writing nothing; *score* judges a fit; *save* writes a run directory.

Randomness: the seed feeds two independent streams, one for the split (fixed
in *prepare*) and one for initialization and shuffling (drawn in *fit*), so a
fit with another seed or learning rate never changes which rows are held out.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import NnfitError
from ..task import Task

if TYPE_CHECKING:
    from ..config import Config
    from ..data.dataset import Splits
    from ..data.preprocess import Preprocessor
    from ..nn.network import Network

SPLIT_STREAM, TRAIN_STREAM = 0, 1


def stream(seed: int, which: int) -> np.random.Generator:
    """The seeded Generator of one purpose (split or training): ``seed``'s child stream
    ``which``, statistically independent of the other (NumPy's SeedSequence spawning)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(which,)))


@dataclass
class Prepared:
    """The data side of a run, done once: the split, fitted preprocessing and task."""

    config: Config
    source: str  # the CSV's path, as the user gave it
    prep: Preprocessor
    task: Task
    data: Splits
    n_rows: int
    split_seed: int
    notes: list[str] = field(default_factory=list)

    def layers(self, config: Config | None = None, notes: list[str] | None = None) -> list[dict]:
        """The layer specs of ``config`` (default: the prepared one) with the output layer."""
        config = config or self.config
        return output_layers([layer.model_dump() for layer in config.model.layers], self.task,
                             notes if notes is not None else [])

    def build(self, config: Config | None = None) -> Network:
        """A freshly initialized network for ``config``, seeded from its training stream."""
        from ..nn.build import build_network

        config = config or self.config
        return build_network(self.layers(config), n_features=self.prep.n_inputs,
                             dtype=config.training.dtype,
                             seed=stream(config.training.seed, TRAIN_STREAM))


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


def prepare(config: Config, csv_path: str | Path, config_source: str = "config") -> Prepared:
    """Read the CSV, decide the task, split, fit preprocessing on train, transform; check the model.

    Raises NnfitError for anything wrong with the data or the config on this data,
    before anything is written.
    """
    from ..data import dataset as d
    from ..data.table import exclude_columns, read_table
    from ..task import choose_loss, make_task

    data, source = config.data, str(csv_path)
    frame = exclude_columns(read_table(csv_path, data), data.exclude, source)
    frame, features = d.select_columns(frame, data, source)
    notes = d.index_notes(frame, features)
    frame = d.handle_missing(frame, features, data, source, notes)
    kind = d.decide_task(frame, data, source, notes)
    labels, classes = d.class_labels(frame, data, kind, source, notes)
    split_seed = config.training.seed if data.split_seed is None else data.split_seed
    rows = d.split_rows(len(frame), data, labels, stream(split_seed, SPLIT_STREAM), source)
    prep = d.fit_on_train(frame, rows, features, kind, classes, labels, data, source, notes)
    splits = d.transform_splits(prep, frame, rows, source, notes)

    loss = choose_loss(kind, classes and len(classes), config.training.loss, data.targets,
                       config_source)
    prepared = Prepared(config, source, prep, make_task(prep, loss), splits, len(frame),
                        split_seed, notes)
    try:  # check the declared output layer now, and say what was added
        prepared.layers(notes=notes)
    except NnfitError as exc:
        raise NnfitError(f"{config_source}: {exc.message}") from None
    return prepared


def output_layers(layers: list[dict], task: Task, notes: list[str]) -> list[dict]:
    """The layer list with its output layer: the declared one, checked, or one appended.

    A last ``dense`` layer whose activation is identity (or the loss's own output
    activation, which the loss applies) is the declared output layer.
    """
    n_out, fused = task.n_outputs, task.loss.output_activation
    last = layers[-1] if layers else None
    act = last and (last["activation"] if isinstance(last.get("activation"), str)
                    else (last.get("activation") or {}).get("name"))
    if last and last["type"] == "dense" and act in ("identity", "linear", fused):
        where = f"model.layers[{len(layers) - 1}]"
        if last["units"] != n_out:
            remedy = ("or give it an activation to make it a hidden layer" if act != fused else
                      f"a last {fused} layer is the output layer (the loss applies {fused}); "
                      f"for a hidden layer use another activation")
            raise NnfitError(f"{where}.units: the output layer needs {n_out} unit"
                             f"{'s' if n_out > 1 else ''} for {task.describe()} (got "
                             f"{last['units']}); {remedy}")
        if act == fused and fused != "identity":
            notes.append(f"{where}: {fused} is applied by the {task.loss_name} loss; the layer "
                         f"outputs logits")
            layers = [*layers[:-1], {**last, "activation": "identity"}]
        return layers
    notes.append(f"output layer: dense, {n_out} unit{'s' if n_out > 1 else ''} for "
                 f"{task.describe()}")
    return [*layers, {"type": "dense", "units": n_out, "activation": "identity"}]


def make_stopper(training, has_val: bool):
    """The EarlyStopping observer: the one place the best epoch is tracked, with or without patience."""
    from ..training.early_stopping import EarlyStopping

    es = training.early_stopping
    return EarlyStopping("val_loss" if has_val else "train_loss",
                         patience=es.patience if es else None,
                         min_delta=es.min_delta if es else 0.0,
                         restore_best=bool(es and es.restore_best))


def fit(prepared: Prepared, config: Config | None = None, *, observers: Sequence = (),
        stopper=None, stop=None) -> FitResult:
    """Train a fresh network on the prepared data; print and write nothing.

    ``config`` overrides the prepared one (its ``data`` section must be the same).
    ``observers`` run after the built-in ones (metrics, early stopping, history);
    ``stopper`` may be passed in to share the best-epoch tracker with a view;
    ``stop`` (anything with ``is_set()``) asks the trainer to stop after the
    current mini-batch.
    """
    from ..nn.optimizers import make_optimizer
    from ..threads import blas_threads, choose_threads, dense_macs
    from ..training.observers import EpochMetrics, History, ValOutputs
    from ..training.trainer import Trainer

    config = config or prepared.config
    if config.data != prepared.config.data:
        raise ValueError("config.data differs from the prepared data's: prepare again for it")
    if config.training.loss not in ("auto", prepared.task.loss_name):
        raise ValueError(f"training.loss {config.training.loss} differs from the prepared "
                         f"{prepared.task.loss_name}: prepare again for it")
    t, ds, task = config.training, prepared.data, prepared.task
    network = prepared.build(config)
    has_val = "val" in ds.X
    stopper = stopper or make_stopper(t, has_val)
    history = History()
    kept = ValOutputs(stopper)
    builtin = [EpochMetrics(lambda logits, y: task.metrics(logits, y), ds.y["val"])] if has_val else []
    options = {"lr": t.lr, "weight_decay": t.weight_decay}
    if t.optimizer in ("momentum", "nesterov"):
        options["momentum"] = t.momentum
    trainer = Trainer(network, task.loss, make_optimizer(t.optimizer, **options),
                      batch_size=t.batch_size, rng=stream(t.seed, TRAIN_STREAM),
                      observers=[*builtin, stopper, kept, history, *observers], stop=stop)
    threads, why = choose_threads(None if t.threads == "auto" else t.threads,
                                  dense_macs(network, t.batch_size))
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
    from ..threads import blas_threads

    with blas_threads(result.threads):  # the run's thread count, for scoring as for training
        return _score(prepared, result, config or prepared.config, probe)


def _score(prepared: Prepared, result: FitResult, config: Config, probe: str) -> Scores:
    from ..evaluation.diagnosis import Evidence, dead_units, diagnose, needs_probe

    ds, task, net = prepared.data, prepared.task, result.network
    splits, baseline, logits = {}, {}, {}
    for name, X in ds.X.items():
        y, rows = ds.y[name], int(X.shape[0])
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged net scores inf; said in words
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
        elif probe == "never":
            evidence.probe_skipped = "--no-probe"
        dead = dead_units(net, ds.X["train"])
    return Scores(splits, baseline, diagnose(evidence), dead, confusion)


PROBE_BUDGET = 0.5  # the probe may cost about this share of the main training's time
PROBE_MIN_EPOCHS = 20
PROBE_LR = 3e-3  # its own optimizer settings: a probe stuck on a plateau would hide underfitting
BATCH_OVERHEAD = 8_000  # a mini-batch's fixed cost, in parameters' worth of work (measured)


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


def capacity_probe(prepared: Prepared, config: Config, result: FitResult) -> dict:
    """Train the wider variant briefly on the same split; its restored losses and cost."""
    from ..nn.build import build_network

    layers = probe_layers(prepared.layers(config))
    wider = build_network([*layers, prepared.layers(config)[-1]], n_features=prepared.prep.n_inputs)
    # Epochs from a cost model, not a clock, so the verdict is the same on any machine:
    # an epoch costs (overhead + parameters) per batch, for both networks alike.
    ratio = (BATCH_OVERHEAD + wider.n_params) / (BATCH_OVERHEAD + result.network.n_params)
    epochs = max(PROBE_MIN_EPOCHS, int(PROBE_BUDGET * result.epochs_run / ratio))
    dumped = config.model_dump()
    dumped["model"]["layers"] = layers
    dumped["training"].update(optimizer="adam", lr=PROBE_LR, weight_decay=0.0, epochs=epochs)
    probe_config = type(config).model_validate(dumped)
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
        "data": {"csv": prepared.source, "rows": prepared.n_rows, "inputs": prepared.prep.n_inputs},
    }


def resolved_config(prepared: Prepared, config=None, overrides: Sequence[str] = ()) -> str:
    """``config.yaml`` of a run: every default filled in, what ``auto`` chose, the overrides noted."""
    import yaml

    config = config or prepared.config
    resolved = config.model_dump(mode="json")
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
    return f"{name}: {scores.diagnosis['verdict']}"


def save(run_dir: str | Path, prepared: Prepared, result: FitResult, scores: Scores, *, name: str,
         config=None, overrides: Sequence[str] = (), history_written: bool = False) -> dict:
    """Write the run directory; return the metrics record.

    The model and metrics are written before the plot, so a plotting failure
    cannot cost the model.
    """
    from ..report.console import diverged_message
    from ..report.plots import learning_curves
    from ..report.tables import confusion_csv
    from ..store import save_model, write_atomic, write_history, write_json

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(run_dir / "config.yaml", resolved_config(prepared, config, overrides))
    save_model(run_dir, result.network, prepared.prep, prepared.task.loss_name)
    metrics = metrics_record(prepared, result, scores)
    write_json(run_dir / "metrics.json", metrics)
    if not history_written:
        write_history(run_dir / "history.csv", result.history, result.epochs)
    if scores.confusion is not None:
        write_atomic(run_dir / "confusion.csv", confusion_csv(prepared.task.classes,
                                                              scores.confusion[1]))
    diverged = result.stop_reason == "diverged"
    write_atomic(run_dir / "curves.png", learning_curves(
        result.history, result.epochs, result.best_epoch, curves_title(name, result, scores),
        note=diverged_message(result.epochs_run) if diverged else None))
    return metrics


# -- one reading, many splits (cross-validation folds) ---------------------------------------


@dataclass
class Unsplit:
    """The data side before any split: the CSV read and cleaned, the task decided.

    ``prepare`` is :func:`read_unsplit`, then :func:`standard_rows`, then
    :func:`prepare_rows` in one go; a command that splits the same rows many ways
    (``train --cv``) reads once and calls :func:`prepare_rows` per split.
    """

    config: Config
    source: str
    frame: object  # pandas DataFrame: the used columns, rows left after the missing-cell policy
    features: list[str]
    kind: str
    labels: np.ndarray | None  # (n_rows,) class labels as text; None for regression
    classes: list[str] | None
    split_seed: int
    notes: list[str]

    @property
    def n_rows(self) -> int:
        return len(self.frame)


def read_unsplit(config: Config, csv_path: str | Path) -> Unsplit:
    """The steps of :func:`prepare` before the split: read, select, missing cells, task, classes."""
    from ..data import dataset as d
    from ..data.table import exclude_columns, read_table

    data, source = config.data, str(csv_path)
    frame = exclude_columns(read_table(csv_path, data), data.exclude, source)
    frame, features = d.select_columns(frame, data, source)
    notes = d.index_notes(frame, features)
    frame = d.handle_missing(frame, features, data, source, notes)
    kind = d.decide_task(frame, data, source, notes)
    labels, classes = d.class_labels(frame, data, kind, source, notes)
    split_seed = config.training.seed if data.split_seed is None else data.split_seed
    return Unsplit(config, source, frame, features, kind, labels, classes, split_seed, notes)


def standard_rows(unsplit: Unsplit) -> dict[str, np.ndarray]:
    """The train / val / test row positions :func:`prepare` uses for this config (seeded)."""
    from ..data.dataset import split_rows

    return split_rows(unsplit.n_rows, unsplit.config.data, unsplit.labels,
                      stream(unsplit.split_seed, SPLIT_STREAM), unsplit.source)


def prepare_rows(unsplit: Unsplit, rows: dict[str, np.ndarray], config: Config | None = None,
                 config_source: str = "config") -> Prepared:
    """A Prepared for given row positions: preprocessing fitted on ``rows["train"]`` only.

    Parameters
    ----------
    rows : ``train``, ``val``, ``test`` -> (n_split,) int positions into the unsplit rows;
        an empty array leaves that split out
    config : the config the result records and ``fit`` checks against (default: the
        unsplit one); its ``data`` section must be the one the rows were read with,
        apart from the fractions
    """
    from ..data import dataset as d
    from ..task import choose_loss, make_task

    config = config or unsplit.config
    data, source, notes = config.data, unsplit.source, list(unsplit.notes)
    rows = {name: np.asarray(rows.get(name, ()), dtype=np.intp) for name in ("train", "val", "test")}
    prep = d.fit_on_train(unsplit.frame, rows, unsplit.features, unsplit.kind, unsplit.classes,
                          unsplit.labels, data, source, notes)
    splits = d.transform_splits(prep, unsplit.frame, rows, source, notes)
    loss = choose_loss(unsplit.kind, unsplit.classes and len(unsplit.classes),
                       config.training.loss, data.targets, config_source)
    prepared = Prepared(config, source, prep, make_task(prep, loss), splits, unsplit.n_rows,
                        unsplit.split_seed, notes)
    try:
        prepared.layers(notes=notes)
    except NnfitError as exc:
        raise NnfitError(f"{config_source}: {exc.message}") from None
    return prepared

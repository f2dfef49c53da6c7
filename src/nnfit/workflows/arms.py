"""Where configs are judged against each other — ``nnfit doctor``'s variants, ``nnfit sweep``'s
grid points (the *arms*): one split (:class:`SplitBench`) or ``K`` folds (:class:`FoldBench`),
the same rows for the base and every arm.

**The same rows.** The base config is read and split once, as ``nnfit train`` would (its
split seed pinned, so the seeds of the repeats never move it). A variant with the same
``data`` section and class weights trains on the base's prepared data itself. One that
changes them (``data.exclude``, ``training.class_weight``) is prepared once per distinct
section, here in the parent, on **the base's rows**: the CSV rows of each split (or fold)
are looked up in the variant's table (:func:`same_rows`) and its preprocessing is fitted
on the same training rows, so its validation rows are the base's, in the same order.

**The same yardstick.** Every trial sends back its validation outputs, and every variant
is scored with **the base's loss** on them (``Task.row_losses`` of the base's task, or
of the base fold's task), so all are in the same units. A variant that weighs the
classes differently (``training.class_weight``) is scored on the outputs it would give
under the base's weights (:func:`reweighted`): class weights ``w`` shift a trained
classifier's probabilities to ``p_w(k|x) ∝ w_k·p(k|x)`` on purpose, and that shift alone
would cost it log loss (judged as is) or win it the weighted loss (judged by its own),
whatever it learned. Taken out, what is judged is whether weighing the classes made the
network learn the rare classes better.

**One job per training** through the shared executor (:func:`trial_job`): the arm's
config at seed ``seed + repeat``, one BLAS thread. With ``--cv K`` the base's folds run as
``nnfit train --cv``'s own fold jobs (``workflows.cv.fold_job``), whose pooled evidence
gives the verdict; a variant's fold is prepared in its worker from the rows it is sent.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config.load import load_config
from ..data.dataset import Dataset, default_split, read_dataset
from ..errors import NnfitError
from ..evaluation.pooling import RunRows
from ..evaluation.task import HEADLINE_METRIC as METRIC
from ..runtime.jobs import job_config
from ..runtime.progress import ProgressReporter
from ..runtime.threads import blas_threads
from .cv import FoldRows, fold_job, fold_jobs, pooled_diagnosis
from .fit import FitResult, fit, refuse_ensemble
from .prepared import Prepared, check_layers, prepare_split
from .run import Scores, score

if TYPE_CHECKING:
    from ..config.schema import Config


@dataclass(frozen=True)
class Arm:
    """The base config or one variant: its config (split seed pinned, one BLAS thread, the
    first seed), its own ``--set`` overrides, and why it could not be set up (if so)."""

    name: str
    overrides: tuple[str, ...]
    config: Config
    error: str = ""

    def seeded(self, repeat: int) -> Config:
        """The config of repeat ``repeat``: seed ``seed + repeat``, the split unmoved."""
        return job_config(self.config, seed=self.config.training.seed + repeat)


@dataclass
class Trial:
    """One training: arm ``arm`` (0: the base) at repeat ``repeat``, on the data ``key``
    names; with ``--cv`` on fold ``fold``'s ``rows`` of that data."""

    arm: int
    repeat: int
    config: Config
    key: str
    fold: int = 0
    rows: dict[str, np.ndarray] | None = None
    keep: bool = False  # send the fitted network back (a run that may be saved)
    progress: tuple | None = None  # (channel, run): send live epochs to a ProgressServer


@dataclass
class Outcome:
    """What a trial sends back: its validation outputs and how its training ended."""

    outputs: np.ndarray  # (n_val, n_outputs)
    epochs_run: int
    stop_reason: str
    seconds: float
    class_weight: list[float] | None  # of its loss, one per class (None: all 1)
    result: FitResult | None = None


def trial_job(shared: dict, trial: Trial) -> Outcome:
    """Train one trial and predict its validation rows. Runs in a worker: prints and writes
    nothing. ``shared``: key -> Prepared (one split) or Dataset (folds)."""
    source = shared[trial.key]
    prepared = source if trial.rows is None else prepare_split(source, trial.rows, trial.config)
    live = [ProgressReporter(*trial.progress)] if trial.progress else []
    result = fit(prepared, trial.config, observers=live)
    with blas_threads(result.threads), np.errstate(over="ignore", invalid="ignore"):
        outputs = result.network.predict(prepared.data.X["val"])
    return Outcome(outputs, result.epochs_run, result.stop_reason, round(result.seconds, 3),
                   prepared.task.class_weight, result if trial.keep else None)


def reweighted(outputs: np.ndarray, trained: list[float] | None,
               judged: list[float] | None) -> np.ndarray:
    """A classifier's logits trained with class weights ``trained``, as weights ``judged``
    would have put them (None: all 1): ``z_k + log judged_k − log trained_k`` (one sigmoid
    logit: the difference of class 1's shift and class 0's). Weighted cross-entropy is
    minimized by ``p(k|x) ∝ w_k·p(k|x)``; this moves that optimum from one weighting to
    the other."""
    if trained == judged:
        return outputs
    n_classes = max(outputs.shape[1], 2)
    shift = (np.log(np.asarray(judged or [1.0] * n_classes))
             - np.log(np.asarray(trained or [1.0] * n_classes)))
    return outputs + (shift[1] - shift[0] if outputs.shape[1] == 1 else shift)


@dataclass
class Measured:
    """One arm at one seed: per-row val losses on the base's yardstick (every fold's
    held-out rows, in fold order, with ``--cv``), their mean, the headline metric."""

    rows: np.ndarray
    loss: float
    metric: float
    epochs: float
    seconds: float
    diverged: bool
    kept: list = field(default_factory=list)  # the first repeat's raw outcomes


@dataclass
class Batch:
    """Jobs for the executor, and which ``(arm, repeat, fold)`` each one is."""

    fn: Any
    shared: Any
    jobs: list
    units: list[tuple[int, int, int]]


def run_status(failed: bool, seeds: int, repeats: int, diverged: bool) -> str:
    """An arm's status from what its seeds did: failed, not run, diverged, partial or ok."""
    return ("failed" if failed else "not run" if not seeds else "diverged" if diverged else
            "partial" if seeds < repeats else "ok")


def data_key(config: Config) -> str:
    return json.dumps(config.data.model_dump(mode="json"), sort_keys=True)


def prepared_key(config: Config) -> str:
    """What a prepared data depends on besides the rows: the data section, the class weights,
    the label smoothing and the loss (its task)."""
    t = config.training
    return json.dumps([data_key(config), t.class_weight, t.loss, t.label_smoothing],
                      sort_keys=True)


def same_rows(base: Dataset, rows: dict[str, np.ndarray], other: Dataset,
              where: str) -> dict[str, np.ndarray]:
    """``rows`` (positions in ``base``'s table) as positions of the same CSV rows in
    ``other``'s; NnfitError when ``other`` lacks one (it dropped rows the base kept)."""
    mapped = {}
    for name, positions in rows.items():
        at = other.frame.index.get_indexer(base.frame.index.to_numpy()[positions])
        if (at < 0).any():
            raise NnfitError(f"{where}: drops {int((at < 0).sum())} of the base's {name} rows, "
                             f"so it cannot be judged on the same rows")
        mapped[name] = at.astype(np.intp)
    return mapped


def check_same_split(base: Prepared, other: Prepared) -> None:
    """ValueError unless ``other`` holds the base's CSV rows in every split, and the same
    encoded validation targets."""
    if base.data.rows.keys() != other.data.rows.keys() or any(
            not np.array_equal(rows, other.data.rows[name]) for name, rows in base.data.rows.items()) \
            or not np.array_equal(base.data.y["val"], other.data.y["val"]):
        raise ValueError("a variant's prepared data is not on the base's split")


def _measured(rows: list[np.ndarray], metrics: list[float], epochs: list[int],
              seconds: list[float], stops: list[str], kept: list) -> Measured:
    joined = np.concatenate(rows)
    with np.errstate(over="ignore", invalid="ignore"):
        loss = float(joined.mean())
    diverged = "diverged" in stops or not np.isfinite(joined).all()
    return Measured(joined, loss, float(np.mean(metrics)), float(np.mean(epochs)),
                    round(float(np.sum(seconds)), 3), diverged, kept)


def _scored(task, outcome, y: np.ndarray) -> tuple[np.ndarray, float]:
    """A trial's per-row losses on the base's yardstick under ``task`` (module docstring),
    and its headline metric: of its decisions as it makes them."""
    outputs = outcome.outputs
    judged = (reweighted(outputs, outcome.class_weight, task.class_weight)
              if task.kind == "classification" else outputs)
    with np.errstate(over="ignore", invalid="ignore"):
        return task.row_losses(judged, y), float(task.metrics(outputs, y)[METRIC[task.kind]])


class SplitBench:
    """The variants judged on the base's train / val / test split."""

    folds = 1

    def __init__(self, config: Config, csv_path: str | Path, source: str, *, need_val: bool,
                 purpose: str = "the doctor judges variants by their val loss",
                 noun: str = "variant"):
        self.source, self.csv_path = source, csv_path
        self.noun = noun  # what an arm is called in messages (a sweep's: "grid point")
        self.dataset = read_dataset(config, csv_path)
        self.rows = default_split(self.dataset)
        self.base = prepare_split(self.dataset, self.rows, config, source)
        if need_val and "val" not in self.base.data.X:
            raise NnfitError(f"{source}: {purpose}, and "
                             f"data.val_fraction is 0 (try --set data.val_fraction=0.2, or "
                             f"--cv 5)")
        self.datasets = {data_key(config): self.dataset}
        self.prepared = {prepared_key(config): self.base}

    @property
    def n_val(self) -> int:
        return int(self.base.data.X["val"].shape[0])

    def output_declared(self, config: Config) -> bool:
        return len(self.base.layers(config)) == len(config.model.layers)

    def dataset_for(self, config: Config) -> Dataset:
        key = data_key(config)
        if key not in self.datasets:
            self.datasets[key] = read_dataset(config, self.csv_path)
        return self.datasets[key]

    def add(self, arm: Arm) -> Arm:
        """``arm`` with its data prepared (once per distinct section, on the base's rows)
        and its model checked on it; or with ``error`` saying why it cannot run."""
        key = prepared_key(arm.config)
        where = f"{self.source}: {self.noun} {arm.name}"
        try:
            if key not in self.prepared:
                dataset = self.dataset_for(arm.config)
                rows = same_rows(self.dataset, self.rows, dataset, where)
                prepared = prepare_split(dataset, rows, arm.config, where)
                check_same_split(self.base, prepared)
                self.prepared[key] = prepared
            prepared = replace(self.prepared[key], notes=[])
            check_layers(prepared, arm.config, f"{where}: ")
            prepared.check_memory(arm.config, where)
        except NnfitError as exc:
            return replace(arm, error=exc.message)
        return arm

    def batch(self, arms: list[tuple[int, Arm]], repeats: int) -> Batch:
        trials = [Trial(i, r, arm.seeded(r), prepared_key(arm.config), keep=r == 0)
                  for i, arm in arms for r in range(repeats)]
        return Batch(trial_job, self.prepared, trials, [(t.arm, t.repeat, 0) for t in trials])

    base_batch = batch

    def measure(self, outcomes: list) -> Measured:
        out = outcomes[0]
        rows, metric = _scored(self.base.task, out, self.base.data.y["val"])
        kept = outcomes if out.result is not None else []
        return _measured([rows], [metric], [out.epochs_run], [out.seconds], [out.stop_reason],
                         kept)

    def diagnose(self, base: Arm, first: Measured) -> tuple[dict, tuple]:
        """The verdict on the base's first seed (the capacity probe where it is wanted), and
        the run to save as ``base/``."""
        result = first.kept[0].result
        scores = score(self.base, result, base.config)
        return scores.diagnosis, (self.base, result, scores)

    def saved(self, arm: Arm, first: Measured | None) -> tuple[Prepared, FitResult, Scores]:
        """The run of ``arm``'s first seed, scored for its run directory."""
        assert first is not None  # the doctor saves only an arm whose first seed finished
        prepared = self.prepared[prepared_key(arm.config)]
        result = first.kept[0].result
        return prepared, result, score(prepared, result, arm.config)


class FoldBench:
    """The variants judged on ``K`` folds of the non-test rows (``nnfit train --cv``'s):
    the pooled per-row val losses are every non-test row once."""

    def __init__(self, config: Config, csv_path: str | Path, source: str, k: int,
                 noun: str = "variant"):
        self.split = SplitBench(config, csv_path, source, need_val=False, noun=noun)
        self.config = config
        self.jobs, self.non_test, _ = fold_jobs(self.split.dataset, k, config, source)
        self.folds = k
        self.fold_rows = {data_key(config): [job.rows for job in self.jobs]}

    @property
    def n_val(self) -> int:
        return int(self.non_test.size)

    @property
    def base(self) -> Prepared:
        return self.split.base

    def output_declared(self, config: Config) -> bool:
        return self.split.output_declared(config)

    def add(self, arm: Arm) -> Arm:
        arm = self.split.add(arm)
        key = data_key(arm.config)
        if not arm.error and key not in self.fold_rows:
            dataset = self.split.dataset_for(arm.config)
            where = f"{self.split.source}: {self.split.noun} {arm.name}"
            self.fold_rows[key] = [same_rows(self.split.dataset, job.rows, dataset, where)
                                   for job in self.jobs]
        return arm

    def base_batch(self, arms: list[tuple[int, Arm]], repeats: int) -> Batch:
        (index, base), = arms
        jobs = [FoldRows(job.fold, job.rows, base.seeded(r)) for r in range(repeats)
                for job in self.jobs]
        units = [(index, r, job.fold) for r in range(repeats) for job in self.jobs]
        return Batch(fold_job, self.split.dataset, jobs, units)

    def batch(self, arms: list[tuple[int, Arm]], repeats: int) -> Batch:
        trials = [Trial(i, r, arm.seeded(r), data_key(arm.config), job.fold,
                        self.fold_rows[data_key(arm.config)][job.fold - 1])
                  for i, arm in arms for r in range(repeats) for job in self.jobs]
        return Batch(trial_job, self.split.datasets, trials,
                     [(t.arm, t.repeat, t.fold) for t in trials])

    def measure(self, outcomes: list) -> Measured:
        """Pooled over the folds (``outcomes`` in fold order): the base's fold results, or a
        variant's outputs scored with each base fold's loss."""
        if isinstance(outcomes[0], RunRows):
            metric = f"val_{METRIC[self.base.task.kind]}"
            records = [f.record for f in outcomes]
            return _measured([f.val_rows for f in outcomes], [r[metric] for r in records],
                             [r["epochs_run"] for r in records], [r["seconds"] for r in records],
                             [r["stop_reason"] for r in records], list(outcomes))
        scored = [_scored(job.prepared.task, out, job.prepared.data.y["val"])
                  for job, out in zip(self.jobs, outcomes, strict=True)]
        return _measured([rows for rows, _ in scored], [m for _, m in scored],
                         [o.epochs_run for o in outcomes], [o.seconds for o in outcomes],
                         [o.stop_reason for o in outcomes], [])

    def diagnose(self, base: Arm, first: Measured) -> tuple[dict, tuple]:
        """The verdict pooled from the base's first-seed folds, as ``nnfit train --cv``
        gives it; the run to save as ``base/``: the base trained on the usual split."""
        diagnosis, _ = pooled_diagnosis(first.kept, self.jobs[0], "auto")
        return diagnosis, self.saved(base, first)

    def saved(self, arm: Arm, first: Measured | None) -> tuple[Prepared, FitResult, Scores]:
        """``arm``'s first seed trained here on the usual split (what ``nnfit train`` with
        its overrides trains), scored for its run directory."""
        prepared = self.split.prepared[prepared_key(arm.config)]
        result = fit(prepared, arm.config)
        return prepared, result, score(prepared, result, arm.config)


def base_config(config_path, overrides: Sequence[str], labels: dict | None = None,
                split_seed: int | None = None) -> Config:
    """The config with ``overrides`` (an ensemble refused: the doctor compares single
    networks), pinned (:func:`pinned`)."""
    config = refuse_ensemble(load_config(config_path, overrides, labels=labels), "nnfit doctor")
    return pinned(config, split_seed)


def pinned(config: Config, split_seed: int | None = None) -> Config:
    """``config`` with its split seed pinned (``split_seed``, or its own), no sweep section,
    one BLAS thread: the seeds of the repeats then never move the split."""
    config.sweep = None
    seed = config.data.split_seed
    pinned = split_seed if split_seed is not None else seed if seed is not None \
        else config.training.seed
    config.data = config.data.model_copy(update={"split_seed": pinned})
    return job_config(config)


def combined(given: Sequence[str], variant: Sequence[str]) -> list[str]:
    """``given`` then ``variant`` overrides, less the given ones a variant's override replaces
    (the same key, or a key inside it: ``model.layers[0].units`` inside ``model.layers``)."""
    paths = [o.partition("=")[0].strip() for o in variant]
    kept = [o for o in given if not any(
        (key := o.partition("=")[0].strip()) == p or key.startswith((p + ".", p + "["))
        for p in paths)]
    return [*kept, *variant]


def reproduce_line(config_path, csv_path, overrides: Sequence[str]) -> str:
    """``nnfit train CONFIG DATA --set ... --set ...``, quoted for a shell."""
    sets = "".join(f" --set {shlex.quote(o)}" for o in overrides)
    return f"nnfit train {shlex.quote(str(config_path))} {shlex.quote(str(csv_path))}{sets}"

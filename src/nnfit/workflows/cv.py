"""``nnfit train --cv K``: K-fold cross-validation on the rows outside the test split, one
verdict from all folds together, then the final model on all those rows.

The steps:

1. Read the CSV once and split it as ``train`` would: the **test split is the one
   ``train`` holds out** and stays untouched until the final model is scored. The
   other rows (``train`` + ``val`` of the usual split) are dealt into ``K`` folds,
   stratified by class for classification, seeded from the split seed (its own
   stream, ``FOLD_STREAM``), so ``--seed`` never moves them unless it moves the split.
2. **Each fold** trains the config on the other ``K − 1`` parts and validates on its
   own part, with the config's training settings (early stopping watches the fold's
   validation part). **The preprocessing is refitted on each fold's training rows**
   (scaling statistics, categories, fill values): a fold's validation rows must be as
   unseen as ``train``'s val rows are, or the fold's val loss would flatter the model.
   The folds run through :func:`~nnfit.runtime.executor.run_jobs` with one BLAS
   thread each (``training.threads`` is set to 1), so ``--jobs 2`` gives the numbers
   of ``--jobs 1`` bit for bit. The rows' data is shared by all folds and sent to
   each worker once (on a Dask cluster, ``--scheduler``); a fold's job is its row
   positions and config (:class:`FoldRows`), and the worker refits the fold's
   preprocessing — as it was fitted here for the notes and the probe.
3. **One verdict from all folds** (:func:`nnfit.evaluation.pooling.pooled_evidence`): one
   ``Evidence`` whose per-row val losses are every fold's held-out rows concatenated — every non-test
   row once, scored by a model that never trained on it — so the noise test of the
   diagnosis is judged on all non-test rows, which is what a small file needs. The
   per-row train losses are concatenated too (each row ``K − 1`` times); the
   paired rise rows when every fold has them; the losses and baselines are the means
   over folds; the curve is the element-wise mean of the folds' curves, cut to the
   shortest; the best epoch is the folds' median (capped at that length). When the
   diagnosis wants the capacity probe, it is trained on the first fold.
4. **The final model** trains on all non-test rows (preprocessing fitted on them, no
   validation split, no early stopping) for the median over folds of the epoch
   whose weights each fold was scored with — its best epoch when early stopping
   restored it, else its last — and is scored on train and test and saved as a
   normal run. Its ``config.yaml`` is exactly that training (``val_fraction: 0``,
   ``early_stopping: null``, the epochs): ``nnfit train`` on it reproduces the model.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..config.load import load_config
from ..data.audit import DATA_CHECK
from ..data.dataset import Dataset, default_split, read_dataset
from ..data.seeds import FOLD_STREAM, stream
from ..data.split import kfold_indices
from ..errors import FAILED, NnfitError
from ..evaluation.diagnosis import judge
from ..evaluation.pooling import RunRows, median_epoch, pooled_evidence
from ..evaluation.scoring import mean_std
from ..evaluation.task import HEADLINE_METRIC as METRIC
from ..report.console import TrainingView, diverged_message, make_console, print_notes
from ..report.plots.fold_curves import fold_plot
from ..report.plots.learning_curves import Line
from ..runtime.cluster import DEFAULT_TIMEOUT, connected
from ..runtime.executor import check_jobs, run_jobs
from ..runtime.jobs import Interrupted, JobFailed, job_config
from ..runtime.signals import ctrl_c_stops, interrupt_code
from ..runtime.threads import blas_threads
from ..store.atomic import write_atomic
from ..store.csv_file import write_csv
from ..store.metrics import MetricsRecord
from ..store.run_dir import make_run_dir
from .ensemble import ensemble_section, fit_ensemble
from .fit import FitResult, fit, make_stopper
from .prepared import Prepared, prepare_split
from .probe import capacity_probe
from .refit import refit_training
from .run import (
    RunOutcome,
    audit_columns,
    exit_code,
    resolved_config,
    run_rows,
    save,
    score,
    stop_messages,
)

if TYPE_CHECKING:
    from ..config.schema import Config


@dataclass
class FoldJob:
    """One fold: the config trained on the other folds' rows, validated on its own."""

    fold: int  # 1-based
    prepared: Prepared  # train: the other folds' rows, val: this fold's; no test
    config: Config
    rows: dict[str, np.ndarray]  # train, val -> positions into the dataset rows

    def sent(self) -> FoldRows:
        """What a worker gets: the fold's rows and config, not its data (module docstring)."""
        return FoldRows(self.fold, self.rows, self.config)


@dataclass(frozen=True)
class FoldRows:
    """A fold as sent to a worker, which prepares its data from the shared dataset rows."""

    fold: int
    rows: dict[str, np.ndarray]
    config: Config


def fold_job(dataset: Dataset, job: FoldRows) -> RunRows:
    """Prepare, train and score one fold. Runs in a worker: prints and writes nothing."""
    prepared = prepare_split(dataset, job.rows, job.config)
    started = time.perf_counter()
    return run_rows(prepared, fit(prepared, job.config), {"fold": job.fold}, started)


def fold_jobs(dataset: Dataset, k: int, config, config_source: str = "config"
              ) -> tuple[list[FoldJob], np.ndarray, np.ndarray]:
    """The fold jobs, the non-test row positions, and the test row positions.

    Raises NnfitError when ``k`` does not fit the non-test rows, or when the config does
    not fit a fold (its messages name ``config_source``).
    """
    rows = default_split(dataset)
    non_test = np.sort(np.concatenate([rows["train"], rows["val"]]))
    n = non_test.size
    if k > n:
        raise NnfitError(f"--cv {k}: only {n} rows lie outside the test split of "
                         f"{dataset.source}; use at most {n} folds")
    labels = None if dataset.labels is None else dataset.labels[non_test]
    held_out = kfold_indices(n, k, stream(dataset.split_seed, FOLD_STREAM), labels,
                             where=f"--cv {k}: among the {n} rows outside the test split of "
                                   f"{dataset.source}, ")
    one = job_config(config)
    jobs = []
    for fold, val in enumerate(held_out, start=1):
        positions = {"train": non_test[np.delete(np.arange(n), val)], "val": non_test[val]}
        jobs.append(FoldJob(fold, prepare_split(dataset, positions, one, config_source), one,
                            positions))
    return jobs, non_test, rows["test"]


def cv_header(k: int, n_rows: int, epochs: int, config) -> str:
    """The comment at the top of a cross-validated run's ``config.yaml``."""
    t = config.training
    es = t.early_stopping
    stopping = (f"early_stopping {{patience: {es.patience}, min_delta: {es.min_delta:g}, "
                f"restore_best: {str(es.restore_best).lower()}}}" if es else "no early stopping")
    return (f"# nnfit train --cv {k}: the final model of a {k}-fold cross-validation over the "
            f"{n_rows} rows outside the test split.\n"
            f"# The folds trained with training.epochs {t.epochs}, {stopping}, on "
            f"each fold's held-out part;\n"
            f"# this model trained on all {n_rows} rows for {epochs} epochs (the median "
            f"over folds), as the settings below say.\n")


@dataclass
class CrossValidation:
    """What cross-validation will do, decided before anything is written."""

    config: Config
    dataset: Dataset
    jobs: list[FoldJob]
    non_test: np.ndarray
    final: Prepared  # all non-test rows for training, the test split for scoring
    name: str
    overrides: Sequence[str]


def cross_validate(config_path: str | Path, csv_path: str | Path, *, k: int, n_jobs: int = 1,
                   out: str | Path | None = None, overrides: Sequence[str] = (), console=None,
                   alerts=None, probe: str = "auto",
                   on_fold: Callable[[dict, int, int], None] | None = None,
                   scheduler: str | None = None,
                   scheduler_timeout: float = DEFAULT_TIMEOUT,
                   config_text: str | None = None) -> RunOutcome:
    """Cross-validate, diagnose from all folds, train and save the final model.

    Returns the final model's run (its ``metrics.json`` has a ``cv`` section and the
    pooled ``diagnosis``). ``on_fold(record, done, k)`` is called in this process as
    each fold finishes. With ``scheduler`` the folds run on that Dask cluster
    (``n_jobs`` is not used). Raises NnfitError for bad input before anything is
    written; after Ctrl-C during the folds, with exit code 130 once cv.csv holds the
    folds that finished. ``config_text``: as for ``train``.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise NnfitError(f"--cv must be a number of folds of at least 2 (got {k})")
    check_jobs(n_jobs)
    console = console or make_console(quiet=True)
    cv = _set_up(config_path, csv_path, k, overrides, config_text)
    with connected(scheduler, scheduler_timeout) as cluster:  # a wrong address: no output
        _print_notes(cv, console, alerts)
        run_dir = make_run_dir(out, cv.name)
        write_atomic(run_dir / "config.yaml", resolved_config(cv.final, cv.config, overrides))
        started = time.perf_counter()
        results = _run_folds(cv, run_dir, n_jobs, cluster, on_fold)
    diagnosis, probe_fold = pooled_diagnosis(results, cv.jobs[0], probe)
    epochs = max(1, median_epoch([f.scored_epoch for f in results]))

    def section() -> dict:  # asked for once the final model is trained: its seconds count
        return _section(cv, results, probe_fold, epochs, None if scheduler else n_jobs,
                        scheduler, round(time.perf_counter() - started, 3))

    metrics, result = _final_model(cv, run_dir, (diagnosis, results), epochs, section, console,
                                   n_jobs)
    threads = f"BLAS threads: 1 per fold; final model {result.threads} ({result.threads_reason})"
    code = exit_code(result, metrics.diagnosis.verdict)
    return RunOutcome(metrics, run_dir,
                      [*stop_messages(result, cv.config.training.lr), threads], code)


def _set_up(config_path, csv_path, k: int, overrides, config_text) -> CrossValidation:
    config = load_config(config_path, overrides, config_text)
    dataset = read_dataset(config, csv_path)
    jobs, non_test, test = fold_jobs(dataset, k, config, str(config_path))
    final = prepare_split(dataset, {"train": non_test, "test": test},
                          refit_training(config, config.training.epochs), str(config_path))
    return CrossValidation(config, dataset, jobs, non_test, final, Path(config_path).stem, overrides)


def _print_notes(cv: CrossValidation, console, alerts) -> None:
    """The final split's notes, then what only a fold's split shows (e.g. categories its
    training rows lack); the data checks once, on the final split (a fold's only recount)."""
    print_notes(console, alerts, cv.final.notes)
    for job in cv.jobs:
        for note in job.prepared.notes:
            if note not in cv.final.notes and note.key != DATA_CHECK:
                console.print(f"fold {job.fold}: {note}", style="dim", markup=False)


def _run_folds(cv: CrossValidation, run_dir: Path, n_jobs: int, cluster, on_fold) -> list[RunRows]:
    """The folds through the executor, ``cv.csv`` rewritten as each finishes; in fold order.
    A failed fold stops cross-validation (exit 1), Ctrl-C with 130, cv.csv kept."""
    k, metric = len(cv.jobs), METRIC[cv.final.task.kind]
    columns = ("fold", "train_rows", "val_rows", "train_loss", "val_loss", f"train_{metric}",
               f"val_{metric}", "baseline_train_loss", "baseline_val_loss", "best_epoch",
               "epochs_run", "stop_reason", "seconds")
    write_csv(run_dir / "cv.csv", columns, [])
    folds: dict[int, RunRows] = {}

    def arrived(index: int, result) -> None:
        if isinstance(result, JobFailed):
            raise NnfitError(f"--cv {k}: fold {index + 1} failed: {result.message}", FAILED)
        folds[index] = result
        write_csv(run_dir / "cv.csv", columns, [folds[i].record for i in sorted(folds)])
        if on_fold is not None:
            on_fold(result.record, len(folds), k)

    try:
        run_jobs(fold_job, [job.sent() for job in cv.jobs], n_jobs=n_jobs, on_result=arrived,
                 scheduler=cluster, shared=cv.dataset)
    except Interrupted:
        raise NnfitError(f"interrupted: {len(folds)} of {k} folds had finished (their "
                         f"numbers are in {run_dir / 'cv.csv'}); no final model was "
                         f"trained", interrupt_code()) from None
    return [folds[i] for i in range(k)]


def _final_model(cv: CrossValidation, run_dir: Path, judged: tuple[dict, list[RunRows]],
                 epochs: int, section, console, n_jobs: int) -> tuple[MetricsRecord, FitResult]:
    """Train the final model on all non-test rows for ``epochs`` (the folds' median); save it
    with the pooled diagnosis, the folds' curves it was judged on (``judged``, drawn in
    curves.png with the final model's train loss) and the ``section()`` of metrics.json."""
    diagnosis, folds = judged
    config = refit_training(cv.config, epochs)
    final = replace(cv.final, config=config)
    stopper = make_stopper(config.training, has_val=False)
    stop = threading.Event()
    console.print(f"final model: all {cv.non_test.size} non-test rows, {epochs} epochs",
                  style="dim", markup=False)
    ensemble = None
    k = len(cv.jobs)
    with ctrl_c_stops(stop):
        if config.training.ensemble > 1:  # the folds judged one network; the model is K
            console.print(f"final model: an ensemble of {config.training.ensemble} seeds",
                          style="dim", markup=False)
            result, members = fit_ensemble(final, config, n_jobs=n_jobs)
            ensemble = ensemble_section(members, METRIC[final.task.kind], n_jobs, None)
        else:
            result = fit(final, config, stopper=stopper, stop=stop,
                         observers=[TrainingView(console, epochs, stopper)])
        scores = replace(score(final, result, config, probe="never"), diagnosis=diagnosis)
        who = f"final ensemble's member 1 of {ensemble.members}" if ensemble else "final model"
        curves = fold_plot([f.history for f in folds], [f.scored_epoch for f in folds], diagnosis,
                           f"{cv.name} (--cv {k})", Line(
                               f"{who}'s train loss ({cv.non_test.size} rows)", result.epochs,
                               result.history.get("train_loss", [])),
                           note=f"{who}: {diverged_message(result.epochs_run)}"
                           if result.stop_reason == "diverged" else None)
        metrics = save(run_dir, final, result, scores, name=f"{cv.name} (--cv {k})",
                       config=config, overrides=cv.overrides,
                       config_header=cv_header(k, cv.non_test.size, epochs, cv.config),
                       ensemble=ensemble, cv=section(), curves=curves)
    return metrics, result


def _section(cv: CrossValidation, results: list[RunRows], probe_fold: int | None,
             final_epochs: int, jobs: int | None, scheduler: str | None, seconds: float) -> dict:
    """``metrics.json``'s ``cv`` section: the folds, their mean and std, the final training."""
    metric = METRIC[cv.final.task.kind]
    records = [f.record for f in results]
    mean, std = {}, {}
    for key in ("train_loss", "val_loss", f"train_{metric}", f"val_{metric}", "best_epoch"):
        mean[key], std[key] = mean_std([r[key] for r in records])
    es = cv.config.training.early_stopping
    return {
        "k": len(results), "metric": metric, "rows": int(cv.non_test.size),
        "stratified": cv.final.task.kind == "classification",
        "split_seed": cv.final.split_seed, "jobs": jobs, "scheduler": scheduler,
        "seconds": seconds, "folds": records, "mean": mean, "std": std,
        "final_epochs": final_epochs,
        "probe_fold": probe_fold,
        "fold_training": {"epochs": cv.config.training.epochs,
                          "early_stopping": es and es.model_dump()},
    }


def pooled_diagnosis(folds: list[RunRows], first: FoldJob, probe: str) -> tuple[dict, int | None]:
    """The pooled diagnosis, with the capacity probe on the first fold when it is wanted."""
    evidence = pooled_evidence(folds, **audit_columns(first.prepared))
    # the probe with one BLAS thread, as in the folds' workers: the same numbers for any --jobs
    with np.errstate(over="ignore", invalid="ignore"), blas_threads(1):
        diagnosis, probed = judge(evidence, probe, lambda full: capacity_probe(
            first.prepared, first.config, folds[0].record["epochs_run"],
            first.prepared.n_params(first.config), full=full))
    return {**diagnosis, "pooled_folds": len(folds),
            "pooled_curve": f"the mean of the folds' last {evidence.epochs_run} epochs (curves "
                            f"aligned at their ends)"}, first.fold if probed else None

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
   The folds run through :func:`~nnfit.workflows.executor.run_jobs` with one BLAS
   thread each (``training.threads`` is set to 1), so ``--jobs 2`` gives the numbers
   of ``--jobs 1`` bit for bit. The rows' data is shared by all folds and sent to
   each worker once (on a Dask cluster, ``--scheduler``); a fold's job is its row
   positions and config (:class:`FoldRows`), and the worker refits the fold's
   preprocessing — as it was fitted here for the notes and the probe.
3. **One verdict from all folds** (:func:`pooled_evidence`): one ``Evidence`` whose
   per-row val losses are every fold's held-out rows concatenated — every non-test
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

import math
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..data.dataset import Dataset, default_split, read_dataset
from ..data.seeds import FOLD_STREAM, stream
from ..errors import FAILED, NnfitError
from ..evaluation.task import HEADLINE_METRIC as METRIC
from ..runtime.cluster import DEFAULT_TIMEOUT
from .fit import FitResult, fit, make_stopper
from .prepared import Prepared, prepare_split
from .run import resolved_config, save, score


@dataclass
class FoldJob:
    """One fold: the config trained on the other folds' rows, validated on its own."""

    fold: int  # 1-based
    prepared: Prepared  # train: the other folds' rows, val: this fold's; no test
    config: object
    rows: dict[str, np.ndarray]  # train, val -> positions into the dataset rows

    def sent(self) -> FoldRows:
        """What a worker gets: the fold's rows and config, not its data (module docstring)."""
        return FoldRows(self.fold, self.rows, self.config)


@dataclass(frozen=True)
class FoldRows:
    """A fold as sent to a worker, which prepares its data from the shared dataset rows."""

    fold: int
    rows: dict[str, np.ndarray]
    config: object


@dataclass
class FoldResult:
    """What a fold sends back: its numbers, its curve, and its per-row losses for pooling."""

    record: dict  # one row of cv.csv
    history: dict[str, list[float]]  # train_loss and val_loss per epoch
    scored_epoch: int  # the epoch whose weights were scored (best if restored, else last)
    patience: int | None
    train_rows: np.ndarray  # (n_train,) per-row losses of the scored weights
    val_rows: np.ndarray  # (n_val,)
    rise_rows: np.ndarray | None  # (n_val,) val loss at the last epoch − at the best, per row


def fold_job(dataset: Dataset, job: FoldRows) -> FoldResult:
    """Prepare, train and score one fold. Runs in a worker: prints and writes nothing."""
    from ..runtime.threads import blas_threads

    prepared = prepare_split(dataset, job.rows, job.config)
    started = time.perf_counter()
    result = fit(prepared, job.config)
    ds, task, net = prepared.data, prepared.task, result.network
    metric = METRIC[task.kind]
    numbers, rows = {}, {}
    with blas_threads(result.threads), np.errstate(over="ignore", invalid="ignore"):
        for name in ("train", "val"):
            logits = net.predict(ds.X[name])
            scored = task.score(logits, ds.y[name])
            base = task.baseline_logits(ds.y["train"], logits.shape[0], net.dtype)
            numbers[name] = (scored["loss"], scored[metric], task.score(base, ds.y[name])["loss"])
            rows[name] = task.row_losses(logits, ds.y[name])
        rise = None
        if result.val_best_outputs is not None and result.val_last_outputs is not None:
            rise = (task.row_losses(result.val_last_outputs, ds.y["val"])
                    - task.row_losses(result.val_best_outputs, ds.y["val"]))
    record = {"fold": job.fold, "train_rows": int(ds.X["train"].shape[0]),
              "val_rows": int(ds.X["val"].shape[0]),
              "train_loss": float(numbers["train"][0]), "val_loss": float(numbers["val"][0]),
              f"train_{metric}": float(numbers["train"][1]),
              f"val_{metric}": float(numbers["val"][1]),
              "baseline_train_loss": float(numbers["train"][2]),
              "baseline_val_loss": float(numbers["val"][2]),
              "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
              "stop_reason": result.stop_reason,
              "seconds": round(time.perf_counter() - started, 3)}
    history = {key: list(result.history.get(key, [])) for key in ("train_loss", "val_loss")}
    scored_epoch = result.best_epoch if result.restored else result.epochs_run
    return FoldResult(record, history, scored_epoch, result.patience, rows["train"], rows["val"],
                      rise)


def median_epoch(epochs: Sequence[int]) -> int:
    """The median of epoch counts, a half rounded up."""
    return int(math.floor(statistics.median(epochs) + 0.5))


def pooled_evidence(folds: Sequence[FoldResult]):
    """One ``Evidence`` from all folds (module docstring, step 3).

    The curves are **aligned at their last epochs** and cut to the shortest: with
    early stopping the folds stop at different epochs, and what the diagnosis asks
    of a curve is about its end (did val rise after its best, by the end; was train
    still falling at the end; was the best epoch in the last window). Cutting every
    curve at the shortest one's length *from the start* would make the shortest
    fold's end everyone's, and folds still improving there would read as "still
    falling at the end". Aligned at the end, each fold keeps its own distance from
    best epoch to end; the pooled best epoch is the folds' median position in that
    frame. Without early stopping (equal lengths) the two cuts are the same.
    """
    from ..evaluation.diagnosis import Evidence

    n = min(len(f.history["train_loss"]) for f in folds)
    with np.errstate(over="ignore", invalid="ignore"):
        history = {key: np.mean([f.history[key][len(f.history[key]) - n:] for f in folds],
                                 axis=0).tolist() if n else [] for key in ("train_loss", "val_loss")}
    positions = [f.record["best_epoch"] - (len(f.history["train_loss"]) - n) for f in folds]
    best = min(max(median_epoch(positions), 1), n) if any(f.record["best_epoch"] for f in folds) \
        else 0
    reasons = {f.record["stop_reason"] for f in folds}
    stop_reason = next((r for r in ("diverged", "interrupted") if r in reasons),
                       "early_stopping" if reasons == {"early_stopping"} else "completed")
    rises = [f.rise_rows for f in folds]
    return Evidence(
        train_loss=_mean(f.record["train_loss"] for f in folds),
        base_train=_mean(f.record["baseline_train_loss"] for f in folds),
        train_rows=np.concatenate([f.train_rows for f in folds]), history=history,
        best_epoch=best, epochs_run=n, stop_reason=stop_reason, patience=folds[0].patience,
        val_loss=_mean(f.record["val_loss"] for f in folds),
        base_val=_mean(f.record["baseline_val_loss"] for f in folds),
        val_rows=np.concatenate([f.val_rows for f in folds]),
        rise_rows=None if any(r is None for r in rises) else np.concatenate(rises))


def _mean(values) -> float:
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.mean(list(values)))


def summary(records: Sequence[dict], metric: str) -> tuple[dict, dict]:
    """Mean and standard deviation (ddof 1) over folds of the losses, metrics and best epoch."""
    keys = ("train_loss", "val_loss", f"train_{metric}", f"val_{metric}", "best_epoch")
    mean, std = {}, {}
    with np.errstate(over="ignore", invalid="ignore"):
        for key in keys:
            values = np.asarray([r[key] for r in records], dtype=np.float64)
            mean[key] = float(values.mean())
            std[key] = float(values.std(ddof=1)) if values.size > 1 else 0.0
    return mean, std


def plan(dataset, k: int, config, config_source: str = "config"
         ) -> tuple[list[FoldJob], np.ndarray, np.ndarray]:
    """The fold jobs, the non-test row positions, and the test row positions.

    Raises NnfitError when ``k`` does not fit the non-test rows, or when the config does
    not fit a fold (its messages name ``config_source``).
    """
    from ..data.split import kfold_indices

    rows = default_split(dataset)
    non_test = np.sort(np.concatenate([rows["train"], rows["val"]]))
    n = non_test.size
    if k > n:
        raise NnfitError(f"--cv {k}: only {n} rows lie outside the test split of "
                         f"{dataset.source}; use at most {n} folds")
    labels = None if dataset.labels is None else dataset.labels[non_test]
    try:
        held_out = kfold_indices(n, k, stream(dataset.split_seed, FOLD_STREAM), labels)
    except NnfitError as exc:
        raise NnfitError(f"--cv {k}: among the {n} rows outside the test split of "
                         f"{dataset.source}, {exc.message}") from None
    from ..runtime.jobs import job_config

    one = job_config(config)
    jobs = []
    for fold, val in enumerate(held_out, start=1):
        positions = {"train": non_test[np.delete(np.arange(n), val)], "val": non_test[val]}
        jobs.append(FoldJob(fold, prepare_split(dataset, positions, one, config_source), one,
                            positions))
    return jobs, non_test, rows["test"]


def final_config(config, epochs: int):
    """The final model's training: no validation split, no early stopping, ``epochs`` epochs."""
    dumped = config.model_dump()
    dumped["data"]["val_fraction"] = 0.0
    dumped["training"].update(early_stopping=None, epochs=epochs)
    return type(config).model_validate(dumped)


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


def cross_validate(config_path: str | Path, csv_path: str | Path, *, k: int, n_jobs: int = 1,
                   out: str | Path | None = None, overrides: Sequence[str] = (), console=None,
                   alerts=None, probe: str = "auto",
                   on_fold: Callable[[dict, int, int], None] | None = None,
                   scheduler: str | None = None,
                   scheduler_timeout: float = DEFAULT_TIMEOUT,
                   config_text: str | None = None) -> dict:
    """Cross-validate, diagnose from all folds, train and save the final model.

    Returns ``metrics.json``'s content (the final model's, with a ``cv`` section and
    the pooled ``diagnosis``) plus ``run_dir`` and ``messages``. ``on_fold(record,
    done, k)`` is called in this process as each fold finishes. With ``scheduler``
    the folds run on that Dask cluster (``n_jobs`` is not used). Raises NnfitError
    for bad input before anything is written; after Ctrl-C during the folds, with
    exit code 130 once cv.csv holds the folds that finished. ``config_text``: as for
    ``train``.
    """
    from ..config.load import load_config
    from ..report.console import TrainingView, make_console, print_notes
    from ..runtime.cluster import connected
    from ..runtime.executor import run_jobs
    from ..runtime.jobs import Interrupted, JobFailed
    from ..runtime.signals import ctrl_c_stops
    from ..store.atomic import write_atomic, write_json
    from ..store.run_dir import make_run_dir
    from .train import stop_messages

    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise NnfitError(f"--cv must be a number of folds of at least 2 (got {k})")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise NnfitError(f"--jobs must be a positive integer (got {n_jobs!r})")
    console = console or make_console(quiet=True)
    config = load_config(config_path, overrides, config_text)
    dataset = read_dataset(config, csv_path)
    jobs, non_test, test = plan(dataset, k, config, str(config_path))
    final = prepare_split(dataset, {"train": non_test, "test": test},
                         final_config(config, config.training.epochs), str(config_path))
    name = Path(config_path).stem
    metric = METRIC[final.task.kind]
    with connected(scheduler, scheduler_timeout) as cluster:  # a wrong address: no output
        print_notes(console, alerts, final.notes)
        for job in jobs:  # what only a fold's split shows, e.g. categories its train rows lack
            for note in job.prepared.notes:
                if note not in final.notes:
                    console.print(f"fold {job.fold}: {note}", style="dim", markup=False)
        run_dir = make_run_dir(out, name)
        write_atomic(run_dir / "config.yaml", resolved_config(final, config, overrides))
        write_atomic(run_dir / "cv.csv", cv_csv([], metric))

        folds: dict[int, FoldResult] = {}

        def arrived(index: int, result) -> None:
            if isinstance(result, JobFailed):
                raise NnfitError(f"--cv {k}: fold {index + 1} failed: {result.message}", FAILED)
            folds[index] = result
            write_atomic(run_dir / "cv.csv",
                         cv_csv([folds[i].record for i in sorted(folds)], metric))
            if on_fold is not None:
                on_fold(result.record, len(folds), k)

        started = time.perf_counter()
        try:
            run_jobs(fold_job, [job.sent() for job in jobs], n_jobs=n_jobs, on_result=arrived,
                     scheduler=cluster, shared=dataset)
        except Interrupted:
            raise NnfitError(f"interrupted: {len(folds)} of {k} folds had finished (their "
                             f"numbers are in {run_dir / 'cv.csv'}); no final model was "
                             f"trained", 130) from None
    results = [folds[i] for i in range(k)]
    diagnosis, probe_fold = _diagnose(results, jobs[0], probe)

    epochs = max(1, median_epoch([f.scored_epoch for f in results]))
    final_cfg = final_config(config, epochs)
    final = replace(final, config=final_cfg)
    stopper = make_stopper(final_cfg.training, has_val=False)
    stop = threading.Event()
    console.print(f"final model: all {non_test.size} non-test rows, {epochs} epochs",
                  style="dim", markup=False)
    members = None
    with ctrl_c_stops(stop):
        if final_cfg.training.ensemble > 1:  # the folds judged one network; the model is K
            from .ensemble import ensemble_section, fit_ensemble

            console.print(f"final model: an ensemble of {final_cfg.training.ensemble} seeds",
                          style="dim", markup=False)
            result, members = fit_ensemble(final, final_cfg, n_jobs=n_jobs)
        else:
            result = fit(final, final_cfg, stopper=stopper, stop=stop,
                         observers=[TrainingView(console, epochs, stopper)])
        scores = replace(score(final, result, final_cfg, probe="never"), diagnosis=diagnosis)
        metrics = save(run_dir, final, result, scores, name=f"{name} (--cv {k})",
                       config=final_cfg, overrides=overrides,
                       config_header=cv_header(k, non_test.size, epochs, config))
        if members is not None:
            metrics["ensemble"] = ensemble_section(members, metric, n_jobs, None)
        mean, std = summary([f.record for f in results], metric)
        metrics["cv"] = {
            "k": k, "metric": metric, "rows": int(non_test.size),
            "stratified": final.task.kind == "classification", "split_seed": final.split_seed,
            "jobs": None if scheduler else n_jobs, "scheduler": scheduler,
            "seconds": round(time.perf_counter() - started, 3),
            "folds": [f.record for f in results], "mean": mean, "std": std,
            "final_epochs": epochs, "probe_fold": probe_fold,
            "fold_training": {"epochs": config.training.epochs,
                              "early_stopping": config.training.early_stopping and
                              config.training.early_stopping.model_dump()},
        }
        write_json(run_dir / "metrics.json", metrics)
    threads = f"BLAS threads: 1 per fold; final model {result.threads} ({result.threads_reason})"
    return {**metrics, "run_dir": str(run_dir),
            "messages": [*stop_messages(result, final_cfg.training.lr), threads]}


def _diagnose(folds: list[FoldResult], first: FoldJob, probe: str) -> tuple[dict, int | None]:
    """The pooled diagnosis, with the capacity probe on the first fold when it is wanted."""
    from ..evaluation.diagnosis import diagnose, needs_probe
    from ..runtime.threads import blas_threads
    from .probe import capacity_probe

    evidence = pooled_evidence(folds)
    probe_fold = None
    with np.errstate(over="ignore", invalid="ignore"):
        if probe == "always" and evidence.stop_reason != "diverged" or \
                probe == "auto" and needs_probe(evidence):
            with blas_threads(1):  # as in the folds' workers: the same numbers for any --jobs
                evidence.probe = capacity_probe(first.prepared, first.config,
                                                _probe_basis(first, folds[0]))
            probe_fold = first.fold
        elif probe == "never":
            evidence.probe_skipped = "--no-probe"
        diagnosis = diagnose(evidence)
    return {**diagnosis, "pooled_folds": len(folds),
            "pooled_curve": f"the mean of the folds' last {evidence.epochs_run} epochs (curves "
                            f"aligned at their ends)"}, probe_fold


def _probe_basis(job: FoldJob, fold: FoldResult) -> FitResult:
    """What ``capacity_probe`` sizes its budget from: the fold's epochs and network size.

    The fold's trained weights stayed in its worker; the probe reads only
    ``epochs_run`` and the network's parameter count, so a fresh network of the
    same architecture stands in.
    """
    r = fold.record
    return FitResult(job.prepared.build(job.config), fold.history,
                     list(range(1, len(fold.history["train_loss"]) + 1)), r["epochs_run"],
                     r["best_epoch"], None, r["stop_reason"], False, r["seconds"], 1, "",
                     fold.patience)


def cv_csv(records: Sequence[dict], metric: str) -> str:
    """``cv.csv``: one row per finished fold, in fold order."""
    import csv
    import io

    columns = ("fold", "train_rows", "val_rows", "train_loss", "val_loss", f"train_{metric}",
               f"val_{metric}", "baseline_train_loss", "baseline_val_loss", "best_epoch",
               "epochs_run", "stop_reason", "seconds")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: repr(v) if isinstance(v, float) else v for k, v in record.items()})
    return buffer.getvalue()


def progress_line(record: dict, done: int, k: int) -> str:
    """One line per finished fold (folds finish in any order with --jobs)."""
    metric = next(m for m in METRIC.values() if f"val_{m}" in record)
    return (f"[{done}/{k}] fold {record['fold']}: train {record['train_loss']:.4g}  val "
            f"{record['val_loss']:.4g}  val {metric} {record[f'val_{metric}']:.4g}  best epoch "
            f"{record['best_epoch']} of {record['epochs_run']}  ({record['seconds']:.1f} s)")


def exit_code(metrics: dict) -> int:
    """As ``train``'s, and 1 when the folds diverged."""
    from .train import exit_code as train_exit_code

    code = train_exit_code(metrics)
    return code or (FAILED if metrics["diagnosis"]["verdict"] == "diverged" else 0)

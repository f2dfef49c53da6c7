"""``nnfit curve``: learning curves over training-set size, and what their shape says.

The data is prepared once (one split, preprocessing fitted on the whole training
part); then, for every size (a fraction of the training part) and repeat, a job
trains the config on a seeded subset of the training rows and scores it on that
subset and on the fixed validation rows. Repeat ``r`` uses seed ``seed + r`` for
both the subset draw and the training stream; for one repeat the subsets are
nested (each size takes the first rows of one seeded order), and for
classification every prefix of that order is stratified and every class keeps
at least one row. The jobs run through :mod:`nnfit.runtime.executor`, one BLAS
thread each (``training.threads`` is set to 1), so ``--jobs 2`` gives the
numbers of ``--jobs 1``.

The verdict on the curves' shape is :mod:`nnfit.evaluation.size_curve`'s.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..config.load import load_config
from ..data.seeds import SUBSET_STREAM, stream
from ..data.split import first_rows, stratified_order
from ..errors import FAILED, NnfitError, Note
from ..evaluation.diagnosis import judge
from ..evaluation.pooling import RunRows, median_epoch, pooled_evidence
from ..evaluation.scoring import baseline_scores
from ..evaluation.size_curve import curve_verdict, more_data, summarize
from ..evaluation.task import HEADLINE_METRIC as METRIC
from ..report.console import print_notes, print_warnings
from ..report.plots.size_curve import size_curves
from ..runtime.cluster import DEFAULT_TIMEOUT, connected
from ..runtime.executor import check_jobs, run_jobs
from ..runtime.jobs import Interrupted, JobFailed, job_config
from ..runtime.signals import interrupt_code
from ..runtime.threads import blas_threads
from ..store.atomic import write_atomic, write_json
from ..store.csv_file import write_csv
from ..store.run_dir import make_run_dir
from .fit import fit, single_network
from .prepared import Prepared, prepare, subset
from .probe import capacity_probe
from .run import audit_columns, resolved_config, run_rows

if TYPE_CHECKING:
    from ..config.schema import Config

SIZES = (0.1, 0.2, 0.4, 0.7, 1.0)
REPEATS = 3
MIN_ROWS = 2  # training rows a size must keep (classification: also one per class)


COLUMNS = ("size", "rows", "repeat", "seed", "train_loss", "val_loss", "val_metric",
           "best_epoch", "epochs_run", "stop_reason", "seconds")


@dataclass
class CurveJob:
    """One point of the curve: a config trained on ``rows`` training rows.

    The prepared data is not part of the job: every job reads the same one, which
    the executor sends to each worker once (``run_jobs(..., shared=prepared)``).
    """

    index: np.ndarray  # (rows,) positions in the training split: the subset
    config: Config
    size: float
    rows: int
    repeat: int
    seed: int


def _labels(prepared: Prepared) -> np.ndarray | None:
    return np.asarray(prepared.data.y["train"]).reshape(-1) \
        if prepared.task.kind == "classification" else None


def size_rows(prepared: Prepared, sizes: Sequence[float]) -> dict[float, int]:
    """Training rows per size; NnfitError when a size keeps too few."""
    n_train = prepared.data.X["train"].shape[0]
    labels = _labels(prepared)
    need = max(MIN_ROWS, 0 if labels is None else np.unique(labels).size)
    rows = {size: round(size * n_train) for size in sizes}
    small = min(sizes)
    if rows[small] < need:
        why = (f"{need} (one per class)" if labels is not None and need > MIN_ROWS
               else f"{need}")
        raise NnfitError(f"--sizes {small:g}: keeps {rows[small]} of the {n_train} training rows; "
                         f"each size needs at least {why}")
    return rows


def curve_jobs(prepared: Prepared, config, sizes: Sequence[float], repeats: int
               ) -> list[CurveJob]:
    """One job per (size, repeat), repeat ``r`` seeded with ``seed + r``; the largest size
    first, so that the longest jobs start first and the workers finish together."""
    rows = size_rows(prepared, sizes)
    labels = _labels(prepared)
    n_train = prepared.data.X["train"].shape[0]
    jobs = []
    for repeat in range(repeats):
        seed = config.training.seed + repeat
        one = job_config(config, seed=seed)
        order = stratified_order(n_train, stream(seed, SUBSET_STREAM), labels)
        for size in sizes:
            index = first_rows(order, rows[size], labels)
            jobs.append(CurveJob(index, one, size, rows[size], repeat, seed))
    jobs.sort(key=lambda job: (-job.size, job.repeat))
    return jobs


def curve_job(prepared: Prepared, job: CurveJob) -> RunRows:
    """Train one point on its subset of ``prepared``'s training rows and score it on that
    subset and on the validation rows: its curve.csv row (``record``) and per-row losses.
    Runs in a worker: prints and writes nothing."""
    started = time.perf_counter()
    prepared = subset(prepared, job.index)
    head = {"size": job.size, "rows": job.rows, "repeat": job.repeat, "seed": job.seed}
    rows = run_rows(prepared, fit(prepared, job.config), head, started)
    rows.record["val_metric"] = rows.record[f"val_{METRIC[prepared.task.kind]}"]
    return rows


@dataclass
class CurveResult:
    """What ``nnfit curve`` returns: ``curve.json``'s content and where it was written."""

    record: dict
    run_dir: Path

    @property
    def exit_code(self) -> int:
        """130 after Ctrl-C, 1 when a job failed, else 0."""
        return interrupt_code() if self.record["interrupted"] else \
            FAILED if self.record["failed"] else 0

    def json(self) -> dict:
        return {**self.record, "run_dir": str(self.run_dir)}


def curve(config_path: str | Path, csv_path: str | Path, *, sizes: Sequence[float] = SIZES,
          repeats: int = REPEATS, n_jobs: int = 1, out: str | Path | None = None,
          overrides: Sequence[str] = (), scheduler: str | None = None,
          scheduler_timeout: float = DEFAULT_TIMEOUT, on_run=None, alerts=None) -> CurveResult:
    """Run the learning curve and write its directory (``curve.json``, ``curve.csv``,
    ``curve.png``, ``config.yaml``).

    ``on_run(run, done, total)`` is called in this process as each job finishes
    (``run`` is its curve.csv row, or its failure's record). With ``scheduler`` the
    jobs run on that Dask cluster (``n_jobs`` is not used). Raises NnfitError for
    bad input before anything is written. After Ctrl-C, what finished is written
    and the record says ``"interrupted": True``. ``alerts``: a console for the data's
    warnings (the data checks') and the command's own notes, which the record keeps
    (``"notes"``): a config with ``training.ensemble: K`` is trained as single networks.
    """
    sizes = _checked(sizes, repeats, n_jobs)
    config, notes = _single_networks(load_config(config_path, overrides), repeats)
    prepared = prepare(config, csv_path, str(config_path))
    if alerts is not None:
        print_warnings(alerts, prepared.notes)
    if "val" not in prepared.data.X:
        raise NnfitError(f"{config_path}: nnfit curve needs a validation split, and "
                         f"data.val_fraction is 0 (try --set data.val_fraction=0.2)")
    if alerts is not None:
        print_notes(alerts, None, notes)
    jobs = curve_jobs(prepared, config, sizes, repeats)
    with connected(scheduler, scheduler_timeout) as cluster:  # a wrong address writes nothing
        run_dir = make_run_dir(out, f"{Path(config_path).stem}-curve")
        write_atomic(run_dir / "config.yaml", resolved_config(prepared, config, overrides))
        runs, failed, interrupted = _run_points(prepared, jobs, run_dir, n_jobs, cluster, on_run)
    record = _record(prepared, sizes, repeats, runs, failed, interrupted,
                     None if scheduler else n_jobs, scheduler, notes)
    record["verdict"] = judge_curve(prepared, config, runs)
    write_json(run_dir / "curve.json", record)
    write_atomic(run_dir / "curve.png", _plot(record, Path(config_path).stem))
    return CurveResult(record, run_dir)


def _single_networks(config, repeats: int) -> tuple[Config, list[Note]]:
    """``config`` with ``training.ensemble: 1``, and the note that says so when it asked for
    an ensemble (naming the repeats' seeds ``seed … seed + repeats − 1``)."""
    seed = config.training.seed
    config, note = single_network(config, "nnfit curve", seeds=None if repeats == 1 else
                                  f"seeds {seed}…{seed + repeats - 1}, one per repeat")
    return config, [] if note is None else [Note(note, key="single_network")]


def _checked(sizes: Sequence[float], repeats: int, n_jobs: int) -> list[float]:
    """The sizes, sorted and each once; NnfitError for a bad size, repeat count or --jobs."""
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise NnfitError(f"--repeats must be a positive integer (got {repeats!r})")
    check_jobs(n_jobs)
    sizes = sorted(set(sizes))
    if not sizes or not all(0 < s <= 1 for s in sizes):
        raise NnfitError(f"--sizes: fractions in (0, 1] of the training part (got {sizes})")
    return sizes


def _run_points(prepared: Prepared, jobs: list[CurveJob], run_dir: Path, n_jobs: int, cluster,
                on_run) -> tuple[list[RunRows], list[dict], bool]:
    """The jobs through the executor, ``curve.csv`` rewritten as each finishes; the finished
    runs (by size, then repeat), the failures, and whether Ctrl-C stopped them."""
    finished: dict[int, RunRows] = {}
    failed: list[dict] = []

    def ordered() -> list[RunRows]:
        return sorted(finished.values(), key=lambda r: (r.record["size"], r.record["repeat"]))

    def arrived(index, result):
        job = jobs[index]
        if isinstance(result, JobFailed):
            failed.append({"size": job.size, "repeat": job.repeat, "seed": job.seed,
                           "error": result.message})
        else:
            finished[index] = result
            write_csv(run_dir / "curve.csv", COLUMNS, [r.record for r in ordered()])
        if on_run is not None:
            on_run(result.record if not isinstance(result, JobFailed) else failed[-1],
                   len(finished) + len(failed), len(jobs))

    write_csv(run_dir / "curve.csv", COLUMNS, [])
    try:
        run_jobs(curve_job, jobs, n_jobs=n_jobs, on_result=arrived, scheduler=cluster,
                 shared=prepared)
    except Interrupted:
        return ordered(), failed, True
    return ordered(), failed, False


def judge_curve(prepared: Prepared, config, runs: list[RunRows]) -> dict:
    """The verdict at the largest size that finished (the repeats pooled, the capacity probe
    trained here when it is wanted), and whether the val loss still fell to that size."""
    by_size: dict[float, list[RunRows]] = {}
    for run in runs:
        by_size.setdefault(run.record["size"], []).append(run)
    if not by_size:
        return {"verdict": "no verdict", "reason": "no size has a finished run"}
    sizes = sorted(by_size)
    largest = by_size[sizes[-1]]
    evidence = pooled_evidence(largest, same_rows=True, **audit_columns(prepared))
    epochs = median_epoch([r.record["epochs_run"] for r in largest])
    with np.errstate(over="ignore", invalid="ignore"), blas_threads(1):
        diagnosis, _ = judge(evidence, "auto", lambda full: capacity_probe(
            prepared, config, epochs, prepared.n_params(config), full=full))
    trend = None
    if len(sizes) > 1:
        before = by_size[sizes[-2]]  # its repeats' val losses, averaged row by row as above
        assert evidence.val_rows is not None and evidence.base_val is not None  # curve has val
        rows = (before[0].record["rows"], largest[0].record["rows"])
        trend = more_data(np.mean([r.val_rows for r in before], axis=0), evidence.val_rows,
                          rows, evidence.base_val)
    return curve_verdict(diagnosis, trend, sizes[-1], largest[0].record["rows"])


def _record(prepared: Prepared, sizes: list[float], repeats: int, runs: list[RunRows],
            failed: list[dict], interrupted: bool, jobs: int | None, scheduler: str | None,
            notes: list[Note]) -> dict:
    """``curve.json``: the plan, the baseline, the summary per size and its verdict, the runs,
    and the command's notes (their text)."""
    data, task = prepared.data, prepared.task
    base = {name: float(baseline_scores(task, data, name, data.X[name].dtype)["loss"])
            for name in ("train", "val")}  # fitted on the whole training part
    summary = summarize([r.record for r in runs])
    seed = prepared.config.training.seed
    return {
        "task": task.kind, "loss": task.loss_name,
        "metric": METRIC[task.kind], "sizes": list(sizes), "repeats": repeats,
        "seeds": [seed + r for r in range(repeats)],
        "jobs": jobs, "scheduler": scheduler,
        "train_rows": int(data.X["train"].shape[0]),
        "val_rows": int(data.X["val"].shape[0]),
        "baseline": {"train_loss": base["train"], "val_loss": base["val"]},
        "summary": summary, "runs": [r.record for r in runs], "failed": failed,
        "interrupted": interrupted, "notes": [note.text for note in notes],
        "data": {"csv": prepared.source, "rows": prepared.n_rows},
    }


def _plot(record: dict, name: str) -> bytes:
    title = f"{name}: {record['verdict']['verdict']}"
    if record["interrupted"]:
        title += " (interrupted)"
    return size_curves(record["summary"], record["baseline"]["val_loss"], title,
                       loss=record["loss"], baseline_train=record["baseline"]["train_loss"])

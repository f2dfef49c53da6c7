"""``nnfit sweep``: one config trained at many learning rates (and any other grid), side by side.

The plan is a grid of config overrides: the rates (``--lr``, ``--lr-range A:B:N``
log-spaced, or ``sweep: {training.lr: [...]}`` in the YAML) times any other swept
key (``--set training.batch_size=16,64``: a comma separates the grid's values).
The data is prepared once — same split, preprocessing and seed for every run —
and each grid point is one ``fit`` + ``score`` through the shared executor (one
BLAS thread per run, so ``--jobs 2`` gives the numbers of ``--jobs 1``). The
parent saves each finished run in its own sub-directory, appends it to
``sweep.csv``, and at the end copies the chosen run — the lowest val loss among
the runs that did not diverge or fail — to ``best/``.
"""

from __future__ import annotations

import itertools
import math
import queue
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..config.load import load_config
from ..config.overrides import parse_value
from ..errors import FAILED, NnfitError
from ..evaluation.scoring import baseline_scores
from ..evaluation.task import HEADLINE_METRIC as METRIC
from ..report.console import print_warnings
from ..report.plots.sweep import sweep_plot
from ..runtime.cluster import DEFAULT_TIMEOUT, connected
from ..runtime.executor import check_jobs, run_jobs
from ..runtime.jobs import Interrupted, JobFailed, job_config
from ..runtime.progress import ProgressReporter, ProgressServer
from ..store.atomic import write_atomic, write_json
from ..store.csv_file import write_csv
from ..store.run_dir import make_run_dir
from .fit import fit, refuse_ensemble
from .lr_find import find_lr
from .prepared import Prepared, prepare
from .run import save, score

if TYPE_CHECKING:
    from ..config.schema import Config

LR_FIND_POINTS = 5


def split_values(text: str) -> list[str]:
    """The grid values of a ``--set PATH=V1,V2`` value (a YAML list or mapping is one value)."""
    value = text.strip()
    if value.startswith(("[", "{")) or "," not in value:
        return [value]
    return [v.strip() for v in value.split(",")]


def grid(rates: list[float], sets: list[str], file_sweep: dict | None,
         source: str = "config") -> tuple[list[str], list[list[str]]]:
    """``(fixed overrides, one override list per grid point)``, the rate first.

    Rates given on the command line replace a ``training.lr`` of the file's ``sweep:``
    section; giving them twice on the command line is an error. Raises NnfitError
    naming where a bad plan came from.
    """
    swept: dict[str, list[str]] = {}
    for path, values in (file_sweep or {}).items():
        values = values if isinstance(values, list) else [values]
        if not values:
            raise NnfitError(f"{source}: sweep.{path}: an empty list of values")
        swept[path] = [str(v) for v in values]
    fixed = []
    for text in sets:
        path, sep, value = text.partition("=")
        values = split_values(value) if sep else [value]
        if len(values) > 1:
            if path.strip() == "training.lr" and rates:
                raise NnfitError(f"--set {text}: the rates are given twice (also by --lr or "
                                 f"--lr-range); give them one way")
            swept[path.strip()] = values
        else:
            fixed.append(text)
    if rates:
        swept["training.lr"] = [repr(r) for r in dict.fromkeys(rates)]  # each rate once
    if not swept:
        raise NnfitError("nothing to sweep: give rates, e.g. --lr 0.001 --lr 0.01, or "
                         "--lr-range 1e-4:1e-1:5, other values with --set PATH=V1,V2, or a "
                         "sweep: section in the config")
    for path in swept:
        if path.startswith("data."):
            raise NnfitError(f"sweep over {path}: data settings change the split itself; sweep "
                             f"training and model settings, or run train per data setting")
    keys = sorted(swept, key=lambda k: k != "training.lr")  # the rate first, when swept
    points = [[f"{k}={v}" for k, v in zip(keys, combo, strict=False)]
              for combo in itertools.product(*(swept[k] for k in keys))]
    return fixed, points


@dataclass
class SweepJob:
    """One grid point: small, since the prepared data travels once (``shared``)."""

    config: Config
    index: int
    channel: tuple | None


def sweep_job(prepared: Prepared, job: SweepJob):
    """One grid point: fit and score (no files, no printing); runs in a worker."""
    reporter = ProgressReporter(job.channel, job.index + 1)  # runs count from 1, as in the table
    result = fit(prepared, job.config, observers=[reporter])
    return result, score(prepared, result, job.config)


def _values(point: list[str], config) -> dict:
    """The swept values of a grid point, typed as YAML reads them, the rate always first."""
    values = {"training.lr": config.training.lr}
    values.update({p.split("=")[0]: parse_value(p.split("=", 1)[1]) for p in point})
    return values


def _label(point: list[str]) -> str:
    """``training.lr=0.01, training.batch_size=16`` -> ``lr=0.01_batch_size=16``."""
    return "_".join(f"{p.split('=')[0].split('.')[-1]}={p.split('=', 1)[1]}" for p in point)


def _row(index: int, values: dict, prepared: Prepared, result, scores) -> dict:
    metric = METRIC[prepared.task.kind]
    splits = scores.splits
    diverged = result.stop_reason == "diverged" or scores.diagnosis["verdict"] == "diverged"
    status = "diverged" if diverged else "ok"
    return {"run": index + 1, **values,
            "status": status, "val_loss": splits["val"]["loss"],
            "test_loss": splits.get("test", {}).get("loss", math.nan),
            metric: splits.get("test", splits["val"])[metric],
            "epochs": result.epochs_run, "best_epoch": result.best_epoch,
            "seconds": round(result.seconds, 3), "verdict": scores.diagnosis["verdict"],
            "error": ""}


def choose(rows: list[dict]) -> dict | None:
    """The run with the lowest finite val loss among those that neither diverged nor failed."""
    usable = [r for r in rows if r["status"] == "ok" and math.isfinite(r["val_loss"])]
    return min(usable, key=lambda r: (r["val_loss"], r["run"])) if usable else None


@dataclass
class SweepResult:
    """What ``nnfit sweep`` returns: ``sweep.json``'s content and where it was written."""

    record: dict
    run_dir: Path

    @property
    def exit_code(self) -> int:
        """130 after Ctrl-C, 1 when no run finished well enough to choose, else 0."""
        if self.record["interrupted"]:
            return 130
        return FAILED if self.record["chosen"] is None else 0

    def json(self) -> dict:
        """What ``--json`` prints: the runs, the chosen one and the swept settings."""
        return {k: self.record[k] for k in ("rows", "chosen", "keys")}


@dataclass
class Grid:
    """A sweep's plan: the overrides every run shares, one list per grid point, their configs."""

    fixed: list[str]
    points: list[list[str]]
    configs: list

    @property
    def keys(self) -> list[str]:
        """The swept settings, in the order of sweep.csv's columns."""
        return list(_values(self.points[0], self.configs[0]))


def sweep(config_path: str | Path, csv_path: str | Path, *, rates: list[float],
          overrides: list[str], n_jobs: int = 1, out: str | Path | None = None, view=None,
          scheduler: str | None = None, scheduler_timeout: float = DEFAULT_TIMEOUT,
          lr_find: bool = False, alerts=None) -> SweepResult:
    """Run the sweep and write its directory; return its record (rows, chosen run).

    ``lr_find``: the rates are ``LR_FIND_POINTS`` log-spaced from a decade below to a
    decade above the range test's suggestion (``nnfit lr-find``), instead of ``rates``.

    ``view`` (optional) is told ``started(points)``, ``progress(run, epoch, logs)`` and
    ``finished(row)``; it draws, the workflow does not. ``alerts``: a console for the
    data's warnings (the data checks').
    """
    single = [o for o in overrides if len(split_values(o.partition("=")[2])) == 1]
    base = refuse_ensemble(load_config(config_path, single), "nnfit sweep")
    file_sweep, base.sweep = base.sweep, None  # the plan, not a setting of any one run
    check_jobs(n_jobs)
    if not lr_find:  # a bad plan fails before the data is read
        plan = _grid(config_path, rates, overrides, file_sweep)
    prepared = prepare(base, csv_path, str(config_path))
    if alerts is not None:
        print_warnings(alerts, prepared.notes)
    if "val" not in prepared.data.X:
        raise NnfitError(f"{config_path}: a sweep chooses by val loss, and data.val_fraction is "
                         f"0 (try --set data.val_fraction=0.2)")
    found = None
    if lr_find:
        found = find_lr(prepared, base)
        if found.suggested is None:
            raise NnfitError(f"--lr-find: the range test found no clear fall of the loss in "
                             f"{found.steps} mini-batches, so no rate to start from; give rates "
                             f"with --lr or --lr-range", FAILED)
        rates = [float(f"{r:.3g}") for r in np.geomspace(found.suggested / 10,
                                                         found.suggested * 10, LR_FIND_POINTS)]
        plan = _grid(config_path, rates, overrides, file_sweep)
    with connected(scheduler, scheduler_timeout) as cluster:  # a wrong address writes nothing
        run_dir = make_run_dir(out, f"{Path(config_path).stem}-sweep")
        rows, curves, interrupted = _run(config_path, prepared, plan, run_dir, view, n_jobs,
                                         cluster)
    record = _finish(config_path, prepared, plan, run_dir, rows, curves, interrupted, found,
                     None if cluster is not None else n_jobs)
    return SweepResult(record, run_dir)


def _grid(config_path, rates: list[float], overrides: list[str], file_sweep) -> Grid:
    """The grid's points and each point's config (one BLAS thread each, no sweep section)."""
    fixed, points = grid(rates, overrides, file_sweep, str(config_path))
    configs = [_point_config(config_path, fixed, point, overrides) for point in points]
    for config in configs:
        config.sweep = None
    return Grid(fixed, points, [job_config(config) for config in configs])


def _point_config(config_path, fixed: list[str], point: list[str], given: list[str]):
    """The config of one grid point; a bad value is blamed on where it came from: ``--set``
    for a value given on the command line, the config's ``sweep:`` section for the others."""
    from_file = {override: f"{config_path}: sweep: {override}" for override in point
                 if not any(g.partition("=")[0] == override.partition("=")[0] for g in given)}
    return load_config(config_path, [*fixed, *point], labels=from_file)


def _run(config_path, prepared: Prepared, plan: Grid, run_dir: Path, view, n_jobs: int,
         cluster) -> tuple[list[dict], dict[int, list[float]], bool]:
    """The runs through the executor, each saved and added to ``sweep.csv`` as it finishes;
    the rows (best val loss first), the val curves, and whether Ctrl-C stopped them."""
    points, configs = plan.points, plan.configs
    metric = METRIC[prepared.task.kind]
    columns = ["run", *plan.keys, "status", "val_loss", "test_loss", metric, "epochs",
               "best_epoch", "seconds", "verdict", "error"]
    rows: list[dict] = []
    curves: dict[int, list[float]] = {}
    write_csv(run_dir / "sweep.csv", columns, rows, nonfinite="")
    if view is not None:
        view.started([_label(p) for p in points])

    def arrived(index, outcome):
        point, values = points[index], _values(points[index], configs[index])
        if isinstance(outcome, JobFailed):
            row = {"run": index + 1, **values, "status": "failed", "val_loss": math.nan,
                   "test_loss": math.nan, metric: math.nan, "epochs": 0, "best_epoch": 0,
                   "seconds": 0.0, "verdict": "", "error": outcome.message}
        else:
            result, scores = outcome
            save(run_dir / _run_name(index, point), prepared, result, scores,
                 name=Path(config_path).stem, config=configs[index],
                 overrides=[*plan.fixed, *point])
            row = _row(index, values, prepared, result, scores)
            curves[index + 1] = result.history.get("val_loss", [])
        rows.append(row)
        rows.sort(key=lambda r: (not math.isfinite(r["val_loss"]), r["val_loss"], r["run"]))
        write_csv(run_dir / "sweep.csv", columns, rows, nonfinite="")
        if view is not None:
            view.finished(row)

    interrupted = _run_jobs(prepared, configs, view, n_jobs, cluster, arrived)
    return rows, curves, interrupted


def _run_jobs(prepared: Prepared, configs: list, view, n_jobs: int, cluster, arrived) -> bool:
    """The jobs, with their live progress relayed to ``view``; whether Ctrl-C stopped them."""
    with ProgressServer() as server:
        stop = threading.Event()
        if view is not None:
            threading.Thread(target=_relay, args=(server, view, stop), daemon=True).start()
        jobs = [SweepJob(config, i, server.channel) for i, config in enumerate(configs)]
        try:
            run_jobs(sweep_job, jobs, n_jobs=n_jobs, on_result=arrived, scheduler=cluster,
                     shared=prepared)
        except Interrupted:
            return True
        finally:
            stop.set()
    return False


def _run_name(index: int, point: list[str]) -> str:
    """A run's directory: ``03-lr=0.01_batch_size=16``."""
    return f"{index + 1:02d}-{_label(point)}"


def _finish(config_path, prepared: Prepared, plan: Grid, run_dir: Path, rows: list[dict],
            curves: dict[int, list[float]], interrupted: bool, found, jobs: int | None) -> dict:
    """Copy the chosen run to ``best/``; write ``sweep.json`` and ``sweep.png``."""
    chosen = choose(rows)
    if chosen is not None:
        index = chosen["run"] - 1
        shutil.copytree(run_dir / _run_name(index, plan.points[index]), run_dir / "best")
    record = {"task": prepared.task.kind, "loss": prepared.task.loss_name, "keys": plan.keys,
              "lr_find": None if found is None else {"suggested": found.suggested,
                                                     "rule": found.rule},
              "rows": rows, "chosen": chosen, "interrupted": interrupted,
              "failed": sum(r["status"] == "failed" for r in rows), "jobs": jobs,
              "data": {"csv": prepared.source, "rows": prepared.n_rows}}
    write_json(run_dir / "sweep.json", record)
    data = prepared.data  # every run's split: one input-ignoring baseline for all
    baseline = float(baseline_scores(prepared.task, data, "val", data.X["val"].dtype)["loss"])
    write_atomic(run_dir / "sweep.png", sweep_plot(rows, curves, chosen, Path(config_path).stem,
                                                   baseline=baseline))
    return record


def _relay(server, view, stop: threading.Event):
    while not stop.is_set():
        try:
            run, epoch, logs = server.events.get(timeout=0.1)
        except queue.Empty:
            continue
        view.progress(run, epoch, logs)

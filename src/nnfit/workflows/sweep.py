"""``nnfit sweep``: one config trained over a grid of settings, chosen within the noise.

The plan is a grid of config overrides (``workflows.sweep_plan``): the rates, times any
other swept key. Every grid point is an *arm* judged on **the same rows**
(``workflows.arms``): one split, with ``R`` seeds per point (``--repeats``; by default 3
when the validation split has fewer than 200 rows, else 1), or ``K`` folds of the
non-test rows (``--cv K``). A point whose ``data`` section, class weights or loss differ
is prepared once per distinct setting, on the base's rows, and scored with the base's
loss. Each training is one job through the shared executor (one BLAS thread, so
``--jobs 2`` gives the numbers of ``--jobs 1``).

As each point finishes, its first seed's run is saved in its own sub-directory (on one
split) and its per-row val losses in ``points/`` (for ``--resume``); ``sweep.csv`` is
rewritten. At the end the choice (``evaluation.selection``: the best mean val loss, the
middle of the points tied with it within one paired standard error, a warning at the
edge of the range) goes to ``best/``: the chosen point's first-seed run, or with ``--cv``
that point cross-validated and trained on all non-test rows as ``nnfit train --cv`` does.
"""

from __future__ import annotations

import math
import shutil
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config.load import load_config
from ..errors import FAILED, NnfitError
from ..evaluation.scoring import baseline_scores
from ..evaluation.selection import Choice, Point, choose, loss_and_se
from ..evaluation.task import HEADLINE_METRIC as METRIC
from ..report.console import print_warnings
from ..report.plots.sweep import sweep_plot
from ..runtime.cluster import DEFAULT_TIMEOUT, connected
from ..runtime.executor import check_jobs
from ..runtime.jobs import Interrupted
from ..runtime.progress import ProgressServer
from ..runtime.signals import interrupt_code
from ..store import sweep_points as stored
from ..store.atomic import write_atomic, write_json
from ..store.csv_file import write_csv
from ..store.run_dir import make_run_dir
from .arms import Arm, FoldBench, SplitBench, pinned, prepared_key, reproduce_line, run_status
from .fit import single_network
from .lr_find import find_lr
from .repeats import check_counts, default_repeats
from .run import Scores, save
from .sweep_jobs import relay, run_missing
from .sweep_plan import Grid, plan_grid, point_label, point_values, split_values

if TYPE_CHECKING:
    from ..config.schema import Config

LR_FIND_POINTS = 5


@dataclass
class SweepResult:
    """What ``nnfit sweep`` returns: ``sweep.json``'s content and where it was written."""

    record: dict
    run_dir: Path

    @property
    def exit_code(self) -> int:
        """130 after Ctrl-C, 1 when no point finished well enough to choose, else 0."""
        if self.record["interrupted"]:
            return interrupt_code()
        return FAILED if self.record["chosen"] is None else 0

    def json(self) -> dict:
        """What ``--json`` prints: the points, the chosen one, the swept keys, the choice."""
        return {k: self.record[k] for k in ("rows", "chosen", "keys", "choice", "notes")}


def sweep(config_path: str | Path, csv_path: str | Path, *, rates: list[float],
          overrides: list[str], n_jobs: int = 1, out: str | Path | None = None, view=None,
          scheduler: str | None = None, scheduler_timeout: float = DEFAULT_TIMEOUT,
          lr_find: bool = False, alerts=None, repeats: int | None = None,
          cv: int | None = None, resume: bool = False) -> SweepResult:
    """Run the sweep and write its directory; return its record (rows, choice).

    ``lr_find``: the rates are ``LR_FIND_POINTS`` log-spaced from a decade below to a
    decade above the range test's suggestion, instead of ``rates``. ``repeats``: seeds per
    point (default: module docstring); ``cv``: judge each point on that many folds.
    ``resume``: continue the sweep in ``out``, keeping the points already finished there.

    ``view`` (optional) is told ``started(labels)``, ``progress(run, epoch, logs)`` and
    ``finished(row)``; it draws, the workflow does not. ``alerts``: a console for the
    data's warnings and the sweep's notes.
    """
    check_jobs(n_jobs)
    check_counts(repeats, cv)
    if resume and out is None:
        raise NnfitError("--resume needs --out DIR: the sweep to continue")
    single = [o for o in overrides if len(split_values(o.partition("=")[2])) == 1]
    loaded = load_config(config_path, single)
    base, _ = single_network(loaded, "nnfit sweep")
    file_sweep = base.sweep
    base = pinned(base)
    source = str(config_path)
    if not lr_find:  # a bad plan fails before the data is read
        plan = plan_grid(config_path, rates, overrides, file_sweep, base.data.split_seed)
    bench = (FoldBench(base, csv_path, source, cv, noun="grid point") if cv else
             SplitBench(base, csv_path, source, need_val=True,
                        purpose="a sweep chooses by val loss", noun="grid point"))
    if alerts is not None:
        print_warnings(alerts, bench.base.notes)
    found = None
    if lr_find:
        found = find_lr(bench.base, base)
        if found.suggested is None:
            raise NnfitError(f"--lr-find: the range test found no clear fall of the loss in "
                             f"{found.steps} mini-batches, so no rate to start from; give rates "
                             f"with --lr or --lr-range", FAILED)
        rates = [float(f"{r:.3g}") for r in np.geomspace(found.suggested / 10,
                                                         found.suggested * 10, LR_FIND_POINTS)]
        plan = plan_grid(config_path, rates, overrides, file_sweep, base.data.split_seed)
    n_repeats, why = default_repeats(repeats, bench.n_val, "point")
    notes = _notes(loaded, n_repeats, why, alerts)
    with connected(scheduler, scheduler_timeout) as cluster:  # a wrong address writes nothing
        run_dir = (Path(out) if resume and out is not None
                   else make_run_dir(out, f"{Path(config_path).stem}-sweep"))
        session = Session(config_path, csv_path, plan, bench, n_repeats, cv, run_dir, view,
                          n_jobs, cluster)
        session.start(base, resume)
        session.run()
    record = session.finish(found, notes, None if cluster is not None else n_jobs, scheduler)
    return SweepResult(record, run_dir)


def _notes(loaded: Config, n_repeats: int, why: str | None, alerts) -> list[str]:
    """The sweep's notes (an ensemble run as single networks, the seeds chosen here), shown
    on ``alerts``."""
    first = loaded.training.seed
    seeds = f"seeds {first}…{first + n_repeats - 1}, one per repeat" if n_repeats > 1 else None
    notes = [n for n in (single_network(loaded, "nnfit sweep", seeds=seeds)[1], why) if n]
    if alerts is not None:
        for note in notes:
            alerts.print(f"note: {note}", style="dim", markup=False, soft_wrap=True)
    return notes


@dataclass
class Session:
    """One sweep: the grid's arms on their bench, what each seed measured, the rows."""

    config_path: str | Path
    csv_path: str | Path
    plan: Grid
    bench: SplitBench | FoldBench
    repeats: int
    cv: int | None
    run_dir: Path
    view: Any
    n_jobs: int
    cluster: Any
    arms: list[Arm] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    seeds: dict[int, dict[int, tuple]] = field(default_factory=dict)  # arm -> repeat -> stored
    shown: dict[int, dict] = field(default_factory=dict)  # arm -> its first seed's run numbers
    failed: dict[int, str] = field(default_factory=dict)
    interrupted: bool = False
    resumed: int = 0

    @cached_property
    def names(self) -> list[str]:
        return [f"{i + 1:02d}-{point_label(p)}" for i, p in enumerate(self.plan.points)]

    def start(self, base: Config, resume: bool) -> None:
        """The arms (each point's data prepared on the base's rows); the plan written, or
        checked against the sweep being resumed and its finished points read back."""
        for label, point, config in zip(self.names, self.plan.points, self.plan.configs,
                                        strict=True):
            arm = self.bench.add(Arm(label, tuple(point), config))
            self.arms.append(arm)
            self.hashes.append(stored.settings_hash(
                {"config": config.model_dump(mode="json"), "cv": self.cv}))
        data_hash = stored.file_sha256(self.csv_path)
        plan = {"csv": str(self.csv_path), "data_sha256": data_hash,
                "config": str(self.config_path), "base": base.model_dump(mode="json"),
                "cv": self.cv, "repeats": self.repeats,
                "points": [{"name": n, "hash": h} for n, h in zip(self.names, self.hashes,
                                                                   strict=True)]}
        if resume:
            self._check_resumable(stored.read_plan(self.run_dir), plan)
            n_val = self.bench.n_val
            for i, (name, config_hash) in enumerate(zip(self.names, self.hashes, strict=True)):
                kept = stored.read_point(self.run_dir, name, config_hash, n_val)
                if kept is not None:
                    seeds, shown = kept
                    self.seeds[i] = {r: s for r, s in seeds.items() if r < self.repeats}
                    self.shown[i] = shown
                    self.resumed += len(self.seeds[i])
        stored.write_plan(self.run_dir, plan)
        self._write_csv()

    def _check_resumable(self, old: dict, new: dict) -> None:
        where = f"--resume {self.run_dir}"
        if old.get("data_sha256") != new["data_sha256"]:
            raise NnfitError(f"{where}: {self.csv_path} changed since that sweep started "
                             f"(SHA-256 {str(old.get('data_sha256'))[:12]}… → "
                             f"{new['data_sha256'][:12]}…); start a new sweep")
        changed = stored.changed_settings(old.get("base") or {}, new["base"])
        if changed:
            raise NnfitError(f"{where}: the config changed since that sweep started "
                             f"({', '.join(changed[:5])}); start a new sweep")
        if old.get("cv") != new["cv"]:
            raise NnfitError(f"{where}: that sweep was judged "
                             f"{_judged(old.get('cv'))}, this one {_judged(new['cv'])}; "
                             f"give the same")

    def run(self) -> None:
        """Every seed not yet finished, through the executor; each point saved as it ends."""
        todo = [(i, arm) for i, arm in enumerate(self.arms) if not arm.error]
        for i, arm in enumerate(self.arms):
            if arm.error:
                self.failed[i] = arm.error
        if self.view is not None:
            self.view.started([point_label(p) for p in self.plan.points])
            for i in range(len(self.arms)):
                if self._complete(i) or i in self.failed:
                    self.view.finished(self.row(i))
        missing = [(i, r) for i, _ in todo for r in range(self.repeats)
                   if r not in self.seeds.get(i, {})]
        if not missing:
            return
        with ProgressServer() as server:
            stop = threading.Event()
            if self.view is not None:
                threading.Thread(target=relay, args=(server, self.view, stop),
                                 daemon=True).start()
            try:
                run_missing(self, missing, server.channel)
            except Interrupted:
                self.interrupted = True
            finally:
                stop.set()

    def _failed(self, arm: int, message: str) -> None:
        if arm not in self.failed:
            self.failed[arm] = message
            self._write_csv()
            if self.view is not None:
                self.view.finished(self.row(arm))

    def _measured(self, arm: int, repeat: int, outcomes: list, scores: Scores | None) -> None:
        """One seed of a point is in: kept, its first seed's run saved; the point's files
        and the table rewritten; the view told when the point is complete."""
        m = self.bench.measure(outcomes)
        numbers = {"loss": m.loss, "metric": m.metric, "epochs": m.epochs,
                   "seconds": m.seconds, "diverged": m.diverged}
        self.seeds.setdefault(arm, {})[repeat] = (m.rows, numbers)
        if scores is not None:
            self.shown[arm] = self._save_run(arm, outcomes[0].result, scores)
        stored.write_point(self.run_dir, self.names[arm], self.hashes[arm], self.seeds[arm],
                           self.shown.get(arm, {}))
        self._write_csv()
        if self.view is not None and self._complete(arm):
            self.view.finished(self.row(arm))

    def _save_run(self, arm: int, result, scores: Scores) -> dict:
        """The first seed's run directory; what the table shows of it."""
        config = self.arms[arm].config
        assert isinstance(self.bench, SplitBench)  # with --cv no point's run is saved
        prepared = self.bench.prepared[prepared_key(config)]
        save(self.run_dir / self.names[arm], prepared, result, scores,
             name=Path(self.config_path).stem, config=config,
             overrides=[*self.plan.fixed, *self.plan.points[arm]])
        metric = METRIC[prepared.task.kind]
        held = scores.splits.get("test", {})
        return {"test_loss": held.get("loss", math.nan), f"test_{metric}": held.get(metric, math.nan),
                "best_epoch": result.best_epoch, "verdict": scores.diagnosis["verdict"],
                "val_curve": list(result.history.get("val_loss", []))}

    def _complete(self, arm: int) -> bool:
        return len(self.seeds.get(arm, {})) >= self.repeats

    def _rows_of(self, arm: int) -> np.ndarray | None:
        seeds = self.seeds.get(arm, {})
        done = [r for r in range(self.repeats) if r in seeds]
        return np.stack([seeds[r][0] for r in done]) if done else None

    def points(self) -> list[Point]:
        return [Point(i, point_values(p, c), self._rows_of(i), self._ok(i))
                for i, (p, c) in enumerate(zip(self.plan.points, self.plan.configs, strict=True))]

    def _ok(self, arm: int) -> bool:
        seeds = self.seeds.get(arm, {})
        return bool(seeds) and arm not in self.failed and not any(
            n["diverged"] for _, n in seeds.values())

    def row(self, arm: int, choice: Choice | None = None, rows: np.ndarray | None = None
            ) -> dict:
        """Point ``arm``'s row of the table: its numbers, and with the sweep's ``choice`` its
        paired difference to the best and whether it is tied (``rows``: its per-row val
        losses, when the caller has them stacked already)."""
        metric = f"test_{METRIC[self.bench.base.task.kind]}"
        seeds = self.seeds.get(arm, {})
        if choice is not None and arm in choice.stats:
            loss, se = choice.stats[arm]
        else:
            rows = self._rows_of(arm) if rows is None else rows
            loss, se = loss_and_se(rows) if rows is not None else (math.nan, math.nan)
        vs = choice.vs.get(arm) if choice is not None else None
        shown = self.shown.get(arm, {})
        numbers = [n for _, n in seeds.values()]
        status = run_status(arm in self.failed, len(seeds), self.repeats,
                            any(n["diverged"] for n in numbers))
        return {"run": arm + 1, **point_values(self.plan.points[arm], self.plan.configs[arm]),
                "status": status, "seeds": len(seeds), "val_loss": loss, "val_loss_se": se,
                "vs_best": vs[0] if vs else math.nan, "vs_best_se": vs[1] if vs else math.nan,
                "tied": choice is not None and arm in choice.tied,
                "test_loss": shown.get("test_loss", math.nan),
                metric: shown.get(metric, math.nan),
                "epochs": float(np.mean([n["epochs"] for n in numbers])) if numbers else 0,
                "best_epoch": shown.get("best_epoch", 0),
                "seconds": round(sum(n["seconds"] for n in numbers), 3),
                "verdict": shown.get("verdict", ""), "error": self.failed.get(arm, "")}

    def table(self) -> tuple[list[dict], Choice]:
        """Every point's row, best val loss first, with the choice applied."""
        points = self.points()
        choice = choose(points, self.plan.keys)
        rows = [self.row(p.index, choice, p.rows) for p in points]
        rows.sort(key=lambda r: (not math.isfinite(r["val_loss"]), r["val_loss"], r["run"]))
        return rows, choice

    def _write_csv(self) -> None:
        rows, _ = self.table()
        columns = list(rows[0]) if rows else ["run"]
        write_csv(self.run_dir / "sweep.csv", columns, rows, nonfinite="")

    def finish(self, found, notes: list[str], jobs: int | None, scheduler: str | None) -> dict:
        """The choice to ``best/``; ``sweep.json`` and ``sweep.png``."""
        rows, choice = self.table()
        chosen = next((r for r in rows if r["run"] - 1 == choice.chosen), None)
        reproduce = None
        if chosen is not None and not self.interrupted:
            index = choice.chosen
            assert index is not None  # a chosen row has its point
            overrides = [*self.plan.fixed, *self.plan.points[index]]
            reproduce = reproduce_line(self.config_path, self.csv_path, overrides)
            if (self.run_dir / "best").exists():  # a resumed sweep's earlier choice: redone
                shutil.rmtree(self.run_dir / "best")
            if self.cv:
                from .cv import cross_validate

                cross_validate(self.config_path, self.csv_path, k=self.cv, n_jobs=self.n_jobs,
                               out=self.run_dir / "best", overrides=overrides)
                reproduce += f" --cv {self.cv}"
            elif (self.run_dir / self.names[index]).is_dir():
                shutil.copytree(self.run_dir / self.names[index], self.run_dir / "best")
        task = self.bench.base.task
        record = {"task": task.kind, "loss": task.loss_name, "keys": self.plan.keys,
                  "lr_find": None if found is None else {"suggested": found.suggested,
                                                         "rule": found.rule},
                  "rows": rows, "chosen": chosen,
                  "choice": {"rule": "lowest mean val loss; the middle of the points within 1 "
                                     "paired SE of it when one numeric setting is swept",
                             "why": choice.why, "tied": [i + 1 for i in choice.tied],
                             "edge": choice.edge, "reproduce": reproduce},
                  "repeats": self.repeats, "cv": self.cv, "val_rows": self.bench.n_val,
                  "notes": notes, "resumed_seeds": self.resumed,
                  "interrupted": self.interrupted,
                  "failed": sum(r["status"] == "failed" for r in rows), "jobs": jobs,
                  "scheduler": scheduler,
                  "data": {"csv": str(self.csv_path), "rows": self.bench.base.n_rows}}
        write_json(self.run_dir / "sweep.json", record)
        data = self.bench.base.data
        baseline = float(baseline_scores(task, data, "val", data.X["val"].dtype)["loss"]) \
            if "val" in data.X else None
        curves = {i + 1: s["val_curve"] for i, s in self.shown.items() if s.get("val_curve")}
        write_atomic(self.run_dir / "sweep.png", sweep_plot(rows, curves, chosen,
                                                            Path(self.config_path).stem,
                                                            baseline=baseline))
        return record


def _judged(cv) -> str:
    return f"on {cv} folds (--cv {cv})" if cv else "on the validation split"

"""``nnfit doctor``: the fit verdict's advice, proven by trying it.

1. **The base.** The config (with its ``--set`` overrides) trains ``R`` times, seeds
   ``seed, seed+1, …`` (``--repeats R``; by default 1, or ``SMALL_REPEATS`` when the
   validation rows are fewer than ``FEW_VAL_ROWS``), on one split or on ``K`` folds
   (``--cv K``). Its first seed gives the verdict, as ``nnfit train`` (``--cv K``) would:
   the capacity probe included where it is wanted. The first seed's run is saved as
   ``base/``.
2. **The variants** the verdict's kind names (:mod:`nnfit.workflows.remedies`) train the
   same ``R`` seeds on the same rows (:mod:`nnfit.workflows.arms`), all through the
   shared executor (``--jobs``, ``--scheduler``): one BLAS thread per training, so
   ``--jobs 2`` gives the numbers of ``--jobs 1``.
3. **The judgement.** Each variant's per-row val losses (the base's loss, on the same
   validation rows, or every non-test row once with ``--cv``) minus the base's, seed by
   seed and averaged over the seeds, give the change and its standard error
   (:mod:`nnfit.evaluation.paired`); a variant **helped** when its change is below
   −2 standard errors. The helped variant with the lowest val loss is the best: its first
   seed's run is saved as ``best/`` (with ``--cv``, trained on the usual split, as
   ``nnfit train CONFIG DATA --set …`` trains it), and the ``--set`` line that reproduces it
   is recorded. When nothing helped, nothing is saved as best: the record says so.

``doctor.json`` holds every number, the verdict and the choice. Ctrl-C stops the trainings:
the record then holds what finished (exit 130); a failed variant is marked with its error
(exit 1).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..errors import FAILED, NnfitError
from ..evaluation.paired import paired_change
from ..evaluation.task import HEADLINE_METRIC as METRIC
from ..runtime.cluster import DEFAULT_TIMEOUT, connected
from ..runtime.executor import check_jobs, run_jobs
from ..runtime.jobs import Interrupted, JobFailed
from ..runtime.signals import interrupt_code, noting_ctrl_c
from ..store.atomic import write_json
from ..store.run_dir import make_run_dir
from .arms import (
    Arm,
    Batch,
    FoldBench,
    Measured,
    SplitBench,
    base_config,
    combined,
    reproduce_line,
    run_status,
)
from .remedies import identifier_columns, remedies
from .repeats import check_counts, default_repeats
from .run import save

T = TypeVar("T")


@dataclass
class DoctorResult:
    """What ``nnfit doctor`` returns: ``doctor.json``'s content and where it was written."""

    record: dict
    run_dir: Path

    @property
    def exit_code(self) -> int:
        """130 after Ctrl-C, 1 when a training failed, else 0."""
        if self.record["interrupted"]:
            return interrupt_code()
        return FAILED if self.record["failed"] else 0

    def json(self) -> dict:
        return self.record


def doctor(config_path: str | Path, csv_path: str | Path, *, overrides: Sequence[str] = (),
           repeats: int | None = None, cv: int | None = None, n_jobs: int = 1,
           out: str | Path | None = None, scheduler: str | None = None,
           scheduler_timeout: float = DEFAULT_TIMEOUT, kind: Any = None,
           columns: Sequence[str] | None = None, view=None) -> DoctorResult:
    """Diagnose, try the remedies, judge them against the noise; write the run directory.

    ``kind`` (an ``evaluation.verdicts.Kind``) tries that kind's remedies instead of the verdict's, and
    ``columns`` names the identifier columns of ``overfitting_identifier`` (default: the
    verdict's). ``view`` (optional) is told ``diagnosed(plan)`` once the variants are
    known and ``finished(event, done, total)`` as each arm's seed finishes. Raises
    NnfitError for bad input before anything is written.
    """
    check_jobs(n_jobs)
    check_counts(repeats, cv)
    config = base_config(config_path, overrides)
    source = str(config_path)
    bench = (FoldBench(config, csv_path, source, cv) if cv else
             SplitBench(config, csv_path, source, need_val=True))
    n_repeats, why = default_repeats(repeats, bench.n_val)
    with connected(scheduler, scheduler_timeout) as cluster:  # a wrong address writes nothing
        run_dir = make_run_dir(out, f"{Path(config_path).stem}-doctor")
        session = Session(config_path, csv_path, list(overrides), bench, n_repeats, view,
                          run_dir, n_jobs, cluster)
        session.base_phase(Arm("base", (), config))
        if not session.interrupted:
            session.variant_phase(kind, columns, why)
    record = session.record(cv, why, None if cluster is not None else n_jobs, scheduler)
    write_json(run_dir / "doctor.json", record)
    return DoctorResult(record, run_dir)


@dataclass
class Session:
    """One doctor run: where and how its trainings run, the arms, what each seed measured,
    the verdict."""

    config_path: str | Path
    csv_path: str | Path
    overrides: list[str]
    bench: SplitBench | FoldBench
    repeats: int
    view: Any
    run_dir: Path
    n_jobs: int
    cluster: Any
    arms: list[Arm] = field(default_factory=list)
    measured: dict[tuple[int, int], Measured | JobFailed] = field(default_factory=dict)
    interrupted: bool = False
    diagnosis: dict | None = None
    tried_kind: str | None = None
    done: int = 0
    total: int = 0

    def base_phase(self, base: Arm) -> None:
        """The base's seeds; its verdict; ``base/`` saved."""
        self.arms = [base]
        self.total = self.repeats
        self._run(self.bench.base_batch([(0, base)], self.repeats))
        first = self.measured.get((0, 0))
        failed = next((m for m in self.measured.values() if isinstance(m, JobFailed)), None)
        if failed is not None:
            raise NnfitError(f"{self.config_path}: the base config failed: {failed.message}",
                             FAILED)
        if not isinstance(first, Measured):  # interrupted before the first seed finished
            return
        diagnosed = self._here(lambda: self.bench.diagnose(base, first))
        if diagnosed is None:
            return
        self.diagnosis, (prepared, result, scores) = diagnosed
        save(self.run_dir / "base", prepared, result, scores, name=Path(self.config_path).stem,
             config=base.config, overrides=self.overrides)

    def variant_phase(self, kind, columns, why: str | None) -> None:
        """The variants of the verdict's kind (or ``kind``), each on the same rows."""
        assert self.diagnosis is not None  # set by base_phase when it was not interrupted
        self.tried_kind = str(kind or self.diagnosis["kind"])
        names = identifier_columns(self.diagnosis, self.bench.base) if columns is None \
            else list(columns)
        base = self.arms[0]
        variants = remedies(self.tried_kind, base.config,
                            output_declared=self.bench.output_declared(base.config),
                            columns=names)
        split_seed = base.config.data.split_seed
        for variant in variants:
            labels = {o: f"doctor variant {variant.name}: {o}" for o in variant.overrides}
            try:
                config = base_config(self.config_path,
                                     combined(self.overrides, variant.overrides), labels,
                                     split_seed)
            except NnfitError as exc:  # a change this config cannot take: that variant fails
                self.arms.append(Arm(variant.name, variant.overrides, base.config, exc.message))
                continue
            self.arms.append(self.bench.add(Arm(variant.name, variant.overrides, config)))
        if self.view is not None:
            self.view.diagnosed({"diagnosis": self.diagnosis, "kind": self.tried_kind,
                                 "variants": [a.name for a in self.arms[1:]],
                                 "repeats": self.repeats, "repeats_reason": why})
        runnable = [(i, arm) for i, arm in enumerate(self.arms) if i and not arm.error]
        self.total += len(runnable) * self.repeats
        if runnable:
            self._run(self.bench.batch(runnable, self.repeats))

    def _run(self, batch: Batch) -> None:
        """The batch through the executor; each arm's seed measured once its folds are in."""
        pending: dict[tuple[int, int], dict[int, Any]] = {}

        def arrived(index: int, outcome) -> None:
            arm, repeat, fold = batch.units[index]
            if isinstance(outcome, JobFailed):
                if (arm, repeat) in self.measured:
                    return  # another fold of this seed failed first
                self.measured[arm, repeat] = outcome
            else:
                folds = pending.setdefault((arm, repeat), {})
                folds[fold] = outcome
                if len(folds) < self.bench.folds or (arm, repeat) in self.measured:
                    return
                self.measured[arm, repeat] = self.bench.measure(
                    [folds[f] for f in sorted(folds)])
            self._finished(arm, repeat)

        try:
            run_jobs(batch.fn, batch.jobs, n_jobs=self.n_jobs, on_result=arrived,
                     scheduler=self.cluster, shared=batch.shared)
        except Interrupted:
            self.interrupted = True

    def _here(self, work: Callable[[], T]) -> T | None:
        """``work()`` in this process (the capacity probe, a run trained to be saved); None,
        and the session interrupted, when Ctrl-C stopped it: the trainer would otherwise
        take the press as the end of that one training and go on."""
        pressed = threading.Event()
        try:
            with noting_ctrl_c(pressed):
                done = work()
        except KeyboardInterrupt:
            pressed.set()
        if pressed.is_set():
            self.interrupted = True
            return None
        return done

    def _finished(self, arm: int, repeat: int) -> None:
        self.done += 1
        if self.view is None:
            return
        m = self.measured[arm, repeat]
        self.view.finished({"arm": self.arms[arm].name,
                            "seed": self.arms[arm].config.training.seed + repeat,
                            "val_loss": m.loss if isinstance(m, Measured) else None,
                            "diverged": isinstance(m, Measured) and m.diverged,
                            "error": m.message if isinstance(m, JobFailed) else ""},
                           self.done, self.total)

    def _seeds(self, arm: int) -> dict[int, Measured]:
        return {r: m for r in range(self.repeats)
                if isinstance(m := self.measured.get((arm, r)), Measured)}

    def arm_record(self, index: int) -> dict:
        """One arm's numbers: status, val loss and metric over its seeds, the paired change."""
        arm, seeds = self.arms[index], self._seeds(index)
        failed = [m for (i, _), m in self.measured.items() if i == index
                  and isinstance(m, JobFailed)]
        status = run_status(bool(arm.error or failed), len(seeds), self.repeats,
                            any(m.diverged for m in seeds.values()))
        losses = [seeds[r].loss for r in sorted(seeds)]
        record = {"name": arm.name, "overrides": list(arm.overrides), "status": status,
                  "seeds": len(seeds), "val_loss": _mean(losses), "val_loss_by_seed": losses,
                  "metric": _mean([m.metric for m in seeds.values()]),
                  "epochs": _mean([m.epochs for m in seeds.values()]),
                  "seconds": round(sum(m.seconds for m in seeds.values()), 3),
                  "error": arm.error or (failed[0].message if failed else "")}
        base = self._seeds(0)
        common = sorted(set(seeds) & set(base))
        if index and common and status != "failed":
            change = paired_change(np.stack([base[r].rows for r in common]),
                                   np.stack([seeds[r].rows for r in common]))
            record.update(change.record())
        return record

    def record(self, cv: int | None, why: str | None, jobs: int | None,
               scheduler: str | None) -> dict:
        """``doctor.json``: the verdict, every arm's numbers, the choice (its run saved)."""
        arms = [self.arm_record(i) for i in range(len(self.arms))]
        base, variants = arms[0], arms[1:]
        split = isinstance(self.bench, SplitBench)  # its best/ is the first seed's own run
        helped = [i for i, a in enumerate(arms) if i and a.get("helped")
                  and a["status"] in ("ok", "partial") and (not split or 0 in self._seeds(i))]
        best: int | None = None
        reproduce = None
        if helped:
            chosen = min(helped, key=lambda i: (arms[i]["val_loss"], i))
            reproduce = self._here(lambda: self._save_best(chosen))
            best = chosen if reproduce is not None else None  # None: Ctrl-C stopped its run
        task = self.bench.base.task
        return {"config": str(self.config_path),
                "data": {"csv": str(self.csv_path), "rows": self.bench.base.n_rows},
                "task": task.kind, "loss": task.loss_name, "metric": METRIC[task.kind],
                "overrides": self.overrides, "cv": cv, "val_rows": self.bench.n_val,
                "repeats": self.repeats, "repeats_reason": why,
                "seeds": [self.arms[0].config.training.seed + r for r in range(self.repeats)],
                "diagnosis": self.diagnosis, "kind_tried": self.tried_kind,
                "base": base, "variants": variants,
                "helped": [v["name"] for v in variants if v.get("helped")],
                "best": None if best is None else arms[best]["name"], "reproduce": reproduce,
                "interrupted": self.interrupted,
                "failed": sum(a["status"] == "failed" for a in arms),
                "jobs": jobs, "scheduler": scheduler}

    def _save_best(self, index: int) -> str:
        """Save arm ``index``'s first-seed run as ``best/``; the line that reproduces it."""
        arm = self.arms[index]
        overrides = combined(self.overrides, arm.overrides)
        prepared, result, scores = self.bench.saved(arm, self._seeds(index).get(0))
        save(self.run_dir / "best", prepared, result, scores, name=Path(self.config_path).stem,
             config=arm.config, overrides=overrides)
        return reproduce_line(self.config_path, self.csv_path, overrides)


def _mean(values: Sequence[float]) -> float:
    if not values:
        return math.nan
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.mean(values))

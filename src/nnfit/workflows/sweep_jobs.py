"""How a sweep's trainings run: one job per seed of a grid point (or per fold with ``--cv``)
through the shared executor, and the live progress relayed to the view."""

from __future__ import annotations

import queue
import threading
from dataclasses import replace
from typing import Any

from ..runtime.executor import run_jobs
from ..runtime.jobs import JobFailed
from .arms import Outcome, SplitBench, Trial, trial_job
from .run import Scores, score


def point_job(shared: dict, trial: Trial) -> tuple[Outcome, Scores | None]:
    """``arms.trial_job``, and a point's first seed scored (verdict included) for its run
    directory. Runs in a worker: no files, no prints."""
    outcome = trial_job(shared, trial)
    kept = outcome.result if trial.keep else None
    return outcome, None if kept is None else score(shared[trial.key], kept, trial.config)


def run_missing(session, missing: list[tuple[int, int]], channel) -> None:
    """Train ``missing`` (``(point, repeat)`` pairs) through the executor; each seed handed
    to ``session`` as it finishes (with ``--cv``: once all its folds are in). On one split
    each training also sends its live epochs through ``channel``."""
    bench = session.bench
    wanted = {i: [r for j, r in missing if j == i] for i, _ in missing}
    batch = bench.batch([(i, session.arms[i]) for i in wanted], session.repeats)
    keep = [n for n, (i, r, _) in enumerate(batch.units) if r in wanted[i]]
    jobs, units = [batch.jobs[n] for n in keep], [batch.units[n] for n in keep]
    split = isinstance(bench, SplitBench)
    if split:
        jobs = [replace(t, progress=(channel, t.arm + 1)) for t in jobs]
    pending: dict[tuple[int, int], dict[int, Any]] = {}

    def arrived(index: int, outcome) -> None:
        arm, repeat, fold = units[index]
        if isinstance(outcome, JobFailed):
            session._failed(arm, outcome.message)
            return
        outcome, scores = outcome if split else (outcome, None)
        folds = pending.setdefault((arm, repeat), {})
        folds[fold] = outcome
        if len(folds) == bench.folds:
            session._measured(arm, repeat, [folds[f] for f in sorted(folds)], scores)

    run_jobs(point_job if split else batch.fn, jobs, n_jobs=session.n_jobs, on_result=arrived,
             scheduler=session.cluster, shared=batch.shared)


def relay(server, view, stop: threading.Event):
    while not stop.is_set():
        try:
            run, epoch, logs = server.events.get(timeout=0.1)
        except queue.Empty:
            continue
        view.progress(run, epoch, logs)

"""How a sweep's trainings run: one job per seed of a grid point (or per fold with ``--cv``)
through the shared executor, and the live progress relayed to the view."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..runtime.executor import run_jobs
from ..runtime.jobs import JobFailed
from ..runtime.progress import ProgressReporter
from ..runtime.threads import blas_threads
from .arms import FoldBench, Outcome, SplitBench, Trial, prepared_key
from .fit import fit
from .run import Scores, score


@dataclass
class PointTrial:
    """One training of a grid point on the split, with its live-progress channel."""

    trial: Trial
    run: int  # the point's number, counted from 1 as in the table
    channel: tuple | None


def point_job(shared: dict, job: PointTrial) -> tuple[Outcome, Scores | None]:
    """Train one seed of a point and predict its validation rows; its first seed is also
    scored (verdict included) for its run directory. Runs in a worker: no files, no prints."""
    trial = job.trial
    prepared = shared[trial.key]
    result = fit(prepared, trial.config, observers=[ProgressReporter(job.channel, job.run)])
    with blas_threads(result.threads), np.errstate(over="ignore", invalid="ignore"):
        outputs = result.network.predict(prepared.data.X["val"])
    scores = score(prepared, result, trial.config) if trial.keep else None
    return (Outcome(outputs, result.epochs_run, result.stop_reason, round(result.seconds, 3),
                    prepared.task.class_weight, result if trial.keep else None), scores)


def run_missing(session, missing: list[tuple[int, int]], channel) -> None:
    """Train ``missing`` (``(point, repeat)`` pairs) through the executor; each seed handed
    to ``session`` as it finishes (with ``--cv``: once all its folds are in)."""
    if isinstance(session.bench, FoldBench):
        wanted = {i: [r for j, r in missing if j == i] for i, _ in missing}
        batch = session.bench.batch([(i, session.arms[i]) for i in wanted], session.repeats)
        keep = [n for n, (i, r, _) in enumerate(batch.units) if r in wanted[i]]
        jobs, units = [batch.jobs[n] for n in keep], [batch.units[n] for n in keep]
        pending: dict[tuple[int, int], dict[int, Any]] = {}

        def arrived(index: int, outcome) -> None:
            arm, repeat, fold = units[index]
            if isinstance(outcome, JobFailed):
                session._failed(arm, outcome.message)
                return
            folds = pending.setdefault((arm, repeat), {})
            folds[fold] = outcome
            if len(folds) == session.bench.folds:
                session._measured(arm, repeat, [folds[f] for f in sorted(folds)], None)

        run_jobs(batch.fn, jobs, n_jobs=session.n_jobs, on_result=arrived,
                 scheduler=session.cluster, shared=batch.shared)
        return
    trials = [PointTrial(Trial(i, r, session.arms[i].seeded(r), prepared_key(session.arms[i].config),
                               keep=r == 0), i + 1, channel) for i, r in missing]

    def landed(index: int, outcome) -> None:
        arm, repeat = missing[index]
        if isinstance(outcome, JobFailed):
            session._failed(arm, outcome.message)
            return
        session._measured(arm, repeat, [outcome[0]], outcome[1])

    assert isinstance(session.bench, SplitBench)
    run_jobs(point_job, trials, n_jobs=session.n_jobs, on_result=landed,
             scheduler=session.cluster, shared=session.bench.prepared)


def relay(server, view, stop: threading.Event):
    while not stop.is_set():
        try:
            run, epoch, logs = server.events.get(timeout=0.1)
        except queue.Empty:
            continue
        view.progress(run, epoch, logs)

"""The job protocol of :mod:`nnfit.runtime.executor`: how one job runs wherever it runs, and
what comes back in its place when it fails or the run is interrupted.

A job runs as ``fn(job)`` or ``fn(shared, job)`` under one BLAS thread
(:func:`run_one`); a user error comes back as a :class:`JobFailed`. The executor runs
jobs here or in loky workers; :mod:`nnfit.runtime.cluster` runs them on Dask workers.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import NnfitError
from .threads import blas_threads

#: Exceptions that make one job fail without stopping the others.
JOB_ERRORS = (NnfitError, ValueError)


@dataclass(frozen=True)
class JobFailed:
    """In place of a job's result: the job raised one of :data:`JOB_ERRORS`."""

    index: int
    error: str  # the exception's class name
    message: str

    def __str__(self) -> str:
        return self.message


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped :func:`run_jobs`; ``results`` (job order) holds what finished, else None."""

    def __init__(self, results: list):
        super().__init__("interrupted")
        self.results = results


def job_config(config, **training):
    """``config`` for one job of :func:`run_jobs`: one BLAS thread (the executor's contract,
    so any number of workers give the numbers of one), plus any ``training`` changes."""
    return config.model_copy(update={"training": config.training.model_copy(
        update={"threads": 1, **training})})


def run_one(fn: Callable, index: int, job: Any, in_worker: bool = False, shared: Any = None):
    """``(index, fn(job) or fn(shared, job) or JobFailed)``, under one BLAS thread.

    ``in_worker``: a loky worker process, whose main thread this is (a Dask
    worker runs jobs in other threads, and its own process handles signals).
    """
    if in_worker:  # the parent owns Ctrl-C: it stops the pool and keeps what finished
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with blas_threads(1):
            return index, fn(job) if shared is None else fn(shared, job)
    except JOB_ERRORS as exc:
        message = exc.message if isinstance(exc, NnfitError) else str(exc)
        return index, JobFailed(index, type(exc).__name__, message)

"""Run N independent jobs: the one place nnfit runs many trainings at once (STYLE §9).

Every many-run command (``curve``, and next ``sweep``, ``--cv``, ensembles) is a
plan — a list of jobs — handed to :func:`run_jobs` with a module-level function
that does one job. The executor decides where the jobs run and nothing else:

- ``n_jobs=1``: one after another, in this process.
- ``n_jobs>1``: joblib's loky worker processes, results coming back in the order
  the jobs *finish* (``return_as="generator_unordered"``, joblib ≥ 1.4; 1.3 gives
  them in job order, still one by one), so the caller's table fills as they
  arrive; :func:`run_jobs` still returns them in job order.
- ``scheduler``: the seam for Dask's joblib backend (not available yet).

**One BLAS thread per job**, in both modes (``blas_threads(1)``): N processes on N
cores should not each start N BLAS threads, and a job gives the same numbers bit
for bit whether it ran here or in a worker, alone or beside others. (A job that
sets its own thread count inside — ``fit`` with ``training.threads`` — overrides
this; many-run commands set ``training.threads: 1`` for that reason.)

**Failures.** A job raising :class:`~nnfit.errors.NnfitError` or ``ValueError``
(a bad override, data too small for this plan, ...) comes back as a
:class:`JobFailed` in its place — the caller decides what it means. Any other
exception is a bug and is raised in the parent, as joblib raises it.

**Ctrl-C.** A KeyboardInterrupt in the parent stops the pool (joblib kills the
workers; they ignore SIGINT themselves, so a Ctrl-C at a terminal, which reaches
the whole process group, never turns a half-trained job into a result) and
raises :class:`Interrupted`, a KeyboardInterrupt that carries the results that
had finished (``None`` for the others). In-process, the job that was running is
dropped as unfinished, even though ``fit`` itself catches the Ctrl-C and returns.
``on_result`` has already seen every finished result by then.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..errors import NnfitError

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


def default_jobs() -> int:
    """``--jobs`` when not given: one process per usable core."""
    from ..threads import usable_cores

    return usable_cores()


def _run_one(fn: Callable, index: int, job: Any, in_worker: bool = False):
    """``(index, fn(job) or JobFailed)``, under one BLAS thread."""
    from ..threads import blas_threads

    if in_worker:  # the parent owns Ctrl-C: it stops the pool and keeps what finished
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with blas_threads(1):
            return index, fn(job)
    except JOB_ERRORS as exc:
        message = exc.message if isinstance(exc, NnfitError) else str(exc)
        return index, JobFailed(index, type(exc).__name__, message)


def run_jobs(fn: Callable, jobs: Sequence, n_jobs: int = 1,
             on_result: Callable[[int, Any], None] | None = None,
             scheduler: str | None = None) -> list:
    """Run ``fn(job)`` for every job; return the results in job order.

    Parameters
    ----------
    fn : a module-level function (workers import it by name)
    jobs : picklable arguments, one per job
    n_jobs : processes; 1 runs the jobs here, one after another
    on_result : called in this process as ``on_result(index, result)`` as each job
        finishes (completion order with ``n_jobs > 1``); ``result`` may be a JobFailed
    scheduler : a Dask scheduler address (reserved; raises NnfitError for now)

    Raises
    ------
    Interrupted : on Ctrl-C, with the finished results
    NnfitError : for a bad ``n_jobs`` or ``scheduler``
    """
    if scheduler is not None:
        raise NnfitError(f"--scheduler {scheduler}: running jobs on a Dask cluster is not "
                         f"available yet; use --jobs N for local processes")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise NnfitError(f"--jobs must be a positive integer (got {n_jobs!r})")
    jobs = list(jobs)
    results: list = [None] * len(jobs)

    def collect(index, result):
        results[index] = result
        if on_result is not None:
            on_result(index, result)

    n_jobs = min(n_jobs, len(jobs))
    if n_jobs <= 1:
        _sequential(fn, jobs, collect, results)
    else:
        _parallel(fn, jobs, n_jobs, collect, results)
    return results


@contextmanager
def _noting_ctrl_c(pressed: threading.Event):
    """Mark ``pressed`` on Ctrl-C, then raise KeyboardInterrupt as usual (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        pressed.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _sequential(fn, jobs, collect, results):
    pressed = threading.Event()
    try:
        with _noting_ctrl_c(pressed):
            for index, job in enumerate(jobs):
                _, result = _run_one(fn, index, job)
                if pressed.is_set():  # fit caught the Ctrl-C and returned a half-trained job
                    raise KeyboardInterrupt
                collect(index, result)
    except KeyboardInterrupt:
        raise Interrupted(results) from None


def _parallel(fn, jobs, n_jobs, collect, results):
    import joblib
    from joblib import Parallel, delayed

    # joblib 1.3 returns results only in submission order; 1.4 added completion order.
    unordered = tuple(int(p) for p in joblib.__version__.split(".")[:2]) >= (1, 4)
    parallel = Parallel(n_jobs=n_jobs, backend="loky", batch_size=1,
                        return_as="generator_unordered" if unordered else "generator")
    outputs = parallel(delayed(_run_one)(fn, index, job, True) for index, job in enumerate(jobs))
    try:
        for index, result in outputs:
            collect(index, result)
    except KeyboardInterrupt:
        outputs.close()  # joblib aborts: the workers are killed, nothing more is waited for
        raise Interrupted(results) from None
    finally:
        outputs.close()

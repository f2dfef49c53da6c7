"""Run N independent jobs: the one place nnfit runs many trainings at once (STYLE §9).

Every many-run command (``sweep``, ``curve``, ``--cv``, seed ensembles) is a list
of jobs handed to :func:`run_jobs` with a module-level function that does one job
(:mod:`nnfit.runtime.jobs`: how a job runs, and what comes back when it fails). The
executor decides where the jobs run and nothing else:

- ``n_jobs=1``: one after another, in this process.
- ``n_jobs>1``: joblib's loky worker processes, results coming back in the order
  the jobs *finish* (``return_as="generator_unordered"``, joblib ≥ 1.4; 1.3 gives
  them in job order, still one by one), so the caller's table fills as they
  arrive; :func:`run_jobs` still returns them in job order.
- ``scheduler``: an existing Dask distributed cluster at that address
  (:mod:`nnfit.runtime.cluster`, the ``distributed`` extra), results again as
  they finish. ``n_jobs`` is then not used: the cluster's workers decide.

**Shared data.** What every job needs (the prepared data) is given once as
``shared``, apart from the small per-job arguments, and each job runs as
``fn(shared, job)``: on a cluster it is sent to each worker once, not once per
job; locally joblib writes its arrays of 1 MB or more to memory-mapped files once
and the workers map them read-only (the small rest travels with each job). ``fn``
must not modify ``shared``. Without ``shared`` a job runs as ``fn(job)``.

**One BLAS thread per job**, wherever it runs (``blas_threads(1)``): N processes on N
cores should not each start N BLAS threads, and a job gives the same numbers bit
for bit whether it ran here or in a worker, alone or beside others. (A job that
sets its own thread count inside — ``fit`` with ``training.threads`` — overrides
this; many-run commands set ``training.threads: 1`` for that reason.)

**Failures.** A job raising :class:`~nnfit.errors.NnfitError` or ``ValueError``
(a bad override, data too small for this job, ...) comes back as a
:class:`JobFailed` in its place — the caller decides what it means. Any other
exception is a bug and is raised in the parent, as joblib raises it.

**Ctrl-C.** A KeyboardInterrupt in the parent stops the pool (joblib kills the
workers; they ignore SIGINT themselves, so a Ctrl-C at a terminal, which reaches
the whole process group, never turns a half-trained job into a result) and
raises :class:`Interrupted`, a KeyboardInterrupt that carries the results that
had finished (``None`` for the others). In-process, the job that was running is
dropped as unfinished, even though ``fit`` itself catches the Ctrl-C and returns.
On a cluster the tasks not yet finished are cancelled (a worker finishes the job
it is running and drops the result). ``on_result`` has already seen every
finished result by then.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import NnfitError
from .cluster import DEFAULT_TIMEOUT, connected, run_on_cluster  # distributed: only to connect
from .jobs import Interrupted, JobFailed, run_one
from .signals import ignored_by_new_workers, noting_ctrl_c
from .threads import usable_cores

if TYPE_CHECKING:
    from distributed import Client

def check_jobs(n_jobs) -> int:
    """``n_jobs``, refused (NnfitError, one line) unless it is a positive integer."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise NnfitError(f"--jobs must be a positive integer (got {n_jobs!r})")
    return n_jobs


def default_jobs() -> int:
    """``--jobs`` when not given: one process per usable core."""
    return usable_cores()


def run_jobs(fn: Callable, jobs: Sequence, n_jobs: int = 1,
             on_result: Callable[[int, Any], None] | None = None,
             scheduler: str | Client | None = None, *, shared: Any = None,
             scheduler_timeout: float = DEFAULT_TIMEOUT) -> list:
    """Run ``fn(shared, job)`` (or ``fn(job)`` without ``shared``) for every job; return the
    results in job order.

    Parameters
    ----------
    fn : a module-level function (workers import it by name)
    jobs : picklable arguments, one per job
    n_jobs : local processes; 1 runs the jobs here, one after another; not used
        with ``scheduler``
    on_result : called in this process as ``on_result(index, result)`` as each job
        finishes (completion order with ``n_jobs > 1`` or a scheduler); ``result``
        may be a JobFailed
    scheduler : the address of a running Dask scheduler (``tcp://host:8786``): run
        the jobs on its workers (:mod:`nnfit.runtime.cluster`); or a client from
        :func:`connected`, which a command opens before it writes anything
    shared : what every job reads and none modifies (the prepared data), sent to
        each worker once; None: jobs run as ``fn(job)``
    scheduler_timeout : seconds to wait for the scheduler, and then for a worker (with an
        address)

    Raises
    ------
    Interrupted : on Ctrl-C, with the finished results
    NnfitError : for a bad ``n_jobs``; with ``scheduler``: ``distributed`` not
        installed, the scheduler out of reach, no workers, this nnfit version missing
        on the scheduler or a worker, a worker with more than one thread
        (:func:`~nnfit.runtime.cluster.connect`)
    """
    if scheduler is None:
        check_jobs(n_jobs)
    jobs = list(jobs)
    results: list = [None] * len(jobs)

    def collect(index, result):
        results[index] = result
        if on_result is not None:
            on_result(index, result)

    if scheduler is not None:
        _on_cluster(fn, jobs, shared, collect, results, scheduler, scheduler_timeout)
        return results
    n_jobs = min(n_jobs, len(jobs))
    if n_jobs <= 1:
        _sequential(fn, jobs, shared, collect, results)
    else:
        _parallel(fn, jobs, shared, n_jobs, collect, results)
    return results


def _sequential(fn, jobs, shared, collect, results):
    pressed = threading.Event()
    try:
        with noting_ctrl_c(pressed):
            for index, job in enumerate(jobs):
                _, result = run_one(fn, index, job, False, shared)
                if pressed.is_set():  # fit caught the Ctrl-C and returned a half-trained job
                    raise KeyboardInterrupt
                collect(index, result)
    except KeyboardInterrupt:
        raise Interrupted(results) from None


def _parallel(fn, jobs, shared, n_jobs, collect, results):
    """The jobs in loky worker processes.

    A worker that dies (killed, out of memory) breaks the whole pool and takes the jobs
    of the other workers with it, and nothing says which job it was running. So the
    jobs that had not come back run again in a new pool; if a worker dies there too,
    each of the rest runs alone, and a job whose worker dies alone is a JobFailed. A job
    that kills its worker every time is failed; one killed once from outside runs again.
    """
    pending = list(range(len(jobs)))
    try:
        for _ in range(2):
            if pending:
                pending = _pool(fn, jobs, pending, shared, n_jobs, collect)
        for index in pending:
            if _pool(fn, jobs, [index], shared, 1, collect):
                collect(index, JobFailed(index, "WorkerDied", DIED))
    except KeyboardInterrupt:
        raise Interrupted(results) from None


DIED = "its worker process died (killed, or out of memory)"


def _pool(fn, jobs, indices, shared, n_jobs, collect) -> list[int]:
    """Run ``indices`` in one loky pool; the indices that did not come back when a worker
    died (empty when all did). KeyboardInterrupt stops the pool and propagates."""
    import joblib
    from joblib import Parallel, delayed
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    # joblib 1.3 returns results only in submission order; 1.4 added completion order.
    unordered = tuple(int(p) for p in joblib.__version__.split(".")[:2]) >= (1, 4)
    # a loky pool even for one job: a worker process, so its death cannot take this one
    parallel = Parallel(n_jobs=max(2, min(n_jobs, len(indices))), backend="loky", batch_size=1,
                        return_as="generator_unordered" if unordered else "generator")
    with ignored_by_new_workers():  # the workers start here, and inherit it
        outputs = parallel(delayed(run_one)(fn, index, jobs[index], True, shared)
                           for index in indices)
    left = set(indices)
    try:
        for index, result in outputs:
            left.discard(index)
            collect(index, result)
    except TerminatedWorkerError:
        return sorted(left)
    finally:
        _close(outputs)  # after Ctrl-C joblib aborts: the workers are killed, nothing waited for
    return []


def _close(outputs):
    """Close joblib's generator without its warning that cancelled tasks went unused:
    after Ctrl-C that is the point, and the user sees "interrupted" instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        outputs.close()


def _on_cluster(fn, jobs, shared, collect, results, scheduler, timeout):
    try:
        if isinstance(scheduler, str):
            with connected(scheduler, timeout) as client:
                run_on_cluster(run_one, fn, jobs, shared, collect, client)
        else:
            run_on_cluster(run_one, fn, jobs, shared, collect, scheduler)
    except KeyboardInterrupt:  # the tasks are cancelled; what finished has been collected
        raise Interrupted(results) from None

"""The executor's jobs on an existing Dask distributed cluster (``--scheduler ADDRESS``).

:func:`~nnfit.runtime.executor.run_jobs` comes here when it is given a scheduler
address, or a client that a command opened with :func:`connected` before writing
anything. The steps, each with its one-line error:

1. **Connect** to the scheduler at that address, waiting at most ``timeout``
   seconds. A local cluster is never started: the address must name a running
   scheduler (``dask scheduler``), and ``distributed.Client`` given an address only
   connects. Then wait, within the same timeout, for at least one worker.
2. **Check the cluster**: the scheduler (it unpickles every task) and each worker
   must import this version of nnfit, and each worker must run one thread
   (``dask worker ADDRESS --nworkers N --nthreads 1``). A job limits BLAS to one
   thread for the whole worker process while it runs; two jobs in threads of one
   process would reset each other's limit, and their numbers would then depend on
   which ran beside which.
3. **Send the shared object once** (``client.scatter(..., broadcast=True)``): every
   worker gets one copy of it (the prepared data), and each job's task carries
   only a reference to it beside its own small arguments.
4. **Submit one task per job**, the earlier jobs first, and hand results back as
   they finish (``as_completed``).

Plain futures rather than joblib's Dask backend: the shared data is scattered
once explicitly, each task can be cancelled, and a dead worker is one job's
failure rather than the whole call's.

Results are the executor's: a job's user error comes back as a ``JobFailed`` from
the worker; a worker that dies under a job (``KilledWorker``: the scheduler
retried it on other workers, and they died too) makes that job a ``JobFailed``
too, so one job that exhausts memory does not stop the others; any other
exception is a bug and is raised here after the other tasks are cancelled. On
Ctrl-C the tasks still queued or running are cancelled (a worker finishes the job
it is running and throws the result away: its process is not ours to kill) and
:class:`~nnfit.runtime.jobs.Interrupted` carries what had finished.

``distributed`` is an optional dependency (``pip install "nnfit[distributed]"``)
and is imported only here, only when a scheduler is given.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .. import __version__
from ..errors import FAILED, NnfitError, shorten
from .jobs import JobFailed

DEFAULT_TIMEOUT = 10.0  # seconds: --scheduler-timeout
GRACE = 1.0  # seconds past the timeouts before a silent scheduler is given up on
INSTALL = 'pip install "nnfit[distributed]"'


@contextmanager
def connected(address: str | None, timeout: float = DEFAULT_TIMEOUT) -> Iterator[Any]:
    """``with connected(address, timeout) as client``: :func:`connect`, and close at the end;
    ``None`` for no address. A command enters it before it writes anything, so a wrong
    address leaves no output directory behind, and hands ``client`` to ``run_jobs``."""
    if address is None:
        yield None
        return
    client = connect(address, timeout)
    try:
        yield client
    finally:
        client.close()


def connect(address: str, timeout: float = DEFAULT_TIMEOUT):
    """A ``distributed.Client`` on the running scheduler at ``address``, its workers checked.

    Raises NnfitError, one line naming the address, when ``distributed`` is not
    installed, the address is malformed, the scheduler does not answer within
    ``timeout`` seconds, no worker joins it within that time, or the workers fail
    :func:`check_cluster`. Connecting and the handshake run under one overall deadline
    (``timeout`` + :data:`GRACE`): a listener that accepts and never answers (an HTTP
    server, a half-open port) is refused in time instead of hanging.
    """
    _quiet_logs()
    done: dict[str, Any] = {}
    abandoned = threading.Event()

    reached = threading.Event()  # the handshake is done: now it waits for workers

    def attempt() -> None:
        try:
            done["client"] = _connect(address, timeout, reached)
        except BaseException as exc:  # noqa: BLE001 — handed to the caller's thread
            done["error"] = exc
        if abandoned.is_set() and "client" in done:  # too late: nobody will use it
            done["client"].close()

    thread = threading.Thread(target=attempt, daemon=True, name="nnfit-dask-connect")
    thread.start()
    thread.join(timeout + GRACE)
    if thread.is_alive() and reached.is_set():  # connected: waiting for a worker, checking
        thread.join(timeout + GRACE)
    if thread.is_alive():
        abandoned.set()
        raise NnfitError(f"{address}: no answer from a Dask scheduler within {timeout:g} s "
                         f"(something listens there but does not speak Dask's protocol); is "
                         f"`dask scheduler` running at that address?")
    if "error" in done:
        raise done["error"]
    return done["client"]


def _quiet_logs() -> None:
    """Keep ``distributed``'s own logging off stderr: its tracebacks (a lost scheduler, a
    dead worker) would bury the one line nnfit says about them."""
    import logging

    try:
        import distributed  # noqa: F401 — its import sets up its logging: quieted after it
    except ImportError:
        return  # connect says what to install
    names = [n for n in logging.root.manager.loggerDict
             if n.split(".")[0] in ("distributed", "tornado", "asyncio")]
    for name in ("distributed", "tornado", *names):  # each may hold a handler of its own
        logger = logging.getLogger(name)
        logger.handlers = [logging.NullHandler()]
        logger.propagate = False


def _connect(address: str, timeout: float, reached: threading.Event):
    if not isinstance(address, str) or not address.strip():
        raise NnfitError(f"--scheduler: give the address of a running Dask scheduler, e.g. "
                         f"tcp://host:8786 (got {address!r})")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
            or not math.isfinite(timeout) or timeout <= 0:
        raise NnfitError(f"--scheduler-timeout must be a positive number of seconds "
                         f"(got {timeout!r})")
    try:
        from distributed import Client
    except ImportError:
        raise NnfitError(f"--scheduler {address}: running on a Dask cluster needs the "
                         f"distributed extra: {INSTALL}") from None
    try:
        _check_address(address)
        client = Client(address, timeout=timeout, set_as_default=False)
        reached.set()
    except ValueError as exc:  # a malformed address: unknown scheme, no port, ...
        raise NnfitError(f"--scheduler {address}: not a Dask scheduler address "
                         f"({_said(exc)}); e.g. tcp://host:8786") from None
    except (OSError, TimeoutError) as exc:
        raise NnfitError(f"{address}: cannot reach the Dask scheduler within {timeout:g} s "
                         f"({_said(exc)}); is `dask scheduler` running there?") from None
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError):
            raise NnfitError(f"{address}: the Dask scheduler has no workers (waited "
                             f"{timeout:g} s); start some with: dask worker {address} "
                             f"--nworkers N --nthreads 1") from None
        try:
            on_scheduler = client.run_on_scheduler(_worker_nnfit)
        except Exception as exc:  # nnfit not importable there: it arrives as some exception
            on_scheduler = exc
        check_cluster(address, on_scheduler, client.run(_worker_nnfit, on_error="return"),
                      client.nthreads())
    except BaseException:
        client.close()
        raise
    return client


def _check_address(address: str) -> None:
    """ValueError for an address ``Client`` would refuse: checked first, because a Client
    that fails on it hangs for 20 s when it is garbage-collected."""
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    scheme, location = parse_address(address)
    get_backend(scheme)
    if scheme in ("tcp", "tls", "ws", "wss"):
        parse_host_port(location)


def _worker_nnfit() -> str:
    """Runs on the scheduler and each worker: its nnfit version (unpickling this function
    imports nnfit)."""
    import nnfit

    return nnfit.__version__


def check_cluster(address: str, on_scheduler: Any, versions: dict[str, Any],
                  nthreads: dict[str, int]) -> None:
    """NnfitError, one line, unless the scheduler and every worker import this nnfit and
    every worker runs one thread. (The scheduler unpickles each task, so it needs nnfit too.)

    Parameters
    ----------
    on_scheduler : the scheduler's ``nnfit.__version__``, or the exception raised there
    versions : worker address -> its ``nnfit.__version__``, or the exception raised there
    nthreads : worker address -> its number of threads
    """
    if isinstance(on_scheduler, BaseException) or on_scheduler != __version__:
        found = (f"cannot import this nnfit ({_said(on_scheduler)})"
                 if isinstance(on_scheduler, BaseException)
                 else f"runs nnfit {on_scheduler}, this is nnfit {__version__}")
        raise NnfitError(f"{address}: the Dask scheduler {found}; it unpickles every job, so "
                         f"install this nnfit where it runs")
    missing = sorted(w for w, v in versions.items() if isinstance(v, BaseException))
    if missing:
        error = _said(versions[missing[0]])
        raise NnfitError(f"{address}: this nnfit ({__version__}) does not import on "
                         f"{_some(missing)} ({error}); install it where the workers run")
    other = sorted(w for w, v in versions.items() if v != __version__)
    if other:
        found = ", ".join(sorted({str(versions[w]) for w in other}))
        raise NnfitError(f"{address}: {_some(other)} run{'s' if len(other) == 1 else ''} nnfit "
                         f"{found}, this is nnfit {__version__}; install the same version "
                         f"on the workers")
    threaded = sorted(w for w, n in nthreads.items() if n != 1)
    if threaded:
        raise NnfitError(f"{address}: {_some(threaded)} run{'s' if len(threaded) == 1 else ''} "
                         f"{nthreads[threaded[0]]} threads; nnfit needs one thread per worker "
                         f"process (each job holds BLAS to one thread process-wide): start "
                         f"them with dask worker {address} --nworkers N --nthreads 1")


def _some(workers: Sequence[str]) -> str:
    """``worker tcp://a`` / ``3 workers (tcp://a, ...)``."""
    if len(workers) == 1:
        return f"worker {workers[0]}"
    return f"{len(workers)} workers ({workers[0]}, ...)"


def _said(exc: BaseException) -> str:
    """What an exception says, on one line and short."""
    return shorten(" ".join(str(exc).split()) or type(exc).__name__)


def run_on_cluster(run_one: Callable, fn: Callable, jobs: Sequence, shared: Any,
                   collect: Callable[[int, Any], None], client) -> None:
    """Run ``run_one(fn, index, job, False, shared)`` for every job on ``client``'s cluster.

    ``collect(index, result)`` is called here as each finishes. Raises
    KeyboardInterrupt after cancelling on Ctrl-C, a job's unexpected exception after
    cancelling the other tasks, or NnfitError when the cluster cancels a task (the
    scheduler went away).
    """
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    if shared is not None:  # a list would be scattered element by element: wrap it
        shared = client.scatter([shared], broadcast=True, hash=False)[0]
    tag = uuid.uuid4().hex[:8]
    name = getattr(fn, "__name__", "job")
    futures = [client.submit(run_one, fn, index, job, False, shared, pure=False,
                             key=f"nnfit-{name}-{index}-{tag}", priority=len(jobs) - index)
               for index, job in enumerate(jobs)]
    index_of = {future.key: index for index, future in enumerate(futures)}
    try:
        for future in as_completed(futures, loop=client.loop):  # not the default client
            index = index_of[future.key]
            try:
                index, result = future.result()
            except KilledWorker as exc:
                result = JobFailed(index, "KilledWorker",
                                   f"the Dask workers running it died ({_said(exc)})")
            except _cancelled() as exc:
                raise NnfitError(_cancelled_cause(client, index, exc), FAILED) from None
            collect(index, result)
    finally:  # Ctrl-C, a bug in a job, or done: nothing left to run, the data released
        if client.status == "running":  # not after the scheduler went away
            client.cancel([*futures, *([shared] if shared is not None else [])])


def _cancelled_cause(client, index: int, exc: BaseException) -> str:
    """Why the cluster cancelled a job, in one line: the scheduler went away (the client
    lost it), or the cluster cancelled it while the scheduler still answers."""
    address = getattr(client.scheduler, "address", "the Dask scheduler")
    if client.status != "running":
        return (f"{address}: the Dask scheduler went away while job {index + 1} ran (the "
                f"connection to it was lost); the jobs that finished are kept")
    return (f"{address}: the cluster cancelled job {index + 1} ({_said(exc)}) while the "
            f"scheduler still answers; the jobs that finished are kept")


def _cancelled() -> tuple[type[BaseException], ...]:
    """What ``future.result()`` raises for a task the cluster cancelled (distributed's
    ``FutureCancelledError`` subclasses the first)."""
    import asyncio  # local: only a Dask run asks
    import concurrent.futures

    return concurrent.futures.CancelledError, asyncio.CancelledError

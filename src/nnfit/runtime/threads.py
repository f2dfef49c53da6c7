"""How many BLAS threads a training run should use, and a way to impose that number.

NumPy's matrix products run on OpenBLAS, which by default starts one thread per
core and splits every product big enough between them. On a shared machine this
goes wrong: a product waits for its slowest thread, and a thread whose core is
taken by another process waits for the scheduler. With one of this machine's two
cores kept busy, an epoch of 60k×100 → 256 → 128 → 10 (batch 128, Adam, float32)
took 28 s on two threads and 0.79 s on one. And for small products a second
thread costs more in hand-offs than it saves. ``python bench/threads.py`` measures both.

Thread count can also change results in the last bits for large products (OpenBLAS
splits the sums differently), so the count a run used belongs in its record.

Nothing heavy is imported here: numpy and threadpoolctl only inside functions.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

#: Multiply-adds per batch (forward pass, as the layers declare them:
#: ``Network.macs_per_row``) below which a second thread does not pay.
#: ``python bench/threads.py --scan`` on the 2-core development machine,
#: 100 → 256 → 128 → 10, speed-up of 2 threads over 1 per epoch:
#: 0.91 at batch 64 (3.8M), 0.94 at 128 (7.6M), 0.99 at 160 (9.5M), 1.0–1.08 at
#: 192–256 (11–15M), 1.15 at 320 (19M), 1.2 at 512 (31M). The threshold sits where
#: the two cross, so the other choice is never more than ~1.1× faster on either side.
MIN_PARALLEL_MACS = 10_000_000


def usable_cores() -> int:
    """CPUs this process may run on: its affinity mask where the OS has one."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _cpu_ticks() -> dict[str, tuple[int, int]]:
    """``cpuN -> (busy, total)`` jiffies from /proc/stat (busy excludes idle and iowait)."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            name, *fields = line.split()
            if name.startswith("cpu") and name != "cpu":
                t = [int(v) for v in fields[:8]]  # guest time is already inside user
                out[name] = (sum(t) - t[3] - t[4], sum(t))
    return out


def busy_cpus(interval: float = 0.15) -> float:
    """How many of our usable CPUs other processes keep busy right now.

    Linux: /proc/stat read twice ``interval`` apart, summed over the CPUs in our
    affinity mask, minus this process's own CPU time meanwhile (OpenBLAS threads
    spin for a while after a product; they are ours, not competition). Elsewhere:
    the 1-minute load average, a slower signal of the same thing.
    """
    try:
        before, cpu0, t0 = _cpu_ticks(), time.process_time(), time.monotonic()
    except OSError:
        try:
            return os.getloadavg()[0]
        except (AttributeError, OSError):  # Windows: no load average; assume quiet
            return 0.0
    time.sleep(interval)
    after, cpu1, t1 = _cpu_ticks(), time.process_time(), time.monotonic()
    try:
        mine = {f"cpu{i}" for i in os.sched_getaffinity(0)}
    except AttributeError:
        mine = set(after)
    busy = 0.0
    for name in mine & set(before) & set(after):
        d_busy, d_total = (a - b for a, b in zip(after[name], before[name], strict=True))
        busy += d_busy / d_total if d_total > 0 else 0.0
    return max(0.0, busy - (cpu1 - cpu0) / max(t1 - t0, 1e-9))


def choose_threads(requested: int | None, macs_per_batch: int) -> tuple[int, str]:
    """The BLAS thread count for a training run, and the reason in a few words.

    1. ``requested`` (``--threads N`` / ``training.threads``) wins: the user knows the machine.
    2. One usable core: nothing to share.
    3. ``macs_per_batch`` below :data:`MIN_PARALLEL_MACS`: the products are too
       small for a second thread to pay for its hand-offs (measured, not guessed).
    4. Otherwise one thread per core nobody else is using right now, and 1 unless
       at least two are idle: a thread on a busy core stalls every product.
    Same inputs and same load give the same answer.
    """
    if requested is not None:
        if int(requested) != requested or requested < 1:
            raise ValueError(f"threads must be a positive integer, got {requested!r}")
        cores = usable_cores()
        more = f", more than the {cores} usable cores" if requested > cores else ""
        return int(requested), f"requested: {int(requested)}{more}"
    cores = usable_cores()
    if cores == 1:
        return 1, "one usable core"
    if macs_per_batch < MIN_PARALLEL_MACS:
        return 1, (f"{macs_per_batch / 1e6:.1f}M multiply-adds per batch, below "
                   f"{MIN_PARALLEL_MACS / 1e6:.0f}M where a second thread pays")
    busy = busy_cpus()
    idle = cores - round(busy)
    if idle < 2:
        return 1, f"{busy:.1f} of {cores} cores busy with other processes"
    return idle, f"{idle} of {cores} cores idle"


@contextmanager
def blas_threads(n: int | None):
    """Limit BLAS and OpenMP pools to ``n`` threads inside the block (``None``: leave them).

    Uses threadpoolctl, which changes the limit of the libraries this process has
    loaded and restores it on exit, so it works in worker processes as long as it
    is called there (limits are per process and are not inherited by children).
    """
    if n is None:
        yield None
        return
    import numpy  # noqa: F401  # load OpenBLAS first: threadpoolctl only sees loaded libraries
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(n)):
        yield int(n)

"""BLAS threads against training speed, on a quiet machine and beside a busy competitor.

The reference problem: 60 000 rows × 100 features → 256 → 128 → 10 (ReLU),
cross-entropy, Adam, float32, batch 128, one epoch through ``nnfit.build_network`` and
``nnfit.fit``. Each batch size is timed under two conditions, quiet and busy (a
pure-Python spin loop, or with ``--competitor numpy`` single-threaded NumPy
products, in another process keeps one core busy; started before the timings of
each round, stopped after), and three thread settings:

- ``all cores``: NumPy's default, one OpenBLAS thread per core;
- ``1 thread``;
- ``auto``: ``nnfit.threads.choose_threads(None, ...)``, decided under the same load.

    python bench/threads.py                      # batch 128 and 1024, best of 3 (≈1 min)
    python bench/threads.py --batch-size 128 --repeat 5
    python bench/threads.py --scan               # 1 thread vs all cores over batch 64..2048

Every setting runs in this process with ``threadpool_limits`` (the OpenBLAS thread
count changes at run time), in rotating order, ``--repeat`` times; the table shows the
fastest. A setting whose first ``--probe`` batches predict an epoch longer than
``--max-seconds`` (all cores beside a competitor: tens of seconds) is not run to the
end: its time per epoch is extrapolated from the probe and marked ``~``.
The ratio is to the best of {1 thread, all cores} in the same condition.

``--scan`` is how ``MIN_PARALLEL_MACS`` was chosen: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import time

import numpy as np

import nnfit
from nnfit.runtime.threads import (
    MIN_PARALLEL_MACS,
    blas_threads,
    busy_cpus,
    choose_threads,
    usable_cores,
)

LAYERS = [{"type": "dense", "units": 256, "activation": "relu"},
          {"type": "dense", "units": 128, "activation": "relu"},
          {"type": "dense", "units": 10}]


def spin():
    """The ``spin`` competitor: one core's worth of pure-Python work until terminated."""
    x = 0
    while True:
        x += 1


def matmuls():
    """The ``numpy`` competitor: single-threaded float32 products until terminated."""
    from threadpoolctl import threadpool_limits

    a = np.ones((256, 256), np.float32)
    with threadpool_limits(limits=1):
        while True:
            a @ a


class Competitor:
    """A process keeping one core busy for the duration of a ``with`` block."""

    def __init__(self, kind="spin"):
        self.target = {"spin": spin, "numpy": matmuls}[kind]

    def __enter__(self):
        self.proc = mp.get_context("spawn").Process(target=self.target, daemon=True)
        self.proc.start()
        time.sleep(1.0)  # let it start up (spawn imports this module) and reach the loop
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.join()


def make_data(rows, features=100, classes=10):
    rng = np.random.default_rng(0)
    return rng.standard_normal((rows, features)).astype(np.float32), rng.integers(0, classes, rows)


def machine_busy_seconds():
    """CPU-seconds all processes have spent busy since boot (Linux; 0 elsewhere)."""
    try:
        with open("/proc/stat") as f:
            t = [int(v) for v in f.readline().split()[1:9]]
    except OSError:
        return 0.0
    return (sum(t) - t[3] - t[4]) / os.sysconf("SC_CLK_TCK")


def train_seconds(X, y, batch_size, threads, loads=None):
    """Seconds for one epoch of fresh-network training on ``X`` under ``threads``.

    Appends to ``loads`` the CPUs other processes kept busy meanwhile (everything
    but this process, competitor included): how quiet "quiet" really was.
    """
    net = nnfit.build_network(LAYERS, n_features=X.shape[1], seed=0)
    with blas_threads(threads):
        busy0, own0, start = machine_busy_seconds(), time.process_time(), time.perf_counter()
        nnfit.fit(net, X, y, loss="cross_entropy", optimizer="adam", lr=1e-3,
                  epochs=1, batch_size=batch_size, seed=0)
        wall = time.perf_counter() - start
        others = machine_busy_seconds() - busy0 - (time.process_time() - own0)
    if loads is not None:
        loads.append(max(0.0, others / wall))
    return wall


def epoch_seconds(X, y, batch_size, threads, args):
    """``(seconds per epoch of X, extrapolated?, CPUs others used)``.

    Slow settings are cut to a probe of ``args.probe`` batches.
    """
    loads = []
    time.sleep(0.3)  # let OpenBLAS threads left spinning by the last setting go to sleep
    probe = min(len(X), args.probe * batch_size)
    t = train_seconds(X[:probe], y[:probe], batch_size, threads, loads)
    if probe == len(X) or t * len(X) / probe > args.max_seconds:
        return t * len(X) / probe, probe < len(X), loads[-1]
    time.sleep(0.3)
    return train_seconds(X, y, batch_size, threads, loads), False, loads[-1]


def blas_default_threads():
    from threadpoolctl import threadpool_info

    return max((i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"),
               default=1)


def wait_quiet(limit=0.2, timeout=60.0):
    """Wait (at most ``timeout`` s) until other processes use less than ``limit`` CPUs."""
    deadline = time.monotonic() + timeout
    while busy_cpus(0.2) >= limit and time.monotonic() < deadline:
        time.sleep(0.5)


def compare(args):
    X, y = make_data(args.rows)
    cores = blas_default_threads()
    print(f"{args.rows} rows × 100 → 256 → 128 → 10 ReLU, Adam, float32, one epoch; "
          f"{usable_cores()} usable cores, OpenBLAS default {cores} threads; best of {args.repeat}")
    print(f"other load before starting: {busy_cpus():.2f} busy CPUs\n")
    settings = ["all cores", "1 thread", "auto"]
    for batch_size in args.batch_size:
        macs = nnfit.build_network(LAYERS, n_features=100, seed=0).macs_per_row() * batch_size
        times = {}   # (condition, setting) -> [(seconds, extrapolated, others' CPUs)]
        chosen = {}  # condition -> list of (threads, reason, seconds spent choosing)
        for rep in range(args.repeat):
            for condition in ("quiet", "busy"):
                if condition == "quiet":
                    wait_quiet(timeout=10.0)  # other agents' jobs come and go
                comp = Competitor(args.competitor) if condition == "busy" else None
                if comp:
                    comp.__enter__()
                try:
                    order = settings[rep % 3:] + settings[:rep % 3]
                    for setting in order:
                        if setting == "auto":
                            time.sleep(0.3)
                            start = time.perf_counter()
                            n, reason = choose_threads(None, macs)
                            chosen.setdefault(condition, []).append(
                                (n, reason, time.perf_counter() - start))
                        else:
                            n = None if setting == "all cores" else 1
                        times.setdefault((condition, setting), []).append(
                            epoch_seconds(X, y, batch_size, n, args))
                finally:
                    if comp:
                        comp.__exit__(None, None, None)

        print(f"### batch {batch_size} ({macs / 1e6:.1f}M multiply-adds per batch; "
              f"threshold {MIN_PARALLEL_MACS / 1e6:.0f}M)\n")
        print("| condition | threads used | s/epoch (best) | ratio to best of {1, all} "
              "| s/epoch (median) | others' CPUs (median) |")
        print("| --- | --- | --- | --- | --- | --- |")
        for condition in ("quiet", "busy"):
            best = {s: min(times[condition, s]) for s in settings}
            ref = min(best["all cores"][0], best["1 thread"][0])
            for s in settings:
                secs, extrapolated, _ = best[s]
                median = statistics.median(t for t, _, _ in times[condition, s])
                others = statistics.median(o for _, _, o in times[condition, s])
                if s == "auto":
                    used = "/".join(sorted({str(n) for n, _, _ in chosen[condition]}))
                else:
                    used = str(cores) if s == "all cores" else "1"
                mark = "~" if extrapolated else ""
                print(f"| {condition}, {s} | {used} | {mark}{secs:.3f} | {secs / ref:.2f} "
                      f"| {median:.3f} | {others:.2f} |")
        for condition in ("quiet", "busy"):
            reasons = sorted({r for _, r, _ in chosen[condition]})
            spent = statistics.median(s for _, _, s in chosen[condition])
            print(f"\nauto, {condition}: {'; '.join(reasons)} (choosing took {spent:.2f} s)", end="")
        print("\n")


def scan(args):
    """1 thread vs all cores per batch size; pairs where others used > 0.25 CPU are redone."""
    X, y = make_data(args.rows)
    cores = blas_default_threads()
    net = nnfit.build_network(LAYERS, n_features=100, seed=0)
    print(f"{args.rows} rows × 100 → 256 → 128 → 10, one epoch, 1 thread vs {cores} threads, "
          f"best of {args.repeat} quiet pairs (at most {3 * args.repeat} tries)\n")
    print("| batch | M multiply-adds/batch | 1 thread s/ep | all cores s/ep "
          "| speed-up of all cores | quiet pairs | max other load |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for batch_size in args.scan_sizes:
        one, every, others = [], [], []
        for attempt in range(3 * args.repeat):
            wait_quiet()
            loads, pair = [], {}
            for n in ((1, None) if attempt % 2 == 0 else (None, 1)):
                time.sleep(0.3)
                pair[n] = train_seconds(X, y, batch_size, n, loads)
            if max(loads) < 0.25:
                one.append(pair[1])
                every.append(pair[None])
                others.append(max(loads))
                if len(one) == args.repeat:
                    break
        if not one:
            print(f"| {batch_size} | {net.macs_per_row() * batch_size / 1e6:.1f} | - | - | - | 0 | - |")
            continue
        print(f"| {batch_size} | {net.macs_per_row() * batch_size / 1e6:.1f} | {min(one):.3f} | "
              f"{min(every):.3f} | {min(one) / min(every):.2f} | {len(one)} | {max(others):.2f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60000)
    parser.add_argument("--batch-size", type=int, nargs="+", default=[128, 1024])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--probe", type=int, default=20,
                        help="batches timed first to decide whether to run the whole epoch")
    parser.add_argument("--max-seconds", type=float, default=5.0,
                        help="extrapolate from the probe when an epoch would take longer")
    parser.add_argument("--competitor", choices=["spin", "numpy"], default="spin",
                        help="busy condition: a pure-Python loop or 1-thread NumPy products")
    parser.add_argument("--scan", action="store_true",
                        help="1 thread vs all cores over batch sizes (run on a quiet machine)")
    parser.add_argument("--scan-sizes", type=int, nargs="+",
                        default=[64, 128, 192, 256, 320, 384, 512, 768, 1024, 1536, 2048])
    args = parser.parse_args()
    if args.scan:
        scan(args)
    else:
        compare(args)


if __name__ == "__main__":
    main()

"""Training speed of the engine against its floor, scikit-learn and PyTorch, in one run.

Two problems, float32, one BLAS thread for every contender unless ``--threads N``:

- ``ref``: 60 000 rows × 100 features → 256 ReLU → 128 ReLU → 10 softmax, cross-entropy,
  Adam (lr 1e-3), batch 128. Reported in seconds per epoch.
- ``small``: 120 rows × 4 features → 32 ReLU → 32 ReLU → 3, batch 16, Adam. Reported in
  microseconds per mini-batch step (many epochs per timing, divided by the steps).

The features are standard normal; the labels are learnable (the argmax of a fixed random
linear map of the features plus noise), so ``--accuracy`` means something. Timing does
not depend on the labels.

Contenders, each training a fresh model for the problem's epochs per timing, in the order
below, ``--repeat`` rounds (after one untimed warm-up round):

- ``floor``: only the matrix products an epoch cannot avoid — forward ``x·W``, backward
  ``xᵀ·dz`` and ``dz·Wᵀ`` (not the first layer's ``dx``) — at the same shapes and batch
  sizes (the full batches and the last partial one), into buffers made before the timing.
  Biases, activations, the loss, the optimizer and the batch gather are what it leaves out.
- ``nnfit``: ``nnfit.build_network`` + a ``nnfit.Trainer`` with ``make_optimizer("adam",
  lr=1e-3)``: the loop ``nnfit train`` runs each epoch (no validation, no observers).
- ``sklearn``: ``MLPClassifier(hidden, solver="adam", batch_size, alpha=0, max_iter=epochs,
  tol=0, n_iter_no_change=huge, shuffle=True)``, one fit per timing.
- ``torch``: the same network as ``nn.Sequential``, ``CrossEntropyLoss``,
  ``torch.optim.Adam(lr=1e-3)``, batches gathered from a shuffled index each epoch,
  ``torch.set_num_threads(--threads)``; and ``torch (default k thr)``, the same with
  torch's default thread count and no BLAS limit. Skipped with a note when torch is not
  importable; it is in no extra of nnfit: ``pip install torch --index-url
  https://download.pytorch.org/whl/cpu`` (or plain ``pip install torch``).

The table shows each contender's median and minimum over the rounds, and the ratios
``nnfit / X``: the median over rounds of nnfit's time divided by X's in the same round
(rounds alternate contenders, so a machine whose speed drifts still compares fairly).

Peak memory is measured afterwards, each contender alone in a fresh child process
(data made first, then the peak reset): ``traced`` is tracemalloc's peak of what Python and
NumPy allocated while building and training the model (n/a for torch, whose allocator it
does not see); ``RSS +`` is the growth of the process's resident high-water mark over its
size before (Linux ``/proc/self/clear_refs``; n/a elsewhere). Both after a tiny untimed
training in the same child, so imports and library start-up are not counted. RSS growth
is a lower bound where the allocator reuses memory freed before.

``--accuracy`` trains nnfit and scikit-learn for 5 epochs on 80 % of the reference data and
prints their accuracy on the other 20 % side by side, per seed and on the mean (the target
of issue 17: nnfit within 0.5 percentage points of scikit-learn).

    pip install -e ".[bench]"          # scikit-learn
    python bench/engine.py                         # both problems, 5 rounds
    python bench/engine.py --problem ref --repeat 7 --markdown
    python bench/engine.py --problem none --accuracy
    python bench/engine.py --threads 2             # every contender on 2 BLAS threads

Run it on a machine as quiet as you can get; say what else ran.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np
from tables import render  # bench/tables.py (bench/ is on the path when run as a script)

import nnfit
from nnfit.runtime.threads import blas_threads


@dataclass(frozen=True)
class Problem:
    name: str
    n_samples: int
    n_features: int
    hidden: tuple[int, ...]
    n_classes: int
    batch_size: int
    epochs: int  # per timing
    per: str  # "epoch" or "step": the unit reported

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.n_samples // self.batch_size)

    @property
    def widths(self) -> list[int]:
        return [*self.hidden, self.n_classes]

    def layers(self) -> list[dict]:
        return [*({"type": "dense", "units": h, "activation": "relu"} for h in self.hidden),
                {"type": "dense", "units": self.n_classes}]

    def describe(self) -> str:
        arch = " → ".join(str(w) for w in (self.n_features, *self.widths))
        return (f"{self.name}: {self.n_samples} rows, {arch}, batch {self.batch_size}, Adam, "
                f"float32, {self.epochs} epoch(s) per timing "
                f"({self.epochs * self.steps_per_epoch} steps)")


PROBLEMS = {
    "ref": Problem("ref", 60_000, 100, (256, 128), 10, 128, 2, "epoch"),
    "small": Problem("small", 120, 4, (32, 32), 3, 16, 300, "step"),
}
HUGE = 10**9  # n_iter_no_change: scikit-learn never stops early


def learnable_data(n_samples: int, n_features: int, n_classes: int, seed: int = 0,
                   noise: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Standard normal features and labels a network can learn.

    Returns ``X (n_samples, n_features)`` float32 and ``y (n_samples,)`` int64, where
    ``y = argmax(X·M + noise·ε)`` for a fixed ``M (n_features, n_classes)`` whose columns
    have unit norm on average and standard normal ``ε``.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features), dtype=np.float32)
    M = rng.standard_normal((n_features, n_classes), dtype=np.float32) / np.sqrt(n_features)
    scores = X @ M + noise * rng.standard_normal((n_samples, n_classes), dtype=np.float32)
    return X, scores.argmax(axis=1).astype(np.int64)


# Contenders: make(problem, X, y, threads) does what belongs before the clock (the floor's
# buffers) and returns run(seed), one fresh training of problem.epochs epochs.

def make_floor(p: Problem, X, y, threads):
    rng = np.random.default_rng(0)
    dims = [p.n_features, *p.widths]
    Ws = [rng.standard_normal((a, b), dtype=np.float32) / np.float32(np.sqrt(a))
          for a, b in zip(dims[:-1], dims[1:], strict=False)]
    n = X.shape[0]
    sizes = {min(p.batch_size, n), n % p.batch_size} - {0}
    acts = {m: [np.empty((m, d), np.float32) for d in dims[1:]] for m in sizes}
    # dz[-1] stands in for dlogits: filled once here, only read in the loop.
    dzs = {m: [np.empty((m, d), np.float32) for d in dims[1:-1]]
           + [rng.standard_normal((m, dims[-1]), dtype=np.float32)] for m in sizes}
    dWs = [np.empty_like(W) for W in Ws]
    last = len(Ws) - 1

    def run(seed):
        for _ in range(p.epochs):
            for start in range(0, n, p.batch_size):
                xb = X[start:start + p.batch_size]  # a contiguous view: the gather is not a product
                a, dz = acts[xb.shape[0]], dzs[xb.shape[0]]
                np.matmul(xb, Ws[0], out=a[0])
                for i in range(1, len(Ws)):
                    np.matmul(a[i - 1], Ws[i], out=a[i])
                for i in range(last, -1, -1):
                    np.matmul((a[i - 1] if i else xb).T, dz[i], out=dWs[i])
                    if i:
                        np.matmul(dz[i], Ws[i].T, out=dz[i - 1])
    return run


def make_nnfit(p: Problem, X, y, threads):
    def run(seed):
        net = nnfit.build_network(p.layers(), n_features=p.n_features, dtype="float32", seed=seed)
        trainer = nnfit.Trainer(net, "cross_entropy", nnfit.make_optimizer("adam", lr=1e-3),
                                batch_size=p.batch_size, rng=seed)
        trainer.fit(X, y, p.epochs)
    return run


def make_sklearn(p: Problem, X, y, threads):
    from sklearn.neural_network import MLPClassifier

    def run(seed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "did not converge" after max_iter epochs
            MLPClassifier(p.hidden, solver="adam", learning_rate_init=1e-3,
                          batch_size=p.batch_size, alpha=0.0, max_iter=p.epochs, tol=0.0,
                          n_iter_no_change=HUGE, shuffle=True, random_state=seed).fit(X, y)
    return run


def _make_torch(torch_threads):
    def make(p: Problem, X, y, threads):
        import torch
        from torch import nn

        n_threads = threads if torch_threads == "limited" else DEFAULT_TORCH_THREADS
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        n = X.shape[0]

        def run(seed):
            torch.set_num_threads(n_threads)
            torch.manual_seed(seed)
            dims = [p.n_features, *p.widths]
            mods = []
            for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=False)):
                mods.append(nn.Linear(a, b))
                if i < len(dims) - 2:
                    mods.append(nn.ReLU())
            model = nn.Sequential(*mods)
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
            loss_fn = nn.CrossEntropyLoss()
            gen = torch.Generator().manual_seed(seed)
            for _ in range(p.epochs):
                order = torch.randperm(n, generator=gen)
                for start in range(0, n, p.batch_size):
                    idx = order[start:start + p.batch_size]
                    optimizer.zero_grad(set_to_none=True)
                    loss = loss_fn(model(Xt[idx]), yt[idx])
                    loss.backward()
                    optimizer.step()
        return run
    return make


def torch_status() -> str | None:
    """None when torch imports, else why not (one line)."""
    global DEFAULT_TORCH_THREADS
    try:
        import torch
    except Exception as error:  # ImportError, or a broken install
        return f"{error.__class__.__name__}: {error}"
    if DEFAULT_TORCH_THREADS is None:
        DEFAULT_TORCH_THREADS = torch.get_num_threads()  # before anyone sets it
    return None


DEFAULT_TORCH_THREADS: int | None = None
CONTENDERS = {  # name -> (make, runs under the --threads BLAS limit)
    "floor": (make_floor, True),
    "nnfit": (make_nnfit, True),
    "sklearn": (make_sklearn, True),
    "torch": (_make_torch("limited"), True),
    "torch-default": (_make_torch("default"), False),
}


def label(name: str, threads: int) -> str:
    if name == "torch":
        return f"torch ({threads} thr)"
    if name == "torch-default":
        return f"torch (default {DEFAULT_TORCH_THREADS} thr)"
    return name


def contenders(args) -> tuple[list[str], list[str]]:
    """The contenders to run, and notes on the ones left out."""
    names, notes = ["floor", "nnfit"], []
    try:
        import sklearn  # noqa: F401
        names.append("sklearn")
    except ImportError:
        notes.append('sklearn skipped: not importable (pip install -e ".[bench]")')
    if args.no_torch:
        notes.append("torch skipped: --no-torch")
    else:
        why = torch_status()
        if why is None:
            names += ["torch", "torch-default"]
        else:
            notes.append(f"torch skipped: not importable ({why}); pip install torch "
                         f"--index-url https://download.pytorch.org/whl/cpu")
    return names, notes


def time_problem(p: Problem, names: list[str], args) -> dict[str, list[float]]:
    """Seconds per timing of each contender, ``args.repeat`` rounds after a warm-up round."""
    X, y = learnable_data(p.n_samples, p.n_features, p.n_classes)
    runs = {}
    for name in names:
        make, limited = CONTENDERS[name]
        with blas_threads(args.threads if limited else None):
            runs[name] = make(p, X, y, args.threads)
    times = {name: [] for name in names}
    for round_ in range(args.repeat + 1):  # round 0 warms up: imports, first-call costs
        for name in names:
            _, limited = CONTENDERS[name]
            with blas_threads(args.threads if limited else None):
                started = time.perf_counter()
                runs[name](0)
                elapsed = time.perf_counter() - started
            if round_:
                times[name].append(elapsed)
        if round_:
            print(f"  round {round_}/{args.repeat}: " + ", ".join(
                f"{name} {times[name][-1]:.2f}s" for name in names), file=sys.stderr, flush=True)
    return times


# Memory: each contender alone in a child process.

def _rss_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def measure_memory_here(problem: str, name: str, threads: int, epochs: int) -> dict:
    """Child side: build and train once; ``{"traced_mb": ..., "rss_mb": ...}`` (None = n/a)."""
    import tracemalloc

    p = PROBLEMS[problem]
    p = Problem(**{**p.__dict__, "epochs": epochs})
    X, y = learnable_data(p.n_samples, p.n_features, p.n_classes)
    if name.startswith("torch"):
        torch_status()
    make, limited = CONTENDERS[name]
    traced = not name.startswith("torch")
    with blas_threads(threads if limited else None):
        # Imports and library start-up are not the model's: one tiny training first.
        tiny = Problem("tiny", 32, 4, (8,), 3, 16, 1, "step")
        make(tiny, *learnable_data(32, 4, 3), threads)(0)
        can_reset = _reset_peak_rss()
        before = _rss_kb("VmRSS")
        if traced:
            tracemalloc.start()
        make(p, X, y, threads)(0)
        peak_traced = tracemalloc.get_traced_memory()[1] if traced else None
        tracemalloc.stop()
        hwm = _rss_kb("VmHWM")
    rss = (hwm - before) / 1024 if can_reset and before is not None and hwm is not None else None
    return {"traced_mb": None if peak_traced is None else peak_traced / 2**20, "rss_mb": rss}


def measure_memory(p: Problem, name: str, threads: int) -> dict:
    epochs = 1 if p.per == "epoch" else p.epochs
    cmd = [sys.executable, __file__, "--memory-child", f"{p.name}:{name}:{threads}:{epochs}"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        return {"traced_mb": None, "rss_mb": None,
                "error": (result.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(result.stdout.strip().splitlines()[-1])


# Output

def report(p: Problem, names: list[str], times: dict, memory: dict, args) -> None:
    scale = 1 / p.epochs if p.per == "epoch" else 1e6 / (p.epochs * p.steps_per_epoch)
    unit = "s / epoch" if p.per == "epoch" else "µs / step"
    fmt = (lambda v: f"{v:.3f}") if p.per == "epoch" else (lambda v: f"{v:.1f}")
    mb = lambda v: "n/a" if v is None else f"{v:.1f}"  # noqa: E731
    rows = []
    for name in names:
        ts = times[name]
        ratio = ("" if name == "nnfit" else
                 f"{statistics.median(a / b for a, b in zip(times['nnfit'], ts, strict=False)):.2f}")
        mem = memory.get(name, {})
        rows.append([label(name, args.threads), fmt(statistics.median(ts) * scale),
                     fmt(min(ts) * scale), ratio, mb(mem.get("traced_mb")),
                     mb(mem.get("rss_mb"))])
    head = ["contender", f"median {unit}", f"min {unit}", "nnfit / it", "traced MB", "RSS + MB"]
    print()
    print(f"{p.describe()}; {args.repeat} rounds; {args.threads} BLAS thread(s) "
          f"except where said")
    print()
    print(render(head, rows, args.markdown))
    for name in names:
        if "error" in memory.get(name, {}):
            print(f"  memory of {name}: {memory[name]['error']}")


def accuracy_check(args, have_sklearn: bool) -> None:
    """nnfit and scikit-learn after 5 epochs on the reference problem, 80/20 split."""
    p = PROBLEMS["ref"]
    X, y = learnable_data(p.n_samples, p.n_features, p.n_classes)
    order = np.random.default_rng(12345).permutation(p.n_samples)
    n_test = p.n_samples // 5
    test, train = order[:n_test], order[n_test:]
    seeds = [int(s) for s in args.seeds.split(",")]
    epochs = 5
    rows = []
    with blas_threads(args.threads):
        for seed in seeds:
            net = nnfit.build_network(p.layers(), n_features=p.n_features, dtype="float32",
                                      seed=seed)
            nnfit.Trainer(net, "cross_entropy", nnfit.make_optimizer("adam", lr=1e-3),
                          batch_size=p.batch_size, rng=seed).fit(X[train], y[train], epochs)
            ours = float(np.mean(net.predict(X[test]).argmax(axis=1) == y[test]))
            theirs = math.nan
            if have_sklearn:
                from sklearn.neural_network import MLPClassifier

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = MLPClassifier(p.hidden, solver="adam", learning_rate_init=1e-3,
                                          batch_size=p.batch_size, alpha=0.0, max_iter=epochs,
                                          tol=0.0, n_iter_no_change=HUGE, shuffle=True,
                                          random_state=seed).fit(X[train], y[train])
                theirs = float(model.score(X[test], y[test]))
            rows.append([str(seed), ours, theirs])
    rng = np.random.default_rng(0)  # learnable_data's M, drawn again: the noiseless rule
    rng.standard_normal((p.n_samples, p.n_features), dtype=np.float32)
    M = rng.standard_normal((p.n_features, p.n_classes), dtype=np.float32) / np.sqrt(p.n_features)
    rule = float(np.mean((X[test] @ M).argmax(axis=1) == y[test]))
    mean_ours = statistics.mean(r[1] for r in rows)
    mean_theirs = statistics.mean(r[2] for r in rows)
    rows.append(["mean", mean_ours, mean_theirs])
    print()
    print(f"Accuracy after {epochs} epochs, ref problem (learnable labels), trained on "
          f"{train.size} rows, tested on {n_test}; target: nnfit ≥ sklearn − 0.5 pp; "
          f"the noiseless rule argmax(X·M) scores {rule:.4f}")
    head = ["seed", "nnfit", "sklearn", "nnfit − sklearn (pp)"]
    cells = [[r[0], f"{r[1]:.4f}", f"{r[2]:.4f}", f"{100 * (r[1] - r[2]):+.2f}"] for r in rows]
    print()
    print(render(head, cells, args.markdown))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", choices=["ref", "small", "both", "none"], default="both",
                        help="which timings to run (none: only --accuracy)")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads for every contender (default 1: shared machines are noisy)")
    parser.add_argument("--ref-epochs", type=int, default=PROBLEMS["ref"].epochs,
                        help="epochs per timing of the ref problem")
    parser.add_argument("--small-epochs", type=int, default=PROBLEMS["small"].epochs,
                        help="epochs per timing of the small problem")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--accuracy", action="store_true",
                        help="also print nnfit's and scikit-learn's test accuracy after 5 epochs")
    parser.add_argument("--seeds", default="0,1,2", help="seeds for --accuracy (default 0,1,2)")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        problem, name, threads, epochs = args.memory_child.split(":")
        print(json.dumps(measure_memory_here(problem, name, int(threads), int(epochs))))
        return
    if args.repeat < 1 or args.threads < 1:
        parser.error("--repeat and --threads must be positive")

    PROBLEMS["ref"] = Problem(**{**PROBLEMS["ref"].__dict__, "epochs": args.ref_epochs})
    PROBLEMS["small"] = Problem(**{**PROBLEMS["small"].__dict__, "epochs": args.small_epochs})
    names, notes = contenders(args)
    versions = [f"numpy {np.__version__}", f"nnfit {nnfit.__version__}"]
    if "sklearn" in names:
        import sklearn
        versions.append(f"scikit-learn {sklearn.__version__}")
    if "torch" in names:
        import torch
        versions.append(f"torch {torch.__version__}")
    print(f"{', '.join(versions)}; {os.cpu_count()} CPUs, load average "
          f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for note in notes:
        print(f"note: {note}")
    problems = {"both": ["ref", "small"], "none": []}.get(args.problem, [args.problem])
    for key in problems:
        p = PROBLEMS[key]
        print(f"timing {p.describe()} ...", file=sys.stderr, flush=True)
        times = time_problem(p, names, args)
        memory = {} if args.no_memory else {
            name: measure_memory(p, name, args.threads) for name in names}
        report(p, names, times, memory, args)
    if args.accuracy:
        accuracy_check(args, "sklearn" in names)


if __name__ == "__main__":
    main()

"""Training speed of the engine against its floor and against scikit-learn, in one run.

The floor is the matrix products one training epoch cannot avoid (forward
``x·W``, backward ``xᵀ·dz`` and ``dz·Wᵀ``), timed at the same shapes and dtype.
scikit-learn's MLPClassifier trains the same architecture with Adam, the same
batch size and the same number of epochs.

    pip install -e ".[bench]" && python bench/engine.py [--samples N] [--epochs E]

Prints seconds per epoch (best of --repeat) and the ratios nnfit/floor and
sklearn/nnfit. Run it on a quiet machine; ratios within one run are what to compare.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import nnfit
from nnfit.threads import blas_threads


def best_of(repeat, fn):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def matmul_floor(X, widths, batch_size, dtype):
    """One epoch of only the unavoidable products, into preallocated outputs."""
    rng = np.random.default_rng(0)
    n = X.shape[0]
    dims = [X.shape[1], *widths]
    Ws = [rng.standard_normal((a, b)).astype(dtype) for a, b in zip(dims[:-1], dims[1:])]
    sizes = {batch_size, n % batch_size} - {0}
    acts = {m: [np.empty((m, d), dtype) for d in dims] for m in sizes}
    dWs = [np.empty_like(W) for W in Ws]

    def epoch():
        for start in range(0, n, batch_size):
            a = acts[min(batch_size, n - start)]
            a[0][...] = X[start:start + batch_size]
            for i, W in enumerate(Ws):
                np.matmul(a[i], W, out=a[i + 1])
            for i in range(len(Ws) - 1, -1, -1):
                np.matmul(a[i].T, a[i + 1], out=dWs[i])
                if i:
                    np.matmul(a[i + 1], Ws[i].T, out=a[i])
    return epoch


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 128])
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads for every contender (default 1: shared machines are noisy)")
    args = parser.parse_args()
    with blas_threads(args.threads):
        run(args)


def run(args):

    rng = np.random.default_rng(0)
    X64 = rng.standard_normal((args.samples, args.features))
    y = rng.integers(0, args.classes, args.samples)
    layers = [{"type": "dense", "units": h, "activation": "relu"} for h in args.hidden]
    layers.append({"type": "dense", "units": args.classes})
    widths = [*args.hidden, args.classes]
    print(f"{args.samples} rows × {args.features} features → {widths}, batch {args.batch_size}, "
          f"{args.epochs} epochs, best of {args.repeat}, {args.threads} BLAS thread(s)")
    print(f"{'dtype':8} {'floor s/ep':>11} {'nnfit s/ep':>11} {'sklearn s/ep':>13} "
          f"{'nnfit/floor':>12} {'sklearn/nnfit':>14}")

    for dtype in (np.float32, np.float64):
        X = X64.astype(dtype)
        floor_epoch = matmul_floor(X, widths, args.batch_size, dtype)
        floor = best_of(args.repeat, lambda: [floor_epoch() for _ in range(args.epochs)])

        def run_nnfit():
            net = nnfit.build_network(layers, n_features=args.features, dtype=dtype, seed=0)
            nnfit.fit(net, X, y, loss="cross_entropy", optimizer="adam", lr=1e-3,
                      epochs=args.epochs, batch_size=args.batch_size, seed=0)
        ours = best_of(args.repeat, run_nnfit)

        theirs = float("nan")
        try:
            from sklearn.neural_network import MLPClassifier

            def run_sklearn():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # "did not converge" after max_iter epochs
                    MLPClassifier(tuple(args.hidden), solver="adam", batch_size=args.batch_size,
                                  max_iter=args.epochs, tol=0.0, n_iter_no_change=10**9, alpha=0.0,
                                  learning_rate_init=1e-3, random_state=0).fit(X, y)
            theirs = best_of(args.repeat, run_sklearn)
        except ImportError:
            pass
        per = args.epochs
        print(f"{np.dtype(dtype).name:8} {floor / per:11.4f} {ours / per:11.4f} {theirs / per:13.4f} "
              f"{ours / floor:12.2f} {theirs / ours:14.2f}")


if __name__ == "__main__":
    main()

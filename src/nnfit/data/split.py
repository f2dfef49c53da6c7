"""Seeded train / validation / test split, stratified by class for classification."""

from __future__ import annotations

import numpy as np

from ..errors import NnfitError


def split_sizes(n: int, test_fraction: float, val_fraction: float) -> tuple[int, int, int]:
    """``(n_train, n_val, n_test)``: every requested split gets at least one row."""
    n_test = max(1, round(n * test_fraction)) if test_fraction > 0 else 0
    n_val = max(1, round(n * val_fraction)) if val_fraction > 0 else 0
    n_train = n - n_test - n_val
    if n_train < 2:
        need = 2 + (test_fraction > 0) + (val_fraction > 0)
        raise NnfitError(f"{n} rows are too few for test_fraction {test_fraction} and "
                         f"val_fraction {val_fraction}: training would keep {max(n_train, 0)} "
                         f"(need at least {need} rows, or smaller fractions)")
    return n_train, n_val, n_test


def split_indices(n: int, test_fraction: float, val_fraction: float, rng: np.random.Generator,
                  labels: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Row indices of ``train``, ``val`` and ``test`` (sorted within each split).

    With ``labels``, each class is spread evenly over a random order before the
    order is cut, so every split keeps the class proportions (up to one row).
    """
    n_train, n_val, n_test = split_sizes(n, test_fraction, val_fraction)
    if labels is None:
        order = rng.permutation(n)
    else:
        # Each row's key is its class-rank jittered and scaled to [0, 1): sorting by it
        # interleaves the classes in proportion, and any cut of the order is stratified.
        key = np.empty(n)
        shuffled = rng.permutation(n)
        for cls in np.unique(labels):
            members = shuffled[labels[shuffled] == cls]
            key[members] = (np.arange(members.size) + rng.random(members.size)) / members.size
        order = np.argsort(key, kind="stable")
    return {"test": np.sort(order[:n_test]),
            "val": np.sort(order[n_test:n_test + n_val]),
            "train": np.sort(order[n_test + n_val:])}


def kfold_indices(n: int, k: int, rng: np.random.Generator,
                  labels: np.ndarray | None = None) -> list[np.ndarray]:
    """The held-out rows of each of ``k`` folds: ``k`` sorted index arrays partitioning ``range(n)``.

    The rows are shuffled (within each class, with ``labels``) and dealt round-robin
    to the folds, one class after another with the deal continuing where the last
    class stopped: every fold gets ``n // k`` or ``n // k + 1`` rows, and ``n_c // k``
    or ``n_c // k + 1`` of each class's ``n_c`` rows — so with ``n_c >= k`` every
    class is in every fold's held-out part and in its training part.

    Raises NnfitError when ``k`` is below 2 or above ``n``, or a class has fewer
    than ``k`` rows.
    """
    if k < 2:
        raise NnfitError(f"cross-validation needs at least 2 folds (got {k})")
    if k > n:
        raise NnfitError(f"{k} folds need at least {k} rows (got {n})")
    fold = np.empty(n, dtype=np.intp)
    if labels is None:
        groups = [np.arange(n)]
    else:
        labels = np.asarray(labels)
        classes, counts = np.unique(labels, return_counts=True)
        if counts.min() < k:
            small = int(np.argmin(counts))
            fix = (f"use at most {counts[small]} folds" if counts[small] >= 2 else
                   "add rows of it or drop that class")
            raise NnfitError(f"class {str(classes[small])!r} has {counts[small]} row"
                             f"{'s' if counts[small] != 1 else ''}, fewer than the {k} folds "
                             f"(each fold holds out every class): {fix}")
        groups = [np.flatnonzero(labels == cls) for cls in classes]
    start = 0
    for members in groups:
        fold[rng.permutation(members)] = (start + np.arange(members.size)) % k
        start += members.size
    return [np.flatnonzero(fold == f) for f in range(k)]

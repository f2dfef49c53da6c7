"""Seeded train / validation / test split, stratified by class for classification."""

from __future__ import annotations

from collections import Counter

import numpy as np

from ..errors import NnfitError


def split_sizes(n: int, test_fraction: float, val_fraction: float, where: str = ""
                ) -> tuple[int, int, int]:
    """``(n_train, n_val, n_test)``: every requested split gets at least one row.

    NnfitError when training would keep fewer than 2 rows; ``where`` starts its message."""
    n_test = max(1, round(n * test_fraction)) if test_fraction > 0 else 0
    n_val = max(1, round(n * val_fraction)) if val_fraction > 0 else 0
    n_train = n - n_test - n_val
    if n_train < 2:
        need = 2 + (test_fraction > 0) + (val_fraction > 0)
        raise NnfitError(f"{where}{n} rows are too few for test_fraction {test_fraction} and "
                         f"val_fraction {val_fraction}: training would keep {max(n_train, 0)} "
                         f"(need at least {need} rows, or smaller fractions)")
    return n_train, n_val, n_test


def split_indices(n: int, test_fraction: float, val_fraction: float, rng: np.random.Generator,
                  labels: np.ndarray | None = None, where: str = "") -> dict[str, np.ndarray]:
    """Row indices of ``train``, ``val`` and ``test`` (sorted within each split).

    With ``labels``, each class is spread evenly over a random order before the
    order is cut, so every split keeps the class proportions (up to one row).
    """
    n_train, n_val, n_test = split_sizes(n, test_fraction, val_fraction, where)
    order = stratified_order(n, rng, labels)
    return {"test": np.sort(order[:n_test]),
            "val": np.sort(order[n_test:n_test + n_val]),
            "train": np.sort(order[n_test + n_val:])}


def stratified_order(n: int, rng: np.random.Generator,
                     labels: np.ndarray | None = None) -> np.ndarray:
    """A random order of ``n`` rows; with ``labels`` every prefix of it keeps the class
    proportions (to within a row).

    Each row's key is its rank in its class, jittered and scaled to [0, 1): sorting by
    it interleaves the classes in proportion, so any cut of the order is stratified.
    """
    if labels is None:
        return rng.permutation(n)
    key = np.empty(n)
    shuffled = rng.permutation(n)
    for cls in np.unique(labels):
        members = shuffled[labels[shuffled] == cls]
        key[members] = (np.arange(members.size) + rng.random(members.size)) / members.size
    return np.argsort(key, kind="stable")


def first_rows(order: np.ndarray, k: int, labels: np.ndarray | None = None) -> np.ndarray:
    """The first ``k`` rows of ``order``, sorted; with ``labels`` every class keeps a row: a
    class left out swaps in its first row in ``order`` for the last row of a class that
    has more than one. Cuts of one order are nested (a learning curve's subsets)."""
    chosen = list(order[:k])
    if labels is not None:
        counts = Counter(labels[chosen].tolist())
        for cls in np.unique(labels).tolist():
            if cls in counts:
                continue
            first = next(i for i in order[k:] if labels[i] == cls)
            j = max(j for j, i in enumerate(chosen) if counts[labels[i]] > 1)
            counts[labels[chosen[j]]] -= 1
            chosen[j], counts[cls] = first, 1
    return np.sort(np.asarray(chosen, dtype=np.intp))


def kfold_indices(n: int, k: int, rng: np.random.Generator,
                  labels: np.ndarray | None = None, where: str = "") -> list[np.ndarray]:
    """The held-out rows of each of ``k`` folds: ``k`` sorted index arrays partitioning ``range(n)``.

    The rows are shuffled (within each class, with ``labels``) and dealt round-robin
    to the folds, one class after another with the deal continuing where the last
    class stopped: every fold gets ``n // k`` or ``n // k + 1`` rows, and ``n_c // k``
    or ``n_c // k + 1`` of each class's ``n_c`` rows — so with ``n_c >= k`` every
    class is in every fold's held-out part and in its training part.

    Raises NnfitError when ``k`` is below 2 or above ``n``, or a class has fewer
    than ``k`` rows; ``where`` starts its message (e.g. the option and the rows).
    """
    if k < 2:
        raise NnfitError(f"{where}cross-validation needs at least 2 folds (got {k})")
    if k > n:
        raise NnfitError(f"{where}{k} folds need at least {k} rows (got {n})")
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
            raise NnfitError(f"{where}class {str(classes[small])!r} has {counts[small]} row"
                             f"{'s' if counts[small] != 1 else ''}, fewer than the {k} folds "
                             f"(each fold holds out every class): {fix}")
        groups = [np.flatnonzero(labels == cls) for cls in classes]
    start = 0
    for members in groups:
        fold[rng.permutation(members)] = (start + np.arange(members.size)) % k
        start += members.size
    return [np.flatnonzero(fold == f) for f in range(k)]

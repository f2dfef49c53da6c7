"""Leaks: one feature that gives the target almost exactly, found on the training rows.

A part of the data checks (``nnfit.data.audit``). For regression, a numeric feature whose
Pearson r with a target is above :data:`LEAK_R` in size. For classification, a feature that
gives the class of at least :data:`LEAK_SHARE` of the rows while leaving at most
:data:`LEAK_ERRORS` of the errors of always guessing the most common class (so a feature
"right" on 97 % of rows where one class holds 97 % is no leak), by either of two rules:

- its values: each value's most common class (at least :data:`GROUP_ROWS` rows per value on
  average, so a column distinct in every row — an identifier — is not called a leak);
- for a number, its sorted order: one range per class, between the class's quantiles
  :data:`TAIL` and ``1 − TAIL``, ordered by the classes' medians and cut halfway between
  neighbours — the classes fall into pure contiguous runs;
- a **copy** of the class: as many distinct values as classes, one value per class (a
  code, such as a 0/1 column beside a yes/no target), agreeing on at least
  :data:`COPY_SHARE` of the rows. A column of many values that sorts the classes well is
  what a strong feature looks like (iris's petal width gives 96 % of its species); a
  code that agrees with the class on nearly every row is what a column derived from the
  target looks like.

The fit verdict acts on every leak but a range one (:attr:`Leak.copies`): a clean cut of a
measurement is also what an honest, strong feature gives, so that one only warns.

Each column is screened on at most :data:`SCREEN_ROWS` training rows (a fixed draw) and
recounted on all of them only when it comes within :data:`SCREEN_SLACK` of the bar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEAK_R = 0.99  # regression: |Pearson r| of one feature with the target above this
LEAK_SHARE = 0.99  # classification: rows classified right by one feature, at least
COPY_SHARE = 0.95  # ... or by a code with one value per class
LEAK_ERRORS = 0.1  # ... leaving at most this share of the most-common-class guess's errors
GROUP_ROWS = 5  # a value-to-class leak needs this many training rows per value on average
TAIL = 0.005  # a class's range of a feature: its quantiles TAIL and 1 − TAIL
SCREEN_ROWS, SCREEN_SLACK = 20_000, 0.02  # leak screening: rows, and how close counts
MIN_ROWS = 10  # fewer rows with a value: no verdict


@dataclass(frozen=True)
class Leak:
    column: str
    target: str
    rule: str  # correlation (score: Pearson r); copy, categories or ranges (score: share right)
    score: float

    @property
    def copies(self) -> bool:
        """The target in another form (a correlation, a copy, values that name the class):
        the fit verdict acts on it; a range leak only warns."""
        return self.rule != "ranges"


def correlations(frame, train: np.ndarray, columns: list[str], targets: list[str]) -> list[Leak]:
    """Numeric features whose Pearson r with a target is above :data:`LEAK_R` in size."""
    found: list[Leak] = []
    numeric = [c for c in columns if frame[c].dtype.kind in "iufb"]
    screen = train[_screen(train.size)]
    for target in targets:
        y = frame[target].to_numpy()
        for col in numeric:
            x = frame[col].to_numpy()
            r = _pearson(_numbers(x, screen, False), _numbers(y, screen, False))
            if screen.size < train.size and abs(r) > LEAK_R - SCREEN_SLACK:
                r = _pearson(_numbers(x, train, False), _numbers(y, train, False))
            if abs(r) > LEAK_R:
                found.append(Leak(col, target, "correlation", r))
    return found


def class_leaks(frame, train: np.ndarray, columns: list[str], target: str, y: np.ndarray,
                n_classes: int) -> list[Leak]:
    """Features whose values, or one range of them per class, give the class of nearly every
    training row (``y``: their class indices)."""
    counts = np.bincount(y, minlength=n_classes)
    errors = 1 - LEAK_ERRORS * (1 - counts.max() / y.size)
    need = {"copy": max(COPY_SHARE, errors), "categories": max(LEAK_SHARE, errors),
            "ranges": max(LEAK_SHARE, errors)}
    pick = _screen(train.size)  # positions among the training rows
    screen = train[pick]
    found: list[Leak] = []
    for col in columns:
        series = frame[col]
        text = hasattr(series, "cat")
        if not text and series.dtype.kind not in "iufb":
            continue
        values = series.cat.codes.to_numpy() if text else series.to_numpy()
        shares = _classified(_numbers(values, screen, text), y[pick], n_classes, text)
        if screen.size < train.size and any(v >= need[r] - SCREEN_SLACK for r, v in shares.items()):
            shares = _classified(_numbers(values, train, text), y, n_classes, text)
        over = [(r, v) for r, v in shares.items() if v >= need[r]]
        if over:
            rule, share = max(over, key=lambda b: (b[0] == "copy", b[1]))
            found.append(Leak(col, target, rule, share))
    return found


def _numbers(values: np.ndarray, rows: np.ndarray, codes: bool) -> np.ndarray:
    """``values`` at ``rows`` as floats; NaN where empty (for a categorical's ``codes``, -1)."""
    x = values[rows].astype(float)
    if codes:
        x[x < 0] = np.nan
    return x


def _screen(n_train: int) -> np.ndarray:
    """Positions of the training rows the leak checks screen: all, or :data:`SCREEN_ROWS`
    of them (a fixed draw, in order)."""
    if n_train <= SCREEN_ROWS:
        return np.arange(n_train)
    return np.sort(np.random.default_rng(0).choice(n_train, SCREEN_ROWS, replace=False))


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r over the rows where both are finite; 0 for a constant column."""
    keep = np.isfinite(x) & np.isfinite(y)
    if not keep.all():
        x, y = x[keep], y[keep]
    if x.size < 3:
        return 0.0
    x, y = x - x.mean(), y - y.mean()  # sums below, not BLAS: its threads wait on a busy machine
    scale = np.sqrt(np.sum(x * x) * np.sum(y * y))
    return float(np.sum(x * y) / scale) if scale > 0 else 0.0


def _classified(x: np.ndarray, y: np.ndarray, n_classes: int, text: bool) -> dict[str, float]:
    """``{rule: share}``: the share of rows (with a value) whose class one feature gives, by
    its values (``categories``: at least :data:`GROUP_ROWS` rows per value; ``copy`` when
    those values are one per class), or, for a number, by one range per class (``ranges``:
    between its quantiles ``TAIL`` and ``1 − TAIL``, the ranges cut halfway between
    neighbours, in the order of the classes' medians). Two sorts of the rows, no loop over
    the classes."""
    keep = np.isfinite(x)
    if not keep.all():
        x, y = x[keep], y[keep]
    counts = np.bincount(y, minlength=n_classes)
    if x.size < MIN_ROWS or np.count_nonzero(counts) < 2:
        return {}
    # no need for a stable sort: every count below is the same whatever the order of ties
    order = np.argsort(x)
    xs, ys = x[order], y[order]
    codes = np.cumsum(np.r_[True, xs[1:] != xs[:-1]]) - 1  # each row's distinct value
    shares: dict[str, float] = {}
    if (codes[-1] + 1) * GROUP_ROWS <= x.size:
        table = np.bincount(codes * n_classes + ys,
                            minlength=(codes[-1] + 1) * n_classes).reshape(-1, n_classes)
        shares["categories"] = float(table.max(axis=1).sum() / x.size)
        majority = table.argmax(axis=1)
        if codes[-1] + 1 == np.count_nonzero(counts) and np.unique(majority).size == majority.size:
            shares["copy"] = shares["categories"]  # one value per class, each its own class
    if text or codes[-1] == 0:
        return shares
    # grouped by class, sorted within each (a radix sort of the small class indices)
    by_class = xs[np.argsort(ys.astype(np.int16 if n_classes < 2**15 else np.int64),
                             kind="stable")]
    present = np.flatnonzero(counts)
    first = (np.cumsum(counts) - counts)[present]
    last = counts[present] - 1
    ends = by_class[first[:, None] + np.rint(np.outer(last, [TAIL, 0.5, 1 - TAIL])).astype(int)]
    rank = np.argsort(ends[:, 1], kind="stable")  # the classes along the feature
    cuts = np.maximum.accumulate((ends[rank[:-1], 2] + ends[rank[1:], 0]) / 2)
    shares["ranges"] = float(np.mean(present[rank][np.searchsorted(cuts, xs)] == ys))
    return shares

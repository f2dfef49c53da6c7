"""Which grid point a sweep chooses, judged against the noise of its validation rows.

Every point of a sweep is scored on the **same** validation rows (or the same folds), with
``R`` seeds (``--repeats``). For each point:

- its **val loss** is the mean over its seeds; its **standard error** ``se`` combines the
  spread of the per-row losses (averaged over the seeds, row by row) and, with several
  seeds, the spread of the seeds' means: ``√(se_rows² + se_seeds²)``;
- its **paired difference to the best point** (``vs_best``, point − best, seed ``r`` with
  seed ``r``, row by row) has its own standard error ``vs_best_se``: that of the per-row
  differences (averaged over the seeds; ``evaluation.paired``), combined with the spread of
  the seeds' mean differences when there are several: two points differ row by row much
  less than each loss varies, but a seed can move the whole difference.

**The rule.** The best point is the lowest mean val loss. The points whose paired
difference to it is within ``TIE`` standard errors, or under ``NEGLIGIBLE`` of its loss, are
*tied* with it: the rows cannot tell them apart, or the difference is too small to matter
(one seed's paired rows can call a 0.1 % difference "significant" when two nearly equal
rates train nearly the same network). When several are tied and the sweep varies one
numeric setting (the rate, a batch size), the choice is the **middle** of the tied values
(the lower-loss one of the two middles): within the noise, a setting with tied neighbours
on both sides is the robust one, and the extremes of a tied run are where a lucky split
shows first. Otherwise (one point, or a grid over several settings) it is the best mean.
A chosen value at the smallest or largest of three or more swept values is flagged: the
best may lie beyond the range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .evidence import se
from .paired import paired_change

TIE = 1.0  # paired standard errors within which two points are tied
NEGLIGIBLE = 0.01  # ... or this share of the best's val loss: a difference no one acts on


@dataclass(frozen=True)
class Point:
    """One grid point as the rule sees it: its swept values and per-row val losses."""

    index: int
    values: dict  # swept key -> value
    rows: np.ndarray | None  # (seeds, val rows); None when it failed or did not run
    ok: bool  # finished without diverging or failing


@dataclass(frozen=True)
class Choice:
    """The chosen point (an index into the points, or None), the points tied with the best,
    why this one, and a warning when it sits at the edge of the swept range."""

    chosen: int | None
    best: int | None
    tied: list[int]
    why: str
    edge: str | None
    stats: dict[int, tuple[float, float]] = field(default_factory=dict)  # usable: (loss, se)
    vs: dict[int, tuple[float, float]] = field(default_factory=dict)  # usable: against the best


def loss_and_se(rows: np.ndarray) -> tuple[float, float]:
    """A point's mean val loss over its seeds and rows, and its standard error (module
    docstring); NaN for a loss that is not finite."""
    rows = np.atleast_2d(rows).astype(np.float64)
    if not np.isfinite(rows).all():
        return math.nan, math.nan
    per_row = rows.mean(axis=0)
    se_rows = se(per_row)
    seeds = rows.mean(axis=1)
    se_seeds = float(seeds.std(ddof=1) / math.sqrt(seeds.size)) if seeds.size > 1 else 0.0
    return float(per_row.mean()), math.hypot(se_rows, se_seeds)


def against_best(points: list[Point], best: int | None) -> dict[int, tuple[float, float]]:
    """``{index: (vs_best, vs_best_se)}`` for every usable point (the best: ``(0, 0)``)."""
    if best is None:
        return {}
    base = next(p.rows for p in points if p.index == best)
    assert base is not None  # the best point is usable
    out: dict[int, tuple[float, float]] = {}
    for p in points:
        if not p.ok or p.rows is None:
            continue
        seeds = min(base.shape[0], p.rows.shape[0])  # a partial point: its finished seeds
        change = paired_change(base[:seeds], p.rows[:seeds])
        per_seed = (p.rows[:seeds] - base[:seeds]).mean(axis=1)
        spread = float(per_seed.std(ddof=1) / math.sqrt(seeds)) if seeds > 1 else 0.0
        out[p.index] = (0.0, 0.0) if p.index == best else (change.change,
                                                           math.hypot(change.se, spread))
    return out


def choose(points: list[Point], keys: list[str]) -> Choice:
    """The rule of the module docstring over ``points``; ``keys``: the swept settings."""
    stats = {p.index: loss_and_se(p.rows) for p in points if p.ok and p.rows is not None}
    usable = [p for p in points if p.index in stats and math.isfinite(stats[p.index][0])]
    if not usable:
        return Choice(None, None, [], "no point finished without diverging or failing", None,
                      stats)
    mean = {p.index: stats[p.index][0] for p in usable}
    best = min(usable, key=lambda p: (mean[p.index], p.index)).index
    diffs = against_best(points, best)
    small = NEGLIGIBLE * abs(mean[best])
    tied = sorted(i for i, (change, se) in diffs.items()
                  if i == best or (math.isfinite(change) and change <= max(TIE * se, small)))
    varied = [k for k in keys if len({repr(p.values[k]) for p in points}) > 1]
    at = {p.index: p for p in points}
    numeric = len(varied) == 1 and all(_number(at[i].values[varied[0]]) is not None for i in tied)
    if len(tied) > 1 and numeric:
        key = varied[0]
        ordered = sorted(tied, key=lambda i: _number(at[i].values[key]))  # type: ignore[arg-type,return-value]
        middle = ordered[(len(ordered) - 1) // 2: len(ordered) // 2 + 1]
        chosen = min(middle, key=lambda i: (mean[i], i))
        how = "the middle of them" if len(tied) > 2 else "the lower val loss of the two"
        why = (f"{_listed(at, ordered, key)} are within noise of each other ({TIE:g} paired "
               f"standard error or {NEGLIGIBLE:.0%} of the best); chosen: {how}")
    else:
        chosen = best
        why = ("the lowest val loss" if len(tied) == 1 else
               f"{len(tied)} points are within noise of each other ({TIE:g} paired standard "
               f"error or {NEGLIGIBLE:.0%} of the best); chosen: the lowest val loss")
    return Choice(chosen, best, tied, why, _edge(points, at[chosen], varied), stats, diffs)


def _edge(points: list[Point], chosen: Point, varied: list[str]) -> str | None:
    """A warning when the chosen value of a numeric setting swept over three or more values
    is its smallest or largest."""
    for key in varied:
        values = sorted({v for p in points if (v := _number(p.values[key])) is not None})
        value = _number(chosen.values[key])
        if len(values) < 3 or value is None or value not in (values[0], values[-1]):
            continue
        side = "smallest" if value == values[0] else "largest"
        hint = ("e.g. --lr-range " + (f"{value / 100:.3g}:{value:.3g}:5" if side == "smallest"
                                     else f"{value:.3g}:{value * 100:.3g}:5")
                if key == "training.lr" else f"--set {key}=...")
        return (f"{key}={chosen.values[key]} is the {side} value swept: the best may lie "
                f"beyond it; widen the range ({hint})")
    return None


def _listed(at: dict[int, Point], indices: list[int], key: str) -> str:
    names = [f"{key.split('.')[-1]} {_shown(at[i].values[key])}" for i in indices]
    return ", ".join(names[:-1]) + f" and {names[-1]}"


def _shown(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None

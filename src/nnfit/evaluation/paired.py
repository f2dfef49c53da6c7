"""Did a change help beyond the noise? The paired difference of two models' per-row losses.

Two models scored on the **same rows** differ row by row much less than their losses
vary from row to row, so the standard error of the difference is computed from the
per-row differences themselves (a paired test), not from each loss's own spread.
With ``R`` seeds each, the difference of a row is the mean over the seeds of
``variant − base`` (seed ``r`` against seed ``r``): the seeds' own noise averages out
of it too.

``change = mean_i d_i``, ``se = std(d, ddof=1) / √n``, ``z = change / se``; the change
**helped** when ``change < −Z·se`` (lower loss, beyond ``Z`` standard errors), made it
**worse** when ``change > Z·se``; anything between is noise.
(A diverged run on one side: see :func:`paired_change`.)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .diagnosis import Z  # standard errors a change must exceed to count: the verdict's


@dataclass(frozen=True)
class PairedChange:
    """``change`` (variant − base, mean over rows), its ``se`` and ``z``, and the verdict."""

    change: float
    se: float
    z: float
    rows: int
    seeds: int
    helped: bool
    worse: bool

    def record(self) -> dict:
        return asdict(self)


def paired_change(base: np.ndarray, variant: np.ndarray) -> PairedChange:
    """The paired difference of per-row losses.

    Parameters
    ----------
    base, variant : (seeds, rows) per-row losses, row ``i`` the same row in both and seed
        ``r`` paired with seed ``r``

    A non-finite loss (a diverged run) makes every number NaN: a difference with an
    infinity in it measures nothing. The verdict is then plain: a variant that trained to
    finite losses where the base diverged helped; one that diverged where the base did not
    made it worse.
    """
    base, variant = np.atleast_2d(base), np.atleast_2d(variant)
    if base.shape != variant.shape or base.size == 0:
        raise ValueError(f"paired losses need the same rows and seeds on both sides "
                         f"(got {base.shape} and {variant.shape})")
    seeds, rows = base.shape
    base_ok, variant_ok = bool(np.isfinite(base).all()), bool(np.isfinite(variant).all())
    if not (base_ok and variant_ok):
        return PairedChange(math.nan, math.nan, math.nan, rows, seeds,
                            helped=variant_ok and not base_ok, worse=base_ok and not variant_ok)
    d = (variant.astype(np.float64) - base).mean(axis=0)
    change = float(d.mean())
    se = float(d.std(ddof=1) / math.sqrt(rows)) if rows > 1 else math.inf
    z = change / se if se > 0 else math.copysign(math.inf, change) if change else 0.0
    return PairedChange(change, se, z, rows, seeds, change < -Z * se, change > Z * se)

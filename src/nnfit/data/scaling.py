"""The scaling of a numeric input column: its statistics, fitted on the training values, and
the map that follows ``(x − center) / scale`` for ``data.scale: robust``.

``STATISTICS`` maps each affine scale (``data.scale``) to its ``(center, scale)``:

- ``standard``: the mean and the standard deviation;
- ``minmax``: the minimum and the range;
- ``robust`` (RealMLP, Holzmüller et al. 2024): the median and the interquartile range
  ``q75 − q25`` (linear interpolation, as ``np.quantile``); where that is 0, half the
  range ``(max − min) / 2``; then :func:`smooth_clip`;
- ``none``: 0 and 1.

``quantile`` is not affine (:mod:`nnfit.data.quantile`). A scale of 0 (a constant
column) becomes 1: the column is left unscaled, so its training rows all become 0.
RealMLP instead multiplies such a column by 0, so that it is 0 at prediction time too;
here a value that differs from the training constant passes through (smoothly clipped
under ``robust``), as it does under ``standard`` and ``minmax``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..errors import NnfitError

CLIP = 3.0  # smooth_clip's bound: RealMLP's
_HUGE = 1e300  # |z| beyond this is as good as infinite for smooth_clip (and keeps it finite)


def _standard(values: np.ndarray) -> tuple[float, float]:
    return float(np.mean(values)), float(np.std(values))


def _minmax(values: np.ndarray) -> tuple[float, float]:
    low, high = float(np.min(values)), float(np.max(values))
    return low, high - low


def _robust(values: np.ndarray) -> tuple[float, float]:
    q25, median, q75 = np.quantile(values, [0.25, 0.5, 0.75])
    spread = float(q75 - q25)
    if spread == 0:  # more than half the rows tie: half the range (0 for a constant column)
        spread = 0.5 * (float(np.max(values)) - float(np.min(values)))
    return float(median), spread


def _none(values: np.ndarray) -> tuple[float, float]:
    return 0.0, 1.0


STATISTICS: dict[str, Callable[[np.ndarray], tuple[float, float]]] = {
    "standard": _standard, "minmax": _minmax, "robust": _robust, "none": _none}


def smooth_clip(z: np.ndarray) -> np.ndarray:
    """``z / √(1 + (z/3)²)`` in place: near ``z`` for small ``|z|``, bounded by ±3.

    Parameters
    ----------
    z : ndarray (n,), float64, finite or ±inf (overwritten and returned)
    """
    np.clip(z, -_HUGE, _HUGE, out=z)  # ±inf (an overflowing (x − center) / scale) -> ±3
    z /= np.hypot(1.0, z / CLIP)  # hypot: (z/3)² would overflow for |z| > 1e154
    return z


SQUASH: dict[str, Callable[[np.ndarray], np.ndarray]] = {"robust": smooth_clip}
"""The map after ``(x − center) / scale``, for the scales that have one."""


def center_scale(values: np.ndarray, how: str, name: str, source: str) -> list[float]:
    """``[center, scale]`` of a column's training values; NnfitError when they overflow.

    Parameters
    ----------
    values : ndarray (n_rows,), float64, no NaN
    how : a key of ``STATISTICS``
    """
    with np.errstate(over="ignore", invalid="ignore"):
        center, scale = STATISTICS[how](values)
    if not (math.isfinite(center) and math.isfinite(scale)):
        raise NnfitError(f"{source}: column {name!r}: its numbers are too large to scale in "
                         f"float64 (the {how} scaling overflows); rescale the column")
    return [center, scale if scale > 0 else 1.0]  # a constant column is left unscaled

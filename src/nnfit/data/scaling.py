"""The scaling statistics of a numeric column, fitted on its training values."""

from __future__ import annotations

import math

import numpy as np

from ..errors import NnfitError


def center_scale(values: np.ndarray, how: str, name: str, source: str) -> list[float]:
    """``[center, scale]`` of a column's training values; NnfitError when they overflow."""
    with np.errstate(over="ignore", invalid="ignore"):
        if how == "standard":
            center, scale = float(np.mean(values)), float(np.std(values))
        elif how == "minmax":
            center, scale = float(np.min(values)), float(np.max(values) - np.min(values))
        else:
            center, scale = 0.0, 1.0
    if not (math.isfinite(center) and math.isfinite(scale)):
        raise NnfitError(f"{source}: column {name!r}: its numbers are too large to scale in "
                         f"float64 (the {how} scaling overflows); rescale the column")
    return [center, scale if scale > 0 else 1.0]  # a constant column is left unscaled

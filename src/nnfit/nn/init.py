"""Weight initializers, drawn from one seeded ``numpy.random.Generator``.

He (normal, ``std = sqrt(2 / fan_in)``) keeps the variance of ReLU-family
activations steady from layer to layer; Glorot/Xavier (uniform,
``limit = sqrt(6 / (fan_in + fan_out))``) does the same for symmetric ones.
"""

from __future__ import annotations

import numpy as np


def he_normal(rng: np.random.Generator, out: np.ndarray, fan_in: int, fan_out: int) -> None:
    """Fill ``out`` with N(0, 2 / fan_in)."""
    rng.standard_normal(out=out, dtype=out.dtype)
    out *= np.sqrt(2.0 / fan_in)


def glorot_uniform(rng: np.random.Generator, out: np.ndarray, fan_in: int, fan_out: int) -> None:
    """Fill ``out`` with U(-limit, limit), ``limit = sqrt(6 / (fan_in + fan_out))``."""
    rng.random(out=out, dtype=out.dtype)
    out *= 2.0
    out -= 1.0
    out *= np.sqrt(6.0 / (fan_in + fan_out))


INITIALIZERS = {"he": he_normal, "glorot": glorot_uniform}

"""Checks of what the Python API is handed: plain ValueErrors, once per call, never per batch.

The entry points (``build_network``, ``Trainer``, ``Trainer.fit``, ``nnfit.fit``,
``Network.predict``) call these before any step, so a bad argument is named in
words instead of surfacing as a NumPy error, a silently empty run, or a loss
that turns NaN in the first epoch.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def positive_int(value, name: str) -> int:
    """``value`` as an ``int >= 1``, else ValueError naming ``name``.

    Integers and integral floats (``2.0``) pass; ``bool``, fractions, zero,
    negatives and non-numbers do not.
    """
    # mypy does not model the numeric tower: numbers.Real takes neither int() nor >= there
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) \
        and math.isfinite(value) and value == int(value) and value >= 1  # type: ignore[call-overload, operator]
    if not ok:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def all_finite(x: np.ndarray) -> bool:
    """Whether every entry of ``x`` is finite: a min and a max, no temporary array.

    NaN propagates through both reductions and ±inf shows up in one of them, so two
    passes of a reduction replace ``np.isfinite(x).all()`` and its ``x.size``-byte mask.
    Integer and boolean arrays are always finite.
    """
    if x.size == 0 or x.dtype.kind not in "fc":
        return True
    if x.dtype.kind == "c":
        return bool(np.isfinite(x).all())
    return math.isfinite(np.minimum.reduce(x, axis=None)) and \
        math.isfinite(np.maximum.reduce(x, axis=None))


def check_finite(x: np.ndarray, what: str) -> None:
    """Raise ValueError when ``x`` holds NaN or ±inf: how many, and where the first is.

    Parameters
    ----------
    x : ndarray (n_samples, ...)
    what : str
        The argument's name as the message should show it, e.g. ``"X"``.
    """
    if all_finite(x):
        return
    bad = ~np.isfinite(x)  # only on the failing path: the mask costs x.size bytes
    count = int(np.count_nonzero(bad))
    first = np.unravel_index(int(np.argmax(bad)), x.shape)
    if x.ndim == 1:
        where = f"row {first[0]}"
    elif x.ndim == 2:
        where = f"row {first[0]}, column {first[1]}"
    else:
        where = f"index {tuple(int(i) for i in first)}"
    raise ValueError(f"{what} has {count} NaN or infinite value{'s' if count > 1 else ''}; "
                     f"the first ({x[first]}) is at {where}")

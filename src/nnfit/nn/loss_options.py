"""What the classification losses share: class weights, label smoothing, their wording.

The losses themselves are in :mod:`nnfit.nn.losses`.
"""

from __future__ import annotations

import math

import numpy as np


def class_weight(weight, name: str) -> np.ndarray | None:
    """``weight`` as a float64 ``(n_classes,)`` array of positive finite numbers, or None."""
    if weight is None:
        return None
    weight = np.array(weight, dtype=np.float64)
    if weight.ndim != 1 or weight.size == 0:
        raise ValueError(f"{name} class weights must be a 1-D array with one weight per class "
                         f"(got shape {weight.shape})")
    if not (np.isfinite(weight) & (weight > 0)).all():
        raise ValueError(f"{name} class weights must be positive finite numbers "
                         f"(got {weight.tolist()})")
    weight.setflags(write=False)
    return weight


def unequal(weight: np.ndarray | None) -> bool:
    """Whether ``weight`` changes the loss: equal weights (all 1, or any constant) give
    exactly the unweighted loss, so they take its path and its numbers, bit for bit."""
    return weight is not None and bool((weight != weight[0]).any())


def spread(losses: np.ndarray, weight: np.ndarray | None, y: np.ndarray) -> np.ndarray:
    """Row losses ``ℓ_i`` weighted as the loss weighs them: ``w[y_i]·ℓ_i·n / Σ_j w[y_j]``.

    Scaled so that their mean is the weighted loss, as an unweighted loss's rows
    average to it. The diagnosis reads their spread as a standard error
    (``std/√n``) and their paired differences between two epochs on the same rows;
    with the rows' classes fixed (a stratified split fixes them), ``Σ w[y]`` is a
    constant and ``L`` is the plain mean of these terms, so both stay honest. The
    standard error errs a little on the large (cautious) side: it counts the spread
    between classes, which a stratified split does not draw anew.
    """
    if weight is None:
        return losses
    wy = weight[np.asarray(y, dtype=np.intp)]
    return wy * losses * (losses.shape[0] / wy.sum())


def classification_repr(name: str, weight: np.ndarray | None, smoothing: float) -> str:
    """``cross_entropy``, ``cross_entropy(weight=[1, 2])``, ``…(smoothing=0.1)``."""
    options = ([f"weight=[{', '.join(f'{w:.4g}' for w in weight)}]"] if weight is not None
               else []) + ([f"smoothing={smoothing:g}"] if smoothing else [])
    return f"{name}({', '.join(options)})" if options else name


def check_smoothing(smoothing, name: str) -> float:
    """``smoothing`` as a float in [0, 1) (ValueError otherwise)."""
    if isinstance(smoothing, bool) or not isinstance(smoothing, (int, float)) \
            or not 0.0 <= smoothing < 1.0:
        raise ValueError(f"{name} label smoothing must be in [0, 1), got {smoothing!r}")
    return float(smoothing)


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def soft_targets(y: np.ndarray, smoothing: float, scratch: dict) -> np.ndarray:
    """Binary targets smoothed, ``(1 − ε)·y + ε/2``, in a buffer kept in ``scratch`` and
    reused for the same shape (``y`` itself when ``ε = 0``)."""
    if not smoothing:
        return y
    key = ("soft", y.shape, y.dtype.str)
    if key not in scratch:
        scratch[key] = np.empty(y.shape, dtype=y.dtype)
    soft = scratch[key]
    np.multiply(y, 1.0 - smoothing, out=soft)
    soft += 0.5 * smoothing
    return soft


def entropy_floor(smoothing: float, k: int) -> float:
    """``H(t)`` of a hard label's soft target over ``k`` classes, ``t = (1 − ε)·onehot + ε/k``:
    ``−a·log a − (k − 1)·b·log b`` with ``a = 1 − ε + ε/k``, ``b = ε/k`` (0 at ``ε = 0``).
    The least value the smoothed cross-entropy takes, so ``H(t, p) − H(t) = KL(t ‖ p)``."""
    if not smoothing:
        return 0.0
    a, b = 1.0 - smoothing + smoothing / k, smoothing / k
    return -a * math.log(a) - (k - 1) * b * math.log(b)

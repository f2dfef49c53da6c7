"""The training losses of K packed members at once (:mod:`nnfit.nn.packed`).

``members_value_and_grad(loss, logits, y, out)`` takes ``logits`` and ``out`` of shape
``(K, batch, outputs)`` and ``y`` of the loss's target shape with a leading ``K``, writes
every member's gradient into ``out`` and returns each member's loss: the numbers of
``loss.value_and_grad`` on that member's slice, bit for bit. Every elementwise step is the
same; each member's sums are reductions over its own contiguous row of ``(K, …)`` (NumPy sums
a contiguous row pairwise, as it sums a whole 1-D array), its dot products one BLAS call
each. Losses (or options: class weights, label smoothing) not covered here return None,
and the caller takes each member's loss in turn.
"""

from __future__ import annotations

import math

import numpy as np

from .activations import sigmoid
from .losses import BinaryCrossEntropy, CrossEntropy, Loss, MeanSquaredError, SumSquaredError


def members_value_and_grad(loss: Loss, logits: np.ndarray, y: np.ndarray,
                           out: np.ndarray) -> list[float] | None:
    """Each member's loss (``out`` filled with the gradients), or None when not covered."""
    if type(loss) in (MeanSquaredError, SumSquaredError):
        return _squared(loss, logits, y, out)  # their value_and_grad has no fallback
    # the losses' own plain path (``_path_weight`` None: no weights, or all equal)
    if type(loss) is CrossEntropy and loss._path_weight is None and not loss.smoothing:
        values = _cross_entropy(logits, y, out)
    elif type(loss) is BinaryCrossEntropy and loss._path_weight is None and not loss.smoothing:
        values = _binary(logits, y, out)
    else:
        return None
    # a member whose loss overflowed takes the loss's own float64 fallback (Loss._checked)
    return [v if math.isfinite(v) else loss._checked(v, logits[i], y[i], out[i])
            for i, v in enumerate(values)]


def _squared(loss: Loss, logits, y, out) -> list[float]:
    """``mse`` and ``sse``: ``Σ (ŷ − y)²`` per member (a dot product each), scaled."""
    np.subtract(logits, y, out=out)
    flat = out.reshape(out.shape[0], -1)
    dots = np.matmul(flat[:, None, :], flat[:, :, None])[:, 0, 0]
    if loss.reduction == "sum":
        out *= 2.0
        return [float(d) for d in dots]
    scale = 1.0 / flat.shape[1]
    out *= 2.0 * scale
    return [float(d) * scale for d in dots]


def _cross_entropy(logits, y, out) -> list[float]:
    """Softmax cross-entropy over the last axis, as ``CrossEntropy.value_and_grad``'s plain path."""
    k, n = logits.shape[0], logits.shape[1]
    members, rows = np.arange(k)[:, None], np.arange(n)[None, :]
    row = np.maximum.reduce(logits, axis=-1, keepdims=True)
    picked = logits[members, rows, y] - row[..., 0]
    np.subtract(logits, row, out=out)
    np.exp(out, out=out)
    np.add.reduce(out, axis=-1, keepdims=True, out=row)
    out /= row
    np.log(row, out=row)
    totals = np.add.reduce(row[..., 0] - picked, axis=-1)
    out[members, rows, y] -= 1.0
    out /= n
    return [float(t) / n for t in totals]


def _binary(logits, y, out) -> list[float]:
    """Sigmoid binary cross-entropy, as ``BinaryCrossEntropy.value_and_grad``'s plain path."""
    k, n = logits.shape[0], logits.shape[1]
    flat = out.reshape(k, -1)
    np.abs(logits, out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    totals = [float(s) for s in flat.sum(axis=1)]
    np.maximum(logits, 0, out=out)
    totals = [t + float(s) for t, s in zip(totals, flat.sum(axis=1), strict=True)]
    np.multiply(logits, y, out=out)
    totals = [t - float(s) for t, s in zip(totals, flat.sum(axis=1), strict=True)]
    sigmoid(logits, out)
    out -= y
    out /= n
    return [t / n for t in totals]

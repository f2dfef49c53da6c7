"""Losses fused with the output activation, computed from the network's raw outputs.

Each loss takes ``logits`` (the last layer's output, ``(n_samples, n_outputs)``)
and targets, returns the loss as a float and writes ``dL/dlogits`` into a
caller-owned buffer, so the output activation never has to be differentiated on
its own. ``output(logits)`` applies that activation for predictions.

Targets: ``cross_entropy`` takes integer class indices ``(n_samples,)``;
``binary_cross_entropy`` takes floats in [0, 1] ``(n_samples, n_outputs)``; the
regression losses take floats ``(n_samples, n_outputs)``. ``targets(y, dtype,
n_outputs)`` converts and checks them, raising ValueError with a plain message.

Class weights: the two classification losses take an optional ``weight``, one
positive weight per class, and then average row losses with those weights,
``L = Σ_i w[y_i]·ℓ_i / Σ_i w[y_i]`` (PyTorch's ``CrossEntropyLoss(weight=...)``
mean): all weights 1 is the unweighted loss, and scaling every weight by a
constant changes nothing (equal weights take the unweighted path, bit for bit).

Label smoothing ``ε`` (the classification losses' ``smoothing``): soft targets
``t = (1 − ε)·onehot + ε/K`` (sigmoid: ``(1 − ε)·y + ε/2``), gradient ``(p − t)/n``,
weights by the true class; the constant ``H(t)`` of a hard label is subtracted, so
the loss is ``KL(t ‖ p)``, 0 at a perfect fit. ``ε = 0`` is the plain path, bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from .activations import sigmoid, softmax
from .loss_options import (
    check_smoothing,
    class_weight,
    classification_repr,
    count,
    entropy_floor,
    soft_targets,
    spread,
    unequal,
)


class Loss:
    """Base class. ``reduction`` says whether the loss is a mean or a sum over samples."""

    name: str = "loss"
    output_activation: str = "identity"
    reduction: str = "mean"

    def value_and_grad(self, logits: np.ndarray, y: np.ndarray, out: np.ndarray) -> float:
        """Return ``L(logits, y)`` and write ``dL/dlogits`` into ``out`` (same shape as logits)."""
        raise NotImplementedError

    def targets(self, y, dtype, n_outputs: int | None = None) -> np.ndarray:
        """Targets in the form this loss reads: floats ``(n_samples, n_outputs)``.

        A 1-D ``y`` is one column. With ``n_outputs`` (the network's output
        width) a ``y`` of another width raises ValueError.
        """
        y = np.asarray(y, dtype=dtype)
        y = np.ascontiguousarray(y.reshape(-1, 1) if y.ndim == 1 else y)
        if n_outputs is not None and y.shape[1:] != (n_outputs,):
            got = f"{count(y.shape[1], 'column')}" if y.ndim == 2 else f"shape {y.shape}"
            raise ValueError(f"y has {got} but the network has {count(n_outputs, 'output')}; "
                             f"{self.name} targets are (n_samples, n_outputs)")
        return y

    def value(self, logits: np.ndarray, y: np.ndarray) -> float:
        """``L(logits, y)`` alone (allocates; for evaluation, not the training loop)."""
        return self.value_and_grad(logits, y, np.empty_like(logits))

    def per_row(self, logits: np.ndarray, y: np.ndarray) -> float:
        """The loss per row: a mean loss as it is, a sum loss divided by the rows it sums."""
        value = self.value(logits, y)
        return value / logits.shape[0] if self.reduction == "sum" else value

    def row_losses(self, logits: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Each row's loss ``(n_samples,)``, in float64; their mean is :meth:`per_row`.

        The spread of these is what a standard error of the loss is made from.
        """
        raise NotImplementedError

    def output(self, logits: np.ndarray) -> np.ndarray:
        """Predictions from logits: probabilities for classification, values for regression."""
        return logits.copy()

    def _checked(self, loss: float, logits: np.ndarray, y: np.ndarray, out: np.ndarray) -> float:
        """``loss``, or when it overflowed on logits near the dtype's largest value (float32
        sums of terms around 1e38), the same loss summed in float64 from :meth:`row_losses`.

        A rare path, taken only for a non-finite ``loss``; non-finite logits stay
        non-finite through it, so divergence is still seen. When ``out`` is ``logits``
        they are gone by now and ``loss`` is returned as it is.
        """
        if math.isfinite(loss) or out is logits:
            return loss
        return float(self.row_losses(logits, y).mean())

    def __repr__(self) -> str:
        return self.name


class MeanSquaredError(Loss):
    """``L = Σ (ŷ − y)² / (n·k)``; ``dL/dŷ = 2(ŷ − y) / (n·k)``, identity output."""

    name = "mse"

    def value_and_grad(self, logits, y, out):
        np.subtract(logits, y, out=out)
        flat = out.reshape(-1)
        scale = 1.0 / flat.size
        loss = float(np.dot(flat, flat)) * scale
        out *= 2.0 * scale
        return loss

    def row_losses(self, logits, y):
        err = np.asarray(logits, np.float64) - y
        return (err * err).reshape(err.shape[0], -1).mean(axis=1)


class SumSquaredError(Loss):
    """Residual sum of squares ``L = Σ (ŷ − y)²``; ``dL/dŷ = 2(ŷ − y)``, identity output."""

    name = "sse"
    reduction = "sum"

    def value_and_grad(self, logits, y, out):
        np.subtract(logits, y, out=out)
        flat = out.reshape(-1)
        loss = float(np.dot(flat, flat))
        out *= 2.0
        return loss

    def row_losses(self, logits, y):
        err = np.asarray(logits, np.float64) - y
        return (err * err).reshape(err.shape[0], -1).sum(axis=1)


class CrossEntropy(Loss):
    """Softmax + categorical cross-entropy, mean over samples (optionally class-weighted).

    ``L = (1/n) Σ_i ℓ_i`` with ``ℓ_i = logsumexp(z_i) − z_{i, y_i}``;
    ``dL/dz = (softmax(z) − onehot(y)) / n``. Log-sum-exp keeps every term finite
    whatever the logits, so ``log(0)`` never happens.

    With ``weight`` (``(n_classes,)``, positive): ``L = Σ_i w[y_i]·ℓ_i / Σ_i w[y_i]``
    and ``dL/dz_i = w[y_i]·(softmax(z_i) − onehot(y_i)) / Σ_j w[y_j]``.

    With ``smoothing`` ``ε``: the target is ``t_i = (1 − ε)·onehot(y_i) + ε/K``, so
    ``ℓ_i = logsumexp(z_i) − Σ_k t_ik·z_ik`` and ``onehot`` becomes ``t`` in the gradients.
    """

    name = "cross_entropy"
    output_activation = "softmax"

    def __init__(self, weight=None, smoothing: float = 0.0) -> None:
        self.smoothing = check_smoothing(smoothing, self.name)
        self.weight = class_weight(weight, self.name)
        self._path_weight = self.weight if unequal(self.weight) else None  # None: plain path
        self._scratch: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self._cast: dict[str, np.ndarray] = {}  # the weights in each dtype the loss has seen

    def targets(self, y, dtype, n_outputs=None):
        """Class indices ``(n_samples,)`` as integers, in ``[0, n_outputs)`` when it is given."""
        y = np.asarray(y)
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise ValueError("cross_entropy targets must be integer class indices of shape "
                             f"(n_samples,) (got {y.dtype} of shape {y.shape})")
        if n_outputs is not None:
            bad = y[(y < 0) | (y >= n_outputs)]
            if bad.size:
                raise ValueError(f"class index {bad[0]} is outside [0, {n_outputs}) "
                                 f"for a network with {count(n_outputs, 'output')}")
        return np.ascontiguousarray(y, dtype=np.intp)

    def _rows(self, n: int, dtype) -> tuple[np.ndarray, np.ndarray]:
        key = (n, np.dtype(dtype).str)
        if key not in self._scratch:
            self._scratch[key] = (np.empty((n, 1), dtype=dtype), np.arange(n))
        return self._scratch[key]

    def _row_weights(self, weight: np.ndarray, y: np.ndarray, dtype
                     ) -> tuple[np.ndarray, np.ndarray]:
        """``w[y]`` as ``(n, 1)`` in ``dtype``, gathered into a reused buffer, and a second
        ``(n, 1)`` scratch buffer."""
        dtype = np.dtype(dtype)
        key = ("w", y.shape[0], dtype.str)
        if key not in self._scratch:
            self._scratch[key] = (np.empty((y.shape[0], 1), dtype=dtype),
                                  np.empty((y.shape[0], 1), dtype=dtype))
        if dtype.str not in self._cast:
            self._cast[dtype.str] = weight.astype(dtype)
        wy, spare = self._scratch[key]
        np.take(self._cast[dtype.str], y, out=wy[:, 0])
        return wy, spare

    def value_and_grad(self, logits, y, out):
        n = logits.shape[0]
        row, index = self._rows(n, logits.dtype)
        if self.weight is not None and self.weight.shape[0] != logits.shape[1]:
            raise ValueError(f"cross_entropy has {count(self.weight.shape[0], 'class weight')} "
                             f"but the network has {count(logits.shape[1], 'output')}")
        # ufunc reductions, not np.max/np.sum: their Python wrappers cost more than the
        # arithmetic at a mini-batch's size
        np.maximum.reduce(logits, axis=1, keepdims=True, out=row)
        # z_{i, y_i} − max_i, gathered before `out` is overwritten (it may alias logits).
        picked = logits[index, y] - row[:, 0]
        if self.smoothing:  # Σ_k t_ik·(z_ik − max_i) instead
            picked *= 1.0 - self.smoothing
            picked += (np.add.reduce(logits, axis=1) / logits.shape[1] - row[:, 0]) \
                * self.smoothing
            picked += entropy_floor(self.smoothing, logits.shape[1])
        np.subtract(logits, row, out=out)
        np.exp(out, out=out)
        np.add.reduce(out, axis=1, keepdims=True, out=row)
        if self._path_weight is not None:
            return self._checked(self._weighted(self._path_weight, out, y, row, picked, index),
                                 logits, y, out)
        out /= row
        np.log(row, out=row)  # row >= 1: the max term contributes e^0
        loss = float(np.add.reduce(row[:, 0] - picked)) / n
        if self.smoothing:
            out -= self.smoothing / logits.shape[1]
            out[index, y] -= 1.0 - self.smoothing
        else:
            out[index, y] -= 1.0
        out /= n
        return self._checked(loss, logits, y, out)

    def _weighted(self, weight, out, y, row, picked, index) -> float:
        """The class-weighted end of :meth:`value_and_grad`: ``out`` holds ``e^{z − max}``,
        ``row`` its row sums, ``picked`` ``z_{i, y_i} − max_i``.

        ``w[y_i] / Σw`` is folded into the softmax's division by the row sums, so the
        weighted gradient makes no more passes over ``out`` than the unweighted one.
        """
        wy, scale = self._row_weights(weight, y, out.dtype)
        total = float(wy.sum())
        np.divide(row, wy, out=scale)
        scale *= total
        out /= scale  # softmax(z_i) · w[y_i] / Σw
        np.log(row, out=row)  # row >= 1: the max term contributes e^0
        np.subtract(row[:, 0], picked, out=picked)  # ℓ_i
        loss = float(np.dot(wy[:, 0], picked)) / total
        wy /= total
        if self.smoothing:  # w_i/Σw · t_ik: ε/K of it on every class, 1 − ε more on y_i
            np.multiply(wy, self.smoothing / out.shape[1], out=scale)
            out -= scale
            wy *= 1.0 - self.smoothing
        out[index, y] -= wy[:, 0]
        return loss

    def row_losses(self, logits, y):
        """Each row's loss; weighted, ``w[y_i]·ℓ_i·n / Σ_j w[y_j]`` (see ``loss_options.spread``)."""
        z = np.asarray(logits, np.float64)
        top = z.max(axis=1)
        lse = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
        picked = z[np.arange(z.shape[0]), y]
        if self.smoothing:
            picked = (1.0 - self.smoothing) * picked + self.smoothing * z.mean(axis=1) \
                + entropy_floor(self.smoothing, z.shape[1])
        return spread(lse - picked, self._path_weight, y)

    def output(self, logits):
        row = np.empty(logits.shape[:-1] + (1,), logits.dtype)
        return softmax(logits, np.empty_like(logits), row)

    def __repr__(self) -> str:
        return classification_repr(self.name, self.weight, self.smoothing)


class BinaryCrossEntropy(Loss):
    """Sigmoid + binary cross-entropy per output, summed over outputs, mean over samples.

    ``L = (1/n) Σ [max(z, 0) − z·y + log(1 + e^{−|z|})]`` (the stable form of
    ``−y log σ(z) − (1 − y) log(1 − σ(z))``); ``dL/dz = (σ(z) − y) / n``.

    With ``weight = [w0, w1]`` (the weights of targets 0 and 1; a soft target
    ``y`` weighs ``w0 + (w1 − w0)·y``), each entry ``ℓ_ij`` counts ``w_ij`` times:
    ``L = k·Σ w_ij·ℓ_ij / Σ w_ij`` for ``k`` outputs, ``dL/dz = k·w·(σ(z) − y) / Σ w``.
    With one output that is ``Σ_i w[y_i]·ℓ_i / Σ_i w[y_i]``.

    With ``smoothing`` ``ε``: the terms and the gradient read ``t = (1 − ε)·y + ε/2`` in
    place of ``y``; the weights still read ``y``.
    """

    name = "binary_cross_entropy"
    output_activation = "sigmoid"

    def __init__(self, weight=None, smoothing: float = 0.0) -> None:
        self.smoothing = check_smoothing(smoothing, self.name)
        self.weight = class_weight(weight, self.name)
        if self.weight is not None and self.weight.shape != (2,):
            raise ValueError(f"binary_cross_entropy takes 2 class weights (of targets 0 and 1), "
                             f"got {self.weight.shape[0]}")
        self._path_weight = self.weight if unequal(self.weight) else None  # None: plain path
        self._scratch: dict[tuple, np.ndarray] = {}

    def targets(self, y, dtype, n_outputs=None):
        """Floats ``(n_samples, n_outputs)`` in ``[0, 1]`` (0/1 labels or probabilities)."""
        y = super().targets(y, dtype, n_outputs)
        bad = y[~((y >= 0) & (y <= 1))]  # NaN is bad too
        if bad.size:
            raise ValueError(f"binary_cross_entropy targets must lie in [0, 1] (got {bad[0]:g})")
        return y

    def _weights(self, weight: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``w0 + (w1 − w0)·y``, same shape and dtype as ``y``, in a reused buffer."""
        key = (y.shape, y.dtype.str)
        if key not in self._scratch:
            self._scratch[key] = np.empty(y.shape, dtype=y.dtype)
        w = self._scratch[key]
        w0, w1 = float(weight[0]), float(weight[1])
        np.multiply(y, w1 - w0, out=w)
        w += w0
        return w

    def value_and_grad(self, logits, y, out):
        n = logits.shape[0]
        if out is logits:
            raise ValueError("binary_cross_entropy needs the logits intact: pass a separate out")
        if self._path_weight is not None:
            return self._checked(self._weighted(self._path_weight, logits, y, out), logits, y, out)
        y = soft_targets(y, self.smoothing, self._scratch)
        np.abs(logits, out=out)
        np.negative(out, out=out)
        np.exp(out, out=out)
        np.log1p(out, out=out)
        total = float(out.sum())
        np.maximum(logits, 0, out=out)
        total += float(out.sum())
        np.multiply(logits, y, out=out)
        total -= float(out.sum())
        sigmoid(logits, out)
        out -= y
        out /= n
        return self._checked(total / n - self._floor(logits), logits, y, out)

    def _weighted(self, weight, logits, y, out):
        """The weighted loss: each of the three terms dotted with the entries' weights."""
        w = self._weights(weight, y)  # by the true targets; the terms read the soft ones
        y = soft_targets(y, self.smoothing, self._scratch)
        flat_w, flat_out = w.reshape(-1), out.reshape(-1)
        scale = logits.shape[1] / float(flat_w.sum())  # k / Σw: 1/n when every weight is 1
        np.abs(logits, out=out)
        np.negative(out, out=out)
        np.exp(out, out=out)
        np.log1p(out, out=out)
        total = float(np.dot(flat_w, flat_out))
        np.maximum(logits, 0, out=out)
        total += float(np.dot(flat_w, flat_out))
        np.multiply(logits, y, out=out)
        total -= float(np.dot(flat_w, flat_out))
        sigmoid(logits, out)
        out -= y
        w *= scale  # the scratch is refilled on every call
        out *= w
        return total * scale - self._floor(logits)

    def _floor(self, logits) -> float:
        """``k·H(ε/2)``: the smoothed loss's least value on hard labels, for ``k`` outputs."""
        return logits.shape[1] * entropy_floor(self.smoothing, 2) if self.smoothing else 0.0

    def row_losses(self, logits, y):
        """Each row's loss; weighted, ``Σ_j w_ij·ℓ_ij·n·k / Σ w`` (see ``loss_options.spread``)."""
        z = np.asarray(logits, np.float64)
        soft = ((1.0 - self.smoothing) * np.asarray(y, np.float64) + 0.5 * self.smoothing
                if self.smoothing else y)
        terms = np.maximum(z, 0) - z * soft + np.log1p(np.exp(-np.abs(z)))
        weight, floor = self._path_weight, self._floor(z)
        if weight is None:
            return terms.sum(axis=1) - floor
        w = weight[0] + (weight[1] - weight[0]) * np.asarray(y, np.float64)
        return (w * terms).sum(axis=1) * (z.size / w.sum()) - floor

    def output(self, logits):
        return sigmoid(logits, np.empty_like(logits))

    def __repr__(self) -> str:
        return classification_repr(self.name, self.weight, self.smoothing)


LOSSES: dict[str, type[Loss]] = {
    "mse": MeanSquaredError,
    "sse": SumSquaredError,
    "rss": SumSquaredError,
    "cross_entropy": CrossEntropy,
    "binary_cross_entropy": BinaryCrossEntropy,
}


def make_loss(name: str | Loss, weight=None, smoothing: float = 0.0) -> Loss:
    """A loss by its YAML name (``rss`` is another name for ``sse``).

    ``weight``: per-class weights ``(n_classes,)``, and ``smoothing``: label smoothing
    ``ε`` in [0, 1), for the classification losses.
    """
    if isinstance(name, Loss):
        return name
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose from {', '.join(LOSSES)}")
    if weight is None and not smoothing:
        return LOSSES[name]()
    classifier = LOSSES[name]
    if not issubclass(classifier, (CrossEntropy, BinaryCrossEntropy)):
        what = "class weights: they are" if weight is not None else "label smoothing: it is"
        raise ValueError(f"{name} takes no {what} for classification losses")
    return classifier(weight, smoothing)

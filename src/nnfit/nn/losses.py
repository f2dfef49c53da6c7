"""Losses fused with the output activation, computed from the network's raw outputs.

Each loss takes ``logits`` (the last layer's output, ``(n_samples, n_outputs)``)
and targets, returns the loss as a float and writes ``dL/dlogits`` into a
caller-owned buffer, so the output activation never has to be differentiated on
its own. ``output(logits)`` applies that activation for predictions.

Targets: ``cross_entropy`` takes integer class indices ``(n_samples,)``;
``binary_cross_entropy`` takes floats in [0, 1] ``(n_samples, n_outputs)``; the
regression losses take floats ``(n_samples, n_outputs)``. ``targets(y, dtype,
n_outputs)`` converts and checks them, raising ValueError with a plain message.
"""

from __future__ import annotations

import numpy as np

from .activations import sigmoid, softmax


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
            got = f"{_count(y.shape[1], 'column')}" if y.ndim == 2 else f"shape {y.shape}"
            raise ValueError(f"y has {got} but the network has {_count(n_outputs, 'output')}; "
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
    """Softmax + categorical cross-entropy, mean over samples.

    ``L = (1/n) Σ_i [logsumexp(z_i) − z_{i, y_i}]``;
    ``dL/dz = (softmax(z) − onehot(y)) / n``. Log-sum-exp keeps every term finite
    whatever the logits, so ``log(0)`` never happens.
    """

    name = "cross_entropy"
    output_activation = "softmax"

    def __init__(self) -> None:
        self._scratch: dict[tuple, np.ndarray] = {}

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
                                 f"for a network with {_count(n_outputs, 'output')}")
        return np.ascontiguousarray(y, dtype=np.intp)

    def _rows(self, n: int, dtype) -> tuple[np.ndarray, np.ndarray]:
        key = (n, np.dtype(dtype).str)
        if key not in self._scratch:
            self._scratch[key] = (np.empty((n, 1), dtype=dtype), np.arange(n))
        return self._scratch[key]

    def value_and_grad(self, logits, y, out):
        n = logits.shape[0]
        row, index = self._rows(n, logits.dtype)
        np.max(logits, axis=1, keepdims=True, out=row)
        # z_{i, y_i} − max_i, gathered before `out` is overwritten (it may alias logits).
        picked = logits[index, y] - row[:, 0]
        np.subtract(logits, row, out=out)
        np.exp(out, out=out)
        np.sum(out, axis=1, keepdims=True, out=row)
        out /= row
        np.log(row, out=row)  # row >= 1: the max term contributes e^0
        loss = float(np.sum(row[:, 0] - picked)) / n
        out[index, y] -= 1.0
        out /= n
        return loss

    def row_losses(self, logits, y):
        z = np.asarray(logits, np.float64)
        top = z.max(axis=1)
        lse = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
        return lse - z[np.arange(z.shape[0]), y]

    def output(self, logits):
        return softmax(logits, np.empty_like(logits), np.empty(logits.shape[:-1] + (1,), logits.dtype))


class BinaryCrossEntropy(Loss):
    """Sigmoid + binary cross-entropy per output, summed over outputs, mean over samples.

    ``L = (1/n) Σ [max(z, 0) − z·y + log(1 + e^{−|z|})]`` (the stable form of
    ``−y log σ(z) − (1 − y) log(1 − σ(z))``); ``dL/dz = (σ(z) − y) / n``.
    """

    name = "binary_cross_entropy"
    output_activation = "sigmoid"

    def targets(self, y, dtype, n_outputs=None):
        """Floats ``(n_samples, n_outputs)`` in ``[0, 1]`` (0/1 labels or probabilities)."""
        y = super().targets(y, dtype, n_outputs)
        bad = y[~((y >= 0) & (y <= 1))]  # NaN is bad too
        if bad.size:
            raise ValueError(f"binary_cross_entropy targets must lie in [0, 1] (got {bad[0]:g})")
        return y

    def value_and_grad(self, logits, y, out):
        n = logits.shape[0]
        if out is logits:
            raise ValueError("binary_cross_entropy needs the logits intact: pass a separate out")
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
        return total / n

    def row_losses(self, logits, y):
        z = np.asarray(logits, np.float64)
        return (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).sum(axis=1)

    def output(self, logits):
        return sigmoid(logits, np.empty_like(logits))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


LOSSES: dict[str, type[Loss]] = {
    "mse": MeanSquaredError,
    "sse": SumSquaredError,
    "rss": SumSquaredError,
    "cross_entropy": CrossEntropy,
    "binary_cross_entropy": BinaryCrossEntropy,
}


def make_loss(name: str | Loss) -> Loss:
    """A loss by its YAML name (``rss`` is another name for ``sse``)."""
    if isinstance(name, Loss):
        return name
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose from {', '.join(LOSSES)}")
    return LOSSES[name]()

"""Normalization layers: batch normalization and layer normalization.

Both normalize over one set of axes, ``x̂ = (x − μ) / √(σ² + eps)``, then scale
and shift per feature, ``y = γ ⊙ x̂ + β`` (γ starts at 1, β at 0). γ and β take
no weight decay: they set the scale and offset a normalized feature is allowed
to have, and pulling γ towards 0 would undo the normalization's purpose (the
common practice of PyTorch's and Keras's examples).
"""

from __future__ import annotations

import math

import numpy as np

from .base import Layer, Option
from .init import AUTO


def _check_eps(eps: float) -> float:
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps!r}")
    return float(eps)


class _ScaleShift(Layer):
    """What batchnorm and layernorm share: learnable ``γ`` (ones) and ``β`` (zeros) over the
    last axis, ``y = γ·x̂ + β`` and its parameter gradients. Neither takes weight decay."""

    label = "?"

    @property
    def width(self) -> int:
        """The size of the last axis (0 until built)."""
        return self.input_shape[-1] if self.input_shape else 0

    def param_shapes(self):
        return {"gamma": ((self.width,), False), "beta": ((self.width,), False)}

    def init_params(self, rng, init=AUTO):
        self.params["gamma"][...] = 1.0
        self.params["beta"][...] = 0.0

    def _scale_shift(self, xhat, y2, full):
        """``y2 = γ·x̂ + β``, the (width,) operands spread into ``full`` first (no allocation)."""
        np.copyto(full, self.params["gamma"])
        np.multiply(xhat, full, out=y2)
        np.copyto(full, self.params["beta"])
        y2 += full

    def _scale_shift_grads(self, dy2, xhat, tmp):
        """``dγ = Σ dy⊙x̂``, ``dβ = Σ dy`` over the rows (``tmp`` is scratch of x̂'s shape)."""
        np.multiply(dy2, xhat, out=tmp)
        self._sum_rows(tmp, self.grads["gamma"])
        self._sum_rows(dy2, self.grads["beta"])

    def __repr__(self) -> str:
        return f"{self.label}({self.width or '?'})"


class BatchNorm(_ScaleShift):
    """Normalize each feature over the mini-batch (and over the tokens of 3-D input).

    In training the statistics are the batch's, over every axis but the last,
    and the running estimates move towards them as in PyTorch:
    ``running = (1 − momentum)·running + momentum·batch``, with the unbiased
    variance ``σ²·m/(m − 1)`` for the running one (``m`` rows averaged). In
    eval/predict the running estimates are used, so a row's output does not
    depend on the other rows. A one-row training batch has no variance: it
    normalizes to β and leaves the running statistics untouched.

    Shapes: ``x (..., n_features)`` -> ``y`` of the same shape; ``gamma``,
    ``beta``, and the state ``running_mean``, ``running_var``: ``(n_features,)``.
    """

    type = "batchnorm"
    label = "BatchNorm"
    options = {"momentum": Option(float, default=0.1, ge=0, le=1),
               "eps": Option(float, default=1e-5, gt=0)}

    def __init__(self, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"batchnorm momentum must be in [0, 1], got {momentum!r}")
        self.momentum = float(momentum)
        self.eps = _check_eps(eps)

    def state_shapes(self):
        return {"running_mean": (self.width,), "running_var": (self.width,)}

    def init_state(self):
        self.state["running_mean"][...] = 0.0
        self.state["running_var"][...] = 1.0

    def forward(self, x, training=False, out=None):
        y = self._output(x.shape, training, out)
        gamma, beta = self.params["gamma"], self.params["beta"]
        if not training:
            # y = x·s + (β − μ·s) with s = γ / √(var + eps): one row's output depends on that
            # row only.
            scale = gamma / np.sqrt(self.state["running_var"] + self.eps)
            shift = beta - self.state["running_mean"] * scale
            np.multiply(x, scale, out=y)
            y += shift
            return y
        c = self.width
        x2, y2 = x.reshape(-1, c), y.reshape(-1, c)
        m = x2.shape[0]
        mean, var = self._buffer("mean", (c,)), self._buffer("var", (c,))
        inv_std, step = self._buffer("inv_std", (c,)), self._buffer("step", (c,))
        xhat, full = self._buffer("xhat", x2.shape), self._buffer("full", x2.shape)
        # (c,) operands are spread into a full-size buffer first, as in LayerNorm.forward
        np.sum(x2, axis=0, out=mean)
        mean *= 1.0 / m
        np.copyto(full, mean)
        np.subtract(x2, full, out=xhat)
        np.multiply(xhat, xhat, out=y2)  # y as scratch for the squares
        np.sum(y2, axis=0, out=var)
        var *= 1.0 / m
        np.add(var, self.eps, out=inv_std)
        np.sqrt(inv_std, out=inv_std)
        np.reciprocal(inv_std, out=inv_std)
        np.copyto(full, inv_std)
        xhat *= full
        self._scale_shift(xhat, y2, full)
        if m > 1:
            running_mean, running_var = self.state["running_mean"], self.state["running_var"]
            np.subtract(mean, running_mean, out=step)
            step *= self.momentum
            running_mean += step
            var *= m / (m - 1)  # unbiased, for the running estimate only
            np.subtract(var, running_var, out=step)
            step *= self.momentum
            running_var += step
        self._xhat, self._inv_std, self._x_shape = xhat, inv_std, x.shape
        return y

    def backward(self, dy, need_dx=True):
        """``dγ = Σ dy⊙x̂``, ``dβ = Σ dy``, ``dx = γ/σ · (dy − (dβ + x̂⊙dγ)/m)`` (sums over
        the batch)."""
        c = self.width
        dy2, xhat = dy.reshape(-1, c), self._xhat
        m = xhat.shape[0]
        dgamma, dbeta = self.grads["gamma"], self.grads["beta"]
        tmp = self._buffer("dx", xhat.shape)
        self._scale_shift_grads(dy2, xhat, tmp)
        if not need_dx:
            return None
        k, full = self._buffer("k", (c,)), self._buffer("full", xhat.shape)
        np.multiply(self.params["gamma"], self._inv_std, out=k)
        np.copyto(full, dgamma)
        np.multiply(xhat, full, out=tmp)
        np.copyto(full, dbeta)
        tmp += full
        tmp *= 1.0 / m
        np.subtract(dy2, tmp, out=tmp)
        np.copyto(full, k)
        tmp *= full
        return tmp.reshape(self._x_shape)

    def spec(self):
        return {"type": self.type, "momentum": self.momentum, "eps": self.eps}

    def buffer_floats(self):
        """Training: ``y``, ``x̂``, the spread statistics and ``dx``."""
        return 4 * math.prod(self.output_shape), 0, 0


class LayerNorm(_ScaleShift):
    """Normalize each sample over its last axis (each token over its ``dim``).

    The statistics are the sample's own, in training and eval alike, so there
    is no state. Shapes: ``x (..., dim)`` -> ``y`` of the same shape;
    ``gamma``, ``beta``: ``(dim,)``.
    """

    type = "layernorm"
    label = "LayerNorm"
    options = {"eps": Option(float, default=1e-5, gt=0)}

    def __init__(self, eps: float = 1e-5):
        super().__init__()
        self.eps = _check_eps(eps)

    def forward(self, x, training=False, out=None):
        # Row statistics come from np.sum (not np.mean, whose out= allocates iterator
        # buffers), and every (rows, 1) or (dim,) operand is first copied into a full-size
        # buffer (np.copyto broadcasts without allocating): a ufunc with a broadcast operand
        # allocates working buffers on each call, a same-shape one does not.
        y = self._output(x.shape, training, out)
        d = self.width
        x2, y2 = x.reshape(-1, d), y.reshape(-1, d)
        rows = (x2.shape[0], 1)
        buf = self._scratch(training)
        xhat, inv_std = buf("xhat", x2.shape), buf("inv_std", rows)
        mean, full = buf("mean", rows), buf("full", x2.shape)
        ones = self._filled("ones", (d, 1), 1.0 / d, training)  # row means as x·(1/d): a matmul
        # into out= allocates nothing
        np.matmul(x2, ones, out=mean)
        np.copyto(full, mean)
        np.subtract(x2, full, out=xhat)
        np.multiply(xhat, xhat, out=y2)  # y as scratch for the squares
        np.matmul(y2, ones, out=inv_std)
        inv_std += self.eps
        np.sqrt(inv_std, out=inv_std)
        np.reciprocal(inv_std, out=inv_std)
        np.copyto(full, inv_std)
        xhat *= full
        self._scale_shift(xhat, y2, full)
        if training:
            self._xhat, self._inv_std, self._x_shape = xhat, inv_std, x.shape
        return y

    def backward(self, dy, need_dx=True):
        """``ĝ = dy⊙γ``, ``dx = (ĝ − mean(ĝ) − x̂⊙mean(ĝ⊙x̂)) / σ`` (means over the last axis).

        Broadcast operands go through a full-size buffer first, as in ``forward``.
        """
        d = self.width
        dy2, xhat = dy.reshape(-1, d), self._xhat
        tmp = self._buffer("tmp", xhat.shape)
        self._scale_shift_grads(dy2, xhat, tmp)
        if not need_dx:
            return None
        rows = (xhat.shape[0], 1)
        a, b = self._buffer("a", rows), self._buffer("b", rows)
        dx, full = self._buffer("dx", xhat.shape), self._buffer("full", xhat.shape)
        ones = self._filled("ones", (d, 1), 1.0 / d)
        np.copyto(full, self.params["gamma"])
        np.multiply(dy2, full, out=dx)  # ĝ
        np.matmul(dx, ones, out=a)
        np.multiply(dx, xhat, out=tmp)
        np.matmul(tmp, ones, out=b)
        np.copyto(full, a)
        dx -= full
        np.copyto(full, b)
        full *= xhat
        dx -= full
        np.copyto(full, self._inv_std)
        dx *= full
        return dx.reshape(self._x_shape)

    def spec(self):
        return {"type": self.type, "eps": self.eps}

    def buffer_floats(self):
        """Training: ``y``, ``x̂``, the spread statistics, ``dx`` and a scratch; an eval pass:
        ``x̂`` and the spread statistics."""
        out = math.prod(self.output_shape)
        return 5 * out, 2 * out, 0


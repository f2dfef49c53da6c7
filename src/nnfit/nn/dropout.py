"""Inverted dropout: a regularizer active only while training."""

from __future__ import annotations

import math

import numpy as np

from .base import Layer, Option


class Dropout(Layer):
    """Zero each activation with probability ``rate`` in training, scale the rest by
    ``1/(1 − rate)``.

    The scaling keeps every activation's expected value, so eval/predict is the
    identity. The mask is drawn from the Generator the Network hands over
    (:meth:`~nnfit.nn.network.Network.set_rng`, the run's seeded one when a
    trainer runs it), kept for ``backward``, and written into a reused buffer.

    Shapes: ``x (..., n)`` -> ``y`` of the same shape; no parameters.
    """

    type = "dropout"
    options = {"rate": Option(float, required=True, ge=0, lt=1)}

    def __init__(self, rate: float = 0.5):
        super().__init__()
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"dropout rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.rng: np.random.Generator | None = None

    def set_rng(self, rng):
        self.rng = rng

    def forward(self, x, training=False, out=None):
        y = self._output(x.shape, training, out)
        if not training:
            np.copyto(y, x)
            return y
        mask = self._buffer("mask", x.shape)
        assert self.rng is not None  # the Network's, handed over by set_rng
        self.rng.random(out=mask, dtype=self.dtype)
        # keep with probability 1 − rate: u ≥ rate exactly where u − rate ≥ 0 (IEEE subtraction
        # keeps the sign); heaviside stays in float, where a bool comparison cast into the
        # float mask would allocate ufunc casting buffers on each call
        np.subtract(mask, self.rate, out=mask)
        np.heaviside(mask, 1.0, out=mask)
        mask *= 1.0 / (1.0 - self.rate)
        np.multiply(x, mask, out=y)
        self._mask = mask
        return y

    def backward(self, dy, need_dx=True):
        """``dx = dy ⊙ mask`` (the mask holds 0 or ``1/(1 − rate)``)."""
        if not need_dx:
            return None
        dx = self._buffer("dx", dy.shape)
        return np.multiply(dy, self._mask, out=dx)

    def spec(self):
        return {"type": self.type, "rate": self.rate}

    def buffer_floats(self):
        """Training: ``y``, the mask and ``dx``; an eval pass is the identity."""
        return 3 * math.prod(self.output_shape), 0, 0

    def __repr__(self) -> str:
        return f"Dropout({self.rate:g})"

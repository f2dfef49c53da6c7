"""The dense layer: an affine map on the last axis, then an activation.

The layer protocol is described in :mod:`nnfit.nn.base`.
"""

from __future__ import annotations

import math

import numpy as np

from .activations import Activation, make_activation
from .base import Layer, Option
from .checks import positive_int
from .init import AUTO


class Dense(Layer):
    """Affine map on the last axis followed by an activation: ``y = f(x·W + b)``.

    Parameters
    ----------
    units : int
        ``fan_out``, the size of the output's last axis.
    activation : str, dict or Activation, optional
        Applied in place to ``x·W + b``; identity by default.

    Shapes: ``x (..., fan_in)``, ``W (fan_in, fan_out)``, ``b (fan_out,)``,
    ``y (..., fan_out)``.
    """

    type = "dense"
    options = {"units": Option(int, required=True, gt=0),
               "activation": Option(Activation, default="identity")}
    size_option = "units"

    def __init__(self, units: int, activation: str | dict | Activation | None = None):
        super().__init__()
        self.units = positive_int(units, "dense units")
        self.activation = make_activation(activation)
        self.fan_in = 0  # set by build

    def build(self, input_shape, dtype):
        super().build(input_shape, dtype)
        self.fan_in = self.input_shape[-1]
        self.output_shape = self.input_shape[:-1] + (self.units,)
        return self.output_shape

    def param_shapes(self):
        return {"W": ((self.fan_in, self.units), True), "b": ((self.units,), False)}

    def init_params(self, rng, init=AUTO):
        init.fill(rng, self.params["W"], self.fan_in, self.units, self.activation.init)
        self.params["b"][...] = 0.0

    def forward(self, x, training=False, out=None):
        y = self._output(x.shape[:-1] + (self.units,), training, out)
        np.matmul(x, self.params["W"], out=y)
        if training:
            # y += b with b broadcast allocates ufunc working buffers (~32 kB) per call;
            # a broadcast np.copyto into a full-size buffer and a same-shape add do not.
            bias = self._buffer("bias", y.shape)
            # b[..., None, :]: (1, units), or (members, 1, units) for packed members
            np.copyto(bias, self.params["b"][..., None, :])
            y += bias
        else:
            y += self.params["b"][..., None, :]
        self.activation.forward(y, out=y)
        if training:
            self._x, self._y = x, y
        return y

    def backward(self, dy, need_dx=True):
        """``dz = dy ⊙ f'(z)``, ``dW = xᵀ·dz``, ``db = Σ_batch dz``, ``dx = dz·Wᵀ``."""
        dz = self.activation.backward(self._y, dy, out=self._buffer("dz", dy.shape))
        x2, dz2 = self._x, dz
        if self.params["W"].ndim == 3:  # packed members (members, batch, ·): one product each
            np.matmul(np.swapaxes(x2, -1, -2), dz, out=self.grads["W"])
            self._sum_rows(dz, self.grads["b"])
            if not need_dx:
                return None
            return np.matmul(dz, np.swapaxes(self.params["W"], -1, -2),
                             out=self._buffer("dx", self._x.shape))
        if dz.ndim > 2:  # (batch, tokens, ·): the tokens are more rows
            x2, dz2 = x2.reshape(-1, self.fan_in), dz.reshape(-1, self.units)
        np.matmul(x2.T, dz2, out=self.grads["W"])
        self._sum_rows(dz2, self.grads["b"])
        if not need_dx:
            return None
        dx = self._buffer("dx", self._x.shape)
        return np.matmul(dz, self.params["W"].T, out=dx)

    def spec(self):
        return {"type": self.type, "units": self.units, "activation": self.activation.spec()}

    def buffer_floats(self):
        """Training: ``y``, the spread bias, ``dz`` (not through identity), ``dx`` and the
        activation's scratch; an eval pass keeps the activation's scratch."""
        out, scratch = math.prod(self.output_shape), self.activation.scratch
        train = (2 + (self.activation.name != "identity") + scratch) * out \
            + math.prod(self.input_shape)
        return train, 0, scratch * out

    def macs_per_row(self):
        """``x·W``: ``fan_in·fan_out`` for each row of the last axis (a ``(tokens, dim)``
        input has ``tokens`` of them)."""
        return math.prod(self.input_shape[:-1]) * self.fan_in * self.units

    @classmethod
    def widen(cls, spec):
        """4× the units (at least 64), and never linear: a linear layer adds no capacity."""
        wider = {**spec, "units": max(4 * spec["units"], 64)}
        if spec.get("activation") in (None, "identity", "linear"):
            wider["activation"] = "relu"
        return wider

    def __repr__(self) -> str:
        fan_in = self.fan_in or "?"
        return f"Dense({fan_in} → {self.units}, {self.activation!r})"

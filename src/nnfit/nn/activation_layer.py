"""An activation on its own, as a layer without parameters (after a normalization, say).

The layer protocol is described in :mod:`nnfit.nn.base`.
"""

from __future__ import annotations

import math

from .activations import Activation, make_activation
from .base import Layer, Option


class ActivationLayer(Layer):
    """An activation on its own, as a layer without parameters: ``y = f(x)``."""

    type = "activation"
    options = {"activation": Option(Activation, required=True)}

    def __init__(self, activation: str | dict | Activation):
        super().__init__()
        self.activation = make_activation(activation)

    def forward(self, x, training=False, out=None):
        y = self._output(x.shape, training, out)
        self.activation.forward(x, out=y)
        if training:
            self._y = y
        return y

    def backward(self, dy, need_dx=True):
        """``dx = dy ⊙ f'(x)``, with ``f'`` read off the stored output."""
        if not need_dx:
            return None
        dx = self._buffer("dx", dy.shape)
        return self.activation.backward(self._y, dy, out=dx)

    def spec(self):
        return {"type": self.type, "activation": self.activation.spec()}

    def buffer_floats(self):
        """Training: ``y``, ``dx`` and the activation's scratch; an eval pass keeps the scratch."""
        out, scratch = math.prod(self.output_shape), self.activation.scratch
        return (2 + scratch) * out, 0, scratch * out

    def __repr__(self) -> str:
        return f"Activation({self.activation!r})"

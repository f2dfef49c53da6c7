"""Dense and activation layers, and the table of layer types.

The layer protocol is described in :mod:`nnfit.nn.base`.
"""

from __future__ import annotations

import numpy as np

from .activations import Activation, make_activation
from .base import Layer, Option
from .checks import positive_int
from .dropout import Dropout
from .init import INITIALIZERS
from .normalization import BatchNorm, LayerNorm
from .tokens import Pool, Tokens

__all__ = ["Layer", "Dense", "ActivationLayer", "LAYERS", "layer_types"]


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

    def __init__(self, units: int, activation: str | dict | Activation | None = None):
        super().__init__()
        self.units = positive_int(units, "dense units")
        self.activation = make_activation(activation)
        self.fan_in: int | None = None

    def build(self, input_shape, dtype):
        super().build(input_shape, dtype)
        self.fan_in = self.input_shape[-1]
        self.output_shape = self.input_shape[:-1] + (self.units,)
        return self.output_shape

    def param_shapes(self):
        return {"W": ((self.fan_in, self.units), True), "b": ((self.units,), False)}

    def init_params(self, rng):
        INITIALIZERS[self.activation.init](rng, self.params["W"], self.fan_in, self.units)
        self.params["b"][...] = 0.0

    def forward(self, x, training=False, out=None):
        y = self._output(x.shape[:-1] + (self.units,), training, out)
        np.matmul(x, self.params["W"], out=y)
        if training:
            # y += b with b broadcast allocates ufunc working buffers (~32 kB) per call;
            # a broadcast np.copyto into a full-size buffer and a same-shape add do not.
            bias = self._buffer("bias", y.shape)
            np.copyto(bias, self.params["b"])
            y += bias
        else:
            y += self.params["b"]
        self.activation.forward(y, out=y)
        if training:
            self._x, self._y = x, y
        return y

    def backward(self, dy, need_dx=True):
        """``dz = dy ⊙ f'(z)``, ``dW = xᵀ·dz``, ``db = Σ_batch dz``, ``dx = dz·Wᵀ``."""
        dz = self.activation.backward(self._y, dy, out=self._buffer("dz", dy.shape))
        x2, dz2 = self._x, dz
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

    def __repr__(self) -> str:
        fan_in = "?" if self.fan_in is None else self.fan_in
        return f"Dense({fan_in} → {self.units}, {self.activation!r})"


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

    def __repr__(self) -> str:
        return f"Activation({self.activation!r})"


from .attention import Attention  # noqa: E402  (here: attention builds on Dense above)

LAYERS: dict[str, type[Layer]] = {
    "dense": Dense,
    "activation": ActivationLayer,
    "batchnorm": BatchNorm,
    "layernorm": LayerNorm,
    "dropout": Dropout,
    "tokens": Tokens,
    "pool": Pool,
    "attention": Attention,
}
"""Layer types by YAML name; ``nnfit.config`` builds its layer models from these classes' ``options``."""


def layer_types() -> dict[str, type[Layer]]:
    """Every layer type ``build_network`` accepts, by YAML name."""
    return dict(LAYERS)

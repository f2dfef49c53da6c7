"""Layers: forward pass, hand-written backward pass, parameters as named views.

The protocol every layer follows:

- ``build(input_shape, dtype) -> output_shape`` with shapes that exclude the
  batch axis, so a layer works on ``(batch, features)`` as on
  ``(batch, tokens, dim)``;
- ``param_shapes()`` names the parameters the layer needs; the
  :class:`~nnfit.nn.network.Network` allocates them in one flat buffer and hands
  back views through ``bind(params, grads)``;
- ``forward(x, training, out=None) -> y``: with ``training=True`` the output
  lives in a buffer the layer reuses on the next call, and the layer keeps
  what ``backward`` needs; with ``training=False`` it caches nothing and
  writes into ``out`` when given (``Network.predict`` passes scratch it reuses
  across chunks), else into a new array;
- ``backward(dy, need_dx) -> dx`` fills ``grads`` and returns ``dL/dx``
  (``None`` when ``need_dx`` is false, as for the first layer while training).
"""

from __future__ import annotations

import math

import numpy as np

from .activations import Activation, make_activation
from .init import INITIALIZERS


class Layer:
    """Base class: buffer management and the parts of the protocol with defaults."""

    type: str = "layer"

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self._buffers: dict[tuple, np.ndarray] = {}
        self.input_shape: tuple[int, ...] | None = None
        self.output_shape: tuple[int, ...] | None = None
        self.dtype = np.dtype(np.float32)

    def build(self, input_shape: tuple[int, ...], dtype) -> tuple[int, ...]:
        """Fix the input shape (without the batch axis) and return the output shape."""
        self.input_shape = tuple(input_shape)
        self.dtype = np.dtype(dtype)
        self.output_shape = self.input_shape
        return self.output_shape

    def param_shapes(self) -> dict[str, tuple[tuple[int, ...], bool]]:
        """``name -> (shape, decays)``; ``decays`` is true for weights under weight decay."""
        return {}

    def bind(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.params, self.grads = params, grads

    def init_params(self, rng: np.random.Generator) -> None:
        """Draw initial parameter values (layers without parameters do nothing)."""

    @property
    def n_params(self) -> int:
        return sum(math.prod(shape) for shape, _ in self.param_shapes().values())

    def spec(self) -> dict:
        """The YAML/JSON form of this layer, accepted back by ``build.make_layer``."""
        return {"type": self.type}

    def _buffer(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A named buffer of this shape, allocated once and reused on later calls."""
        key = (name, shape)
        buf = self._buffers.get(key)
        if buf is None:
            buf = self._buffers[key] = np.empty(shape, dtype=self.dtype)
        return buf

    def _output(self, shape: tuple[int, ...], training: bool, out: np.ndarray | None) -> np.ndarray:
        """Where ``forward`` writes: ``out``, the reused training buffer, or a new array."""
        if out is None:
            return self._buffer("y", shape) if training else np.empty(shape, dtype=self.dtype)
        if training:
            raise ValueError("out= is for training=False only: training keeps its own buffers")
        if out.shape != shape or out.dtype != self.dtype:
            raise ValueError(f"out must be {self.dtype.name} of shape {shape}, "
                             f"got {out.dtype.name} of shape {out.shape}")
        return out

    def forward(self, x: np.ndarray, training: bool = False,
                out: np.ndarray | None = None) -> np.ndarray:
        """``x (batch, *input_shape)`` -> ``y (batch, *output_shape)``, written into ``out`` if given."""
        raise NotImplementedError

    def backward(self, dy: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        raise NotImplementedError


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

    def __init__(self, units: int, activation: str | dict | Activation | None = None):
        super().__init__()
        if int(units) != units or units < 1:
            raise ValueError(f"dense units must be a positive integer, got {units!r}")
        self.units = int(units)
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
        y += self.params["b"]
        self.activation.forward(y, out=y)
        if training:
            self._x, self._y = x, y
        return y

    def backward(self, dy, need_dx=True):
        """``dz = dy ⊙ f'(z)``, ``dW = xᵀ·dz``, ``db = Σ_batch dz``, ``dx = dz·Wᵀ``."""
        dz = self._buffer("dz", dy.shape)
        self.activation.backward(self._y, dy, out=dz)
        x2 = self._x.reshape(-1, self.fan_in)
        dz2 = dz.reshape(-1, self.units)
        np.matmul(x2.T, dz2, out=self.grads["W"])
        np.sum(dz2, axis=0, out=self.grads["b"])
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


LAYERS: dict[str, type[Layer]] = {
    "dense": Dense,
    "activation": ActivationLayer,
}

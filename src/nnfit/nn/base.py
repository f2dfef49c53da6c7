"""The layer protocol: forward pass, hand-written backward pass, parameters as named views.

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
- ``init_params(rng, init)`` draws the parameters from the run's Generator;
  ``init`` (:class:`~nnfit.nn.init.Init`) is the model's scheme and scale
  (``model.init``, ``model.init_scale``): ``init.fill`` draws a weight matrix.

Two optional hooks, for layers that need them:

- ``state_shapes()`` names non-trainable arrays (batchnorm's running
  statistics): the Network allocates them in one flat ``state`` buffer, outside
  the optimizer's ``params``/``grads``, hands back views through
  ``bind_state(state)`` and fills them once with ``init_state()``;
- ``set_rng(rng)`` gives the layer the run's Generator (dropout's masks). The
  Network hands its generator to every layer, once, in ``Network.set_rng``.

Each layer class also declares, in its own module, what the rest of nnfit asks
of a layer type, so a new type is its class plus one ``register_layer`` call
(:mod:`nnfit.nn.build`, the registry) and no table elsewhere:

- ``options``: the YAML options, once, as plain data
  (``{"units": Option(int, required=True, gt=0), ...}`` in the order of the
  ``__init__`` arguments); ``nnfit.config`` generates its pydantic models from them;
- ``buffer_floats()``: the floats per row a built layer's buffers take (the
  memory estimate, ``nnfit.runtime.memory``);
- ``macs_per_row()``: the multiply-adds of one row's forward pass (the BLAS
  thread choice, ``nnfit.runtime.threads``);
- ``size_option``: the option that sets the layer's size, which a refusal of a
  network too large for memory names (``model.layers[2].units: ...``);
- ``widen(spec)``: the layer in the wider network of the fit diagnosis's
  capacity probe.

The defaults below fit a layer that has not said: a generous guess at its
buffers, no multiply-adds, no size option, unchanged by the probe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, overload

import numpy as np

from .init import AUTO, Init


@dataclass(frozen=True)
class Option:
    """One YAML option of a layer type, as plain data (the engine does not use pydantic).

    ``type`` is ``int``, ``float``, ``bool``, ``str`` or
    :class:`~nnfit.nn.activations.Activation` (a name or ``{name: ..., **options}``);
    ``choices`` limits a ``str`` to those values; ``gt``/``ge``/``lt``/``le``
    bound a number. An option that is not ``required`` takes ``default``, and
    a ``default`` of ``None`` also lets the YAML write ``null``.
    """

    type: Any
    default: Any = None
    required: bool = False
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    choices: tuple | None = None

    @property
    def bounds(self) -> dict[str, float]:
        """The bounds that are set, e.g. ``{"gt": 0}``."""
        return {k: v for k in ("gt", "ge", "lt", "le") if (v := getattr(self, k)) is not None}


class Layer:
    """Base class: buffer management and the parts of the protocol with defaults."""

    type: str = "layer"
    options: ClassVar[dict[str, Option]] = {}  # the YAML options, by name (see Option)
    size_option: ClassVar[str | None] = None  # the option that sets the layer's size, if any

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.state: dict[str, np.ndarray] = {}
        self._buffers: dict[tuple, np.ndarray] = {}
        self.input_shape: tuple[int, ...] = ()  # both set by build (empty until then)
        self.output_shape: tuple[int, ...] = ()
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

    def init_params(self, rng: np.random.Generator, init: Init = AUTO) -> None:
        """Draw initial parameter values (layers without parameters do nothing); ``init``
        is the model's scheme and scale (``model.init``, ``model.init_scale``)."""

    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        """``name -> shape`` of non-trainable state (saved with the model, never optimized)."""
        return {}

    def bind_state(self, state: dict[str, np.ndarray]) -> None:
        self.state = state

    def init_state(self) -> None:
        """Fill the state with its starting values (layers without state do nothing)."""

    def set_rng(self, rng: np.random.Generator) -> None:
        """Take the run's Generator (only layers that draw during training keep it)."""

    @property
    def n_params(self) -> int:
        return sum(math.prod(shape) for shape, _ in self.param_shapes().values())

    def spec(self) -> dict:
        """The YAML/JSON form of this layer, accepted back by ``build.make_layer``."""
        return {"type": self.type}

    # -- what the rest of nnfit asks of a layer type (see the module docstring) -----------
    def buffer_floats(self) -> tuple[int, int, int]:
        """Floats per row this built layer's buffers take: ``(train, passing, kept)``.

        ``train``: what it keeps for training (its reused forward and backward
        buffers); ``passing``: what it allocates and frees within an eval pass (on
        top of ``Network.predict``'s two scratch buffers); ``kept``: what an eval
        pass leaves kept (an activation's scratch, grown to the chunk). Counted from
        the layer's code and rounded up: a generous count (every layer is charged a
        ``dx``, the first one too), not a measurement. This default, for a layer
        that does not say: five arrays of its input and of its output, each way.
        """
        both = math.prod(self.input_shape) + math.prod(self.output_shape)
        return 5 * both, 5 * both, 0

    def macs_per_row(self) -> int:
        """Multiply-adds of one row's forward pass through this built layer (0: none counted)."""
        return 0

    @classmethod
    def widen(cls, spec: dict) -> dict:
        """This layer's spec in the capacity probe's wider network (default: unchanged).

        ``spec`` is the layer's YAML mapping with every option present, as the
        config dumps it; the result is a new mapping.
        """
        return dict(spec)

    def _buffer(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A named buffer of this shape, allocated once and reused on later calls."""
        key = (name, shape)
        buf = self._buffers.get(key)
        if buf is None:
            buf = self._buffers[key] = np.empty(shape, dtype=self.dtype)
        return buf

    def _scratch(self, training: bool):
        """``_buffer`` while training; fresh arrays otherwise (an eval pass keeps nothing)."""
        if training:
            return self._buffer
        return lambda name, shape: np.empty(shape, dtype=self.dtype)

    def _filled(self, name: str, shape: tuple[int, ...], value: float,
                training: bool = True) -> np.ndarray:
        """A constant array (e.g. the ones of a row-sum matmul), filled once when it is made:
        while training it is kept with the buffers, so a mini-batch never refills it."""
        key = (name, shape)
        if training and key in self._buffers:
            return self._buffers[key]
        buf = np.full(shape, value, dtype=self.dtype)
        if training:
            self._buffers[key] = buf
        return buf

    def _sum_rows(self, a: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``out (width,) = Σ_rows a`` for a 2-D ``a (rows, width)``, as the product ``1ᵀ·a``:
        BLAS sums a batch in a third of ``np.sum(axis=0)``'s time, and allocates nothing.
        Packed members: ``a (members, rows, width)`` into ``out (members, width)``."""
        ones = self._filled("ones", (1, a.shape[-2]), 1.0)
        np.matmul(ones, a, out=out[..., None, :])
        return out

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
        """``x (batch, *input_shape)`` -> ``y (batch, *output_shape)``, written into ``out``
        if given."""
        raise NotImplementedError

    @overload
    def backward(self, dy: np.ndarray, need_dx: Literal[True] = ...) -> np.ndarray: ...
    @overload
    def backward(self, dy: np.ndarray, need_dx: bool) -> np.ndarray | None: ...

    def backward(self, dy: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """``dL/dx`` for ``dy = dL/dy``, the parameter gradients filled; None when
        ``need_dx`` is false."""
        raise NotImplementedError

"""The Network: a stack of layers sharing one flat parameter buffer.

All parameters live in one contiguous vector ``params`` and all gradients in
``grads``; each layer's ``W`` and ``b`` are views into them. The optimizer then
updates everything with a few whole-array operations, saving is one array plus
a layout, and a gradient check perturbs one vector. Parameters that take weight
decay (weights) come first, biases after, so decay is one slice:
``params[:n_decay]``.

Non-trainable state (batchnorm's running statistics) lives the same way in a
second flat vector ``state`` with its own ``state_layout``: saved and restored
with the model, never seen by the optimizer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .base import Layer
from .checks import check_finite, positive_int
from .init import AUTO, Init
from .skip import LinearSkip

PREDICT_ROWS = 4096  # predict's rows at a time (a packed pass must use the same to match it)


@dataclass(frozen=True)
class ParamSlot:
    """Where one named parameter lives in the flat buffer."""

    name: str
    shape: tuple[int, ...]
    offset: int
    decays: bool

    @property
    def size(self) -> int:
        return math.prod(self.shape)


def slot_layouts(layers: list[Layer], skip: LinearSkip | None = None
                 ) -> tuple[list[ParamSlot], list[ParamSlot]]:
    """Where built ``layers`` (and a built ``skip``) keep their parameters and their state
    in the flat buffers.

    Parameters are named ``"<layer index>.<name>"`` (the skip's ``"skip.<name>"``, after
    the layers'), the ones that take weight decay first (a stable sort, so layer order
    is kept within each group); state follows layer order. ``Network`` lays itself out
    with this, and a model file's layout is checked against it without building the
    network.
    """
    owners = [(str(i), layer) for i, layer in enumerate(layers)]
    owners += [("skip", skip)] if skip is not None else []
    params = sorted(((f"{i}.{name}", tuple(shape), decays) for i, layer in owners
                     for name, (shape, decays) in layer.param_shapes().items()),
                    key=lambda slot: not slot[2])
    states = [(f"{i}.{name}", tuple(shape), False) for i, layer in enumerate(layers)
              for name, shape in layer.state_shapes().items()]
    return _placed(params), _placed(states)


def _placed(slots: list[tuple[str, tuple[int, ...], bool]]) -> list[ParamSlot]:
    placed, offset = [], 0
    for name, shape, decays in slots:
        placed.append(ParamSlot(name, shape, offset, decays))
        offset += math.prod(shape)
    return placed


def slot_dicts(slots: list[ParamSlot]) -> list[dict]:
    """Slots as ``model.json`` writes them: ``{name, shape, offset}``."""
    return [{"name": s.name, "shape": list(s.shape), "offset": s.offset} for s in slots]


def summarize(layers: list[Layer], skip: LinearSkip | None = None
              ) -> list[tuple[str, tuple[int, ...], int]]:
    """One row per built layer (and a last one for a built ``skip``), allocated or not:
    ``(description, output shape, parameter count)``."""
    return [(repr(layer), layer.output_shape, layer.n_params)
            for layer in [*layers, *([skip] if skip is not None else [])]]


def make_skip(input_shape: tuple[int, ...], output_shape: tuple[int, ...], dtype
              ) -> LinearSkip:
    """The linear skip of a network from ``input_shape`` to ``output_shape``, built;
    ValueError unless both are one vector per row."""
    if len(output_shape) != 1 or len(input_shape) != 1:
        raise ValueError(f"linear_skip needs rows of features in and one vector per row out "
                         f"(the network takes {tuple(input_shape)} and gives "
                         f"{tuple(output_shape)})")
    skip = LinearSkip(output_shape[0])
    skip.build(input_shape, dtype)
    return skip


class Network:
    """A feed-forward stack of layers with hand-written backpropagation.

    Parameters
    ----------
    layers : list of Layer
        Unbuilt layers, applied in order.
    input_shape : tuple of int
        Shape of one sample, e.g. ``(n_features,)``.
    dtype : str or numpy dtype
        ``float32`` (default, for training) or ``float64`` (for gradient checks).
    rng : numpy.random.Generator
        Source of the initial weights; it then stays the source of training-time
        randomness (dropout) until :meth:`set_rng` hands over another.
    init : Init
        How the weights are drawn (default: each activation's initializer, scale 1).
    linear_skip : bool
        Add a linear model of the inputs to the output, ``f(x) + x·W_skip``
        (:mod:`nnfit.nn.skip`); rows of features in and one vector per row out only.

    Attributes
    ----------
    params, grads : ndarray (n_params,)
        Every parameter and its gradient; ``layout`` says where each lives.
    state : ndarray (n_state,)
        Every layer's non-trainable state; ``state_layout`` says where each lives.
    """

    def __init__(self, layers: list[Layer], input_shape: tuple[int, ...],
                 dtype="float32", rng: np.random.Generator | None = None, *,
                 init: Init = AUTO, linear_skip: bool = False):
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        self.layers = list(layers)
        self.input_shape = tuple(input_shape)
        shape = self.input_shape
        for layer in self.layers:
            shape = layer.build(shape, self.dtype)
        self.output_shape = shape
        self.skip = make_skip(self.input_shape, shape, self.dtype) if linear_skip else None

        self.layout, self.state_layout = slot_layouts(self.layers, self.skip)
        self.n_decay = sum(slot.size for slot in self.layout if slot.decays)
        n_params = sum(slot.size for slot in self.layout)
        self._bind(np.zeros(n_params, dtype=self.dtype), np.zeros(n_params, dtype=self.dtype),
                   np.zeros(sum(slot.size for slot in self.state_layout), dtype=self.dtype))
        for layer in self.layers:
            layer.init_state()
        if rng is None:
            rng = np.random.default_rng(0)
        for layer in self.layers:
            layer.init_params(rng, init)
        if self.skip is not None:  # zeros: it draws nothing, so the layers' draws stay put
            self.skip.init_params(rng, init)
        self.set_rng(rng)

    def _bind(self, params: np.ndarray, grads: np.ndarray, state: np.ndarray) -> None:
        """Make these flat vectors the network's, and every layer's parameters views of them."""
        self.params, self.grads, self.state = params, grads, state
        for i, layer in enumerate(self.layers):
            names = layer.param_shapes()
            layer.bind({n: self.param(f"{i}.{n}") for n in names},
                       {n: self.grad(f"{i}.{n}") for n in names})
            layer.bind_state({n: self.state_view(f"{i}.{n}") for n in layer.state_shapes()})
        if self.skip is not None:
            self.skip.bind({"W": self.param("skip.W")}, {"W": self.grad("skip.W")})

    def adopt(self, params: np.ndarray, grads: np.ndarray, state: np.ndarray) -> None:
        """Move the parameters, gradients and state into these vectors (of this network's
        sizes, e.g. rows of a packed array: :mod:`nnfit.nn.packed`) and keep them there."""
        for mine, theirs in ((self.params, params), (self.grads, grads), (self.state, state)):
            if theirs.shape != mine.shape or theirs.dtype != mine.dtype:
                raise ValueError(f"adopt needs {mine.dtype.name} vectors of shape {mine.shape}, "
                                 f"got {theirs.dtype.name} {theirs.shape}")
            np.copyto(theirs, mine)
        self._bind(params, grads, state)

    def set_rng(self, rng: np.random.Generator) -> None:
        """Make ``rng`` the source of training-time randomness (dropout masks) of every layer.

        The trainer calls this once with the run's seeded Generator, so no layer
        touches the global ``np.random`` and none is handed a generator by hand.
        """
        self.rng = rng
        for layer in self.layers:
            layer.set_rng(rng)

    # -- parameters ---------------------------------------------------------------
    @staticmethod
    def _view(buffer: np.ndarray, layout: list[ParamSlot], name: str,
              what: str = "parameter") -> np.ndarray:
        """``name``'s view of a flat ``buffer`` (or of each row of a packed ``(K, n)`` one:
        ``(K, *shape)``)."""
        for slot in layout:
            if slot.name == name:
                return buffer[..., slot.offset:slot.offset + slot.size].reshape(
                    buffer.shape[:-1] + slot.shape)
        raise KeyError(f"no {what} {name!r}; have {', '.join(s.name for s in layout) or 'none'}")

    def param(self, name: str) -> np.ndarray:
        """The view of one parameter, e.g. ``net.param("0.W")``."""
        return self._view(self.params, self.layout, name)

    def grad(self, name: str) -> np.ndarray:
        """The view of one parameter's gradient, filled by ``backward``."""
        return self._view(self.grads, self.layout, name)

    def named_params(self) -> dict[str, np.ndarray]:
        return {slot.name: self.param(slot.name) for slot in self.layout}

    def named_grads(self) -> dict[str, np.ndarray]:
        return {slot.name: self.grad(slot.name) for slot in self.layout}

    def state_view(self, name: str) -> np.ndarray:
        """The view of one state array, e.g. ``net.state_view("1.running_mean")``."""
        return self._view(self.state, self.state_layout, name, "state")

    def named_state(self) -> dict[str, np.ndarray]:
        return {slot.name: self.state_view(slot.name) for slot in self.state_layout}

    @property
    def members(self) -> list[Network]:
        """The networks whose outputs make this one's: itself (an Ensemble has several)."""
        return [self]

    @property
    def n_params(self) -> int:
        return self.params.size

    @property
    def n_state(self) -> int:
        return self.state.size

    def macs_per_row(self) -> int:
        """Multiply-adds of one row's forward pass: the sum of what the layers declare
        (``Layer.macs_per_row``); the BLAS thread choice weighs a batch by it."""
        return sum(layer.macs_per_row() for layer in self.all_layers)

    @property
    def all_layers(self) -> list[Layer]:
        """The layers, and the linear skip when there is one."""
        return self.layers + ([self.skip] if self.skip is not None else [])

    # -- passes -------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Outputs for a batch ``x (batch, *input_shape)`` -> ``(batch, *output_shape)``.

        With ``training=True`` the result is a buffer reused by the next call and
        the layers keep what ``backward`` needs; copy it to keep it.
        """
        inputs = x
        for layer in self.layers:
            x = layer.forward(x, training)
        if self.skip is None:
            return x
        # into the skip's own buffer: the last layer's output may be what its backward reads
        out = self.skip.forward(inputs, training)
        out += x
        return out

    def backward(self, doutput: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """Back-propagate ``dL/doutput`` through the last training ``forward``.

        Fills ``grads`` (every parameter) and returns ``dL/dx``, or ``None`` with
        ``need_dx=False`` (the training loop skips the first layer's ``dx``).
        """
        skip_dx = None if self.skip is None else self.skip.backward(doutput, need_dx)
        d = doutput
        for layer in self.layers[:0:-1]:  # every layer but the first passes its dx on
            d = layer.backward(d)
        dx = self.layers[0].backward(d, need_dx)
        if dx is not None and skip_dx is not None:
            dx += skip_dx
        return dx

    def predict(self, x: np.ndarray, batch_size: int = PREDICT_ROWS, *,
                check: bool = True) -> np.ndarray:
        """Raw outputs (logits) ``(n_samples, *output_shape)`` for ``x (n_samples, *input_shape)``.

        Runs ``batch_size`` rows at a time. The layers write by turns into two
        scratch buffers of ``batch_size × widest hidden layer`` (and the last
        layer straight into the result), allocated for this call and reused by
        every chunk, so the memory beyond the result does not grow with
        ``n_samples``; rows of another dtype are cast a chunk at a time.
        Nothing is kept after the call.

        ``x`` must be numeric and finite (ValueError otherwise: NaN/inf are
        counted and the first located, by two reductions that allocate
        nothing). ``check=False`` skips that test, for a caller that checked
        the same rows once already (the trainer's validation rows, every epoch).
        """
        batch_size = positive_int(batch_size, "batch_size")
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":
            try:
                x = np.asarray(x, dtype=self.dtype)
            except (TypeError, ValueError):
                raise ValueError(f"x must hold numbers, got {x.dtype} values") from None
        if x.shape[1:] != self.input_shape:
            raise ValueError(f"x has rows of shape {x.shape[1:]} but the network takes "
                             f"{self.input_shape}")
        if check:
            check_finite(x, "x")
        n, last = x.shape[0], len(self.layers) - 1
        out = np.empty((n,) + self.output_shape, dtype=self.dtype)
        chunk = max(1, min(int(batch_size), n))  # 1 for no rows: the scratch stays tiny
        shapes = [layer.output_shape for layer in self.layers]
        width = max((math.prod(shape) for shape in shapes[:last]), default=0)
        # a layer reads one scratch buffer and writes the other
        scratch = np.empty((2, chunk * width), dtype=self.dtype)
        cast = None if x.dtype == self.dtype else np.empty((chunk,) + self.input_shape, self.dtype)
        skip = self.skip
        skipped = None if skip is None else np.empty((chunk,) + self.output_shape, self.dtype)
        for start in range(0, n, chunk):
            h = x[start:start + chunk]
            m = h.shape[0]
            if cast is not None:
                cast[:m] = h
                h = cast[:m]
            rows = h
            for i, layer in enumerate(self.layers):
                shape = (m,) + shapes[i]
                dest = (out[start:start + m] if i == last
                        else scratch[i % 2, :math.prod(shape)].reshape(shape))
                h = layer.forward(h, training=False, out=dest)
            if skip is not None and skipped is not None:
                h += skip.forward(rows, out=skipped[:m])
        return out

    # -- description --------------------------------------------------------------
    def specs(self) -> list[dict]:
        """The layer list in its YAML/JSON form (``build_network`` accepts it back)."""
        return [layer.spec() for layer in self.layers]

    def summary(self) -> list[tuple[str, tuple[int, ...], int]]:
        """One row per layer (and the linear skip's last): ``(description, output shape,
        parameter count)``."""
        return summarize(self.layers, self.skip)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.all_layers)
        return f"Network([{inner}], params={self.n_params}, dtype={self.dtype.name})"

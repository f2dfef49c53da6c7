"""The registry of layer types, and building a Network from the layer list the YAML config uses.

``LAYERS`` maps each YAML name to its class. Everything else nnfit needs of a
layer type its class declares itself (see :mod:`nnfit.nn.base`), so a new type
is its module plus one :func:`register_layer` (the shipped types are
registered below). ``nnfit.config`` follows the registry: a type registered
later is a YAML layer type from then on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

import numpy as np

from .activation_layer import ActivationLayer
from .attention import Attention
from .base import Layer
from .checks import positive_int
from .dense import Dense
from .dropout import Dropout
from .init import AUTO, Init
from .network import Network, make_skip
from .normalization import BatchNorm, LayerNorm
from .numeric_embedding import NumericEmbedding
from .tokens import Pool, Tokens

_LAYERS: dict[str, type[Layer]] = {}
LAYERS: Mapping[str, type[Layer]] = MappingProxyType(_LAYERS)
"""Layer types by YAML name, in the order they were registered (read-only: change it
with :func:`register_layer` and :func:`unregister_layer`)."""
_WATCHERS: list[Callable[[], None]] = []


def register_layer(cls: type[Layer]) -> type[Layer]:
    """Make ``cls`` the layer type ``cls.type``; returns ``cls``, so it also decorates.

    ``cls`` declares its options, buffers, multiply-adds, size option and probe
    widening (:mod:`nnfit.nn.base` gives defaults). Registering the same class
    again does nothing; another class under a taken name is a ValueError
    (:func:`unregister_layer` the old one first).
    """
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise TypeError(f"a layer type is a subclass of nnfit.nn.base.Layer, got {cls!r}")
    name = cls.type
    if not isinstance(name, str) or not name or name == Layer.type:
        raise ValueError(f"{cls.__name__} needs a type: the name its YAML form uses")
    if _LAYERS.get(name, cls) is not cls:
        raise ValueError(f"layer type {name!r} is {_LAYERS[name].__name__} already")
    if name not in _LAYERS:
        _LAYERS[name] = cls
        _changed()
    return cls


def unregister_layer(name: str) -> type[Layer]:
    """Remove the layer type ``name`` (KeyError if there is none) and return its class."""
    cls = _LAYERS.pop(name)
    _changed()
    return cls


def watch_layers(callback: Callable[[], None]) -> None:
    """Call ``callback()`` after every change of ``LAYERS`` (``nnfit.config`` rebuilds its
    layer models this way: the engine knows nothing of the config)."""
    _WATCHERS.append(callback)


def _changed() -> None:
    for callback in _WATCHERS:
        callback()


for _cls in (Dense, ActivationLayer, BatchNorm, LayerNorm, Dropout, Tokens, Pool, Attention,
             NumericEmbedding):
    register_layer(_cls)


class LayerError(ValueError):
    """A layer spec that cannot be made or built: ``index`` says which, ``reason`` why."""

    def __init__(self, index: int, reason: str):
        super().__init__(f"layers[{index}]: {reason}")
        self.index, self.reason = index, reason


def make_layer(spec: dict | Layer) -> Layer:
    """One layer from its mapping form, e.g.
    ``{"type": "dense", "units": 8, "activation": "relu"}``."""
    if isinstance(spec, Layer):
        return spec
    options = dict(spec)
    kind = options.pop("type", None)
    if kind not in LAYERS:
        raise ValueError(f"unknown layer type {kind!r}; choose from {', '.join(LAYERS)}")
    known = LAYERS[kind].options
    unknown = [key for key in options if key not in known]
    if unknown:
        raise ValueError(f"{kind} takes {', '.join(known) or 'no options'} (got {unknown[0]!r})")
    missing = [key for key, option in known.items() if option.required and key not in options]
    if missing:
        raise ValueError(f"{kind} needs {missing[0]}")
    return LAYERS[kind](**options)


def resolve_pool_modes(layers: Sequence[Layer]) -> None:
    """Give each ``pool`` without a mode the one its tokenizer implies (in place).

    ``cls`` when the nearest ``tokens`` layer before it made a CLS token, else
    ``mean``. A ``pool`` asked for ``cls`` after a tokenizer without one is a
    :class:`LayerError` naming the pool.
    """
    tokens: Tokens | None = None
    for i, layer in enumerate(layers):
        if isinstance(layer, Tokens):
            tokens = layer
        elif isinstance(layer, Pool):
            has_cls = tokens is not None and tokens.cls
            if layer.mode is None:
                layer.mode = "cls" if has_cls else "mean"
            elif layer.mode == "cls" and tokens is not None and not has_cls:
                raise LayerError(i, "pool mode cls needs a CLS token: set cls: true on the "
                                    "tokens layer, or use pool mode mean")


def as_generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """The one source of randomness: a Generator passes through, an int seeds a new one."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def sample_shape(n_features: int | None, input_shape: tuple[int, ...] | None) -> tuple[int, ...]:
    """One sample's shape from exactly one of ``n_features`` and ``input_shape``, checked."""
    if (n_features is None) == (input_shape is None):
        raise ValueError("give exactly one of n_features or input_shape")
    if input_shape is None:
        return (positive_int(n_features, "n_features"),)
    shape = tuple(input_shape)
    if not shape:
        raise ValueError("input_shape must have at least one axis, got ()")
    return tuple(positive_int(size, "every input_shape entry") for size in shape)


def plan_layers(layers: Sequence[dict | Layer], input_shape: tuple[int, ...],
                dtype="float32") -> list[Layer]:
    """The layers made and built for ``input_shape``, with no parameter allocated.

    Each layer knows its output shape and parameter shapes afterwards, so a
    summary table or a memory estimate costs nothing however large the layers
    are. ``build_network`` hands these to a Network, which allocates.

    Raises
    ------
    LayerError
        A spec that cannot be made (unknown type, bad option) or does not fit
        its input shape; ``index`` names the layer.
    """
    if not layers:
        raise ValueError("a network needs at least one layer")
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved not in (np.float32, np.float64):
        shown = dtype if resolved is None else resolved
        raise ValueError(f"dtype must be float32 or float64, got {shown}")
    dtype = resolved
    built, shape = [], tuple(input_shape)
    for i, spec in enumerate(layers):
        try:
            built.append(make_layer(spec))
        except (TypeError, ValueError) as error:
            raise LayerError(i, str(error)) from None
    resolve_pool_modes(built)  # a pool mode that does not fit: LayerError naming the pool
    for i, layer in enumerate(built):
        try:
            shape = layer.build(shape, dtype)
        except ValueError as error:
            raise LayerError(i, str(error)) from None
    return built


def plan_network(layers: Sequence[dict | Layer], input_shape: tuple[int, ...], dtype="float32",
                 linear_skip: bool = False) -> list[Layer]:
    """:func:`plan_layers`, and the built linear skip last when ``linear_skip``: everything
    a summary table or a memory estimate counts, nothing allocated. A skip that does not
    fit (the output is not one vector per row) is a ValueError."""
    built = plan_layers(layers, input_shape, dtype)
    if linear_skip:
        built.append(make_skip(tuple(input_shape), built[-1].output_shape, np.dtype(dtype)))
    return built


def build_network(layers: Sequence[dict | Layer], n_features: int | None = None, *,
                  input_shape: tuple[int, ...] | None = None, dtype="float32",
                  seed: int | np.random.Generator | None = 0, init: Init = AUTO,
                  linear_skip: bool = False) -> Network:
    """Build and initialize a network from layer specs.

    Parameters
    ----------
    layers : sequence of dict
        e.g. ``[{"type": "dense", "units": 32, "activation": "relu"},
        {"type": "dense", "units": 1}]``.
    n_features : int
        Width of the input, for ``(n_samples, n_features)`` data. Or give
        ``input_shape`` for other sample shapes.
    dtype : {"float32", "float64"}
    seed : int or numpy.random.Generator
        The same seed gives bit-identical initial weights.
    init : Init
        How the weights are drawn (``model.init``, ``model.init_scale``).
    linear_skip : bool
        Add ``x·W_skip`` to the output (``model.linear_skip``, :mod:`nnfit.nn.skip`).

    Raises ValueError (a :class:`LayerError` naming the layer for a bad spec)
    before allocating anything.
    """
    shape = sample_shape(n_features, input_shape)
    return Network(plan_layers(layers, shape, dtype), shape, dtype=dtype, rng=as_generator(seed),
                   init=init, linear_skip=linear_skip)

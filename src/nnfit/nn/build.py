"""Build a Network from the layer list the YAML config uses."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .checks import positive_int
from .layers import Layer, layer_types
from .network import Network


class LayerError(ValueError):
    """A layer spec that cannot be made or built: ``index`` says which, ``reason`` why."""

    def __init__(self, index: int, reason: str):
        super().__init__(f"layers[{index}]: {reason}")
        self.index, self.reason = index, reason


def make_layer(spec: dict | Layer) -> Layer:
    """One layer from its mapping form, e.g. ``{"type": "dense", "units": 8, "activation": "relu"}``."""
    if isinstance(spec, Layer):
        return spec
    options = dict(spec)
    kind = options.pop("type", None)
    types = layer_types()
    if kind not in types:
        raise ValueError(f"unknown layer type {kind!r}; choose from {', '.join(types)}")
    known = types[kind].options
    unknown = [key for key in options if key not in known]
    if unknown:
        raise ValueError(f"{kind} takes {', '.join(known) or 'no options'} (got {unknown[0]!r})")
    missing = [key for key, option in known.items() if option.required and key not in options]
    if missing:
        raise ValueError(f"{kind} needs {missing[0]}")
    return types[kind](**options)


def resolve_pool_modes(layers: Sequence[Layer]) -> None:
    """Give each ``pool`` without a mode the one its tokenizer implies (in place).

    ``cls`` when the nearest ``tokens`` layer before it made a CLS token, else
    ``mean``. A ``pool`` asked for ``cls`` after a tokenizer without one is an error.
    """
    tokens = None
    for layer in layers:
        if layer.type == "tokens":
            tokens = layer
        elif layer.type == "pool":
            has_cls = tokens is not None and tokens.cls
            if layer.mode is None:
                layer.mode = "cls" if has_cls else "mean"
            elif layer.mode == "cls" and tokens is not None and not has_cls:
                raise ValueError("pool mode cls needs a CLS token: set cls: true on the tokens "
                                 "layer, or use pool mode mean")


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
    try:
        resolve_pool_modes(built)
    except ValueError as error:  # pool mode cls without a CLS token: the pool is at fault
        raise LayerError(next(i for i, layer in enumerate(built) if layer.type == "pool"
                              and layer.mode == "cls"), str(error)) from None
    for i, layer in enumerate(built):
        try:
            shape = layer.build(shape, dtype)
        except ValueError as error:
            raise LayerError(i, str(error)) from None
    return built


def build_network(layers: Sequence[dict | Layer], n_features: int | None = None, *,
                  input_shape: tuple[int, ...] | None = None, dtype="float32",
                  seed: int | np.random.Generator | None = 0) -> Network:
    """Build and initialize a network from layer specs.

    Parameters
    ----------
    layers : sequence of dict
        e.g. ``[{"type": "dense", "units": 32, "activation": "relu"}, {"type": "dense", "units": 1}]``.
    n_features : int
        Width of the input, for ``(n_samples, n_features)`` data. Or give
        ``input_shape`` for other sample shapes.
    dtype : {"float32", "float64"}
    seed : int or numpy.random.Generator
        The same seed gives bit-identical initial weights.

    Raises ValueError (a :class:`LayerError` naming the layer for a bad spec)
    before allocating anything.
    """
    shape = sample_shape(n_features, input_shape)
    return Network(plan_layers(layers, shape, dtype), shape, dtype=dtype, rng=as_generator(seed))

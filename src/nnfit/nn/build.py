"""Build a Network from the layer list the YAML config uses."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .layers import Layer, layer_types
from .network import Network


def make_layer(spec: dict | Layer) -> Layer:
    """One layer from its mapping form, e.g. ``{"type": "dense", "units": 8, "activation": "relu"}``."""
    if isinstance(spec, Layer):
        return spec
    options = dict(spec)
    kind = options.pop("type", None)
    types = layer_types()
    if kind not in types:
        raise ValueError(f"unknown layer type {kind!r}; choose from {', '.join(types)}")
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
    """
    if (n_features is None) == (input_shape is None):
        raise ValueError("give exactly one of n_features or input_shape")
    if not layers:
        raise ValueError("a network needs at least one layer")
    shape = (int(n_features),) if input_shape is None else tuple(input_shape)
    built = [make_layer(spec) for spec in layers]
    resolve_pool_modes(built)
    return Network(built, shape, dtype=dtype, rng=as_generator(seed))

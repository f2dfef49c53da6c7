"""Packed members: K networks of one architecture run as one stack of layers.

Each member stays a :class:`~nnfit.nn.network.Network` of its own, but its flat
``params``, ``grads`` and ``state`` become rows of ``(K, n)`` arrays here. The packed
stack is a copy of the members' layers whose parameters are ``(K, …)`` views of those
rows, so a forward or backward pass takes a ``(K, batch, …)`` block of the members'
mini-batches and makes one NumPy call where K separate networks make K: small networks
are mostly call overhead, and K members then cost little more than one.

Every operation is the one a member's own layer runs, on that member's slice: products
are one BLAS call per member with the same shapes, everything else is elementwise. The
members' numbers are therefore those of K separate trainings, bit for bit (tested).
Only layer types whose code takes the leading member axis are packed (``PACKABLE``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .build import make_layer
from .network import PREDICT_ROWS, Network

#: the layer types whose forward and backward take a leading member axis
PACKABLE = ("dense", "numeric_embedding")
PREDICT_FLOATS = 8_000_000  # the buffers a packed validation pass may keep (32 MB in float32)


def unpackable(network: Network) -> str | None:
    """Why ``network``'s architecture cannot be packed (None: it can)."""
    if network.skip is not None:
        return "a linear skip"
    for layer in network.layers:
        if layer.type not in PACKABLE:
            return f"a {layer.type} layer"
    return None


class PackedNetwork:
    """``members`` (built networks of one architecture) packed; see the module docstring.

    After packing, each member's ``params``/``grads``/``state`` are views of rows of this
    object's arrays: training the packed stack trains the members in place.
    """

    def __init__(self, members: Sequence[Network]):
        first = members[0]
        why = unpackable(first)
        if why is not None:
            raise ValueError(f"cannot pack networks with {why}")
        for other in members[1:]:
            if other.specs() != first.specs() or other.input_shape != first.input_shape \
                    or other.dtype != first.dtype:
                raise ValueError("packed members must share one architecture and dtype")
        k = len(members)
        self.members = list(members)
        self.dtype, self.input_shape = first.dtype, first.input_shape
        self.output_shape, self.n_decay = first.output_shape, first.n_decay
        self.params = np.empty((k, first.n_params), dtype=first.dtype)
        self.grads = np.zeros_like(self.params)
        self.state = np.empty((k, first.n_state), dtype=first.dtype)
        for i, member in enumerate(members):
            member.adopt(self.params[i], self.grads[i], self.state[i])
        self.layers = []
        for j, layer in enumerate(first.layers):
            clone = make_layer(layer.spec())
            clone.build(layer.input_shape, first.dtype)
            names = clone.param_shapes()
            clone.bind({n: Network._view(self.params, first.layout, f"{j}.{n}") for n in names},
                       {n: Network._view(self.grads, first.layout, f"{j}.{n}") for n in names})
            self.layers.append(clone)
        self.per_row = sum(layer.buffer_floats()[0] for layer in self.layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Training outputs ``(K, batch, *output_shape)`` for the members' batches
        ``x (K, batch, *input_shape)``; a reused buffer, as ``Network.forward``'s."""
        for layer in self.layers:
            x = layer.forward(x, training=True)
        return x

    def predict(self, x: np.ndarray) -> np.ndarray | None:
        """Every member's outputs ``(K, n, *output_shape)`` on the same rows ``x (n, …)`` (of
        this dtype, checked), as ``Network.predict`` gives them, bit for bit; or None when
        that would not be one of its chunks (over ``PREDICT_ROWS`` rows) or would keep over
        ``PREDICT_FLOATS`` floats of buffers (the layers keep them for the next call)."""
        k, n = len(self.members), x.shape[0]
        if n == 0 or n > PREDICT_ROWS or k * n * self.per_row > PREDICT_FLOATS:
            return None
        h = np.broadcast_to(x, (k,) + x.shape)
        for layer in self.layers:  # the training path's buffers: the same arithmetic
            h = layer.forward(h, training=True)
        return h.copy()

    def backward(self, doutput: np.ndarray) -> None:
        """Fill every member's ``grads`` from ``dL/doutput (K, batch, *output_shape)``."""
        d = doutput
        for layer in self.layers[:0:-1]:
            d = layer.backward(d)
        self.layers[0].backward(d, need_dx=False)

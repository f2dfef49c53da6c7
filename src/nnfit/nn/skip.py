"""The linear skip path: a linear model of the inputs added to a network's output.

``logits = f(x) + x·W_skip``, ``W_skip (n_features, n_outputs)``. The stack ``f``
keeps the output layer's bias, so the skip has none. ``W_skip`` starts at zero:
the network starts as the stack alone (the same function, and the same draws of
the seeded Generator, as without the skip), and a linear map needs no random
start to break symmetry (its gradient ``xᵀ·dlogits`` is not zero at zero).
It is a weight like any other: it lives in the network's flat buffer and takes
weight decay.
"""

from __future__ import annotations

import numpy as np

from .base import Layer
from .checks import positive_int
from .init import AUTO


class LinearSkip(Layer):
    """``s = x·W`` for ``x (batch, n_features)``, ``W (n_features, n_outputs)``; the
    :class:`~nnfit.nn.network.Network` adds ``s`` to its stack's output.

    Not a YAML layer type (``model.linear_skip: true`` asks for it): the network owns
    it beside its layers. Only rows of features in and one vector per row out.
    """

    type = "linear_skip"

    def __init__(self, n_outputs: int):
        super().__init__()
        self.n_outputs = positive_int(n_outputs, "linear skip outputs")
        self.fan_in = 0  # set by build

    def build(self, input_shape, dtype):
        super().build(input_shape, dtype)
        if len(self.input_shape) != 1:
            raise ValueError(f"linear_skip takes rows of features (n_features,), got "
                             f"{self.input_shape}")
        self.fan_in = self.input_shape[0]
        self.output_shape = (self.n_outputs,)
        return self.output_shape

    def param_shapes(self):
        return {"W": ((self.fan_in, self.n_outputs), True)}

    def init_params(self, rng, init=AUTO):
        self.params["W"][...] = 0.0

    def forward(self, x, training=False, out=None):
        y = self._output((x.shape[0], self.n_outputs), training, out)
        np.matmul(x, self.params["W"], out=y)
        if training:
            self._x = x
        return y

    def backward(self, dy, need_dx=False):
        """``dW = xᵀ·dy``; ``dx = dy·Wᵀ`` only when asked: training skips it (the skip
        reads the network's input, which is data), a gradient check asks."""
        np.matmul(self._x.T, dy, out=self.grads["W"])
        if not need_dx:
            return None
        return np.matmul(dy, self.params["W"].T, out=self._buffer("dx", self._x.shape))

    def buffer_floats(self):
        """Training: its output (the network's output then) and ``x``'s kept reference
        (nothing); an eval pass writes one output-wide scratch."""
        return self.n_outputs, self.n_outputs, 0

    def macs_per_row(self):
        return self.fan_in * self.n_outputs

    def __repr__(self) -> str:
        return f"LinearSkip({self.fan_in or '?'} → {self.n_outputs})"

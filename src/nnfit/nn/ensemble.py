"""An ensemble: networks of one architecture whose predictions are averaged.

Members differ only in their seed (initialization, shuffling, dropout). Their
outputs are averaged *after* the output activation — class probabilities for
classification, values for regression — which is what averaging models means
(Lakshminarayanan et al. 2017, "deep ensembles"). ``predict`` then returns the
logits of that average (``log p`` for softmax, ``log(p/(1 − p))`` for sigmoid), so
everything that reads a network's raw outputs (losses, decisions, metrics) reads
an ensemble's the same way.
"""

from __future__ import annotations

import numpy as np

from .activations import sigmoid, softmax
from .network import Network

OUTPUTS = ("identity", "softmax", "sigmoid")


class Ensemble:
    """``members``: networks with the same input and output shapes and dtype;
    ``output``: the output activation the loss applies (``identity``, ``softmax`` or
    ``sigmoid``).

    It answers what the rest of nnfit asks of a trained network: ``predict``,
    ``dtype``, ``input_shape``, ``output_shape``, ``n_params`` (all members'),
    ``layers``/``summary``/``specs``/``macs_per_row`` (the first member's: they share the
    architecture, and run one after another).
    """

    def __init__(self, members: list[Network], output: str):
        if len(members) < 2:
            raise ValueError(f"an ensemble needs at least 2 members (got {len(members)})")
        if output not in OUTPUTS:
            raise ValueError(f"unknown output activation {output!r}; choose from "
                             f"{', '.join(OUTPUTS)}")
        first = members[0]
        for i, net in enumerate(members[1:], 1):
            if (net.input_shape, net.output_shape, net.dtype, net.n_params) != \
                    (first.input_shape, first.output_shape, first.dtype, first.n_params):
                raise ValueError(f"ensemble member {i} has another architecture than member 0")
        self.members, self.output = list(members), output

    @property
    def dtype(self):
        return self.members[0].dtype

    @property
    def input_shape(self):
        return self.members[0].input_shape

    @property
    def output_shape(self):
        return self.members[0].output_shape

    @property
    def layers(self):
        return self.members[0].layers

    @property
    def n_params(self) -> int:
        return sum(net.n_params for net in self.members)

    def summary(self):
        return self.members[0].summary()

    def macs_per_row(self) -> int:
        return self.members[0].macs_per_row()

    def specs(self):
        return self.members[0].specs()

    def predict(self, x: np.ndarray, batch_size: int = 4096, *, check: bool = True) -> np.ndarray:
        """Logits of the members' mean output ``(n_samples, *output_shape)``; ``x`` is
        checked (see ``Network.predict``) once, by the first member."""
        total: np.ndarray | None = None
        for i, net in enumerate(self.members):
            out = net.predict(x, batch_size, check=check and i == 0)
            if self.output == "softmax":
                out = softmax(out, out, np.empty(out.shape[:-1] + (1,), out.dtype))
            elif self.output == "sigmoid":
                out = sigmoid(out, out)
            if total is None:
                total = out
            else:
                total += out
        assert total is not None  # an ensemble has members
        mean = total
        mean /= len(self.members)
        if self.output == "identity":
            return mean
        tiny = np.finfo(mean.dtype).tiny
        if self.output == "softmax":
            np.maximum(mean, tiny, out=mean)
            return np.log(mean, out=mean)
        # sigmoid: log(p) − log(1 − p), both sides kept off 0
        eps = np.finfo(mean.dtype).eps
        np.clip(mean, tiny, 1.0 - eps, out=mean)
        return np.log(mean) - np.log1p(-mean)

    def __repr__(self) -> str:
        return f"Ensemble({len(self.members)} × {self.members[0]!r}, {self.output})"

"""FT-Transformer's feature tokenizer: each input column becomes a ``dim``-vector."""

from __future__ import annotations

import math

import numpy as np

from .base import Layer, Option
from .checks import positive_int
from .init import AUTO, uniform


class Tokens(Layer):
    """Token ``j`` of a row is ``x_j·W_j + b_j``; with ``cls`` a learned [CLS] token comes first.

    Every column gets its own token, a one-hot-encoded category's columns
    included (each level its own token: the zero columns then contribute their
    bias ``b_j`` only). The per-column ``W_j``, ``b_j`` also tell the tokens
    apart, so the attention that follows needs no positional encoding.

    Shapes: ``x (batch, n_features)`` -> ``y (batch, n_features + cls, dim)``;
    ``W``, ``b``: ``(n_features, dim)``; ``cls_token``: ``(dim,)``.
    """

    type = "tokens"
    options = {"dim": Option(int, required=True, ge=1), "cls": Option(bool, default=False)}
    size_option = "dim"

    def __init__(self, dim: int, cls: bool = False):
        super().__init__()
        self.dim, self.cls = positive_int(dim, "tokens dim"), bool(cls)
        self.n_features = 0  # set by build

    def build(self, input_shape, dtype):
        super().build(input_shape, dtype)
        if len(self.input_shape) != 1:
            raise ValueError(f"tokens takes rows of features (n_features,), got {self.input_shape}")
        self.n_features = self.input_shape[0]
        self.output_shape = (self.n_features + self.cls, self.dim)
        return self.output_shape

    def param_shapes(self):
        per_feature = (self.n_features, self.dim)
        shapes: dict[str, tuple[tuple[int, ...], bool]] = {"W": (per_feature, True),
                                                           "b": (per_feature, False)}
        if self.cls:
            shapes["cls_token"] = ((self.dim,), False)
        return shapes

    def init_params(self, rng, init=AUTO):
        """FT-Transformer's own draw, ``U(±1/√dim)``, whatever ``init.name``; ``init.scale``
        multiplies its limit."""
        limit = init.scale / math.sqrt(self.dim)
        for name in self.param_shapes():
            uniform(rng, self.params[name], limit)

    def forward(self, x, training=False, out=None):
        """``token_bj = [x_bj, 1]·[W_j; b_j]`` as one batched matmul (bias folded in).

        Ufuncs on broadcast operands make NumPy ≥ 2.3 allocate iterator buffers
        (up to 8192 elements per operand) on every call; batched matmuls and
        ``copyto`` do not, so the tokenizer is written with those only.
        """
        n, f, d = x.shape[0], self.n_features, self.dim
        y = self._output((n,) + self.output_shape, training, out)
        if training:
            xa, wb = self._buffer("xa", (n, f, 1, 2)), self._buffer("wb", (f, 2, d))
        else:
            xa, wb = np.empty((n, f, 1, 2), self.dtype), np.empty((f, 2, d), self.dtype)
        np.copyto(xa[:, :, 0, 0], x)
        xa[:, :, 0, 1] = 1.0
        np.copyto(wb[:, 0], self.params["W"])
        np.copyto(wb[:, 1], self.params["b"])
        np.matmul(xa, wb, out=y[:, self.cls:, None, :])
        if self.cls:
            np.copyto(y[:, 0], self.params["cls_token"])
        if training:
            self._x = x
        return y

    def backward(self, dy, need_dx=True):
        """``dW_j = Σ_batch x_j·dy_j``, ``db_j = Σ_batch dy_j``, ``dcls = Σ_batch dy_0``,
        ``dx_j = dy_j·W_j``.

        Products by batched matmul into one reused ``(batch, n_features, 1, dim)``
        buffer, reductions with ``out=``: nothing is allocated per step.
        """
        n, f, d = self._x.shape[0], self.n_features, self.dim
        dtokens = dy[:, self.cls:, None, :]  # (batch, f, 1, dim)
        prod = self._buffer("prod", (n, f, 1, d))
        np.matmul(self._x[:, :, None, None], dtokens, out=prod)
        np.sum(prod[:, :, 0], axis=0, out=self.grads["W"])
        np.sum(dtokens[:, :, 0], axis=0, out=self.grads["b"])
        if self.cls:
            np.sum(dy[:, 0], axis=0, out=self.grads["cls_token"])
        if not need_dx:
            return None
        dx = self._buffer("dx", self._x.shape)
        np.matmul(dtokens, self.params["W"][:, :, None], out=dx[:, :, None, None])
        return dx

    def spec(self):
        return {"type": self.type, "dim": self.dim, "cls": self.cls}

    def buffer_floats(self):
        """Training: ``y``, ``backward``'s products, ``[x, 1]`` (two per feature) and ``dx``;
        an eval pass makes ``[x, 1]``."""
        out, inputs = math.prod(self.output_shape), math.prod(self.input_shape)
        return 2 * out + 3 * inputs, 2 * inputs, 0

    def macs_per_row(self):
        """``x_j·W_j`` for each feature (the bias folded into the same product is not counted)."""
        return self.n_features * self.dim

    def __repr__(self) -> str:
        cls = ", cls" if self.cls else ""
        if not self.n_features:
            return f"Tokens(? → ?×{self.dim}{cls})"
        return f"Tokens({self.n_features} → {self.n_features + self.cls}×{self.dim}{cls})"


POOL_MODES = ("cls", "mean")


class Pool(Layer):
    """Tokens back to one vector per row: the [CLS] token's, or the mean over the tokens.

    ``mode=None`` means "as the tokenizer says": :func:`~nnfit.nn.build.build_network`
    sets it to ``"cls"`` when the nearest ``tokens`` layer before the pool made a
    CLS token, else to ``"mean"``, so a built network's ``spec()`` always names
    the mode. A pool built on its own (``Network([...])``) needs the mode given.
    ``"cls"`` reads token 0, whatever the tokenizer put there.

    Shapes: ``x (batch, tokens, dim)`` -> ``y (batch, dim)``; no parameters.
    """

    type = "pool"
    # None: cls when the tokens layer has a CLS token
    options = {"mode": Option(str, default=None, choices=POOL_MODES)}

    def __init__(self, mode: str | None = None):
        super().__init__()
        if mode is not None and mode not in POOL_MODES:
            raise ValueError(f"pool mode must be one of {', '.join(POOL_MODES)}, got {mode!r}")
        self.mode = mode

    def build(self, input_shape, dtype):
        super().build(input_shape, dtype)
        if len(self.input_shape) != 2:
            raise ValueError(f"pool takes tokens (tokens, dim), got {self.input_shape}")
        if self.mode is None:
            raise ValueError("pool has no mode: give mode: cls or mean (build_network takes it "
                             "from the tokens layer before the pool)")
        self.output_shape = self.input_shape[1:]
        return self.output_shape

    def forward(self, x, training=False, out=None):
        y = self._output((x.shape[0],) + self.output_shape, training, out)
        if self.mode == "cls":
            np.copyto(y, x[:, 0])
        else:
            np.sum(x, axis=1, out=y)  # np.mean here would allocate iterator buffers
            y *= 1.0 / x.shape[1]
        if training:
            self._x_shape = x.shape
        return y

    def backward(self, dy, need_dx=True):
        """cls: ``dx_0 = dy``, the other tokens 0; mean: ``dx_t = dy / n_tokens`` for every
        token."""
        if not need_dx:
            return None
        dx = self._buffer("dx", self._x_shape)
        if self.mode == "cls":
            dx[:, 1:] = 0.0
            np.copyto(dx[:, 0], dy)
        else:
            np.copyto(dx, dy[:, None, :])  # a broadcast copy: no ufunc iterator buffers
            dx *= 1.0 / self._x_shape[1]
        return dx

    def spec(self):
        return {"type": self.type} if self.mode is None else {"type": self.type, "mode": self.mode}

    def buffer_floats(self):
        """Training: ``y`` and ``dx``."""
        return math.prod(self.output_shape) + math.prod(self.input_shape), 0, 0

    def __repr__(self) -> str:
        return f"Pool({self.mode or '?'})"

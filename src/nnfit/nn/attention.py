"""A pre-norm transformer block over tokens: multi-head self-attention, then a feed-forward net."""

from __future__ import annotations

import math

import numpy as np

from .base import Layer, Option
from .checks import positive_int
from .dense import Dense
from .dropout import Dropout
from .init import AUTO
from .normalization import LayerNorm


class Attention(Layer):
    """``r = x + MHA(LN₁(x))``, ``y = r + FFN(LN₂(r))``: one pre-norm transformer block.

    ``MHA`` projects each token to queries, keys and values with one ``Dense``
    of width ``3·dim``, splits them into ``heads`` heads of ``d_k = dim / heads``
    (all heads and samples in one ``(batch, heads, tokens, d_k)`` array), takes
    ``softmax(Q·Kᵀ/√d_k)·V`` per head, merges the heads back and applies the
    output projection. ``FFN`` is ``Dense(ffn·dim, activation) → Dense(dim)``, with
    ``activation`` ``relu`` (the default) or ``gelu`` (tanh approximation).
    ``dropout`` (0 by default) drops attention weights and the FFN's hidden units
    in training, as FT-Transformer's attention and FFN dropout do.

    The block is equivariant to permuting the tokens: it has no positional
    information of its own (the tokenizer's per-feature weights provide it).

    Parameters are those of the sub-layers, named ``ln1.*``, ``qkv.*``,
    ``out.*``, ``ln2.*``, ``ffn1.*``, ``ffn2.*``; the forward pass works on
    ``(batch·tokens, dim)`` views so each projection is one 2-D matmul.

    Shapes: ``x (batch, tokens, dim)`` -> ``y`` of the same shape.
    """

    type = "attention"
    FFN_ACTIVATIONS = ("relu", "gelu")
    options = {"dim": Option(int, required=True, ge=1), "heads": Option(int, default=1, ge=1),
               "ffn": Option(float, default=2, gt=0),
               "dropout": Option(float, default=0.0, ge=0, lt=1),
               "activation": Option(str, default="relu", choices=FFN_ACTIVATIONS)}
    size_option = "dim"

    def __init__(self, dim: int, heads: int = 1, ffn: float = 2, dropout: float = 0.0,
                 activation: str = "relu"):
        super().__init__()
        dim, heads = positive_int(dim, "attention dim"), positive_int(heads, "attention heads")
        if heads > dim:
            raise ValueError(f"attention heads {heads} is more than dim {dim}: each head takes "
                             f"dim / heads features, at least 1 (try heads dividing {dim})")
        if dim % heads:
            raise ValueError(f"attention dim {dim} is not divisible by heads {heads}: each head "
                             f"takes dim / heads features (try heads dividing {dim})")
        if not ffn > 0 or int(round(ffn * dim)) < 1:
            raise ValueError(f"attention ffn must be a positive multiplier of dim, got {ffn!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"attention dropout must be in [0, 1), got {dropout!r}")
        if activation not in self.FFN_ACTIVATIONS:
            raise ValueError(f"attention activation must be one of "
                             f"{', '.join(self.FFN_ACTIVATIONS)}, got {activation!r}")
        self.dim, self.heads, self.ffn, self.dropout = int(dim), int(heads), ffn, float(dropout)
        self.activation = activation
        self.d_k = self.dim // self.heads
        self.ffn1 = Dense(int(round(ffn * self.dim)), activation)  # the FFN's hidden layer
        self.subs: dict[str, Layer] = {
            "ln1": LayerNorm(), "qkv": Dense(3 * self.dim), "out": Dense(self.dim),
            "ln2": LayerNorm(), "ffn1": self.ffn1, "ffn2": Dense(self.dim),
        }
        self.attn_drop = Dropout(self.dropout) if self.dropout > 0 else None
        self.ffn_drop = Dropout(self.dropout) if self.dropout > 0 else None

    def build(self, input_shape, dtype):
        super().build(input_shape, dtype)
        if len(self.input_shape) != 2 or self.input_shape[1] != self.dim:
            raise ValueError(f"attention takes tokens (tokens, {self.dim}), got {self.input_shape}")
        for sub in self.subs.values():
            sub.build((self.dim,) if sub is not self.subs["ffn2"] else (self.ffn1.units,), dtype)
        for drop in (self.attn_drop, self.ffn_drop):
            if drop is not None:
                drop.build(self.input_shape, dtype)
        return self.output_shape

    def param_shapes(self):
        return {f"{name}.{p}": shape for name, sub in self.subs.items()
                for p, shape in sub.param_shapes().items()}

    def bind(self, params, grads):
        super().bind(params, grads)
        for name, sub in self.subs.items():
            names = sub.param_shapes()
            sub.bind({p: params[f"{name}.{p}"] for p in names},
                     {p: grads[f"{name}.{p}"] for p in names})

    def init_params(self, rng, init=AUTO):
        for sub in self.subs.values():
            sub.init_params(rng, init)

    def set_rng(self, rng):
        for drop in (self.attn_drop, self.ffn_drop):
            if drop is not None:
                drop.set_rng(rng)

    def forward(self, x, training=False, out=None):
        n, t, d = x.shape
        h, dk = self.heads, self.d_k
        s = self.subs
        y = self._output(x.shape, training, out)
        buf = self._scratch(training)
        x2 = x.reshape(n * t, d)
        qkv = s["qkv"].forward(s["ln1"].forward(x2, training), training).reshape(n, t, 3, h, dk)
        heads = (n, h, t, dk)
        q, k, v = buf("q", heads), buf("k", heads), buf("v", heads)
        np.copyto(q, qkv[:, :, 0].transpose(0, 2, 1, 3))  # (batch, tokens, heads, d_k) → per head
        np.copyto(k, qkv[:, :, 1].transpose(0, 2, 1, 3))
        np.copyto(v, qkv[:, :, 2].transpose(0, 2, 1, 3))
        q *= 1.0 / math.sqrt(dk)  # q holds Q/√d_k from here on
        p, row = buf("p", (n, h, t, t)), buf("row", (n, h, t, 1))
        np.matmul(q, k.transpose(0, 1, 3, 2), out=p)
        # softmax over the keys; the (…, 1) row statistics are spread into a full-size
        # buffer first (a ufunc with a broadcast operand allocates working buffers)
        full = buf("full", (n, h, t, t))
        np.max(p, axis=-1, keepdims=True, out=row)
        np.copyto(full, row)
        p -= full
        np.exp(p, out=p)
        ones = self._filled("ones", (t, 1), 1.0, training)
        np.matmul(p, ones, out=row)  # row sums; np.sum would allocate iterator buffers
        np.copyto(full, row)
        p /= full
        pd = p if self.attn_drop is None else self.attn_drop.forward(p, training)
        o = buf("o", (n, h, t, dk))
        np.matmul(pd, v, out=o)
        merged = buf("merged", (n, t, d))
        np.copyto(merged.reshape(n, t, h, dk), o.transpose(0, 2, 1, 3))
        r1 = buf("r1", (n * t, d))
        np.add(x2, s["out"].forward(merged.reshape(n * t, d), training), out=r1)
        f = s["ffn1"].forward(s["ln2"].forward(r1, training), training)
        if self.ffn_drop is not None:
            f = self.ffn_drop.forward(f, training)
        np.add(r1, s["ffn2"].forward(f, training), out=y.reshape(n * t, d))
        if training:
            self._q, self._k, self._v, self._p, self._pd = q, k, v, p, pd
        return y

    @property
    def attention_weights(self) -> np.ndarray:
        """``(batch, heads, tokens, tokens)`` softmax weights of the last training forward."""
        return self._p

    def backward(self, dy, need_dx=True):
        """Back through the FFN branch, the residual, then softmax:
        ``dS = P ⊙ (dP − Σ_keys dP ⊙ P)``.

        With ``S = (Q/√d_k)·Kᵀ``: ``dQ = dS·K/√d_k``, ``dK = dSᵀ·(Q/√d_k)``,
        ``dV = Pᵀ·dO``; the residual adds ``dy`` to each branch's input gradient.
        """
        n, t, d = dy.shape
        h, dk = self.heads, self.d_k
        s, buf = self.subs, self._buffer
        q, k, v, p, pd = self._q, self._k, self._v, self._p, self._pd
        dy2 = dy.reshape(n * t, d)
        df = s["ffn2"].backward(dy2)
        if self.ffn_drop is not None:
            df = self.ffn_drop.backward(df)
        dr1 = buf("dr1", (n * t, d))
        np.add(dy2, s["ln2"].backward(s["ffn1"].backward(df)), out=dr1)
        dmerged = s["out"].backward(dr1).reshape(n, t, h, dk)
        do = buf("do", (n, h, t, dk))
        np.copyto(do, dmerged.transpose(0, 2, 1, 3))
        dp = buf("dp", (n, h, t, t))
        np.matmul(do, v.transpose(0, 1, 3, 2), out=dp)
        dv = buf("dv", (n, h, t, dk))
        np.matmul(pd.transpose(0, 1, 3, 2), do, out=dv)
        if self.attn_drop is not None:
            dp = self.attn_drop.backward(dp)
        ds, row = buf("ds", (n, h, t, t)), buf("drow", (n, h, t, 1))
        np.multiply(dp, p, out=ds)
        ones = self._filled("ones", (t, 1), 1.0)
        np.matmul(ds, ones, out=row)
        np.copyto(ds, row)  # spread the row sums, then a same-shape subtract
        np.subtract(dp, ds, out=ds)
        ds *= p
        dq, dkk = buf("dq", (n, h, t, dk)), buf("dk", (n, h, t, dk))
        np.matmul(ds, k, out=dq)
        dq *= 1.0 / math.sqrt(dk)
        np.matmul(ds.transpose(0, 1, 3, 2), q, out=dkk)
        dqkv = buf("dqkv", (n * t, 3 * d))
        parts = dqkv.reshape(n, t, 3, h, dk)
        np.copyto(parts[:, :, 0], dq.transpose(0, 2, 1, 3))
        np.copyto(parts[:, :, 1], dkk.transpose(0, 2, 1, 3))
        np.copyto(parts[:, :, 2], dv.transpose(0, 2, 1, 3))
        dln1 = s["ln1"].backward(s["qkv"].backward(dqkv), need_dx)
        if not need_dx:
            return None
        dx = buf("dx", (n * t, d))
        np.add(dr1, dln1, out=dx)
        return dx.reshape(n, t, d)

    def spec(self):
        return {"type": self.type, "dim": self.dim, "heads": self.heads, "ffn": self.ffn,
                "dropout": self.dropout, "activation": self.activation}

    def buffer_floats(self):
        """Counted from ``forward``/``backward`` and their sub-layers' buffers: 38 arrays of
        (tokens, dim), 4 of (tokens, ffn hidden) and 4 of (heads, tokens, tokens) in training,
        plus dropout masks and the FFN activation's scratch; 17, 1 and 2 in an eval pass."""
        t, d = self.input_shape
        td, th, htt = t * d, t * self.ffn1.units, self.heads * t * t
        act, drop = self.ffn1.activation.scratch, self.dropout > 0
        train = 38 * td + (4 + act + 3 * drop) * th + (4 + 3 * drop) * htt
        return train, 17 * td + (1 + drop) * th + (2 + drop) * htt, act * th

    def macs_per_row(self):
        # Not counted yet: the thread choice has only ever seen a layer's own 2-D "W", and
        # this block's projections are its sub-layers' ("qkv.W", ...). Counting them and
        # the attention products is a change of its own: it moves attention configs'
        # thread choice (and metrics.json's threads_reason).
        return 0

    def __repr__(self) -> str:
        return f"Attention(dim={self.dim}, heads={self.heads})"

"""Periodic embeddings of numeric features (Gorishniy et al. 2022, "On embeddings for
numerical features in tabular deep learning"; rtdl_num_embeddings' ``PeriodicEmbeddings``).

Each input column ``x_j`` becomes ``v_j = [cos(2π·c_j·x_j), sin(2π·c_j·x_j)]`` with ``k``
trainable frequencies ``c_j`` of its own, drawn from ``N(0, σ²)``. ``kind: plr`` (periodic,
linear, ReLU) follows with a linear map of each column's ``v_j`` to ``dim`` values and a
ReLU: per column its own ``W_j (2k, dim)``, ``b_j (dim,)``, or with ``lite`` one ``W``, ``b``
shared by the columns (rtdl's "lite" variant, fewer parameters). ``kind: periodic`` stops
after the cos/sin. The columns' embeddings are laid side by side, so the output is one row
of ``n_features · out_dim`` values and a ``dense`` layer can follow.
"""

from __future__ import annotations

import math

import numpy as np

from .activations import make_activation
from .base import Layer, Option
from .checks import positive_int
from .init import AUTO

KINDS = ("plr", "periodic")
TWO_PI = 2.0 * math.pi


class NumericEmbedding(Layer):
    """Periodic embeddings of each input column, optionally followed by a linear map and ReLU.

    Parameters
    ----------
    kind : {"plr", "periodic"}
    frequencies : int
        ``k``, the frequencies per column: ``v_j`` has ``2k`` values.
    sigma : float
        The standard deviation ``σ`` the frequencies are drawn with.
    dim : int
        ``plr``: the size of each column's embedding (unused by ``periodic``).
    lite : bool
        ``plr``: one linear map shared by the columns instead of one per column.

    Shapes: ``x (batch, n_features)`` -> ``y (batch, n_features · out_dim)``, ``out_dim``
    being ``dim`` (plr) or ``2k`` (periodic); ``c (n_features, k)``; plr: ``W (n_features,
    2k, dim)``, ``b (n_features, dim)``, or ``(1, 2k, dim)``, ``(1, dim)`` with ``lite``.
    """

    type = "numeric_embedding"
    options = {"kind": Option(str, default="plr", choices=KINDS),
               "frequencies": Option(int, default=16, ge=1),
               "sigma": Option(float, default=0.1, gt=0),
               "dim": Option(int, default=16, ge=1),
               "lite": Option(bool, default=False)}
    size_option = "frequencies"

    def __init__(self, kind: str = "plr", frequencies: int = 16, sigma: float = 0.1,
                 dim: int = 16, lite: bool = False):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"numeric_embedding kind must be one of {', '.join(KINDS)}, "
                             f"got {kind!r}")
        if not (isinstance(sigma, (int, float)) and math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"numeric_embedding sigma must be a positive number, got {sigma!r}")
        self.kind, self.sigma, self.lite = kind, float(sigma), bool(lite)
        self.k = positive_int(frequencies, "numeric_embedding frequencies")
        self.dim = positive_int(dim, "numeric_embedding dim")
        self.relu = make_activation("relu")
        self.n_features = 0  # set by build

    @property
    def out_dim(self) -> int:
        """The size of one column's embedding."""
        return self.dim if self.kind == "plr" else 2 * self.k

    def build(self, input_shape, dtype):
        super().build(input_shape, dtype)
        if len(self.input_shape) != 1:
            raise ValueError(f"numeric_embedding takes rows of features (n_features,), "
                             f"got {self.input_shape}")
        self.n_features = self.input_shape[0]
        self.output_shape = (self.n_features * self.out_dim,)
        return self.output_shape

    def param_shapes(self):
        shapes: dict[str, tuple[tuple[int, ...], bool]] = {"c": ((self.n_features, self.k), False)}
        if self.kind == "plr":
            maps = 1 if self.lite else self.n_features
            shapes["W"] = ((maps, 2 * self.k, self.dim), True)
            shapes["b"] = ((maps, self.dim), False)
        return shapes

    def init_params(self, rng, init=AUTO):
        """``c ~ N(0, σ²)``; ``W``, ``b ~ U(±1/√(2k))`` (PyTorch's ``Linear`` default, as
        rtdl), whatever ``init.name``; ``init.scale`` multiplies that limit (not ``σ``)."""
        c = self.params["c"]
        rng.standard_normal(out=c, dtype=c.dtype)
        c *= self.sigma
        if self.kind == "plr":
            limit = init.scale / math.sqrt(2 * self.k)
            for name in ("W", "b"):
                p = self.params[name]
                rng.random(out=p, dtype=p.dtype)
                p *= 2.0 * limit
                p -= limit

    def forward(self, x, training=False, out=None):
        """``a = 2π·c_j·x_j``; ``v_j = [cos a, sin a]``; plr: ``y_j = relu([v_j, 1]·[W_j; b_j])``.

        The products are batched matmuls over the columns. cos and sin are computed in
        contiguous arrays of their own and copied into place: NumPy's ufuncs allocate
        iterator buffers on strided operands, ``matmul`` and ``copyto`` do not.
        """
        n, f, k = x.shape[0], self.n_features, self.k
        y = self._output((n,) + self.output_shape, training, out)
        buffer = self._scratch(training)
        freq = buffer("freq", (f, 1, k))
        np.multiply(self.params["c"][:, None, :], TWO_PI, out=freq)
        cos, sin = buffer("cos", (n, f, k)), buffer("sin", (n, f, k))
        np.matmul(x[:, :, None, None], freq, out=cos[:, :, None, :])  # a, kept in cos
        np.sin(cos, out=sin)
        np.cos(cos, out=cos)
        if self.kind == "plr":  # [cos, sin, 1]: the bias folded into the product
            v = buffer("v", (n, f, 2 * k + 1))
            v[:, :, 2 * k] = 1.0
        else:
            v = y.reshape(n, f, 2 * k)
        np.copyto(v[:, :, :k], cos)
        np.copyto(v[:, :, k:2 * k], sin)
        if self.kind == "plr":
            wb = buffer("wb", (self.params["W"].shape[0], 2 * k + 1, self.dim))
            np.copyto(wb[:, :2 * k], self.params["W"])
            np.copyto(wb[:, 2 * k], self.params["b"])
            z = y.reshape(n, f, self.dim)
            np.matmul(v.transpose(1, 0, 2), wb, out=z.transpose(1, 0, 2))
            self.relu.forward(z, out=z)
        if training:
            self._x, self._cos, self._sin, self._v, self._y = x, cos, sin, v, y
        return y

    def backward(self, dy, need_dx=True):
        """plr: ``dz = dy ⊙ [y > 0]``, ``d[W_j; b_j] = [v_j, 1]ᵀ·dz_j``, ``dv_j = dz_j·W_jᵀ``;
        then ``da = cos a ⊙ dsin − sin a ⊙ dcos``, ``dc_j = 2π·Σ_batch x_j·da_j``,
        ``dx_j = 2π·da_j·c_j``."""
        x = self._x
        n, f, k = x.shape[0], self.n_features, self.k
        dcos, dsin = self._buffer("dcos", (n, f, k)), self._buffer("dsin", (n, f, k))
        if self.kind == "plr":
            self._plr_backward(dy, dcos, dsin)
        else:
            dv = dy.reshape(n, f, 2 * k)
            np.copyto(dcos, dv[:, :, :k])
            np.copyto(dsin, dv[:, :, k:])
        np.multiply(self._sin, dcos, out=dcos)
        da = np.multiply(self._cos, dsin, out=dsin)
        da -= dcos
        dc = self.grads["c"]
        np.matmul(x.T[:, None, :], da.transpose(1, 0, 2), out=dc[:, None, :])
        dc *= TWO_PI
        if not need_dx:
            return None
        dx = self._buffer("dx", x.shape)
        np.matmul(da[:, :, None, :], self.params["c"][:, :, None], out=dx[:, :, None, None])
        dx *= TWO_PI
        return dx

    def _plr_backward(self, dy, dcos, dsin):
        """The linear map's and the ReLU's part of ``backward``: fills ``dW``, ``db``, and
        ``dcos``, ``dsin (batch, n_features, k)``, the halves of ``dv``."""
        v = self._v
        n, f, k, d = v.shape[0], self.n_features, self.k, self.dim
        dz = self._buffer("dz", (n, f, d))
        self.relu.backward(self._y.reshape(n, f, d), dy.reshape(n, f, d), out=dz)
        W = self.params["W"]
        dwb = self._buffer("dwb", (W.shape[0], 2 * k + 1, d))
        if self.lite:  # one map shared by the columns: the columns are more rows
            np.matmul(v.reshape(-1, 2 * k + 1).T, dz.reshape(-1, d), out=dwb[0])
        else:
            np.matmul(v.transpose(1, 2, 0), dz.transpose(1, 0, 2), out=dwb)
        np.copyto(self.grads["W"], dwb[:, :2 * k])
        np.copyto(self.grads["b"], dwb[:, 2 * k])
        dz_t = dz.transpose(1, 0, 2)  # (f, batch, d); W broadcasts over the columns when lite
        np.matmul(dz_t, W[:, :k].transpose(0, 2, 1), out=dcos.transpose(1, 0, 2))
        np.matmul(dz_t, W[:, k:].transpose(0, 2, 1), out=dsin.transpose(1, 0, 2))

    def spec(self):
        return {"type": self.type, "kind": self.kind, "frequencies": self.k,
                "sigma": self.sigma, "dim": self.dim, "lite": self.lite}

    def buffer_floats(self):
        """Training: ``y``, cos and sin, their gradients, ``dx``, and for plr
        ``[cos, sin, 1]`` and ``dz``; an eval pass makes cos and sin, and for plr
        ``[cos, sin, 1]``."""
        f, k = self.n_features, self.k
        out, v = math.prod(self.output_shape), f * (2 * k + 1) if self.kind == "plr" else 0
        plr = v + out if self.kind == "plr" else 0
        return out + 4 * f * k + f + plr, 2 * f * k + v, 0

    def macs_per_row(self):
        """``c_j·x_j`` for each frequency, and plr's ``[v_j, 1]·[W_j; b_j]`` for each column
        (the cos and sin, a few multiply-adds' worth each, are not counted)."""
        f, k = self.n_features, self.k
        return f * k + (f * (2 * k + 1) * self.dim if self.kind == "plr" else 0)

    def __repr__(self) -> str:
        f = self.n_features or "?"
        detail = f"{self.k} frequencies, σ={self.sigma:g}"
        if self.kind == "plr":
            detail += f", dim {self.dim}{', lite' if self.lite else ''}"
        return f"NumericEmbedding({self.kind}, {f} → {f}×{self.out_dim}, {detail})"

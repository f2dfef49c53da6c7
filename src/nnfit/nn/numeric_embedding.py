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
from .init import AUTO, uniform

KINDS = ("plr", "periodic")
INPUTS = ("numeric", "all")
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
    positions : list of int, optional
        The input columns to embed (0-based); the others pass through unchanged after the
        embeddings. None: every column.
    inputs : {"numeric", "all"}
        Read by nnfit's data side, not here: for a first layer without ``positions`` it
        fills them in with the numeric columns' inputs (``numeric``: a text column's one-hot
        inputs pass through) or with every input (``all``: each category then gets a
        learned vector of its own, at the cost of a number's embedding per category).

    Shapes: ``x (batch, n_in)`` -> ``y (batch, m · out_dim + n_in − m)``, ``m`` the embedded
    columns, ``out_dim`` being ``dim`` (plr) or ``2k`` (periodic); ``c (m, k)``; plr:
    ``W (m, 2k, dim)``, ``b (m, dim)``, or ``(1, 2k, dim)``, ``(1, dim)`` with ``lite``.
    """

    type = "numeric_embedding"
    options = {"kind": Option(str, default="plr", choices=KINDS),
               "frequencies": Option(int, default=16, ge=1),
               "sigma": Option(float, default=0.1, gt=0),
               "dim": Option(int, default=16, ge=1),
               "lite": Option(bool, default=False),
               "positions": Option(list[int], default=None),
               "inputs": Option(str, default="numeric", choices=INPUTS)}
    size_option = "frequencies"

    def __init__(self, kind: str = "plr", frequencies: int = 16, sigma: float = 0.1,
                 dim: int = 16, lite: bool = False, positions: list[int] | None = None,
                 inputs: str = "numeric"):
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
        self.positions = None if positions is None else [int(p) for p in positions]
        if inputs not in INPUTS:
            raise ValueError(f"numeric_embedding inputs must be numeric or all, got {inputs!r}")
        self.inputs = inputs
        self.n_features = 0  # the embedded columns, set by build
        self._embed = self._pass = np.empty(0, dtype=np.intp)  # their positions, the others'

    @property
    def out_dim(self) -> int:
        """The size of one column's embedding."""
        return self.dim if self.kind == "plr" else 2 * self.k

    def build(self, input_shape, dtype):
        super().build(input_shape, dtype)
        if len(self.input_shape) != 1:
            raise ValueError(f"numeric_embedding takes rows of features (n_features,), "
                             f"got {self.input_shape}")
        n_in = self.input_shape[0]
        embed = list(range(n_in)) if self.positions is None else self.positions
        if not embed or len(set(embed)) != len(embed) or min(embed) < 0 or max(embed) >= n_in:
            raise ValueError(f"numeric_embedding positions must be distinct input positions in "
                             f"[0, {n_in}), at least one (got {self.positions})")
        self._embed = np.asarray(embed, dtype=np.intp)
        self._pass = np.setdiff1d(np.arange(n_in), self._embed).astype(np.intp)
        self.n_features = len(embed)
        self.output_shape = (self.n_features * self.out_dim + self._pass.size,)
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
                uniform(rng, self.params[name], limit)

    def forward(self, x, training=False, out=None):
        """``a = 2π·c_j·x_j``; ``v_j = [cos a, sin a]``; plr: ``y_j = relu(cos a·W_j^c +
        sin a·W_j^s + b_j)``, ``W_j = [W_j^c; W_j^s]``.

        The work is laid out column-major, ``(n_features, batch, ·)``, so every product is a
        contiguous batched matmul over the columns; only the output is transposed, once.
        Broadcasts go through ``copyto`` into same-shape buffers: NumPy's ufuncs allocate
        iterator buffers on broadcast or strided operands, ``copyto`` and ``matmul`` do not.
        Every axis is counted from the end, so packed members (:mod:`nnfit.nn.packed`: a
        leading member axis on ``x``, the parameters and the buffers) run the same code.
        """
        lead, n, f, k = x.shape[:-2], x.shape[-2], self.n_features, self.k
        y = self._output(x.shape[:-1] + self.output_shape, training, out)
        buffer = self._scratch(training)
        a, freq = buffer("a", lead + (f, n, k)), buffer("freq", lead + (f, n, k))
        c2pi = buffer("c2pi", lead + (f, k))
        np.multiply(self.params["c"], TWO_PI, out=c2pi)
        np.copyto(freq, c2pi[..., None, :])
        # mode="clip": take's out= is buffered under the default "raise" (build checked them)
        xe = x if self._pass.size == 0 else np.take(x, self._embed, axis=-1, out=buffer(
            "xe", lead + (n, f)), mode="clip")
        np.copyto(a, np.swapaxes(xe, -1, -2)[..., None])
        a *= freq
        width = f * self.out_dim
        if self._pass.size:  # the columns that are not embedded, after the embeddings
            np.copyto(y[..., width:], np.take(x, self._pass, axis=-1, out=buffer(
                "xp", lead + (n, self._pass.size)), mode="clip"))
        emb = y[..., :width]  # splitting its last axis below keeps it a view
        cos, sin = buffer("cos", lead + (f, n, k)), buffer("sin", lead + (f, n, k))
        np.cos(a, out=cos)
        np.sin(a, out=sin)
        if self.kind == "periodic":
            y3 = emb.reshape(lead + (n, f, 2 * k))
            np.copyto(y3[..., :k], np.swapaxes(cos, -3, -2))
            np.copyto(y3[..., k:], np.swapaxes(sin, -3, -2))
            z = None
        else:
            W = self.params["W"]
            z, term = buffer("z", lead + (f, n, self.dim)), buffer("term", lead + (f, n, self.dim))
            np.matmul(cos, W[..., :k, :], out=z)
            np.matmul(sin, W[..., k:, :], out=term)
            z += term
            np.copyto(term, self.params["b"][..., None, :])
            z += term
            self.relu.forward(z, out=z)
            np.copyto(emb.reshape(lead + (n, f, self.dim)), np.swapaxes(z, -3, -2))
        if training:
            self._x, self._cos, self._sin, self._z = xe, cos, sin, z
        return y

    def backward(self, dy, need_dx=True):
        """plr: ``dz = dy ⊙ [z > 0]``, ``dW_j = [cos a, sin a]ᵀ·dz_j``, ``db_j = Σ_batch dz_j``,
        ``dcos = dz_j·W_j^cᵀ``, ``dsin = dz_j·W_j^sᵀ``; then ``da = cos a ⊙ dsin − sin a ⊙
        dcos``, ``dc_j = 2π·Σ_batch x_j·da_j``, ``dx_j = 2π·da_j·c_j``."""
        x = self._x  # the embedded columns
        lead, n, f, k = x.shape[:-2], x.shape[-2], self.n_features, self.k
        width = f * self.out_dim
        demb = dy[..., :width]  # the embeddings' part of dy (a view)
        dcos = self._buffer("dcos", lead + (f, n, k))
        dsin = self._buffer("dsin", lead + (f, n, k))
        if self.kind == "plr":
            self._plr_backward(demb, dcos, dsin)
        else:
            dv = demb.reshape(lead + (n, f, 2 * k))
            np.copyto(dcos, np.swapaxes(dv[..., :k], -3, -2))
            np.copyto(dsin, np.swapaxes(dv[..., k:], -3, -2))
        np.multiply(self._sin, dcos, out=dcos)
        da = np.multiply(self._cos, dsin, out=dsin)
        da -= dcos
        dc = self.grads["c"]
        np.matmul(np.swapaxes(x, -1, -2)[..., None, :], da, out=dc[..., None, :])
        dc *= TWO_PI
        if not need_dx:
            return None
        dxt = self._buffer("dxt", lead + (f, n, 1))
        np.matmul(da, self.params["c"][..., None], out=dxt)
        dxe = self._buffer("dxe", x.shape)
        np.copyto(dxe, np.swapaxes(dxt[..., 0], -1, -2))
        dxe *= TWO_PI
        if self._pass.size == 0:
            return dxe
        dx = self._buffer("dx", x.shape[:-1] + self.input_shape)
        dx[..., self._embed] = dxe
        dx[..., self._pass] = dy[..., width:]
        return dx

    def _plr_backward(self, dy, dcos, dsin):
        """The linear map's and the ReLU's part of ``backward``: fills ``dW``, ``db``, and
        ``dcos``, ``dsin (n_features, batch, k)``."""
        z = self._z
        assert z is not None  # plr keeps z
        lead, (f, n, d), k = z.shape[:-3], z.shape[-3:], self.k
        dyt = self._buffer("dyt", z.shape)
        np.copyto(dyt, np.swapaxes(dy.reshape(lead + (n, f, d)), -3, -2))
        dz = self.relu.backward(z, dyt, out=self._buffer("dz", z.shape))
        W, dW, db = self.params["W"], self.grads["W"], self.grads["b"]
        if self.lite:  # one map shared by the columns: the columns are more rows
            dz_rows = dz.reshape(lead + (-1, d))
            for half, trig in ((slice(0, k), self._cos), (slice(k, 2 * k), self._sin)):
                np.matmul(trig.reshape(lead + (-1, k)).swapaxes(-1, -2), dz_rows,
                          out=dW[..., 0, half, :])
            self._sum_rows(dz_rows, db[..., 0, :])
        else:  # BLAS writes each half of dW in place (its rows are contiguous)
            np.matmul(self._cos.swapaxes(-1, -2), dz, out=dW[..., :k, :])
            np.matmul(self._sin.swapaxes(-1, -2), dz, out=dW[..., k:, :])
            self._sum_rows(dz, db)
        np.matmul(dz, np.swapaxes(W[..., :k, :], -1, -2), out=dcos)
        np.matmul(dz, np.swapaxes(W[..., k:, :], -1, -2), out=dsin)

    def spec(self):
        spec = {"type": self.type, "kind": self.kind, "frequencies": self.k,
                "sigma": self.sigma, "dim": self.dim, "lite": self.lite}
        if self.inputs != "numeric":
            spec["inputs"] = self.inputs
        return spec if self.positions is None else {**spec, "positions": self.positions}

    def buffer_floats(self):
        """Training: ``y``; ``a``, the spread frequencies, cos, sin and their two gradients
        (``6·f·k``); ``dx`` and its column-major copy; plr: ``z``, a term, ``dy``'s
        column-major copy and ``dz`` (``4·f·dim``); with columns passed through, their
        gathered inputs and the whole ``dx``. An eval pass makes ``a``, the frequencies, cos
        and sin, plr's ``z`` and term, and the gathered inputs."""
        f, k, n_in = self.n_features, self.k, math.prod(self.input_shape)
        out = math.prod(self.output_shape)
        plr = f * self.dim if self.kind == "plr" else 0
        gathered = n_in if self._pass.size else 0
        return (out + 6 * f * k + 2 * f + 4 * plr + 2 * gathered,
                4 * f * k + 2 * plr + gathered, 0)

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
        passed = f" + {self._pass.size} passed through" if self._pass.size else ""
        return f"NumericEmbedding({self.kind}, {f} → {f}×{self.out_dim}{passed}, {detail})"

"""Activation functions: forward in place, derivative taken from the output.

Every activation maps ``z -> y`` elementwise (softmax: along the last axis) and
back-propagates ``dy -> dz`` from the forward *output* ``y`` alone, so a layer
keeps nothing but what it returned (GELU, which is not invertible, is the one
exception: its forward caches ``f'(z)`` in its own reused scratch). All
operations write into caller-owned buffers (``out=``), so the training loop
allocates nothing here.
"""

from __future__ import annotations

import math

import numpy as np


class Activation:
    """Base class. ``init`` names the weight initializer that suits the activation;
    ``scratch`` is the floats per element it keeps aside (the memory estimate counts them)."""

    name: str = "identity"
    init: str = "glorot_uniform"
    scratch: int = 0

    def _scratch(self, shape: tuple, dtype) -> np.ndarray:
        """A view of one flat buffer kept between calls and grown only when too small.

        Hot loops then allocate nothing, and calls of many batch sizes (training's
        last partial batch, predict's last chunk) share one array instead of
        keeping one each. One scratch per call: a second would alias the first.
        """
        size = math.prod(shape)
        flat = self.__dict__.get("_flat")
        if flat is None or flat.size < size or flat.dtype != dtype:
            flat = self._flat = np.empty(size, dtype=dtype)
        return flat[:size].reshape(shape)

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Write ``f(z)`` into ``out`` (which may be ``z`` itself) and return it."""
        raise NotImplementedError

    def backward(self, y: np.ndarray, dy: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``dL/dz`` given the output ``y`` and ``dL/dy``: written into ``out`` and returned,
        or ``dy`` itself where ``f' = 1`` (callers use the return value, never ``out``)."""
        raise NotImplementedError

    def spec(self) -> str | dict:
        """The YAML form of this activation (a name, or a mapping with its options)."""
        return self.name

    def __repr__(self) -> str:
        return self.name


class Identity(Activation):
    """``y = z``; ``dz = dy``."""

    name = "identity"

    def forward(self, z, out):
        if out is not z:
            np.copyto(out, z)
        return out

    def backward(self, y, dy, out):
        return dy  # f' = 1: nothing to compute, nothing to copy


class ReLU(Activation):
    """``y = max(z, 0)``; ``dz = dy · [y > 0]``."""

    name = "relu"
    init = "he_normal"

    def forward(self, z, out):
        return np.maximum(z, 0, out=out)

    def backward(self, y, dy, out):
        # y >= 0, so sign(y) is exactly the 0/1 mask, computed without a temporary.
        np.sign(y, out=out)
        out *= dy
        return out


class LeakyReLU(Activation):
    """``y = z`` for ``z > 0``, else ``slope · z``; ``dz = dy · (1 if y > 0 else slope)``.

    A small negative-side slope keeps a gradient flowing through units whose
    input went negative, the fix for "dying ReLU".
    """

    name = "leaky_relu"
    init = "he_normal"
    scratch = 1  # z·slope

    def __init__(self, slope: float = 0.01):
        if not 0.0 < slope < 1.0:
            raise ValueError(f"leaky_relu slope must be in (0, 1), got {slope}")
        self.slope = float(slope)

    def forward(self, z, out):
        scaled = self._scratch(z.shape, z.dtype)  # out may alias z, so z·slope goes aside
        np.multiply(z, self.slope, out=scaled)
        return np.maximum(z, scaled, out=out)

    def backward(self, y, dy, out):
        # With 0 < slope < 1, sign(y) is +1 or -1 where the derivative is 1 or slope;
        # the affine map s -> (1 + slope)/2 + s·(1 - slope)/2 turns one into the other.
        np.sign(y, out=out)
        out *= (1.0 - self.slope) / 2.0
        out += (1.0 + self.slope) / 2.0
        out *= dy
        return out

    def spec(self):
        return {"name": self.name, "slope": self.slope}

    def __repr__(self) -> str:
        return f"leaky_relu(slope={self.slope:g})"


class Sigmoid(Activation):
    """``y = 1 / (1 + e^{-z})``; ``dz = dy · y(1 − y)``.

    Computed as ``(1 + tanh(z/2)) / 2``, which never overflows for large ``|z|``.
    """

    name = "sigmoid"

    def forward(self, z, out):
        return sigmoid(z, out)

    def backward(self, y, dy, out):
        np.subtract(1.0, y, out=out)
        out *= y
        out *= dy
        return out


class Tanh(Activation):
    """``y = tanh(z)``; ``dz = dy · (1 − y²)``."""

    name = "tanh"

    def forward(self, z, out):
        return np.tanh(z, out=out)

    def backward(self, y, dy, out):
        np.multiply(y, y, out=out)
        np.subtract(1.0, out, out=out)
        out *= dy
        return out


class GELU(Activation):
    """Gaussian error linear unit, tanh approximation (PyTorch's ``GELU(approximate="tanh")``).

    ``y = z/2 · (1 + tanh(u))`` with ``u = √(2/π)·(z + 0.044715·z³)``;
    ``dz = dy · (½(1 + tanh u) + ½·z·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·z²))``.

    GELU is not invertible, so unlike the other activations the derivative cannot
    be read off the output: ``forward`` computes ``f'(z)`` alongside ``f(z)`` and
    keeps it in its scratch, and ``backward`` uses the cached ``f'`` of the last
    ``forward`` (the training step runs one forward, then its backward).
    """

    name = "gelu"
    init = "he_normal"
    scratch = 3  # tanh u, f'(z) and a scratch
    _C = math.sqrt(2.0 / math.pi)
    _A = 0.044715

    def forward(self, z, out):
        views = self.__dict__.get("_views")  # the three views too are kept for a repeated shape
        if views is None or views[0] != (z.shape, z.dtype):
            views = self._views = ((z.shape, z.dtype), *self._scratch((3,) + z.shape, z.dtype))
        _, t, d, s = views  # tanh u, f'(z), scratch (out may alias z)
        np.multiply(z, z, out=s)  # z²
        np.multiply(s, self._A, out=t)
        t += 1.0
        t *= z
        t *= self._C
        np.tanh(t, out=t)  # tanh u
        np.multiply(s, 3.0 * self._A, out=d)
        d += 1.0
        d *= z
        d *= self._C  # √(2/π)·z·(1 + 3a·z²)
        np.multiply(t, t, out=s)
        np.subtract(1.0, s, out=s)
        d *= s
        d *= 0.5
        np.add(t, 1.0, out=s)
        s *= 0.5  # Φ-like factor ½(1 + tanh u)
        d += s
        self._deriv = d
        return np.multiply(z, s, out=out)

    def backward(self, y, dy, out):
        d = self._deriv
        if d.shape != dy.shape:
            raise RuntimeError("gelu backward needs the forward of the same batch just before it")
        return np.multiply(dy, d, out=out)


class Softmax(Activation):
    """``y_i = e^{z_i} / Σ_j e^{z_j}`` over the last axis; ``dz = y ⊙ (dy − Σ(dy ⊙ y))``.

    As a hidden activation only: for classification use the ``cross_entropy``
    loss, which fuses softmax with the loss and works from logits.
    """

    name = "softmax"

    def _row(self, x: np.ndarray) -> np.ndarray:
        return self._scratch(x.shape[:-1] + (1,), x.dtype)

    def forward(self, z, out):
        return softmax(z, out, self._row(z))

    def backward(self, y, dy, out):
        row = self._row(y)
        np.multiply(dy, y, out=out)
        np.sum(out, axis=-1, keepdims=True, out=row)
        np.subtract(dy, row, out=out)
        out *= y
        return out


def sigmoid(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Overflow-free logistic function written into ``out`` (may alias ``z``)."""
    np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def softmax(z: np.ndarray, out: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Max-subtracted softmax over the last axis; ``row`` is scratch of shape
    ``z.shape[:-1] + (1,)``."""
    np.max(z, axis=-1, keepdims=True, out=row)
    np.subtract(z, row, out=out)
    np.exp(out, out=out)
    np.sum(out, axis=-1, keepdims=True, out=row)
    out /= row
    return out


ACTIVATIONS: dict[str, type[Activation]] = {
    "identity": Identity,
    "linear": Identity,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "gelu": GELU,
    "softmax": Softmax,
}


def make_activation(spec: str | dict | Activation | None) -> Activation:
    """Build an activation from its YAML form: a name, or ``{name: ..., **options}``."""
    if isinstance(spec, Activation):
        return spec
    if spec is None:
        return Identity()
    if isinstance(spec, str):
        name, options = spec, {}
    else:
        options = dict(spec)
        name = options.pop("name", None)
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name](**options)

"""Weight initializers, drawn from one seeded ``numpy.random.Generator``.

Each initializer draws zero-mean weights of variance ``gain / fan``: He
(``2 / fan_in``) keeps the variance of ReLU-family activations steady from layer
to layer, Glorot/Xavier (``2 / (fan_in + fan_out)``) does the same for symmetric
ones forward and backward, LeCun (``1 / fan_in``) is the variance SELU-style and
linear layers keep. The normal form has ``std = √(gain / fan)``, the uniform form
``U(−limit, limit)`` with ``limit = √(3·gain / fan)`` (the same variance).

``INITIALIZERS`` is the table, keyed by the YAML name (``model.init``); an
:class:`Init` is the model's choice: ``auto`` (each layer's activation names its
own, :attr:`nnfit.nn.activations.Activation.init`) or one name for every layer,
and a ``scale`` multiplying every std and limit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def _normal(rng: np.random.Generator, out: np.ndarray, gain: float, fan: int,
            scale: float) -> None:
    """Fill ``out`` with N(0, scale²·gain / fan)."""
    rng.standard_normal(out=out, dtype=out.dtype)
    out *= np.sqrt(gain / fan) * scale  # a float64 factor, as ever: the float32 draws depend on it


def uniform(rng: np.random.Generator, out: np.ndarray, limit: float) -> None:
    """Fill ``out`` with U(−limit, limit) as ``2·limit·u − limit`` (FT-Transformer's tokenizer
    and rtdl's embedding maps draw so)."""
    rng.random(out=out, dtype=out.dtype)
    out *= 2.0 * limit
    out -= limit


def _uniform(rng: np.random.Generator, out: np.ndarray, gain: float, fan: int,
             scale: float) -> None:
    """Fill ``out`` with U(−limit, limit), ``limit = scale·√(3·gain / fan)``."""
    rng.random(out=out, dtype=out.dtype)
    out *= 2.0
    out -= 1.0
    out *= np.sqrt(3.0 * gain / fan) * scale


@dataclass(frozen=True)
class Initializer:
    """One row of the table: a distribution (``draw``), the variance's ``gain`` and which
    fan divides it (``fan_in``, or ``fan_sum``: ``fan_in + fan_out``)."""

    draw: Callable[..., None]
    gain: float
    fan: str

    def __call__(self, rng: np.random.Generator, out: np.ndarray, fan_in: int, fan_out: int,
                 scale: float = 1.0) -> None:
        """Fill ``out`` (any shape, drawn in its dtype) in place."""
        self.draw(rng, out, self.gain, fan_in if self.fan == "fan_in" else fan_in + fan_out,
                  scale)

    def variance(self, fan_in: int, fan_out: int) -> float:
        """The variance of the weights drawn (at scale 1)."""
        return self.gain / (fan_in if self.fan == "fan_in" else fan_in + fan_out)


INITIALIZERS: dict[str, Initializer] = {
    "he_normal": Initializer(_normal, 2.0, "fan_in"),
    "he_uniform": Initializer(_uniform, 2.0, "fan_in"),
    "glorot_normal": Initializer(_normal, 2.0, "fan_sum"),
    "glorot_uniform": Initializer(_uniform, 2.0, "fan_sum"),
    "lecun_normal": Initializer(_normal, 1.0, "fan_in"),
    "lecun_uniform": Initializer(_uniform, 1.0, "fan_in"),
}
INIT_NAMES = ("auto", *INITIALIZERS)  # what model.init accepts


@dataclass(frozen=True)
class Init:
    """How a network draws its weights: ``name`` (``auto``: each layer's activation's own
    initializer; else an ``INITIALIZERS`` key for every layer) and ``scale`` (> 0, times
    every std and limit). ``Init()`` is the default: today's draws, bit for bit."""

    name: str = "auto"
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.name not in INIT_NAMES:
            raise ValueError(f"unknown init {self.name!r}; choose from {', '.join(INIT_NAMES)}")
        if not (isinstance(self.scale, (int, float)) and math.isfinite(self.scale)
                and self.scale > 0):
            raise ValueError(f"init scale must be a positive number, got {self.scale!r}")

    def fill(self, rng: np.random.Generator, out: np.ndarray, fan_in: int, fan_out: int,
             auto: str) -> None:
        """Draw ``out`` with this scheme; ``auto`` names the layer's own initializer."""
        INITIALIZERS[auto if self.name == "auto" else self.name](rng, out, fan_in, fan_out,
                                                                 self.scale)

    def __repr__(self) -> str:
        return f"Init({self.name}, scale={self.scale:g})"


AUTO = Init()  # the default scheme: each activation's own initializer, scale 1

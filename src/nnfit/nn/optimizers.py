"""Gradient-descent optimizers that update the flat parameter buffer in place.

An optimizer is bound to a network's ``params`` and ``grads`` vectors; every
``step()`` is a handful of whole-array NumPy operations into preallocated state.
The network lays out the weights that take a penalty first, so both penalties
touch ``params[:n_decay]`` and never a bias:

- ``l2``, the coupled penalty ``L + (λ/2)·‖W‖²``: ``g ← g + λ·W`` before the update,
  so Adam divides it by ``√v̂`` like any gradient (weights with large gradients are
  barely decayed);
- ``weight_decay``, decoupled (Loshchilov & Hutter, "Decoupled Weight Decay
  Regularization", 2019): ``W ← W·(1 − η·λ)`` apart from the gradient step, so every
  weight shrinks at the same relative rate. With Adam this is AdamW; the step
  follows PyTorch's ``AdamW`` (decay first, then the Adam update, both at the
  current ``η``). For plain SGD the two are the same.

``clip_norm`` rescales the whole gradient vector to that global L2 norm when it
is longer (``torch.nn.utils.clip_grad_norm_``), before either penalty.
"""

from __future__ import annotations

import copy
import math

import numpy as np


class Optimizer:
    """Base class: binding, clipping, the two penalties, and the step counter.

    ``vectors`` is how many arrays of ``n_params`` it keeps once bound (the memory
    estimate counts them): its state plus the step's scratch vector. An optimizer
    that does not say is taken to keep three.
    """

    name = "optimizer"
    default_weight_decay = 0.0
    vectors = 3

    def __init__(self, lr: float = 0.001, weight_decay: float | None = None, l2: float = 0.0,
                 clip_norm: float | None = None):
        weight_decay = self.default_weight_decay if weight_decay is None else weight_decay
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, got {lr}")
        if not weight_decay >= 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        if not l2 >= 0:
            raise ValueError(f"l2 must be >= 0, got {l2}")
        if clip_norm is not None and not clip_norm > 0:
            raise ValueError(f"clip_norm must be positive, got {clip_norm}")
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.l2 = float(l2)
        self.clip_norm = None if clip_norm is None else float(clip_norm)
        self.clipped = 0  # steps whose gradient was rescaled
        self.t = 0

    def bind(self, params: np.ndarray, grads: np.ndarray,
             n_decay: int | None = None) -> Optimizer:
        """Attach to flat ``params``/``grads``; the first ``n_decay`` entries take the penalties.

        Packed members bind ``(members, n_params)`` arrays: every step is elementwise, and
        the penalties take each row's first ``n_decay`` (``clip_norm``'s norm would mix the
        rows, so packing is not used with it).
        """
        self.params, self.grads = params, grads
        self.n_decay = params.shape[-1] if n_decay is None else n_decay
        self._tmp = np.zeros_like(params)
        self.t = self.clipped = 0
        self._init_state()
        return self

    def _init_state(self) -> None:
        pass

    def rows(self, keep: list[int], params: np.ndarray, grads: np.ndarray) -> Optimizer:
        """This optimizer of packed ``(members, n_params)`` arrays for the members ``keep``
        only, bound to their new ``params``/``grads``: the same settings and step count,
        and the kept rows of its state (its moments), so their steps go on unchanged."""
        new = copy.copy(self)
        for name, value in vars(self).items():
            if isinstance(value, np.ndarray) and value.shape == self.params.shape:
                setattr(new, name, value[keep])  # a copy of those rows
        new.params, new.grads = params, grads
        return new

    def step(self) -> None:
        """Apply one update from the gradients currently in ``grads``."""
        k = self.n_decay
        if self.clip_norm is not None:
            norm = math.sqrt(float(np.dot(self.grads, self.grads)))
            if norm > self.clip_norm:
                self.grads *= self.clip_norm / norm
                self.clipped += 1
        if self.l2:  # [..., :k]: packed members are rows of (members, n_params) arrays
            np.multiply(self.params[..., :k], self.l2, out=self._tmp[..., :k])
            self.grads[..., :k] += self._tmp[..., :k]
        if self.weight_decay:
            self.params[..., :k] *= 1.0 - self.lr * self.weight_decay
        self.t += 1
        self._update()
        if self.t % FLUSH_EVERY == 0:
            self._flush_state()

    def _update(self) -> None:
        raise NotImplementedError

    def _decaying_state(self) -> tuple[np.ndarray, ...]:
        """State multiplied by a factor < 1 every step (see :func:`flush_subnormals`)."""
        return ()

    def _flush_state(self) -> None:
        for state in self._decaying_state():  # one or two whole arrays
            flush_subnormals(state)

    def __repr__(self) -> str:
        extra = "".join(f", {key}={getattr(self, key):g}" for key in ("weight_decay", "l2")
                        if getattr(self, key))
        clip = f", clip_norm={self.clip_norm:g}" if self.clip_norm is not None else ""
        return f"{self.name}(lr={self.lr:g}{extra}{clip})"


FLUSH_EVERY = 64  # steps between flushes: a decaying value spends ~150 steps as a subnormal


def flush_subnormals(x: np.ndarray) -> None:
    """Set the subnormal entries of ``x`` to zero (or the smallest normal), in place.

    A moving average multiplied by β < 1 while its gradient is 0 (a dead ReLU
    unit) decays into the subnormal range and stays there: ``min_subnormal · 0.9``
    rounds back to ``min_subnormal``. Arithmetic on subnormals is many times
    slower on x86, and with most of a layer dead it made Adam's step 4× slower.
    Adding and subtracting ``c = tiny · 2^(nmant+1)`` rounds every ``|x| < tiny`` to a
    multiple of ``tiny`` (the spacing just below ``c``; ``2·tiny`` above it), so no
    subnormal is left, and moves a normal value by at most ``tiny`` (1.2e-38 in
    float32): two passes, no allocation.
    """
    info = np.finfo(x.dtype)
    c = x.dtype.type(info.tiny * 2.0 ** (info.nmant + 1))
    x += c
    x -= c


class SGD(Optimizer):
    """Plain gradient descent: ``θ ← θ − η·g``."""

    name = "sgd"
    vectors = 1  # the step's scratch

    def _update(self):
        np.multiply(self.grads, self.lr, out=self._tmp)
        self.params -= self._tmp


class Momentum(Optimizer):
    """Heavy-ball momentum on a raw velocity: ``v ← μ·v + g``; ``θ ← θ − η·v``.

    The velocity holds no learning rate (PyTorch's SGD momentum does the same),
    so a new ``lr`` applies at once to everything accumulated. With a constant
    ``η`` the trajectory equals that of ``v ← μ·v − η·g``; ``θ ← θ + v``.
    """

    name = "momentum"
    vectors = 2  # the velocity, the step's scratch

    def __init__(self, lr: float = 0.001, weight_decay: float | None = None, l2: float = 0.0,
                 clip_norm: float | None = None, momentum: float = 0.9):
        super().__init__(lr, weight_decay, l2, clip_norm)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.momentum = float(momentum)

    def _init_state(self):
        self.velocity = np.zeros_like(self.params)

    def _decaying_state(self):
        return (self.velocity,)

    def _advance_velocity(self) -> None:
        self.velocity *= self.momentum
        self.velocity += self.grads

    def _update(self):
        self._advance_velocity()
        np.multiply(self.velocity, self.lr, out=self._tmp)
        self.params -= self._tmp


class Nesterov(Momentum):
    """Nesterov momentum, look-ahead form: ``v ← μ·v + g``; ``θ ← θ − η·(g + μ·v)``.

    The velocity is raw, as in :class:`Momentum`; with a constant ``η`` the
    trajectory equals that of ``v ← μ·v − η·g``; ``θ ← θ + μ·v − η·g``.
    """

    name = "nesterov"

    def _update(self):
        self._advance_velocity()
        np.multiply(self.velocity, self.momentum, out=self._tmp)
        self._tmp += self.grads
        self._tmp *= self.lr
        self.params -= self._tmp


class Adam(Optimizer):
    """Adam (Kingma & Ba, Algorithm 1).

    ``m ← β₁m + (1−β₁)g``, ``v ← β₂v + (1−β₂)g²``,
    ``θ ← θ − η · m̂ / (√v̂ + ε)`` with ``m̂ = m/(1−β₁ᵗ)``, ``v̂ = v/(1−β₂ᵗ)``.

    The moments are stored without their ``(1−β)`` factors, ``m' = m/(1−β₁)`` and
    ``v' = v/(1−β₂)`` (so ``m' ← β₁m' + g``, ``v' ← β₂v' + g²``), and the factors are
    folded into two scalars of the step:
    ``θ ← θ − c · m' / (√v' + ε')`` with ``c = η·(1−β₁)/(1−β₁ᵗ)·√((1−β₂ᵗ)/(1−β₂))`` and
    ``ε' = ε·√((1−β₂ᵗ)/(1−β₂))`` — the same update in ten passes over the parameter
    vector instead of thirteen; the step is most of Adam's cost.
    """

    name = "adam"
    vectors = 3  # the two moments, the step's scratch

    def __init__(self, lr: float = 0.001, weight_decay: float | None = None, l2: float = 0.0,
                 clip_norm: float | None = None, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8):
        super().__init__(lr, weight_decay, l2, clip_norm)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def _init_state(self):
        self.m = np.zeros_like(self.params)  # m / (1 − β₁)
        self.v = np.zeros_like(self.params)  # v / (1 − β₂)

    def _decaying_state(self):
        return self.m, self.v

    def _update(self):
        b1, b2, tmp = self.beta1, self.beta2, self._tmp
        self.m *= b1
        self.m += self.grads
        self.v *= b2
        np.multiply(self.grads, self.grads, out=tmp)
        self.v += tmp
        root = math.sqrt((1.0 - b2**self.t) / (1.0 - b2))
        np.sqrt(self.v, out=tmp)
        tmp += self.eps * root
        np.divide(self.m, tmp, out=tmp)
        tmp *= self.lr * (1.0 - b1) / (1.0 - b1**self.t) * root
        self.params -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay, on by default (λ = 0.01, as in PyTorch):
    ``θ ← θ·(1 − η·λ)``, then the Adam step. See the module docstring for why it
    differs from Adam with ``l2``."""

    name = "adamw"
    default_weight_decay = 0.01


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adam": Adam,
    "adamw": AdamW,
}


def optimizer_class(name: str | Optimizer) -> type[Optimizer]:
    """The optimizer class of a YAML name (or of an optimizer)."""
    if isinstance(name, Optimizer):
        return type(name)
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name]


def make_optimizer(name: str | Optimizer, **options) -> Optimizer:
    """An (unbound) optimizer by its YAML name, e.g. ``make_optimizer("adam", lr=1e-3)``."""
    if isinstance(name, Optimizer):
        return name
    return optimizer_class(name)(**options)

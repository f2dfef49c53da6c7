"""The one gradient-check helper: central finite differences in float64."""

from __future__ import annotations

import numpy as np

TOLERANCE = 1e-6


def numeric_grad(f, v: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d f() / d v by central differences, perturbing ``v`` in place one entry at a time."""
    flat = v.reshape(-1)
    grad = np.empty(flat.size)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        f_plus = f()
        flat[i] = old - eps
        f_minus = f()
        flat[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad.reshape(v.shape)


def rel_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """``‖a − n‖ / (‖a‖ + ‖n‖)``; 0 when both are zero."""
    denom = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    return 0.0 if denom == 0 else float(np.linalg.norm(analytic - numeric) / denom)


def check_network(net, x: np.ndarray, objective=None, rng=None, *, training: bool = False,
                  before=None) -> dict[str, float]:
    """Relative errors of ``dL/dx`` and of every named parameter's gradient.

    ``objective(out) -> (loss, dL/dout)``; by default ``L = Σ R ⊙ out`` for a
    fixed random ``R``, which exercises every output. The finite differences
    run the eval forward, or with ``training=True`` the training one (batch
    statistics); ``before()`` runs before every forward (e.g. reseeding the
    network's generator, so dropout draws the same mask each time).
    """
    before = before or (lambda: None)
    if objective is None:
        rng = rng or np.random.default_rng(1)
        R = rng.standard_normal((x.shape[0],) + net.output_shape)

        def objective(out):
            return float(np.sum(R * out)), R.copy()

    def f():
        before()
        return objective(net.forward(x, training=training))[0]

    before()
    out = net.forward(x, training=True)
    dout = objective(out.copy())[1]
    dx = net.backward(dout).copy()
    analytic = {name: g.copy() for name, g in net.named_grads().items()}
    errors = {"x": rel_error(dx, numeric_grad(f, x))}
    for name, p in net.named_params().items():
        errors[name] = rel_error(analytic[name], numeric_grad(f, p))
    return errors


def assert_gradients_match(errors: dict[str, float], tol: float = TOLERANCE) -> None:
    bad = {k: v for k, v in errors.items() if not v < tol}
    assert not bad, f"gradient check failed (relative error >= {tol}): {bad}"


def away_from_zero(rng, shape, low=0.05, high=2.0) -> np.ndarray:
    """Values of both signs (half each) with magnitudes in [low, high], clear of the ReLU kink."""
    size = int(np.prod(shape))
    signs = rng.permutation(np.where(np.arange(size) % 2, 1.0, -1.0)).reshape(shape)
    return signs * rng.uniform(low, high, size=shape)


def random_targets(loss_name: str, rng, n: int, k: int) -> np.ndarray:
    """Raw targets of the form each loss reads: class indices, 0/1 per output, or floats."""
    if loss_name == "cross_entropy":
        return rng.integers(0, k, size=n)
    if loss_name == "binary_cross_entropy":
        return rng.integers(0, 2, size=(n, k)).astype(float)
    return rng.standard_normal((n, k))

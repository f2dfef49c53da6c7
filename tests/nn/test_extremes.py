"""float32 losses and activations at logits far out: ±1e4, and ±3e38 near float32's largest value.

The expected values are worked out by hand from the loss formulas: with
``z = [[b, −b], [−b, b], [b, −b]]`` every log-sum-exp is ``b`` and every sigmoid 0 or 1.
"""

import numpy as np
import pytest

from nnfit.nn.activations import make_activation
from nnfit.nn.losses import make_loss

F32 = np.float32


def _logits(b):
    return np.array([[b, -b], [-b, b], [b, -b]], F32)


def _value_and_grad(loss, z, y):
    out = np.empty_like(z)
    # As the trainer runs: overflow in float32 intermediates is expected and handled.
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        value = loss.value_and_grad(z, loss.targets(y, F32, 2), out)
    return value, out


@pytest.mark.parametrize("b", [1e4, 3e38])
@pytest.mark.parametrize("weight, expected", [
    (None, 4 / 3),  # rows 2b, 2b, 0: mean 4b/3
    ([1.0, 2.0], 6 / 4),  # w[y] = 2, 1, 1: (2·2b + 1·2b + 0) / 4
])
def test_cross_entropy_stays_finite_and_exact_at_huge_logits(b, weight, expected):
    z = _logits(b)
    big = float(z[0, 0])  # 3e38 as float32 holds it
    value, grad = _value_and_grad(make_loss("cross_entropy", weight), z, np.array([1, 0, 0]))
    assert value == pytest.approx(expected * big, rel=1e-6)
    w = np.array([2.0, 1.0, 1.0]) / 4 if weight else np.full(3, 1 / 3)
    # softmax is one-hot at the larger logit: (p − onehot)·w[y]/Σw
    np.testing.assert_allclose(grad, [[w[0], -w[0]], [-w[1], w[1]], [0, 0]], rtol=1e-6)
    assert grad.dtype == F32
    rows = make_loss("cross_entropy", weight).row_losses(z, np.array([1, 0, 0]))
    assert np.isfinite(rows).all() and rows.mean() == pytest.approx(value, rel=1e-6)


@pytest.mark.parametrize("b", [1e4, 3e38])
@pytest.mark.parametrize("weight, expected", [
    (None, 5 / 3),  # per row: b + b, b + b, 0 + b
    ([1.0, 3.0], None),
])
def test_binary_cross_entropy_stays_finite_and_exact_at_huge_logits(b, weight, expected):
    z = _logits(b)
    big = float(z[0, 0])
    y = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    value, grad = _value_and_grad(make_loss("binary_cross_entropy", weight), z, y)
    if weight is None:
        assert value == pytest.approx(expected * big, rel=1e-6)
        np.testing.assert_allclose(grad, [[1 / 3, -1 / 3], [-1 / 3, 1 / 3], [0, -1 / 3]],
                                   rtol=1e-6)
    else:
        # entry weights w0 + (w1 − w0)·y: [[1, 3], [3, 1], [3, 3]], Σ = 14, k = 2 outputs;
        # entry losses b, b, b, b, 0, b: L = 2·(1 + 3 + 3 + 1 + 0 + 3)·b / 14
        assert value == pytest.approx(22 / 14 * big, rel=1e-6)
        np.testing.assert_allclose(grad, np.array([[1, -3], [-3, 1], [0, -3]]) * 2 / 14,
                                   rtol=1e-6)
    assert np.isfinite(grad).all() and grad.dtype == F32


def test_finite_logits_never_take_the_float64_path_and_infinite_ones_stay_infinite():
    loss = make_loss("cross_entropy")
    z = np.array([[np.inf, 0.0], [0.0, 1.0]], F32)
    value, _ = _value_and_grad(loss, z, np.array([0, 1]))
    assert not np.isfinite(value)  # divergence still shows: the trainer stops on it
    z = np.array([[3e38, -3e38]], F32)
    with np.errstate(over="ignore"):
        in_place = loss.value_and_grad(z, np.array([1]), z)  # out is logits: nothing to redo
    assert in_place == np.inf


@pytest.mark.parametrize("name, y_pos, y_neg, d_pos, d_neg", [
    ("sigmoid", 1.0, 0.0, 0.0, 0.0),
    ("tanh", 1.0, -1.0, 0.0, 0.0),
    ("gelu", 1e4, 0.0, 1.0, 0.0),
    ("leaky_relu", 1e4, -100.0, 1.0, 0.01),
    ("relu", 1e4, 0.0, 1.0, 0.0),
    ("identity", 1e4, -1e4, 1.0, 1.0),
])
def test_activations_at_plus_minus_1e4_are_finite_without_any_overflow(name, y_pos, y_neg, d_pos,
                                                                      d_neg):
    act = make_activation(name)
    z = np.array([[1e4, -1e4]], F32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = act.forward(z.copy(), np.empty_like(z))
        dz = act.backward(y, np.ones_like(z), np.empty_like(z))
    np.testing.assert_allclose(y, [[y_pos, y_neg]], rtol=1e-6, atol=0)
    np.testing.assert_allclose(dz, [[d_pos, d_neg]], rtol=1e-6, atol=0)


def test_softmax_activation_at_huge_logits_is_one_hot():
    act = make_activation("softmax")
    z = np.array([[1e4, -1e4, 0.0], [3e38, -3e38, 0.0]], F32)
    with np.errstate(over="ignore", under="ignore"):
        y = act.forward(z, np.empty_like(z))
        dz = act.backward(y, np.ones_like(z), np.empty_like(z))
    np.testing.assert_array_equal(y, [[1, 0, 0], [1, 0, 0]])
    np.testing.assert_array_equal(dz, np.zeros_like(z))  # a constant dy moves no softmax

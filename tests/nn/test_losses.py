import numpy as np
import pytest
from gradcheck import random_targets, TOLERANCE, numeric_grad, rel_error

from nnfit.nn.losses import LOSSES, make_loss



@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("n,k", [(1, 2), (4, 3), (7, 1), (9, 5)])
def test_loss_gradient_matches_finite_differences(name, n, k):
    k = max(k, 2) if name == "cross_entropy" else k  # two classes at least
    rng = np.random.default_rng(n * 10 + k)
    loss = make_loss(name)
    logits = 2 * rng.standard_normal((n, k))
    y = loss.targets(random_targets(name, rng, n, k), np.float64)
    dlogits = np.empty_like(logits)
    value = loss.value_and_grad(logits, y, dlogits)
    assert value == pytest.approx(loss.value(logits, y))
    numeric = numeric_grad(lambda: loss.value(logits, y), logits)
    assert rel_error(dlogits, numeric) < TOLERANCE


def test_values_by_hand():
    y = np.array([[1.0], [3.0]])
    yhat = np.array([[2.0], [1.0]])
    assert make_loss("mse").value(yhat, y) == pytest.approx((1 + 4) / 2)
    assert make_loss("sse").value(yhat, y) == pytest.approx(1 + 4)
    assert make_loss("rss").value(yhat, y) == pytest.approx(1 + 4)
    # cross-entropy of uniform logits over 4 classes is log 4
    ce = make_loss("cross_entropy")
    assert ce.value(np.zeros((3, 4)), ce.targets([0, 1, 3], np.float64)) == pytest.approx(np.log(4))
    # BCE at logit 0 is log 2 per output
    bce = make_loss("binary_cross_entropy")
    assert bce.value(np.zeros((2, 3)), np.ones((2, 3))) == pytest.approx(3 * np.log(2))


def test_cross_entropy_gradient_is_p_minus_onehot_over_n():
    ce = make_loss("cross_entropy")
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    y = ce.targets([2, 0], np.float64)
    grad = np.empty_like(logits)
    ce.value_and_grad(logits, y, grad)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(grad, (p - np.eye(3)[[2, 0]]) / 2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["cross_entropy", "binary_cross_entropy"])
def test_extreme_logits_stay_finite(name, dtype):
    loss = make_loss(name)
    logits = np.array([[1000.0, -1000.0], [-1000.0, 1000.0], [1000.0, 1000.0]], dtype=dtype)
    raw = [0, 0, 1] if name == "cross_entropy" else [[1, 0], [1, 0], [0, 1]]
    y = loss.targets(raw, dtype)
    grad = np.empty_like(logits)
    value = loss.value_and_grad(logits, y, grad)
    assert np.isfinite(value) and np.isfinite(grad).all()
    # row 0 is confidently right, row 1 confidently wrong by a margin of 2000
    assert value == pytest.approx((0 + 2000 + np.log(2)) / 3 if name == "cross_entropy"
                                  else (0 + 2000 + 1000) / 3, rel=1e-6)
    assert np.isfinite(loss.output(logits)).all()


def test_outputs_are_probabilities_or_values():
    logits = np.array([[0.0, np.log(3.0)]])
    np.testing.assert_allclose(make_loss("cross_entropy").output(logits), [[0.25, 0.75]])
    np.testing.assert_allclose(make_loss("binary_cross_entropy").output(np.array([[0.0]])), [[0.5]])
    np.testing.assert_array_equal(make_loss("mse").output(logits), logits)


def test_cross_entropy_requires_integer_class_indices():
    with pytest.raises(ValueError, match="integer class indices"):
        make_loss("cross_entropy").targets(np.array([0.5, 1.0]), np.float64)


def test_targets_accept_what_fits_the_network():
    np.testing.assert_array_equal(make_loss("cross_entropy").targets([0, 2], np.float32, 3), [0, 2])
    soft = make_loss("binary_cross_entropy").targets([[0.0, 0.25], [1.0, 1.0]], np.float32, 2)
    assert soft.dtype == np.float32 and soft.shape == (2, 2)
    assert make_loss("mse").targets([1.0, 2.0], np.float32, 1).shape == (2, 1)
    # without n_outputs the width is not checked (scoring encoded targets)
    assert make_loss("mse").targets(np.zeros((2, 3)), np.float64).shape == (2, 3)


def test_unknown_loss():
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        make_loss("hinge")


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_row_losses_average_to_the_per_row_loss(name):
    from gradcheck import random_targets

    rng = np.random.default_rng(3)
    loss = make_loss(name)
    logits = rng.standard_normal((11, 3))
    y = loss.targets(random_targets(name, rng, 11, 3), np.float64)
    rows = loss.row_losses(logits, y)
    assert rows.shape == (11,) and rows.dtype == np.float64
    assert rows.mean() == pytest.approx(loss.per_row(logits, y), rel=1e-12)

import numpy as np
import pytest

from gradcheck import TOLERANCE, numeric_grad, random_targets, rel_error
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


# -- class weights ----------------------------------------------------------------------------

WEIGHTED = ("cross_entropy", "binary_cross_entropy")


def _weighted_case(name, n, k, rng):
    """Logits, targets and a class-weighted loss (weights of very different sizes)."""
    loss = make_loss(name, [0.3, 2.5] if name == "binary_cross_entropy"
                     else rng.uniform(0.2, 3.0, size=k))
    logits = 2 * rng.standard_normal((n, k))
    y = loss.targets(random_targets(name, rng, n, k), np.float64)
    return loss, logits, y


@pytest.mark.parametrize("name", WEIGHTED)
@pytest.mark.parametrize("n,k", [(1, 2), (5, 3), (7, 1), (9, 4)])
def test_weighted_loss_gradient_matches_finite_differences(name, n, k):
    k = max(k, 2) if name == "cross_entropy" else k
    rng = np.random.default_rng(100 + n * 10 + k)
    loss, logits, y = _weighted_case(name, n, k, rng)
    dlogits = np.empty_like(logits)
    value = loss.value_and_grad(logits, y, dlogits)
    assert value == pytest.approx(loss.value(logits, y))
    assert rel_error(dlogits, numeric_grad(lambda: loss.value(logits, y), logits)) < TOLERANCE


def test_weighted_binary_cross_entropy_with_soft_targets_matches_finite_differences():
    rng = np.random.default_rng(5)
    loss = make_loss("binary_cross_entropy", [0.5, 4.0])
    logits = rng.standard_normal((7, 3))
    y = loss.targets(rng.uniform(0, 1, size=(7, 3)), np.float64)
    dlogits = np.empty_like(logits)
    loss.value_and_grad(logits, y, dlogits)
    assert rel_error(dlogits, numeric_grad(lambda: loss.value(logits, y), logits)) < TOLERANCE


def test_weighted_losses_by_hand():
    # Row 0: class 1 with p = 3/4 (weight 3); row 1: class 0 with p = 1/2 (weight 1).
    # L = (3·log(4/3) + 1·log 2) / (3 + 1), the same for softmax over two logits and
    # for one sigmoid logit.
    expected = (3 * np.log(4 / 3) + np.log(2)) / 4
    ce = make_loss("cross_entropy", [1.0, 3.0])
    logits = np.array([[0.0, np.log(3.0)], [0.0, 0.0]])
    grad = np.empty_like(logits)
    assert ce.value_and_grad(logits, ce.targets([1, 0], np.float64), grad) == pytest.approx(expected)
    # w[y_i]·(p_i − onehot_i) / Σw: row 0 3·[1/4, −1/4]/4, row 1 1·[−1/2, 1/2]/4
    np.testing.assert_allclose(grad, [[3 / 16, -3 / 16], [-1 / 8, 1 / 8]])
    np.testing.assert_allclose(ce.row_losses(logits, np.array([1, 0])),
                               [3 * np.log(4 / 3) * 2 / 4, np.log(2) * 2 / 4])

    bce = make_loss("binary_cross_entropy", [1.0, 3.0])
    logits = np.array([[np.log(3.0)], [0.0]])
    grad = np.empty_like(logits)
    assert bce.value_and_grad(logits, np.array([[1.0], [0.0]]), grad) == pytest.approx(expected)
    np.testing.assert_allclose(grad, [[3 * (3 / 4 - 1) / 4], [1 * (1 / 2) / 4]])
    np.testing.assert_allclose(bce.row_losses(logits, np.array([[1.0], [0.0]])),
                               [3 * np.log(4 / 3) * 2 / 4, np.log(2) * 2 / 4])


@pytest.mark.parametrize("name", WEIGHTED)
def test_equal_weights_are_the_plain_loss_and_a_constant_factor_changes_nothing(name):
    rng = np.random.default_rng(8)
    k = 3
    plain = make_loss(name)
    logits = rng.standard_normal((11, k))
    y = plain.targets(random_targets(name, rng, 11, k), np.float64)
    weights = [0.5, 2.0] if name == "binary_cross_entropy" else [0.5, 2.0, 1.5]
    g_plain, g = np.empty_like(logits), np.empty_like(logits)
    value = plain.value_and_grad(logits, y, g_plain)
    for equal in (np.ones(len(weights)), np.full(len(weights), 2.5)):  # bit for bit
        loss = make_loss(name, equal)
        assert loss.value_and_grad(logits, y, g) == value
        np.testing.assert_array_equal(g, g_plain)
        np.testing.assert_array_equal(loss.row_losses(logits, y), plain.row_losses(logits, y))
    w, w10 = make_loss(name, weights), make_loss(name, 10 * np.array(weights))
    g10 = np.empty_like(logits)
    assert w10.value_and_grad(logits, y, g10) == pytest.approx(w.value_and_grad(logits, y, g),
                                                               rel=1e-12)
    np.testing.assert_allclose(g10, g, rtol=1e-12)
    assert w.value(logits, y) != pytest.approx(value)  # unequal weights do count
    # the weighted path with weights that happen to be 1 for the rows present: the plain loss
    if name == "cross_entropy":
        present = make_loss(name, [1.0, 1.0, 1.0, 7.0])
        wide = np.column_stack([logits, np.zeros(11)])
        assert present.value(wide, y) == pytest.approx(plain.value(wide, y), rel=1e-12)


@pytest.mark.parametrize("name", WEIGHTED)
def test_weighted_row_losses_average_to_the_weighted_loss(name):
    rng = np.random.default_rng(4)
    loss, logits, y = _weighted_case(name, 13, 3, rng)
    rows = loss.row_losses(logits, y)
    assert rows.shape == (13,) and rows.dtype == np.float64
    assert rows.mean() == pytest.approx(loss.per_row(logits, y), rel=1e-12)


def _reference_cross_entropy(logits, y, out):
    """The unweighted cross-entropy as it was before class weights (the bit-identity oracle)."""
    n = logits.shape[0]
    row, index = np.empty((n, 1), dtype=logits.dtype), np.arange(n)
    np.max(logits, axis=1, keepdims=True, out=row)
    picked = logits[index, y] - row[:, 0]
    np.subtract(logits, row, out=out)
    np.exp(out, out=out)
    np.sum(out, axis=1, keepdims=True, out=row)
    out /= row
    np.log(row, out=row)
    loss = float(np.sum(row[:, 0] - picked)) / n
    out[index, y] -= 1.0
    out /= n
    return loss


def _reference_binary_cross_entropy(logits, y, out):
    from nnfit.nn.activations import sigmoid

    n = logits.shape[0]
    np.abs(logits, out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    total = float(out.sum())
    np.maximum(logits, 0, out=out)
    total += float(out.sum())
    np.multiply(logits, y, out=out)
    total -= float(out.sum())
    sigmoid(logits, out)
    out -= y
    out /= n
    return total / n


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,reference", [("cross_entropy", _reference_cross_entropy),
                                            ("binary_cross_entropy", _reference_binary_cross_entropy)])
def test_the_unweighted_path_is_bit_identical_to_before(name, reference, dtype):
    rng = np.random.default_rng(6)
    loss = make_loss(name)
    logits = (3 * rng.standard_normal((33, 4))).astype(dtype)
    y = loss.targets(random_targets(name, rng, 33, 4), dtype)
    grad, expected = np.empty_like(logits), np.empty_like(logits)
    for _ in range(2):  # the second call runs on the reused scratch
        assert loss.value_and_grad(logits, y, grad) == reference(logits, y, expected)
        np.testing.assert_array_equal(grad, expected)
    assert grad.dtype == np.dtype(dtype)


def _second_call_peak(loss, logits, y, out):
    import tracemalloc

    loss.value_and_grad(logits, y, out)  # the first call allocates the scratch
    tracemalloc.start()
    try:
        loss.value_and_grad(logits, y, out)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", WEIGHTED)
def test_weighted_losses_stay_float32_and_allocate_no_more_than_unweighted(name):
    rng = np.random.default_rng(2)
    n, k = 512, (1 if name == "binary_cross_entropy" else 10)
    logits = rng.standard_normal((n, k)).astype(np.float32)
    plain = make_loss(name)
    y = plain.targets(random_targets(name, rng, n, k), np.float32)
    weighted = make_loss(name, [0.4, 3.0] if k == 1 else np.linspace(0.5, 2.0, k))
    out = np.empty_like(logits)
    assert isinstance(weighted.value_and_grad(logits, y, out), float) and out.dtype == np.float32
    scratch = [a for v in weighted._scratch.values() for a in (v if isinstance(v, tuple) else (v,))
               if a.dtype.kind == "f"]
    assert scratch and {a.dtype for a in scratch} == {np.dtype(np.float32)}
    plain_peak = _second_call_peak(plain, logits, y, out)
    weighted_peak = _second_call_peak(weighted, logits, y, out)
    assert weighted_peak <= plain_peak + 512, (weighted_peak, plain_peak)  # scalars and views only


def test_class_weights_are_checked():
    with pytest.raises(ValueError, match=r"class weights must be positive finite numbers \(got "
                                         r"\[1.0, 0.0\]\)"):
        make_loss("cross_entropy", [1.0, 0.0])
    with pytest.raises(ValueError, match="positive finite"):
        make_loss("binary_cross_entropy", [1.0, np.nan])
    with pytest.raises(ValueError, match="binary_cross_entropy takes 2 class weights"):
        make_loss("binary_cross_entropy", [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="mse takes no class weights"):
        make_loss("mse", [1.0, 2.0])
    ce = make_loss("cross_entropy", [1.0, 2.0])
    with pytest.raises(ValueError, match="cross_entropy has 2 class weights but the network has "
                                         "3 outputs"):
        ce.value(np.zeros((2, 3)), np.array([0, 2]))
    assert repr(ce) == "cross_entropy(weight=[1, 2])" and repr(make_loss("cross_entropy")) == \
        "cross_entropy"


# -- label smoothing ---------------------------------------------------------------------------
SMOOTHED = [("cross_entropy", None), ("cross_entropy", [1.0, 2.0, 0.5]),
            ("binary_cross_entropy", None), ("binary_cross_entropy", [0.5, 2.0])]


@pytest.mark.parametrize("name,weight", SMOOTHED)
@pytest.mark.parametrize("smoothing", [0.1, 0.4])
def test_smoothed_losses_pass_the_gradient_check_and_rows_average_to_them(name, weight, smoothing):
    rng = np.random.default_rng(3)
    k = 3 if name == "cross_entropy" else 2
    logits = rng.normal(size=(7, k)) * 2
    loss = make_loss(name, weight, smoothing)
    y = loss.targets(random_targets(name, rng, 7, k), np.float64)
    grad = np.empty_like(logits)
    value = loss.value_and_grad(logits, y, grad)
    assert rel_error(grad, numeric_grad(lambda: loss.value(logits, y), logits)) < TOLERANCE
    assert loss.row_losses(logits, y).mean() == pytest.approx(value, rel=1e-12)
    assert value != pytest.approx(make_loss(name, weight).value(logits, y))
    for dtype in (np.float32,):  # the float32 path stays float32 and agrees
        out = np.empty(logits.shape, dtype)
        got = loss.value_and_grad(logits.astype(dtype), loss.targets(y, dtype), out)
        assert out.dtype == dtype and got == pytest.approx(value, rel=1e-5)


def test_smoothing_by_hand():
    """Two classes, z = (ln 3, 0): p = (¾, ¼); true class 0, ε = 0.2: t = (0.9, 0.1).
    H(t, p) = −0.9·ln ¾ − 0.1·ln ¼ = 0.397543; H(t) = −0.9·ln 0.9 − 0.1·ln 0.1 = 0.325083;
    the loss is their difference KL(t‖p) = 0.072460, and dL/dz = p − t = (−0.15, 0.15).
    The sigmoid of the same logit difference gives the same numbers."""
    ce = make_loss("cross_entropy", smoothing=0.2)
    z = np.array([[np.log(3.0), 0.0]])
    grad = np.empty_like(z)
    assert ce.value_and_grad(z, np.array([0]), grad) == pytest.approx(0.0724600, abs=1e-6)
    np.testing.assert_allclose(grad, [[-0.15, 0.15]], atol=1e-12)
    bce = make_loss("binary_cross_entropy", smoothing=0.2)
    zb = np.array([[np.log(3.0)]])
    gb = np.empty_like(zb)
    assert bce.value_and_grad(zb, np.array([[1.0]]), gb) == pytest.approx(0.0724600, abs=1e-6)
    np.testing.assert_allclose(gb, [[-0.15]], atol=1e-12)
    # a perfect fit of the soft target costs nothing, as a perfect fit does unsmoothed
    t = np.array([[0.9 + 0.1 / 3, 0.1 / 3, 0.1 / 3]])
    assert make_loss("cross_entropy", smoothing=0.1).value(np.log(t), np.array([0])) \
        == pytest.approx(0.0, abs=1e-12)


def test_zero_smoothing_is_the_plain_loss_bit_for_bit():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(9, 3)).astype(np.float32)
    y = rng.integers(0, 3, 9)
    for weight in (None, [1.0, 2.0, 3.0]):
        a, b = np.empty_like(z), np.empty_like(z)
        plain = make_loss("cross_entropy", weight).value_and_grad(z, y, a)
        assert make_loss("cross_entropy", weight, 0.0).value_and_grad(z, y, b) == plain
        np.testing.assert_array_equal(a, b)


def test_smoothing_is_checked_and_only_for_classification():
    with pytest.raises(ValueError, match="mse takes no label smoothing"):
        make_loss("mse", smoothing=0.1)
    for bad in (1.0, -0.1, True):
        with pytest.raises(ValueError, match=r"label smoothing must be in \[0, 1\)"):
            make_loss("cross_entropy", smoothing=bad)
    assert repr(make_loss("cross_entropy", [1, 2], 0.1)) == \
        "cross_entropy(weight=[1, 2], smoothing=0.1)"

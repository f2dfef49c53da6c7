"""nnfit.nn.skip: the linear skip path, ``logits = f(x) + x·W_skip``, in the flat buffer."""

import numpy as np
import pytest

from gradcheck import assert_gradients_match, away_from_zero, check_network
from nnfit.nn.build import build_network, plan_network
from nnfit.nn.losses import make_loss
from nnfit.nn.optimizers import make_optimizer

MLP = [{"type": "dense", "units": 5, "activation": "tanh"}, {"type": "dense", "units": 3}]
ATTENTION = [{"type": "tokens", "dim": 4, "cls": True}, {"type": "attention", "dim": 4},
             {"type": "pool"}, {"type": "dense", "units": 3}]


def _skipped(layers=MLP, dtype="float64", seed=0):
    net = build_network(layers, n_features=4, dtype=dtype, seed=seed, linear_skip=True)
    net.param("skip.W")[...] = np.random.default_rng(9).normal(size=(4, 3))
    return net


def test_the_skip_starts_at_zero_and_leaves_the_stacks_draws_alone():
    plain = build_network(MLP, n_features=4, seed=2)
    net = build_network(MLP, n_features=4, seed=2, linear_skip=True)
    assert not net.param("skip.W").any() and net.param("skip.W").shape == (4, 3)
    for name, value in plain.named_params().items():
        np.testing.assert_array_equal(net.param(name), value)
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    np.testing.assert_array_equal(net.predict(x), plain.predict(x))


def test_the_skip_is_a_decaying_weight_in_the_one_buffer():
    net = build_network(MLP, n_features=4, linear_skip=True)
    slot = next(s for s in net.layout if s.name == "skip.W")
    assert slot.decays and slot.offset + slot.size <= net.n_decay
    assert np.shares_memory(net.skip.params["W"], net.params)
    assert np.shares_memory(net.skip.grads["W"], net.grads)
    assert net.n_params == 4 * 5 + 5 + 5 * 3 + 3 + 4 * 3
    # weight decay reaches it: one AdamW step on zero gradients shrinks it by lr·λ
    net.param("skip.W")[...] = 1.0
    opt = make_optimizer("adamw", lr=0.1, weight_decay=0.5)
    net.grads[...] = 0.0
    opt.bind(net.params, net.grads, net.n_decay)
    opt.step()
    np.testing.assert_allclose(net.param("skip.W"), 1.0 - 0.1 * 0.5, rtol=1e-6)


def test_outputs_by_hand():
    """f(x) + x·W: the stack's output plus the linear model, in every pass."""
    net = _skipped()
    x = np.array([[1.0, 0.0, -2.0, 0.5], [0.0, 3.0, 1.0, -1.0]])
    W = net.param("skip.W").copy()
    stack = x
    for layer in net.layers:
        stack = layer.forward(stack)
    want = stack + x @ W
    np.testing.assert_allclose(net.predict(x), want, rtol=1e-12)
    np.testing.assert_allclose(net.predict(x, batch_size=1), want, rtol=1e-12)
    np.testing.assert_allclose(net.forward(x), want, rtol=1e-12)
    np.testing.assert_allclose(net.forward(x, training=True), want, rtol=1e-12)
    # backward: dW_skip = xᵀ·dlogits
    dout = np.array([[1.0, -1.0, 0.5], [2.0, 0.0, 1.0]])
    net.backward(dout, need_dx=False)
    np.testing.assert_allclose(net.grad("skip.W"), x.T @ dout, rtol=1e-12)


@pytest.mark.parametrize("layers", [MLP, ATTENTION], ids=["dense", "attention"])
@pytest.mark.parametrize("loss_name", ["cross_entropy", "mse"])
def test_the_whole_network_with_the_skip_passes_the_gradient_check(layers, loss_name):
    rng = np.random.default_rng(4)
    net = _skipped(layers)
    x = away_from_zero(rng, (6, 4))
    loss = make_loss(loss_name)
    y = loss.targets(rng.integers(0, 3, 6) if loss_name == "cross_entropy"
                     else rng.normal(size=(6, 3)), np.float64)

    def objective(out):
        grad = np.empty_like(out)
        return loss.value_and_grad(out, y, grad), grad

    errors = check_network(net, x, objective)
    assert "skip.W" in errors
    assert_gradients_match(errors)


def test_the_last_layers_output_is_not_overwritten():
    """The skip adds into its own buffer: a last layer whose backward reads its output
    (tanh: 1 − y²) must still find it."""
    layers = [{"type": "dense", "units": 3, "activation": "tanh"}]
    net = _skipped(layers)
    x = away_from_zero(np.random.default_rng(1), (5, 4))
    assert_gradients_match(check_network(net, x))


def test_only_rows_of_features_in_and_a_vector_out():
    with pytest.raises(ValueError, match="linear_skip needs rows of features in"):
        build_network([{"type": "dense", "units": 2}], input_shape=(3, 4), linear_skip=True)
    with pytest.raises(ValueError, match="one vector per row out"):
        build_network([{"type": "tokens", "dim": 4}], n_features=3, linear_skip=True)


def test_the_plan_counts_it_and_the_summary_shows_it():
    planned = plan_network(MLP, (4,), linear_skip=True)
    net = build_network(MLP, n_features=4, linear_skip=True)
    assert sum(layer.n_params for layer in planned) == net.n_params
    assert net.summary()[-1] == ("LinearSkip(4 → 3)", (3,), 12)
    assert net.macs_per_row() == 4 * 5 + 5 * 3 + 4 * 3
    assert "LinearSkip(4 → 3)" in repr(net)


def test_the_float32_path_stays_float32():
    net = build_network(MLP, n_features=4, seed=0, linear_skip=True)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    out = net.forward(x, training=True)
    assert out.dtype == np.float32 and net.predict(x).dtype == np.float32
    net.backward(np.ones((5, 3), np.float32), need_dx=False)
    assert net.grads.dtype == np.float32 and net.grad("skip.W").any()

import numpy as np
import pytest

from gradcheck import assert_gradients_match, check_network, random_targets
from nnfit.nn.build import build_network, make_layer
from nnfit.nn.losses import make_loss


def _block(n_tokens, dim, heads, dtype="float64", seed=0, **options):
    net = build_network([{"type": "attention", "dim": dim, "heads": heads, **options}],
                        input_shape=(n_tokens, dim), dtype=dtype, seed=seed)
    rng = np.random.default_rng(seed + 100)
    net.params += 0.3 * rng.standard_normal(net.params.shape)  # γ, β and biases away from 1 and 0
    return net


@pytest.mark.parametrize("n,n_tokens,dim", [(1, 3, 3), (3, 5, 4), (4, 2, 5)])
def test_one_head_gradients(n, n_tokens, dim):
    rng = np.random.default_rng(n)
    net = _block(n_tokens, dim, 1, seed=n)
    assert_gradients_match(check_network(net, rng.standard_normal((n, n_tokens, dim)), rng=rng))


@pytest.mark.parametrize("n,n_tokens,dim,heads", [(1, 3, 4, 2), (5, 4, 6, 3), (3, 7, 6, 2)])
def test_multi_head_gradients(n, n_tokens, dim, heads):
    rng = np.random.default_rng(n + heads)
    net = _block(n_tokens, dim, heads, seed=n, ffn=1.5)
    assert_gradients_match(check_network(net, rng.standard_normal((n, n_tokens, dim)), rng=rng))


@pytest.mark.parametrize("n,n_tokens,dim,heads", [(1, 3, 4, 2), (4, 5, 6, 3)])
def test_gelu_feed_forward_gradients(n, n_tokens, dim, heads):
    rng = np.random.default_rng(n + 10)
    net = _block(n_tokens, dim, heads, seed=n, ffn=1.5, activation="gelu")
    assert net.layers[0].subs["ffn1"].activation.name == "gelu"
    assert_gradients_match(check_network(net, rng.standard_normal((n, n_tokens, dim)), rng=rng))


def test_gelu_is_refused_outside_relu_or_gelu():
    with pytest.raises(ValueError, match="relu, gelu"):
        make_layer({"type": "attention", "dim": 4, "activation": "tanh"})


def test_gradients_with_a_fixed_dropout_mask():
    rng = np.random.default_rng(4)
    net = _block(4, 4, 2, seed=2, dropout=0.3)
    assert_gradients_match(check_network(net, rng.standard_normal((3, 4, 4)), rng=rng, training=True,
                                         before=lambda: net.set_rng(np.random.default_rng(7))))


@pytest.mark.parametrize("loss_name", ["cross_entropy", "mse"])
@pytest.mark.parametrize("n,n_features,cls", [(1, 3, True), (5, 4, False), (7, 5, True)])
def test_full_stack_gradients(loss_name, n, n_features, cls):
    rng = np.random.default_rng(n)
    layers = [{"type": "tokens", "dim": 6, "cls": cls},
              {"type": "attention", "dim": 6, "heads": 2},
              {"type": "attention", "dim": 6, "heads": 3, "ffn": 1},
              {"type": "pool"}, {"type": "dense", "units": 3}]
    net = build_network(layers, n_features=n_features, dtype="float64", seed=n)
    net.params += 0.1 * rng.standard_normal(net.params.shape)
    loss = make_loss(loss_name)
    y = loss.targets(random_targets(loss_name, rng, n, 3), np.float64)

    def objective(out):
        grad = np.empty_like(out)
        return loss.value_and_grad(out, y, grad), grad

    assert_gradients_match(check_network(net, rng.standard_normal((n, n_features)), objective))


def test_each_heads_weights_sum_to_one_over_the_keys():
    net = _block(5, 8, 4, dtype="float32")
    x = np.random.default_rng(0).standard_normal((3, 5, 8)).astype(np.float32)
    net.forward(x, training=True)
    w = net.layers[0].attention_weights
    assert w.shape == (3, 4, 5, 5) and (w >= 0).all()
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-6)
    assert not np.allclose(w[:, 0], w[:, 1])  # the heads differ


def test_permuting_the_tokens_permutes_the_output():
    net = build_network([{"type": "attention", "dim": 6, "heads": 3},
                         {"type": "attention", "dim": 6, "heads": 2}],
                        input_shape=(5, 6), dtype="float64")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 5, 6))
    perm = rng.permutation(5)
    np.testing.assert_allclose(net.forward(x[:, perm]), net.forward(x)[:, perm], atol=1e-12)


def test_training_and_predict_forward_agree_and_stay_float32():
    net = _block(5, 8, 2, dtype="float32")
    x = np.random.default_rng(0).standard_normal((9, 5, 8)).astype(np.float32)
    y = net.forward(x, training=True).copy()
    np.testing.assert_allclose(net.predict(x, batch_size=4), y, rtol=1e-5, atol=1e-6)
    net.backward(np.ones_like(y))
    layer = net.layers[0]
    arrays = [y, net.predict(x), net.grads] + list(layer._buffers.values())
    arrays += [b for sub in layer.subs.values() for b in sub._buffers.values()]
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}


def test_training_steps_allocate_no_more_for_a_bigger_batch():
    """No per-batch arrays: what a step allocates does not grow with the batch.

    What it does allocate are NumPy's ufunc iterator buffers for broadcast
    operands (as LayerNorm's and Dense's bias adds do), capped at 8192 elements
    per operand: both batches here are past that cap.
    """
    import tracemalloc

    def peak(n):
        net = _block(5, 8, 2, dtype="float32")
        x = np.ones((n, 5, 8), np.float32)
        dy = np.ones((n, 5, 8), np.float32)
        for _ in range(2):
            tracemalloc.start()
            net.forward(x, training=True)
            net.backward(dy, need_dx=True)
            result = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        return result

    assert peak(8192) - peak(2048) < 2_000


def test_spec_repr_params_and_errors():
    spec = {"type": "attention", "dim": 16, "heads": 4, "ffn": 2, "dropout": 0.1,
            "activation": "gelu"}
    assert make_layer(spec).spec() == spec
    assert make_layer({"type": "attention", "dim": 8}).spec() == {
        "type": "attention", "dim": 8, "heads": 1, "ffn": 2, "dropout": 0.0, "activation": "relu"}
    assert repr(make_layer(spec)) == "Attention(dim=16, heads=4)"
    net = build_network([spec], input_shape=(3, 16))
    d, hidden = 16, 32
    expected = 2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * hidden + hidden) + (hidden * d + d)
    assert net.n_params == expected
    assert net.summary() == [("Attention(dim=16, heads=4)", (3, 16), expected)]
    assert {s.name for s in net.layout} >= {"0.qkv.W", "0.out.W", "0.ln1.gamma", "0.ffn2.b"}
    with pytest.raises(ValueError, match="attention dim 6 is not divisible by heads 4"):
        make_layer({"type": "attention", "dim": 6, "heads": 4})
    with pytest.raises(ValueError, match=r"attention takes tokens \(tokens, 8\)"):
        build_network([{"type": "attention", "dim": 8}], input_shape=(3, 6))
    with pytest.raises(ValueError, match="dropout must be in"):
        make_layer({"type": "attention", "dim": 8, "dropout": 1.0})


def test_a_network_rebuilt_from_its_specs_predicts_the_same():
    layers = [{"type": "tokens", "dim": 8, "cls": True}, {"type": "attention", "dim": 8, "heads": 2},
              {"type": "attention", "dim": 8, "heads": 4, "ffn": 1.5, "dropout": 0.1},
              {"type": "pool"}, {"type": "dense", "units": 3}]
    net = build_network(layers, n_features=5, seed=3)
    again = build_network(net.specs(), n_features=5, seed=4)
    assert again.specs() == net.specs() and again.layout == net.layout
    again.params[...] = net.params
    x = np.random.default_rng(0).standard_normal((11, 5)).astype(np.float32)
    np.testing.assert_array_equal(again.predict(x, batch_size=4), net.predict(x, batch_size=4))

import numpy as np
import pytest

from gradcheck import assert_gradients_match, check_network
from nnfit.nn.build import build_network, make_layer
from nnfit.nn.normalization import BatchNorm, LayerNorm


def _perturbed(net, rng, scale=0.3):
    net.params += scale * rng.standard_normal(net.params.shape)  # γ away from 1, β from 0
    return net


@pytest.mark.parametrize("shape", [(2, 3), (5, 3), (7, 4), (3, 5, 4), (1, 7, 3)],
                         ids=["batch2", "batch5", "batch7-odd", "tokens", "one-row-tokens"])
def test_batchnorm_gradients_in_training_mode(shape):
    rng = np.random.default_rng(shape[0])
    net = _perturbed(build_network([{"type": "batchnorm"}], input_shape=shape[1:],
                                   dtype="float64"), rng)
    x = rng.standard_normal(shape) * 2.0 + 1.0
    assert_gradients_match(check_network(net, x, rng=rng, training=True))


@pytest.mark.parametrize("n", [3, 9])
def test_batchnorm_between_dense_layers_gradients(n):
    rng = np.random.default_rng(n)
    layers = [{"type": "dense", "units": 5, "activation": "tanh"}, {"type": "batchnorm"},
              {"type": "dense", "units": 3, "activation": "sigmoid"}]
    net = _perturbed(build_network(layers, n_features=4, dtype="float64", seed=2), rng, 0.1)
    x = rng.standard_normal((n, 4))
    assert_gradients_match(check_network(net, x, rng=rng, training=True))


@pytest.mark.parametrize("shape", [(1, 4), (5, 3), (7, 5), (3, 4, 5), (2, 7, 3)],
                         ids=["batch1", "batch5", "batch7-odd", "tokens", "tokens-odd"])
def test_layernorm_gradients(shape):
    rng = np.random.default_rng(sum(shape))
    net = _perturbed(build_network([{"type": "layernorm"}], input_shape=shape[1:],
                                   dtype="float64"), rng)
    x = rng.standard_normal(shape) * 3.0 - 1.0
    assert_gradients_match(check_network(net, x, rng=rng))


def test_batchnorm_training_output_and_running_stats_worked_example():
    net = build_network([{"type": "batchnorm"}], n_features=2, dtype="float64")
    x = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]])
    y = net.forward(x, training=True)
    # batch mean [3, 6]; biased var [8/3, 32/3]; unbiased [4, 16]
    np.testing.assert_allclose(y[:, 0], np.array([-2.0, 0.0, 2.0]) / np.sqrt(8 / 3 + 1e-5))
    np.testing.assert_allclose(y[:, 1], np.array([-4.0, 0.0, 4.0]) / np.sqrt(32 / 3 + 1e-5))
    # PyTorch: running = 0.9·running + 0.1·batch, from mean 0 and var 1
    np.testing.assert_allclose(net.state_view("0.running_mean"), [0.3, 0.6])
    np.testing.assert_allclose(net.state_view("0.running_var"), [1.3, 2.5])
    net.forward(x, training=True)
    np.testing.assert_allclose(net.state_view("0.running_mean"), [0.57, 1.14])
    np.testing.assert_allclose(net.state_view("0.running_var"), [1.57, 3.85])
    np.testing.assert_allclose(net.forward(x),
                               (x - [0.57, 1.14]) / np.sqrt(np.array([1.57, 3.85]) + 1e-5))


def test_batchnorm_momentum_and_one_row_batches():
    net = build_network([{"type": "batchnorm", "momentum": 0.5}], n_features=2, dtype="float64")
    net.param("0.beta")[...] = [0.25, -1.0]
    net.forward(np.array([[2.0, 4.0], [4.0, 8.0]]), training=True)
    np.testing.assert_allclose(net.state, [1.5, 3.0, 1.5, 4.5])  # mean, then var (unbiased 2, 8)
    y = net.forward(np.array([[7.0, 7.0]]), training=True)  # no variance: β, stats untouched
    np.testing.assert_array_equal(y, [[0.25, -1.0]])
    np.testing.assert_allclose(net.state, [1.5, 3.0, 1.5, 4.5])


def test_batchnorm_over_tokens_uses_every_token():
    net = build_network([{"type": "batchnorm", "momentum": 1.0}], input_shape=(2, 3),
                        dtype="float64")
    x = np.random.default_rng(0).standard_normal((4, 2, 3))
    y = net.forward(x, training=True)
    flat = x.reshape(-1, 3)
    np.testing.assert_allclose(net.state_view("0.running_mean"), flat.mean(axis=0))
    np.testing.assert_allclose(net.state_view("0.running_var"), flat.var(axis=0, ddof=1))
    np.testing.assert_allclose(y.reshape(-1, 3).mean(axis=0), 0.0, atol=1e-12)


def test_batchnorm_one_row_prediction_equals_the_row_in_a_batch():
    rng = np.random.default_rng(3)
    net = build_network([{"type": "batchnorm"}], n_features=4)
    for _ in range(5):  # move the running statistics away from 0 and 1
        net.forward(rng.standard_normal((16, 4)).astype(np.float32) * 3 + 2.0, training=True)
    net.params += rng.standard_normal(net.params.shape).astype(np.float32)
    x = rng.standard_normal((9, 4)).astype(np.float32)
    batch = net.predict(x)
    saved = net.state.copy()
    assert not np.allclose(net.forward(x, training=True), batch)  # eval is not batch stats
    net.state[...] = saved
    for i in range(9):
        np.testing.assert_array_equal(net.predict(x[i:i + 1]), batch[i:i + 1])
        np.testing.assert_array_equal(net.forward(x[i:i + 1]), batch[i:i + 1])


def test_batchnorm_in_a_stack_predicts_one_row_as_in_a_batch():
    rng = np.random.default_rng(4)
    layers = [{"type": "dense", "units": 6, "activation": "relu"}, {"type": "batchnorm"},
              {"type": "dense", "units": 2}]
    net = build_network(layers, n_features=4, seed=1)
    for _ in range(5):
        net.forward(rng.standard_normal((16, 4)).astype(np.float32) + 2.0, training=True)
    x = rng.standard_normal((9, 4)).astype(np.float32)
    batch = net.predict(x)
    rows = np.concatenate([net.predict(x[i:i + 1]) for i in range(9)])
    np.testing.assert_allclose(rows, batch, rtol=1e-5, atol=1e-6)  # BLAS rounds 1 row differently


def test_state_is_a_flat_buffer_apart_from_the_parameters():
    layers = [{"type": "dense", "units": 3}, {"type": "batchnorm"}, {"type": "layernorm"},
              {"type": "batchnorm"}]
    net = build_network(layers, input_shape=(2, 4))
    assert [(s.name, s.shape, s.offset) for s in net.state_layout] == [
        ("1.running_mean", (3,), 0), ("1.running_var", (3,), 3),
        ("3.running_mean", (3,), 6), ("3.running_var", (3,), 9)]
    assert net.n_state == net.state.size == 12 and net.state.dtype == np.float32
    np.testing.assert_array_equal(net.state, [0] * 3 + [1] * 3 + [0] * 3 + [1] * 3)
    bn = net.layers[1]
    assert np.shares_memory(bn.state["running_var"], net.state)
    assert not np.shares_memory(bn.state["running_var"], net.params)
    assert set(net.named_state()) == {"1.running_mean", "1.running_var",
                                      "3.running_mean", "3.running_var"}
    # γ and β are parameters without weight decay, after every decaying weight
    assert [s.name for s in net.layout if not s.decays] == [
        "0.b", "1.gamma", "1.beta", "2.gamma", "2.beta", "3.gamma", "3.beta"]
    assert net.n_decay == 4 * 3
    with pytest.raises(KeyError, match="no state '0.W'"):
        net.state_view("0.W")
    assert build_network([{"type": "dense", "units": 2}], n_features=2).state.size == 0


def test_restoring_state_restores_eval_outputs():
    rng = np.random.default_rng(0)
    layers = [{"type": "batchnorm"}, {"type": "dense", "units": 2}]
    a = build_network(layers, n_features=3, seed=4)
    a.forward(rng.standard_normal((8, 3)).astype(np.float32) * 3 + 1, training=True)
    b = build_network(a.specs(), n_features=3, seed=9)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    b.params[...] = a.params
    assert not np.array_equal(b.predict(x), a.predict(x))
    b.state[...] = a.state
    np.testing.assert_array_equal(b.predict(x), a.predict(x))


def test_specs_and_reprs():
    for spec in [{"type": "batchnorm", "momentum": 0.2, "eps": 1e-3},
                 {"type": "layernorm", "eps": 1e-6}]:
        assert make_layer(spec).spec() == spec
    net = build_network([{"type": "batchnorm"}, {"type": "layernorm"}], input_shape=(5, 16))
    assert net.specs() == [{"type": "batchnorm", "momentum": 0.1, "eps": 1e-5},
                           {"type": "layernorm", "eps": 1e-5}]
    assert [repr(layer) for layer in net.layers] == ["BatchNorm(16)", "LayerNorm(16)"]
    assert repr(BatchNorm()) == "BatchNorm(?)" and repr(LayerNorm()) == "LayerNorm(?)"
    assert net.summary() == [("BatchNorm(16)", (5, 16), 32), ("LayerNorm(16)", (5, 16), 32)]
    assert build_network(net.specs(), input_shape=(5, 16)).specs() == net.specs()


@pytest.mark.parametrize("spec,message", [
    ({"type": "batchnorm", "momentum": 1.5}, r"momentum must be in \[0, 1\]"),
    ({"type": "batchnorm", "eps": 0}, "eps must be positive"),
    ({"type": "layernorm", "eps": -1e-5}, "eps must be positive"),
])
def test_bad_normalization_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        make_layer(spec)


def test_layernorm_normalizes_each_token_and_ignores_the_batch():
    net = build_network([{"type": "layernorm"}], input_shape=(3, 6), dtype="float64")
    x = np.random.default_rng(1).standard_normal((4, 3, 6)) * 5 + 2
    y = net.forward(x, training=True).copy()
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(net.forward(x), y, rtol=1e-14)
    np.testing.assert_allclose(net.forward(x[2:3]), y[2:3], rtol=1e-14)

import tracemalloc

import numpy as np
import pytest

from gradcheck import assert_gradients_match, away_from_zero, check_network, random_targets
from nnfit.nn.activation_layer import ActivationLayer
from nnfit.nn.build import build_network
from nnfit.nn.losses import make_loss
from nnfit.nn.optimizers import OPTIMIZERS, make_optimizer

DEEP = [
    {"type": "dense", "units": 6, "activation": "relu"},
    {"type": "dense", "units": 5, "activation": {"name": "leaky_relu", "slope": 0.3}},
    {"type": "activation", "activation": "tanh"},
    {"type": "dense", "units": 4, "activation": "sigmoid"},
    {"type": "dense", "units": 4, "activation": "softmax"},
    {"type": "dense", "units": 3},
]



@pytest.mark.parametrize("loss_name", ["mse", "sse", "cross_entropy", "binary_cross_entropy"])
@pytest.mark.parametrize("n", [1, 5, 11])
def test_deep_mixed_stack_with_loss_gradients(loss_name, n):
    rng = np.random.default_rng(n)
    net = build_network(DEEP, n_features=4, dtype="float64", seed=5)
    net.params += 0.05 * rng.standard_normal(net.params.shape)
    x = away_from_zero(rng, (n, 4))
    loss = make_loss(loss_name)
    y = loss.targets(random_targets(loss_name, rng, n, 3), np.float64)

    def objective(out):
        grad = np.empty_like(out)
        return loss.value_and_grad(out, y, grad), grad

    assert_gradients_match(check_network(net, x, objective))


def test_params_are_views_into_one_flat_buffer():
    net = build_network(DEEP, n_features=4)
    layer = net.layers[0]
    assert np.shares_memory(layer.params["W"], net.params)
    assert np.shares_memory(layer.grads["b"], net.grads)
    net.params[...] = 0.0
    assert not layer.params["W"].any()
    assert net.n_params == sum(layer.n_params for layer in net.layers) == net.params.size
    assert net.n_params == (4 * 6 + 6) + (6 * 5 + 5) + (5 * 4 + 4) + (4 * 4 + 4) + (4 * 3 + 3)


def test_backward_fills_every_gradient_and_can_skip_dx():
    rng = np.random.default_rng(0)
    net = build_network(DEEP, n_features=4, dtype="float64")
    net.forward(rng.standard_normal((8, 4)), training=True)
    net.grads[...] = np.nan
    assert net.backward(np.ones((8, 3)), need_dx=False) is None
    assert np.isfinite(net.grads).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [1, 5, 7, 23, 103])
def test_predict_in_chunks_equals_one_forward(n, dtype):
    rng = np.random.default_rng(n)
    net = build_network(DEEP, n_features=4, dtype=dtype)
    x = rng.standard_normal((n, 4))  # float64: a float32 network casts it chunk by chunk
    expected = net.forward(x.astype(dtype))
    for chunk in (7, 4096):
        y = net.predict(x, batch_size=chunk)
        assert y.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(y, expected)


class Spy(ActivationLayer):
    """Identity layer that keeps every output it returns."""

    def __init__(self):
        super().__init__("identity")
        self.seen = []

    def forward(self, x, training=False, out=None):
        self.seen.append(super().forward(x, training, out))
        return self.seen[-1]


def test_predict_reuses_one_scratch_across_chunks_and_writes_the_result_in_place():
    hidden, last = Spy(), Spy()
    net = build_network([{"type": "dense", "units": 5, "activation": "tanh"}, hidden,
                         {"type": "dense", "units": 2}, last], n_features=3)
    y = net.predict(np.ones((23, 3)), batch_size=7)
    assert [a.shape[0] for a in hidden.seen] == [7, 7, 7, 2]
    assert all(np.shares_memory(a, hidden.seen[0]) for a in hidden.seen)
    assert all(np.shares_memory(a, y) for a in last.seen)


def _predict_peak(net, x, chunk):
    tracemalloc.start()
    try:
        net.predict(x, batch_size=chunk)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_predict_scratch_does_not_grow_with_rows():
    layers = [{"type": "dense", "units": 64, "activation": "relu"},
              {"type": "dense", "units": 64, "activation": {"name": "leaky_relu", "slope": 0.1}},
              {"type": "dense", "units": 3}]
    net = build_network(layers, n_features=20)
    x = np.random.default_rng(0).standard_normal((10_000, 20))  # float64: cast per chunk
    net.predict(x[:10], batch_size=7)  # activations keep their scratch from here on
    small = _predict_peak(net, x[:1_000], 7)
    large = _predict_peak(net, x, 7)
    extra_output = 9_000 * 3 * 4
    assert large < small + extra_output + 1_000  # one more 7 × 64 float32 buffer is 1.8 kB
    assert net.layers[1].activation._flat.size == 7 * 64  # one scratch for every chunk size


def test_predict_and_inference_forward_keep_nothing():
    net = build_network(DEEP, n_features=4)
    x = np.ones((9, 4), dtype=np.float32)
    net.predict(x, batch_size=4)
    net.forward(x)
    for layer in net.layers:
        assert layer._buffers == {}
        assert not {"_x", "_y"} & set(vars(layer))


@pytest.mark.parametrize("shape", [(5, 3), (5,), (5, 4, 1)])
def test_predict_rejects_rows_of_the_wrong_shape(shape):
    net = build_network(DEEP, n_features=4)
    with pytest.raises(ValueError, match=r"x has rows of shape .* but the network takes \(4,\)"):
        net.predict(np.zeros(shape))


def test_predict_of_no_rows_and_bad_chunk():
    net = build_network(DEEP, n_features=4)
    assert net.predict(np.zeros((0, 4))).shape == (0, 3)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        net.predict(np.zeros((3, 4)), batch_size=0)


def test_layer_out_is_checked_and_only_for_inference():
    layer = build_network([{"type": "dense", "units": 2}], n_features=3).layers[0]
    x = np.ones((4, 3), dtype=np.float32)
    out = np.empty((4, 2), dtype=np.float32)
    assert layer.forward(x, out=out) is out
    with pytest.raises(ValueError, match="training=False only"):
        layer.forward(x, training=True, out=out)
    with pytest.raises(ValueError, match=r"out must be float32 of shape \(4, 2\)"):
        layer.forward(x, out=np.empty((5, 2), dtype=np.float32))


def test_same_seed_same_weights_and_other_seed_not():
    a = build_network(DEEP, n_features=4, seed=11)
    b = build_network(DEEP, n_features=4, seed=11)
    c = build_network(DEEP, n_features=4, seed=12)
    np.testing.assert_array_equal(a.params, b.params)
    assert not np.array_equal(a.params, c.params)


def test_initialization_scales():
    net = build_network([{"type": "dense", "units": 400, "activation": "relu"},
                         {"type": "dense", "units": 300, "activation": "tanh"}], n_features=500)
    w_he, w_glorot = net.param("0.W"), net.param("1.W")
    assert w_he.std() == pytest.approx(np.sqrt(2 / 500), rel=0.02)  # He: N(0, 2/fan_in)
    limit = np.sqrt(6 / (400 + 300))  # Glorot uniform
    assert np.abs(w_glorot).max() <= limit
    assert w_glorot.std() == pytest.approx(limit / np.sqrt(3), rel=0.02)
    assert not net.param("0.b").any()


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("loss_name", ["mse", "cross_entropy", "binary_cross_entropy"])
def test_float32_path_never_upcasts(optimizer, loss_name):
    rng = np.random.default_rng(0)
    net = build_network(DEEP, n_features=4, dtype="float32")
    loss = make_loss(loss_name)
    opt = make_optimizer(optimizer, lr=0.01, weight_decay=0.1).bind(net.params, net.grads, net.n_decay)
    x = rng.standard_normal((9, 4)).astype(np.float32)
    y = loss.targets(random_targets(loss_name, rng, 9, 3), np.float32)
    logits = net.forward(x, training=True)
    dlogits = np.empty_like(logits)
    loss.value_and_grad(logits, y, dlogits)
    net.backward(dlogits)
    opt.step()
    arrays = [logits, dlogits, net.params, net.grads, net.predict(x), loss.output(logits)]
    arrays += [buf for layer in net.layers for buf in layer._buffers.values()]
    arrays += [vars(layer.activation)["_flat"] for layer in net.layers
               if "_flat" in vars(layer.activation)]
    arrays += [v for v in vars(opt).values() if isinstance(v, np.ndarray)]
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}


def test_summary_and_specs():
    net = build_network([{"type": "dense", "units": 8, "activation": "relu"},
                         {"type": "dense", "units": 2}], n_features=3)
    assert net.summary() == [("Dense(3 → 8, relu)", (8,), 32), ("Dense(8 → 2, identity)", (2,), 18)]
    assert net.specs() == [{"type": "dense", "units": 8, "activation": "relu"},
                           {"type": "dense", "units": 2, "activation": "identity"}]
    assert build_network(net.specs(), n_features=3).n_params == 50
    assert repr(net) == ("Network([Dense(3 → 8, relu), Dense(8 → 2, identity)], "
                         "params=50, dtype=float32)")


@pytest.mark.parametrize("kwargs,message", [
    ({"layers": [], "n_features": 3}, "at least one layer"),
    ({"layers": [{"type": "dense", "units": 2}]}, "exactly one of n_features or input_shape"),
    ({"layers": [{"type": "dense", "units": 2}], "n_features": 3, "dtype": "float16"},
     "float32 or float64"),
])
def test_build_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_network(**kwargs)

import numpy as np
import pytest

from gradcheck import assert_gradients_match, away_from_zero, check_network
from nnfit.nn.activation_layer import ActivationLayer
from nnfit.nn.build import LAYERS, build_network, make_layer
from nnfit.nn.dense import Dense

ACTIVATION_SPECS = [
    "identity", "linear", "relu", {"name": "leaky_relu", "slope": 0.2}, "leaky_relu",
    "sigmoid", "tanh", "softmax", "gelu",
]
KINKED = {"relu", "leaky_relu"}


def _name(spec):
    return spec if isinstance(spec, str) else spec["name"]


def _dense_input(rng, net, shape):
    """Inputs whose pre-activations stay clear of 0, so finite differences never cross a kink."""
    for _ in range(100):
        x = away_from_zero(rng, shape)
        layer = net.layers[0]
        z = x @ layer.params["W"] + layer.params["b"]
        if np.abs(z).min() > 1e-3:
            return x
    raise AssertionError("test setup: could not draw inputs clear of the kink")


@pytest.mark.parametrize("activation", ACTIVATION_SPECS, ids=_name)
@pytest.mark.parametrize("shape,units", [((1, 3), 2), ((3, 4), 5), ((7, 2), 3), ((2, 5, 4), 3)],
                         ids=["batch1", "batch3", "batch7-odd", "tokens"])
def test_dense_gradients(activation, shape, units):
    rng = np.random.default_rng(42)
    net = build_network([{"type": "dense", "units": units, "activation": activation}],
                        input_shape=shape[1:], dtype="float64", seed=3)
    net.params += 0.1 * rng.standard_normal(net.params.shape)  # biases away from zero too
    x = _dense_input(rng, net, shape)
    assert_gradients_match(check_network(net, x, rng=rng))


@pytest.mark.parametrize("activation", ACTIVATION_SPECS, ids=_name)
@pytest.mark.parametrize("shape", [(1, 4), (5, 3), (2, 3, 4)], ids=["batch1", "batch5", "tokens"])
def test_activation_layer_gradients(activation, shape):
    rng = np.random.default_rng(7)
    net = build_network([{"type": "activation", "activation": activation}],
                        input_shape=shape[1:], dtype="float64")
    x = away_from_zero(rng, shape)  # straddles 0 for the ReLU family
    assert (x > 0).any() and (x < 0).any()
    assert_gradients_match(check_network(net, x, rng=rng))


def test_dense_forward_is_affine_then_activation():
    net = build_network([{"type": "dense", "units": 2, "activation": "relu"}], n_features=3,
                        dtype="float64")
    W, b = net.param("0.W"), net.param("0.b")
    W[...] = [[1.0, -1.0], [2.0, 0.0], [0.0, 3.0]]
    b[...] = [0.5, -10.0]
    x = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 4.0]])
    np.testing.assert_array_equal(net.forward(x), [[3.5, 0.0], [0.5, 2.0]])


def test_leaky_relu_slope_on_negative_side():
    net = build_network([{"type": "activation", "activation": {"name": "leaky_relu", "slope": 0.05}}],
                        n_features=3, dtype="float64")
    np.testing.assert_allclose(net.forward(np.array([[-2.0, 0.0, 3.0]])), [[-0.1, 0.0, 3.0]])


@pytest.mark.parametrize("slope", [0.0, 1.0, -0.1])
def test_leaky_relu_rejects_slopes_outside_open_unit_interval(slope):
    with pytest.raises(ValueError, match="slope must be in"):
        make_layer({"type": "dense", "units": 2, "activation": {"name": "leaky_relu", "slope": slope}})


def test_output_shape_and_param_count():
    layer = Dense(4, "tanh")
    assert layer.build((5, 3), np.float32) == (5, 4)
    assert layer.n_params == 3 * 4 + 4
    assert ActivationLayer("relu").build((5, 3), np.float32) == (5, 3)


def test_repr_is_readable():
    net = build_network([{"type": "dense", "units": 16, "activation": "relu"},
                         {"type": "activation", "activation": {"name": "leaky_relu", "slope": 0.1}},
                         {"type": "dense", "units": 3}], n_features=4)
    assert [repr(layer) for layer in net.layers] == [
        "Dense(4 → 16, relu)", "Activation(leaky_relu(slope=0.1))", "Dense(16 → 3, identity)"]


def test_spec_round_trips_through_make_layer():
    for spec in [{"type": "dense", "units": 5, "activation": {"name": "leaky_relu", "slope": 0.3}},
                 {"type": "activation", "activation": "sigmoid"}]:
        assert make_layer(spec).spec() == spec


@pytest.mark.parametrize("spec,message", [
    ({"type": "conv"}, "unknown layer type 'conv'"),
    ({"type": "dense", "units": 0}, "positive integer"),
    ({"type": "dense", "units": 2, "activation": "swish"}, "unknown activation 'swish'"),
])
def test_bad_layer_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        make_layer(spec)


def test_layer_table_keys():
    assert set(LAYERS) == {"dense", "activation", "batchnorm", "layernorm", "dropout", "tokens", "pool",
                           "attention", "numeric_embedding"}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ["sigmoid", "softmax", "tanh", "relu", "leaky_relu", "gelu"])
def test_activations_stay_finite_at_extreme_inputs(activation, dtype):
    net = build_network([{"type": "activation", "activation": activation}], n_features=3, dtype=dtype)
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]], dtype=dtype)
    y = net.forward(x, training=True)
    dx = net.backward(np.ones_like(y))
    assert np.isfinite(y).all() and np.isfinite(dx).all()
    if activation == "sigmoid":
        np.testing.assert_allclose(y[0], [1.0, 0.0, 0.5])
    if activation == "softmax":
        np.testing.assert_allclose(y, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-7)


def test_gelu_is_the_tanh_approximation():
    """Values of PyTorch's ``GELU(approximate="tanh")``,
    i.e. ``z/2·(1 + tanh(√(2/π)(z + 0.044715 z³)))``."""
    z = np.array([[-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0]])
    expected = 0.5 * z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z**3)))
    net = build_network([{"type": "activation", "activation": "gelu"}], n_features=7, dtype="float64")
    np.testing.assert_allclose(net.forward(z), expected, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(expected[0, [1, 5]], [-0.15880800939172324, 0.8411919906082768],
                               rtol=1e-14)

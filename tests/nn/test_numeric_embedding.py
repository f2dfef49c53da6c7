"""numeric_embedding: periodic embeddings of each column (plr, lite, periodic)."""

import math

import numpy as np
import pytest

from gradcheck import assert_gradients_match, check_network
from nnfit.nn.build import LayerError, build_network, make_layer

KINDS = {"periodic": {"kind": "periodic"}, "plr": {"kind": "plr", "dim": 4},
         "lite": {"kind": "plr", "dim": 4, "lite": True}}


def _embedding(name, k=3, sigma=0.5):
    return {"type": "numeric_embedding", "frequencies": k, "sigma": sigma, **KINDS[name]}


@pytest.mark.parametrize("name", sorted(KINDS))
@pytest.mark.parametrize("n,n_features", [(1, 1), (5, 3), (7, 4)])
def test_gradients_as_the_first_layer(name, n, n_features):
    rng = np.random.default_rng(n + n_features)
    net = build_network([_embedding(name), {"type": "dense", "units": 2}], n_features=n_features,
                        dtype="float64", seed=n)
    net.params += 0.1 * rng.standard_normal(net.params.shape)  # biases off 0: clear of the kink
    errors = check_network(net, rng.standard_normal((n, n_features)), rng=rng)
    assert_gradients_match(errors)
    assert {"0.c", "x"} <= set(errors) and ("0.W" in errors) == (name != "periodic")


@pytest.mark.parametrize("name", sorted(KINDS))
def test_gradients_after_another_layer_pass_dx_back(name):
    rng = np.random.default_rng(11)
    layers = [{"type": "dense", "units": 3, "activation": "tanh"}, _embedding(name),
              {"type": "dense", "units": 2}]
    net = build_network(layers, n_features=2, dtype="float64", seed=2)
    net.params += 0.1 * rng.standard_normal(net.params.shape)
    assert_gradients_match(check_network(net, rng.standard_normal((6, 2)), rng=rng))


def test_periodic_is_cos_then_sin_of_each_column_side_by_side():
    net = build_network([{"type": "numeric_embedding", "kind": "periodic", "frequencies": 2}],
                        n_features=2, dtype="float64")
    net.param("0.c")[...] = [[0.25, 0.5], [1.0, 0.125]]
    y = net.forward(np.array([[1.0, 2.0]]))
    # 2π·c·x: column 0 [π/2, π], column 1 [4π, π/2]
    expected = [[0.0, -1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0]]
    np.testing.assert_allclose(y, expected, atol=1e-12)


def test_plr_maps_each_column_with_its_own_weights_then_relu():
    net = build_network([{"type": "numeric_embedding", "frequencies": 1, "dim": 2}],
                        n_features=2, dtype="float64")
    net.param("0.c")[...] = [[0.5], [0.25]]
    net.param("0.W")[...] = [[[1.0, -1.0], [2.0, 0.0]], [[0.0, 3.0], [1.0, 1.0]]]
    net.param("0.b")[...] = [[0.5, 0.0], [0.0, -10.0]]
    y = net.forward(np.array([[1.0, 1.0]]))
    # column 0: a = π, v = [-1, 0]: [-1 + .5, 1 + 0]; column 1: a = π/2, v = [0, 1]: [1, 1 − 10]
    np.testing.assert_allclose(y, [[0.0, 1.0, 1.0, 0.0]], atol=1e-12)


def test_lite_shares_one_map_across_the_columns():
    shared = build_network([_embedding("lite")], n_features=5)
    own = build_network([_embedding("plr")], n_features=5)
    assert shared.layers[0].param_shapes()["W"][0] == (1, 6, 4)
    assert own.layers[0].param_shapes()["W"][0] == (5, 6, 4)
    assert shared.output_shape == own.output_shape == (20,)


def test_frequencies_are_drawn_from_the_seed_with_sigma():
    net = build_network([{"type": "numeric_embedding", "frequencies": 500, "sigma": 0.1}],
                        n_features=8, dtype="float64", seed=4)
    c = net.param("0.c")
    assert abs(c.std() - 0.1) < 0.005 and abs(c.mean()) < 0.005
    again = build_network([{"type": "numeric_embedding", "frequencies": 500, "sigma": 0.1}],
                          n_features=8, dtype="float64", seed=4)
    assert np.array_equal(again.params, net.params)
    limit = 1 / math.sqrt(1000)
    assert np.abs(net.param("0.W")).max() <= limit and np.abs(net.param("0.b")).max() <= limit


def test_float32_stays_float32_and_predict_equals_the_training_forward():
    rng = np.random.default_rng(0)
    for name in KINDS:
        net = build_network([_embedding(name), {"type": "dense", "units": 3}], n_features=4)
        x = rng.standard_normal((37, 4)).astype(np.float32)
        trained = net.forward(x, training=True).copy()
        net.backward(np.ones_like(trained))
        assert trained.dtype == net.predict(x).dtype == net.grads.dtype == np.float32
        assert {b.dtype for b in net.layers[0]._buffers.values()} == {np.dtype(np.float32)}
        np.testing.assert_array_equal(net.predict(x), trained)


def test_spec_repr_counts_and_errors():
    spec = {"type": "numeric_embedding", "kind": "plr", "frequencies": 16, "sigma": 0.1,
            "dim": 16, "lite": False}
    assert make_layer({"type": "numeric_embedding"}).spec() == spec
    net = build_network([spec], n_features=3)
    assert net.summary() == [("NumericEmbedding(plr, 3 → 3×16, 16 frequencies, σ=0.1, dim 16)",
                              (48,), 3 * 16 + 3 * 32 * 16 + 3 * 16)]
    layer = net.layers[0]
    assert layer.macs_per_row() == 3 * 16 + 3 * 33 * 16
    assert repr(make_layer({"type": "numeric_embedding", "kind": "periodic"})) == \
        "NumericEmbedding(periodic, ? → ?×32, 16 frequencies, σ=0.1)"
    for bad, says in [({"kind": "fourier"}, "kind must be one of plr, periodic"),
                      ({"sigma": 0.0}, "sigma must be a positive number"),
                      ({"frequencies": 0}, "frequencies must be a positive integer"),
                      ({"dim": 1.5}, "dim must be a positive integer")]:
        with pytest.raises(ValueError, match=says):
            make_layer({"type": "numeric_embedding", **bad})
    with pytest.raises(LayerError, match=r"layers\[1\]: numeric_embedding takes rows of features"):
        build_network([{"type": "tokens", "dim": 2}, {"type": "numeric_embedding"}], n_features=3)


@pytest.mark.parametrize("name", sorted(KINDS))
@pytest.mark.parametrize("first", [True, False])
def test_gradients_with_some_columns_passed_through(name, first):
    """``positions``: columns 0 and 2 of 4 embedded, 1 and 3 passed on (dx through both)."""
    rng = np.random.default_rng(5)
    embed = {**_embedding(name), "positions": [2, 0]}
    layers = ([embed] if first else [{"type": "dense", "units": 4, "activation": "tanh"}, embed])
    net = build_network([*layers, {"type": "dense", "units": 2}], n_features=4, dtype="float64",
                        seed=3)
    net.params += 0.1 * rng.standard_normal(net.params.shape)
    errors = check_network(net, rng.standard_normal((5, 4)), rng=rng)
    assert_gradients_match(errors)
    assert "x" in errors


def test_passed_columns_follow_the_embeddings_unchanged():
    net = build_network([{"type": "numeric_embedding", "kind": "periodic", "frequencies": 1,
                          "positions": [1]}], n_features=3, dtype="float64")
    net.param("0.c")[...] = [[0.25]]
    y = net.forward(np.array([[7.0, 1.0, -3.0]]))
    np.testing.assert_allclose(y, [[0.0, 1.0, 7.0, -3.0]], atol=1e-12)  # cos, sin of π/2; 7, −3
    layer = net.layers[0]
    assert layer.output_shape == (4,) and layer.spec()["positions"] == [1]
    assert "1 → 1×2 + 2 passed through" in repr(layer)
    for bad in ([], [3], [0, 0], [-1]):
        with pytest.raises(LayerError, match="positions must be distinct input positions"):
            build_network([{"type": "numeric_embedding", "positions": bad}], n_features=3)

import numpy as np
import pytest

from gradcheck import assert_gradients_match, check_network
from nnfit.nn.build import build_network, make_layer
from nnfit.nn.dropout import Dropout
from nnfit.training.trainer import fit


@pytest.mark.parametrize("shape", [(1, 4), (5, 4), (7, 3), (3, 5, 4)],
                         ids=["batch1", "batch5", "batch7-odd", "tokens"])
def test_dropout_gradients_with_a_fixed_mask(shape):
    rng = np.random.default_rng(shape[0])
    layers = [{"type": "dense", "units": 6, "activation": "tanh"}, {"type": "dropout", "rate": 0.4},
              {"type": "dense", "units": 3}]
    net = build_network(layers, input_shape=shape[1:], dtype="float64", seed=1)
    x = rng.standard_normal(shape)

    def same_mask():
        net.set_rng(np.random.default_rng(7))

    same_mask()
    net.forward(x, training=True)
    mask = net.layers[1]._mask
    assert (mask == 0).any() and (mask > 0).any()  # the check covers dropped and kept units
    assert_gradients_match(check_network(net, x, rng=rng, training=True, before=same_mask))


def test_backward_reuses_the_forward_mask():
    net = build_network([{"type": "dropout", "rate": 0.5}], n_features=6, dtype="float64", seed=3)
    x = np.arange(1.0, 25.0).reshape(4, 6)
    y = net.forward(x, training=True).copy()
    assert set(np.unique(y / x)) == {0.0, 2.0}
    dy = np.random.default_rng(0).standard_normal((4, 6))
    np.testing.assert_array_equal(net.backward(dy), dy * (y / x))


def test_eval_is_the_deterministic_identity():
    layers = [{"type": "dense", "units": 5, "activation": "relu"}, {"type": "dropout", "rate": 0.5},
              {"type": "dense", "units": 2}]
    net = build_network(layers, n_features=3, seed=2)
    x = np.random.default_rng(1).standard_normal((11, 3)).astype(np.float32)
    first = net.predict(x)
    np.testing.assert_array_equal(net.predict(x), first)
    np.testing.assert_array_equal(net.forward(x), first)
    plain = build_network([layers[0], layers[2]], n_features=3, seed=2)
    np.testing.assert_array_equal(plain.predict(x), first)  # dropout draws nothing at init
    alone = build_network([{"type": "dropout", "rate": 0.9}], n_features=3)
    np.testing.assert_array_equal(alone.predict(x), x)


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.7])
def test_training_preserves_the_expected_activation(rate):
    net = build_network([{"type": "dropout", "rate": rate}], n_features=250, seed=0)
    net.set_rng(np.random.default_rng(12345))
    x = np.full((400, 250), 2.0, dtype=np.float32)
    y = net.forward(x, training=True)
    n = y.size
    kept = y != 0
    np.testing.assert_allclose(y[kept], 2.0 / (1.0 - rate), rtol=1e-6)
    # 100 000 Bernoulli draws: 5 standard errors of the dropped fraction and of the mean
    assert abs((~kept).mean() - rate) < 5 * np.sqrt(rate * (1 - rate) / n)
    assert abs(y.mean() - 2.0) < 5 * 2.0 * np.sqrt(rate / (1 - rate) / n)


def test_rate_zero_is_the_identity_in_training():
    net = build_network([{"type": "dropout", "rate": 0.0}], n_features=4)
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_array_equal(net.forward(x, training=True), x)


def test_masks_come_from_the_runs_generator_not_the_global_one():
    layers = [{"type": "dense", "units": 8, "activation": "relu"}, {"type": "dropout", "rate": 0.5},
              {"type": "dense", "units": 1}]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((37, 3)).astype(np.float32)
    y = X.sum(axis=1)

    def trained(seed):
        net = build_network(layers, n_features=3, seed=4)
        fit(net, X, y, loss="mse", epochs=3, batch_size=8, seed=seed)
        return net.params.copy()

    np.random.seed(0)
    global_state = np.random.get_state()[1].copy()
    a, b, c = trained(11), trained(11), trained(12)
    np.testing.assert_array_equal(np.random.get_state()[1], global_state)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_set_rng_reaches_the_layer():
    net = build_network([{"type": "dropout", "rate": 0.5}], n_features=4)
    gen = np.random.default_rng(5)
    net.set_rng(gen)
    assert net.rng is gen and net.layers[0].rng is gen


def test_spec_repr_and_bad_rates():
    spec = {"type": "dropout", "rate": 0.25}
    assert make_layer(spec).spec() == spec
    assert repr(make_layer(spec)) == "Dropout(0.25)"
    assert Dropout().rate == 0.5
    net = build_network([spec], input_shape=(2, 3))
    assert net.summary() == [("Dropout(0.25)", (2, 3), 0)]
    for rate in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match=r"dropout rate must be in \[0, 1\)"):
            make_layer({"type": "dropout", "rate": rate})

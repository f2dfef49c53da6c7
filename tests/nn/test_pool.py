import numpy as np
import pytest

from gradcheck import assert_gradients_match, check_network
from nnfit.nn.build import build_network, make_layer
from nnfit.nn.network import Network
from nnfit.nn.tokens import Pool


@pytest.mark.parametrize("mode", ["cls", "mean"])
@pytest.mark.parametrize("n,tokens,dim", [(1, 3, 3), (5, 4, 3), (7, 5, 5)])
def test_pool_gradients(mode, n, tokens, dim):
    rng = np.random.default_rng(n + tokens)
    layers = [{"type": "layernorm"}, {"type": "pool", "mode": mode}, {"type": "dense", "units": 3}]
    net = build_network(layers, input_shape=(tokens, dim), dtype="float64", seed=n)
    net.params += 0.2 * rng.standard_normal(net.params.shape)
    assert_gradients_match(check_network(net, rng.standard_normal((n, tokens, dim)), rng=rng))


@pytest.mark.parametrize("cls", [False, True], ids=["plain", "cls"])
def test_tokens_then_pool_gradients(cls):
    rng = np.random.default_rng(3)
    layers = [{"type": "tokens", "dim": 3, "cls": cls}, {"type": "pool"}, {"type": "dense", "units": 2}]
    net = build_network(layers, n_features=5, dtype="float64")
    assert net.layers[1].mode == ("cls" if cls else "mean")
    assert_gradients_match(check_network(net, rng.standard_normal((7, 5)), rng=rng))


def test_pool_values():
    x = np.arange(2 * 3 * 2, dtype=float).reshape(2, 3, 2)
    cls = build_network([{"type": "pool", "mode": "cls"}], input_shape=(3, 2), dtype="float64")
    mean = build_network([{"type": "pool", "mode": "mean"}], input_shape=(3, 2), dtype="float64")
    np.testing.assert_array_equal(cls.forward(x), x[:, 0])
    np.testing.assert_allclose(mean.forward(x), x.mean(axis=1))
    np.testing.assert_allclose(mean.predict(x, batch_size=1), x.mean(axis=1))
    dx = cls.layers[0]
    cls.forward(x, training=True)
    np.testing.assert_array_equal(cls.backward(np.ones((2, 2))), [[[1, 1], [0, 0], [0, 0]]] * 2)
    assert dx.output_shape == (2,)


def test_mode_comes_from_the_tokenizer_and_the_spec_names_it():
    with_cls = build_network([{"type": "tokens", "dim": 4, "cls": True}, {"type": "pool"}], n_features=3)
    without = build_network([{"type": "tokens", "dim": 4}, {"type": "pool"}], n_features=3)
    assert with_cls.specs()[1] == {"type": "pool", "mode": "cls"}
    assert without.specs()[1] == {"type": "pool", "mode": "mean"}
    assert build_network(with_cls.specs(), n_features=3).specs() == with_cls.specs()
    assert repr(with_cls.layers[1]) == "Pool(cls)" and repr(Pool()) == "Pool(?)"
    assert with_cls.summary()[1] == ("Pool(cls)", (4,), 0)
    for spec in [{"type": "pool"}, {"type": "pool", "mode": "mean"}, {"type": "pool", "mode": "cls"}]:
        assert make_layer(spec).spec() == spec


def test_pool_errors():
    with pytest.raises(ValueError, match="pool mode must be one of cls, mean"):
        make_layer({"type": "pool", "mode": "max"})
    with pytest.raises(ValueError, match="pool mode cls needs a CLS token"):
        build_network([{"type": "tokens", "dim": 2}, {"type": "pool", "mode": "cls"}], n_features=3)
    with pytest.raises(ValueError, match=r"pool takes tokens \(tokens, dim\)"):
        build_network([{"type": "pool", "mode": "mean"}], n_features=3)
    with pytest.raises(ValueError, match="pool has no mode"):
        Network([Pool()], (3, 2))

import numpy as np
import pytest

from gradcheck import assert_gradients_match, check_network
from nnfit.nn.build import build_network, make_layer


@pytest.mark.parametrize("cls", [False, True], ids=["plain", "cls"])
@pytest.mark.parametrize("n,n_features,dim", [(1, 3, 2), (5, 4, 3), (7, 5, 4)])
def test_tokens_gradients(cls, n, n_features, dim):
    rng = np.random.default_rng(n + dim)
    layers = [{"type": "tokens", "dim": dim, "cls": cls}, {"type": "layernorm"}]
    net = build_network(layers, n_features=n_features, dtype="float64", seed=n)
    net.params += 0.2 * rng.standard_normal(net.params.shape)
    assert_gradients_match(check_network(net, rng.standard_normal((n, n_features)), rng=rng))


def test_each_column_becomes_its_own_token_after_the_cls_token():
    net = build_network([{"type": "tokens", "dim": 2, "cls": True}], n_features=3, dtype="float64")
    W, b, cls = net.param("0.W"), net.param("0.b"), net.param("0.cls_token")
    W[...] = [[1, 2], [3, 4], [5, 6]]
    b[...] = [[0, 1], [0, 0], [-1, 0]]
    cls[...] = [9, 8]
    y = net.forward(np.array([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]]))
    np.testing.assert_array_equal(y, [[[9, 8], [1, 3], [0, 0], [9, 12]],
                                      [[9, 8], [0, 1], [3, 4], [-6, -6]]])


def test_spec_repr_shape_and_errors():
    for spec in [{"type": "tokens", "dim": 8, "cls": True}, {"type": "tokens", "dim": 4, "cls": False}]:
        assert make_layer(spec).spec() == spec
    net = build_network([{"type": "tokens", "dim": 8, "cls": True}], n_features=5)
    assert net.output_shape == (6, 8)
    assert net.summary() == [("Tokens(5 → 6×8, cls)", (6, 8), 5 * 8 * 2 + 8)]
    assert repr(make_layer({"type": "tokens", "dim": 4})) == "Tokens(? → ?×4)"
    assert [s.name for s in net.layout] == ["0.W", "0.b", "0.cls_token"]
    with pytest.raises(ValueError, match="positive integer"):
        make_layer({"type": "tokens", "dim": 0})
    with pytest.raises(ValueError, match=r"tokens takes rows of features"):
        build_network([{"type": "tokens", "dim": 2}], input_shape=(3, 4))


@pytest.mark.parametrize("cls", [False, True], ids=["plain", "cls"])
def test_a_training_step_allocates_nothing_per_batch(cls):
    import tracemalloc
    n = 512
    net = build_network([{"type": "tokens", "dim": 4, "cls": cls}], n_features=5)
    layer = net.layers[0]
    x = np.random.default_rng(0).standard_normal((n, 5)).astype(np.float32)
    dy = np.ones((n,) + net.output_shape, np.float32)

    def step():
        layer.forward(x, training=True)
        layer.backward(dy, need_dx=True)

    step()  # the first step allocates the buffers
    tracemalloc.start()
    try:
        step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000  # views only: no (batch, …) array, no NumPy iterator buffer
    assert {b.dtype for b in layer._buffers.values()} == {np.dtype(np.float32)}

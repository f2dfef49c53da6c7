"""nnfit.nn.init: the initializer table, the model's scheme and scale, and ``auto`` as ever."""

import math

import numpy as np
import pytest

from nnfit.nn.build import build_network
from nnfit.nn.init import AUTO, INIT_NAMES, INITIALIZERS, Init

# name -> the variance its formula gives (Keras's / PyTorch's definitions)
FORMULAS = {
    "he_normal": lambda fi, fo: 2.0 / fi,
    "he_uniform": lambda fi, fo: 2.0 / fi,
    "glorot_normal": lambda fi, fo: 2.0 / (fi + fo),
    "glorot_uniform": lambda fi, fo: 2.0 / (fi + fo),
    "lecun_normal": lambda fi, fo: 1.0 / fi,
    "lecun_uniform": lambda fi, fo: 1.0 / fi,
}


def test_the_table_is_the_six_schemes_and_auto_the_default():
    assert set(INITIALIZERS) == set(FORMULAS)
    assert INIT_NAMES == ("auto", *INITIALIZERS) and AUTO == Init()


@pytest.mark.parametrize("name", FORMULAS)
@pytest.mark.parametrize("fans", [(300, 100), (50, 400)])
def test_each_initializer_draws_the_variance_of_its_formula(name, fans):
    fan_in, fan_out = fans
    w = np.empty((fan_in, fan_out))
    INITIALIZERS[name](np.random.default_rng(0), w, fan_in, fan_out)
    want = FORMULAS[name](fan_in, fan_out)
    assert INITIALIZERS[name].variance(fan_in, fan_out) == pytest.approx(want)
    # 30 000 draws: the sample variance is within ~1% (normal) of the truth; 4% is > 4 SE
    assert w.var() == pytest.approx(want, rel=0.04)
    assert abs(w.mean()) < 4 * math.sqrt(want / w.size)
    if name.endswith("uniform"):
        assert np.abs(w).max() <= math.sqrt(3 * want)


@pytest.mark.parametrize("name", FORMULAS)
def test_the_scale_multiplies_the_std(name):
    one, half = np.empty((40, 30)), np.empty((40, 30))
    INITIALIZERS[name](np.random.default_rng(1), one, 40, 30)
    INITIALIZERS[name](np.random.default_rng(1), half, 40, 30, 0.5)
    np.testing.assert_allclose(half, 0.5 * one, rtol=1e-12)


def test_auto_is_todays_draw_bit_for_bit():
    """Before model.init existed, a ReLU-family dense layer drew N(0, 2/fan_in) and a symmetric
    one U(±√(6/(fan_in+fan_out))), with these exact operations, in float32 too."""
    layers = [{"type": "dense", "units": 7, "activation": "relu"},
              {"type": "dense", "units": 5, "activation": "tanh"}]
    for dtype in (np.float32, np.float64):
        net = build_network(layers, n_features=4, dtype=dtype, seed=3)
        rng = np.random.default_rng(3)
        w0, w1 = np.empty((4, 7), dtype), np.empty((7, 5), dtype)
        rng.standard_normal(out=w0, dtype=dtype)
        w0 *= np.sqrt(2.0 / 4)
        rng.random(out=w1, dtype=dtype)
        w1 *= 2.0
        w1 -= 1.0
        w1 *= np.sqrt(6.0 / (7 + 5))
        np.testing.assert_array_equal(net.param("0.W"), w0)
        np.testing.assert_array_equal(net.param("1.W"), w1)
        explicit = [{"type": "dense", "units": 7, "activation": "relu"},
                    {"type": "dense", "units": 5, "activation": "relu"}]
        same = build_network(explicit, n_features=4, dtype=dtype, seed=3, init=Init("he_normal"))
        np.testing.assert_array_equal(same.params, build_network(explicit, n_features=4,
                                                                 dtype=dtype, seed=3).params)


def test_a_named_scheme_applies_to_every_dense_layer_attention_ones_too():
    layers = [{"type": "tokens", "dim": 4}, {"type": "attention", "dim": 4},
              {"type": "pool"}, {"type": "dense", "units": 2, "activation": "relu"}]
    auto = build_network(layers, n_features=3, dtype="float64", seed=0)
    lecun = build_network(layers, n_features=3, dtype="float64", seed=0,
                          init=Init("lecun_uniform"))
    for name in ("3.W", "1.qkv.W", "1.ffn1.W"):  # dense and attention's projections redrawn
        fan_in = lecun.param(name).shape[0]
        assert np.abs(lecun.param(name)).max() <= math.sqrt(3 / fan_in)
        assert not np.array_equal(lecun.param(name), auto.param(name))
    # the tokenizer keeps FT-Transformer's U(±1/√dim) and the layernorms their 1 and 0
    np.testing.assert_array_equal(lecun.param("0.W"), auto.param("0.W"))
    np.testing.assert_array_equal(lecun.param("1.ln1.gamma"), np.ones(4))
    half = build_network(layers, n_features=3, dtype="float64", seed=0, init=Init("auto", 0.5))
    for name in ("0.W", "0.b", "1.qkv.W", "1.out.W", "3.W"):  # the scale: every random draw
        np.testing.assert_allclose(half.param(name), 0.5 * auto.param(name), rtol=1e-12)
    np.testing.assert_array_equal(half.param("1.ln1.gamma"), np.ones(4))


@pytest.mark.parametrize("bad", [{"name": "he"}, {"scale": 0.0}, {"scale": -1.0},
                                 {"scale": math.inf}, {"scale": "1"}])
def test_a_bad_scheme_is_a_value_error(bad):
    with pytest.raises(ValueError, match="init"):
        Init(**bad)

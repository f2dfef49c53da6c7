"""The Python API refuses bad inputs at its entry points, in words, before it allocates or steps."""

import re

import numpy as np
import pytest

import nnfit
from nnfit.nn.build import LayerError, build_network, plan_layers
from nnfit.nn.checks import all_finite, check_finite, positive_int

HIDDEN = [{"type": "dense", "units": 4, "activation": "relu"}, {"type": "dense", "units": 3}]


@pytest.mark.parametrize("value", [1, 7, np.int64(3), 2.0])
def test_positive_int_takes_integers_and_integral_floats(value):
    assert positive_int(value, "n") == int(value) and type(positive_int(value, "n")) is int


@pytest.mark.parametrize("value", [0, -1, 2.5, True, np.bool_(True), "3", None, float("nan"),
                                   float("inf")])
def test_positive_int_refuses_the_rest_by_name(value):
    with pytest.raises(ValueError, match=re.escape(f"epochs must be a positive integer, got "
                                                   f"{value!r}")):
        positive_int(value, "epochs")


def test_check_finite_counts_and_locates_the_first_bad_value():
    x = np.zeros((4, 3), np.float32)
    x[2, 1], x[3, 0] = np.inf, np.nan
    with pytest.raises(ValueError, match=re.escape("X has 2 NaN or infinite values; the first "
                                                   "(inf) is at row 2, column 1")):
        check_finite(x, "X")
    with pytest.raises(ValueError, match=re.escape("y has 1 NaN or infinite value; the first "
                                                   "(-inf) is at row 1")):
        check_finite(np.array([0.0, -np.inf]), "y")
    with pytest.raises(ValueError, match=re.escape("x has 1 NaN or infinite value; the first "
                                                   "(nan) is at index (1, 0, 2)")):
        check_finite(np.where(np.arange(12).reshape(2, 2, 3) == 8, np.nan, 0.0), "x")


def test_all_finite_needs_no_mask_and_passes_integers_and_empty_arrays():
    assert all_finite(np.arange(5)) and all_finite(np.zeros((0, 3)))
    assert all_finite(np.full(3, 3e38, np.float32))
    assert not all_finite(np.array([1.0, np.nan])) and not all_finite(np.array([-np.inf, 1.0]))
    assert not all_finite(np.array([1 + 1j, complex(0, np.inf)]))


# -- build_network ------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"n_features": 0}, "n_features must be a positive integer, got 0"),
    ({"n_features": -2}, "n_features must be a positive integer, got -2"),
    ({"n_features": 2.5}, "n_features must be a positive integer, got 2.5"),
    ({"input_shape": (3, 0)}, "every input_shape entry must be a positive integer, got 0"),
    ({"input_shape": ()}, "input_shape must have at least one axis, got ()"),
    ({"n_features": 3, "dtype": "float16"}, "dtype must be float32 or float64, got float16"),
    ({"n_features": 3, "dtype": "nope"}, "dtype must be float32 or float64, got nope"),
])
def test_build_network_checks_the_input_shape_before_anything(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build_network(HIDDEN, **kwargs)


@pytest.mark.parametrize("layers, index, reason", [
    ([{"type": "dense", "units": 0}], 0, "dense units must be a positive integer, got 0"),
    ([{"type": "dense", "units": 4}, {"type": "dense", "units": -1}], 1,
     "dense units must be a positive integer, got -1"),
    ([{"type": "dense", "units": True}], 0, "dense units must be a positive integer, got True"),
    ([{"type": "dense", "unit": 4}], 0, "dense takes units, activation (got 'unit')"),
    ([{"type": "dense"}], 0, "dense needs units"),
    ([{"type": "tokens", "dim": 4}, {"type": "attention", "dim": 4, "heads": 8}], 1,
     "attention heads 8 is more than dim 4: each head takes dim / heads features, at least 1 "
     "(try heads dividing 4)"),
    ([{"type": "tokens", "dim": 8}, {"type": "attention", "dim": 8, "heads": 3}], 1,
     "attention dim 8 is not divisible by heads 3: each head takes dim / heads features (try "
     "heads dividing 8)"),
    ([{"type": "dense", "units": 8}, {"type": "attention", "dim": 8}], 1,
     "attention takes tokens (tokens, 8), got (8,)"),
    ([{"type": "tokens", "dim": 4}, {"type": "pool", "mode": "cls"}], 1,
     "pool mode cls needs a CLS token"),
])
def test_a_bad_layer_is_named_by_its_index(layers, index, reason):
    with pytest.raises(LayerError, match=re.escape(f"layers[{index}]: {reason}")) as caught:
        build_network(layers, n_features=3)
    assert caught.value.index == index and caught.value.reason.startswith(reason)


def test_plan_layers_gives_shapes_and_counts_without_allocating():
    import tracemalloc

    tracemalloc.start()
    try:
        layers = plan_layers([{"type": "dense", "units": 10**9, "activation": "relu"},
                              {"type": "dense", "units": 3}], (4,))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [(layer.output_shape, layer.n_params) for layer in layers] == [
        ((10**9,), 5 * 10**9), ((3,), 3 * 10**9 + 3)]
    assert peak < 100_000  # 32 GB of float32 parameters were never asked for


# -- Network.predict ------------------------------------------------------------------------------

def test_predict_refuses_nan_inf_and_text_in_words():
    net = build_network(HIDDEN, n_features=3)
    x = np.zeros((5, 3))
    x[4, 2] = np.nan
    with pytest.raises(ValueError, match=re.escape("x has 1 NaN or infinite value; the first "
                                                   "(nan) is at row 4, column 2")):
        net.predict(x)
    with pytest.raises(ValueError, match=re.escape("x must hold numbers, got <U1 values")):
        net.predict(np.array([["a", "b", "c"]]))
    with pytest.raises(ValueError, match=re.escape("batch_size must be a positive integer, "
                                                   "got 1.5")):
        net.predict(np.zeros((2, 3)), batch_size=1.5)
    with np.errstate(invalid="ignore"):
        out = net.predict(x, check=False)  # the trainer's per-epoch path: checked once before
    assert np.isnan(out[4]).all() and np.isfinite(out[:4]).all()
    np.testing.assert_array_equal(net.predict(np.zeros((2, 3), dtype=object)),
                                  net.predict(np.zeros((2, 3))))  # numbers in objects still pass


def test_the_top_level_api_exports_the_checked_entry_points():
    assert nnfit.build_network is build_network
    with pytest.raises(ValueError, match="n_features must be a positive integer, got 0"):
        nnfit.build_network(HIDDEN, n_features=0)

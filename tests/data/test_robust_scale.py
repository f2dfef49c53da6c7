"""data.scale: robust: the median, the interquartile range (or half the range), the smooth clip."""

import json
import math
from typing import get_args

import numpy as np
import pandas as pd
import pytest

from nnfit.config.schema import ScaleName
from nnfit.data.preprocess import Preprocessor, fit_preprocessor
from nnfit.data.scaling import CLIP, STATISTICS, smooth_clip

TRAIN = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 10.0], "flag": [0, 0, 0, 0, 1],
                      "c": ["p", "q", "p", "q", "q"], "k": [7.0] * 5, "y": [0.5, 1, 2, 3, 4]})


def _robust(train, missing="error"):
    return fit_preprocessor(train, task="regression", targets=["y"],
                            features=list(train.columns[:-1]), classes=None, scale="robust",
                            missing=missing, scale_target=True, source="t.csv")


def test_the_scale_names_are_the_statistics_and_the_quantile_map():
    assert set(get_args(ScaleName)) == set(STATISTICS) | {"quantile"}


def test_a_column_is_centred_on_its_median_scaled_by_its_iqr_and_smoothly_clipped():
    prep = _robust(TRAIN)
    # a: median 3, q25 = 2, q75 = 4 (linear interpolation): IQR 2
    # flag: IQR 0, so half the range (1 − 0)/2; k: constant, left unscaled
    assert prep.numeric == {"a": [3.0, 2.0], "flag": [0.0, 0.5], "k": [7.0, 1.0]}
    assert prep.target_scale == [[2.1, pytest.approx(np.std([0.5, 1, 2, 3, 4]))]]  # standard
    X, _ = prep.transform(TRAIN, "t.csv")
    assert prep.input_names == ["a", "flag", "c=p", "c=q", "k"]
    # z / √(1 + (z/3)²): a's z = -1, -½, 0, ½, 7/2; flag's z = 0 or 2
    a = [-3 / math.sqrt(10), -3 / math.sqrt(37), 0.0, 3 / math.sqrt(37), 21 / math.sqrt(85)]
    flag = [0.0, 0.0, 0.0, 0.0, 6 / math.sqrt(13)]
    np.testing.assert_allclose(X[:, 0], a, rtol=1e-15)
    np.testing.assert_allclose(X[:, 1], flag, rtol=1e-15)
    np.testing.assert_array_equal(X[:, 2:4], [[1, 0], [0, 1], [1, 0], [0, 1], [0, 1]])  # one-hots
    np.testing.assert_array_equal(X[:, 4], 0.0)  # the constant column's training rows


def test_a_constant_column_passes_new_values_through_unscaled_then_clipped():
    prep = _robust(TRAIN)
    X, _ = prep.transform(pd.DataFrame({"a": [3.0], "flag": [0], "c": ["p"], "k": [8.0]}), "n")
    assert X[0, 4] == pytest.approx(3 / math.sqrt(10))  # z = 8 − 7 = 1


@pytest.mark.parametrize("x", [10.0, 1e6, 1e154, 1e300, 1.7e308])
def test_the_clip_is_bounded_by_three_and_keeps_the_sign(x):
    prep = fit_preprocessor(pd.DataFrame({"a": [0.0, 1e-300, 2e-300, 3e-300], "y": [0, 1, 0, 1]}),
                            task="regression", targets=["y"], features=["a"], classes=None,
                            scale="robust", missing="error", scale_target=True, source="t")
    X, _ = prep.transform(pd.DataFrame({"a": [x, -x]}), "n")  # z up to ±inf (overflow)
    assert np.all(np.isfinite(X)) and np.all(np.abs(X) <= CLIP)
    assert X[0, 0] > 0 > X[1, 0] and X[0, 0] == -X[1, 0]
    if x >= 1e6:
        assert X[0, 0] == pytest.approx(CLIP, rel=1e-9)


def test_smooth_clip_is_near_the_identity_in_the_middle_and_increasing():
    z = np.linspace(-50, 50, 10_001)
    clipped = smooth_clip(z.copy())
    assert np.all(np.diff(clipped) > 0) and np.all(np.abs(clipped) < CLIP)
    small = np.abs(z) <= 0.3
    np.testing.assert_allclose(clipped[small], z[small], atol=0.3 ** 3 / 18 + 1e-12)  # z − z³/18


def test_json_round_trip_is_exact_and_transforms_bit_identically_in_float32():
    rng = np.random.default_rng(3)
    train = pd.DataFrame({"a": rng.lognormal(size=800), "b": rng.standard_t(2, 800),
                          "y": rng.normal(size=800)})
    prep = _robust(train)
    loaded = Preprocessor.from_dict(json.loads(json.dumps(prep.to_dict())))
    assert loaded == prep and loaded.scale == "robust" and not loaded.quantiles
    new = pd.DataFrame({"a": rng.lognormal(size=300) * 3, "b": rng.standard_t(1, 300)})
    X = prep.transform(new, "n", dtype=np.float32)[0]
    assert X.dtype == np.float32
    assert np.array_equal(loaded.transform(new, "n", dtype=np.float32)[0], X)
    assert np.array_equal(X, prep.transform(new, "n")[0].astype(np.float32))  # rounded once
    rows = np.array([5, 0, 299])  # a subset by position writes the same rows
    assert np.array_equal(prep.transform(new, "n", rows=rows)[0], prep.transform(new, "n")[0][rows])


def test_empty_cells_are_filled_with_the_training_mean_before_scaling():
    train = pd.DataFrame({"a": [1.0, 2.0, np.nan, 3.0, 6.0], "y": [0.0, 1, 2, 3, 4]})
    prep = _robust(train, missing="mean")
    # filled with 3: [1, 2, 3, 3, 6] -> median 3, q25 2, q75 3
    assert prep.fill["a"] == 3.0 and prep.numeric["a"] == [3.0, 1.0]
    X, _ = prep.transform(pd.DataFrame({"a": [np.nan, 6.0]}), "n")
    assert X[0, 0] == 0.0 and X[1, 0] == pytest.approx(3 / math.sqrt(2))  # z = 3

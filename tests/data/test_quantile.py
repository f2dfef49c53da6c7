"""data.scale: quantile — the transform to a normal distribution, its storage and its checks."""

import json
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from nnfit.data.preprocess import Preprocessor, fit_preprocessor
from nnfit.data.quantile import check_quantiles, fit_quantiles, normal_ppf, to_normal

END = 5.199337582192817  # −Φ⁻¹(1e-7): where values beyond the training range go
Z_25, Z_375, Z_875 = 0.6744897501960817, 0.31863936396437514, 1.1503493803760079  # −Φ⁻¹(.25) …


def test_five_values_map_onto_their_normal_quantiles_and_midpoints_interpolate():
    quantiles = fit_quantiles(np.array([3.0, 1.0, 5.0, 2.0, 4.0]))
    assert quantiles == [1.0, 2.0, 3.0, 4.0, 5.0]  # n_q = 5, at probabilities 0, ¼, ½, ¾, 1
    z = to_normal(np.array([2.0, 3.0, 4.0, 2.5, 3.5, 1.0, 5.0]), quantiles)
    np.testing.assert_allclose(z, [-Z_25, 0.0, Z_25, -Z_375, Z_375, -END, END], rtol=0, atol=1e-9)
    assert z[1] == 0.0  # Φ⁻¹(½) exactly


def test_values_beyond_the_training_range_clip_to_the_end_values():
    quantiles = [1.0, 2.0, 3.0, 4.0, 5.0]
    z = to_normal(np.array([-1e300, -3.0, 0.999999, 5.000001, 1e9]), quantiles)
    assert z[:2].tolist() == [-END, -END] and z[2] == -END
    np.testing.assert_allclose(z[3:], [END, END], rtol=0, atol=1e-9)


def test_at_most_1000_quantiles_at_evenly_spaced_probabilities():
    values = np.arange(5000.0)
    quantiles = fit_quantiles(values)
    assert len(quantiles) == 1000 and quantiles[0] == 0.0 and quantiles[-1] == 4999.0
    assert quantiles[1] == pytest.approx(4999 / 999)
    assert len(fit_quantiles(values[:37])) == 37


def test_tied_quantiles_map_to_the_middle_of_their_probability_range():
    quantiles = fit_quantiles(np.array([0.0, 1.0, 0.0, 1.0, 0.0]))
    assert quantiles == [0.0, 0.0, 0.0, 1.0, 1.0]  # 0 spans probabilities [0, ½], 1 spans [¾, 1]
    z = to_normal(np.array([0.0, 1.0, 0.5]), quantiles)
    np.testing.assert_allclose(z, [-Z_25, Z_875, Z_375], rtol=0, atol=1e-12)  # ¼, ⅞, ⅝


def test_a_constant_column_stores_one_quantile_and_maps_to_zero():
    assert fit_quantiles(np.full(7, 3.5)) == [3.5]
    for quantiles in ([3.5], [3.5, 3.5, 3.5]):
        z = to_normal(np.array([3.5, -1e9, 3.6, 1e9]), quantiles)
        assert z.tolist() == [0.0] * 4 and z.dtype == np.float64


def test_normal_ppf_is_the_standard_librarys_inv_cdf_in_every_branch():
    p = np.concatenate([np.logspace(-300, -1, 200), np.linspace(0.001, 0.999, 999),
                        1 - np.logspace(-16, -1, 200)])  # tails beyond r = 5, near tails, centre
    expected = np.array([NormalDist().inv_cdf(v) for v in p])
    np.testing.assert_allclose(normal_ppf(p), expected, rtol=1e-15, atol=0)


def test_agrees_with_scikit_learn_on_continuous_columns_and_interior_ties():
    sklearn = pytest.importorskip("sklearn.preprocessing")
    rng = np.random.default_rng(0)
    continuous = [rng.lognormal(size=n) for n in (5, 300, 2500)]  # n_q = 5, 300, 1000
    interior_ties = np.concatenate([[-10.0], rng.integers(1, 5, 200).astype(float), [10.0]])
    for train in (*continuous, interior_ties):
        new = np.concatenate([train, rng.lognormal(size=300), rng.integers(0, 6, 20),
                              [-1.0, 1e3, 1.5, 3.5]])
        theirs = sklearn.QuantileTransformer(n_quantiles=min(1000, train.size), subsample=None,
                                             output_distribution="normal").fit(train[:, None])
        quantiles = fit_quantiles(train)
        assert np.array_equal(theirs.quantiles_[:, 0], quantiles)
        ours, expected = to_normal(new, quantiles), theirs.transform(new[:, None])[:, 0]
        # The end values differ by 4e-10: scikit-learn clips at Φ⁻¹(1e-7 − 2⁻⁵²).
        np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-9)
        inside = np.abs(expected) < 5
        np.testing.assert_allclose(ours[inside], expected[inside], rtol=0, atol=1e-12)


def test_ties_at_the_ends_and_constant_columns_differ_from_scikit_learn_as_documented():
    sklearn = pytest.importorskip("sklearn.preprocessing")
    binary = np.array([0.0, 1.0, 0.0, 1.0, 0.0])
    theirs = sklearn.QuantileTransformer(n_quantiles=5, output_distribution="normal").fit(
        binary[:, None])
    np.testing.assert_allclose(theirs.transform([[0.0], [1.0]])[:, 0], [-END, END], atol=1e-9)
    np.testing.assert_allclose(to_normal(np.array([0.0, 1.0]), fit_quantiles(binary)),
                               [-Z_25, Z_875], atol=1e-12)


def _quantile_prep(train, missing="error"):
    return fit_preprocessor(train, task="regression", targets=["y"], features=list(train.columns[:-1]),
                            classes=None, scale="quantile", missing=missing, scale_target=True,
                            source="t.csv")


TRAIN = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 5.0], "flag": [0, 1, 0, 1, 0],
                      "c": ["p", "q", "p", "q", "q"], "k": [7.0] * 5, "y": [0.5, 1, 2, 3, 4]})


def test_the_preprocessor_scales_numeric_columns_and_leaves_one_hots_at_0_1():
    prep = _quantile_prep(TRAIN)
    assert prep.quantiles == {"a": [1.0, 2.0, 3.0, 4.0, 5.0], "flag": [0.0, 0.0, 0.0, 1.0, 1.0],
                              "k": [7.0]}
    assert prep.numeric == {"a": [0.0, 1.0], "flag": [0.0, 1.0], "k": [0.0, 1.0]}
    assert prep.target_scale == [[2.1, pytest.approx(np.std([0.5, 1, 2, 3, 4]))]]  # standard
    X, _ = prep.transform(pd.DataFrame({"a": [2.0, 9.0], "flag": [1, 0], "c": ["q", "p"],
                                        "k": [7.0, 8.0]}), "new.csv")
    assert prep.input_names == ["a", "flag", "c=p", "c=q", "k"]
    np.testing.assert_allclose(X, [[-Z_25, Z_875, 0, 1, 0], [END, -Z_25, 1, 0, 0]], atol=1e-9)


def test_empty_cells_are_filled_with_the_training_mean_before_the_transform():
    train = pd.DataFrame({"a": [1.0, 2.0, np.nan, 3.0, 6.0], "y": [0.0, 1, 2, 3, 4]})
    prep = _quantile_prep(train, missing="mean")
    assert prep.fill["a"] == 3.0 and prep.quantiles["a"] == [1.0, 2.0, 3.0, 3.0, 6.0]
    X, _ = prep.transform(pd.DataFrame({"a": [np.nan, 3.0]}), "new.csv")
    assert X[0, 0] == X[1, 0] == pytest.approx(normal_ppf(np.array([0.625]))[0])  # tie [½, ¾]


def test_json_round_trip_is_exact_and_transforms_bit_identically():
    rng = np.random.default_rng(1)
    train = pd.DataFrame({"a": rng.lognormal(size=1500), "b": rng.standard_t(2, 1500),
                          "y": rng.normal(size=1500)})
    prep = _quantile_prep(train)
    loaded = Preprocessor.from_dict(json.loads(json.dumps(prep.to_dict())))
    assert loaded == prep and len(loaded.quantiles["a"]) == 1000
    new = pd.DataFrame({"a": rng.lognormal(size=500) * 1.5, "b": rng.standard_t(2, 500)})
    assert np.array_equal(loaded.transform(new, "n")[0], prep.transform(new, "n")[0])


def test_a_model_json_from_before_quantiles_still_loads():
    old = _quantile_prep(TRAIN).to_dict()
    old["scale"] = "standard"
    del old["quantiles"]
    assert Preprocessor.from_dict(old).quantiles == {}


@pytest.mark.parametrize("quantiles,message", [
    ([1.0, 3.0, 2.0], "preprocessing.quantiles['a']: must be non-decreasing ([2] = 2.0 < [1] = 3.0)"),
    ([1.0, None], "preprocessing.quantiles['a'][1]: None is not a finite number"),
    ([1.0, float("inf")], "preprocessing.quantiles['a'][1]: inf is not a finite number"),
    ([True, 2.0], "preprocessing.quantiles['a'][0]: True is not a finite number"),
    (["1", 2.0], "preprocessing.quantiles['a'][0]: '1' is not a finite number"),
    ([], "preprocessing.quantiles['a']: must be a non-empty list of numbers"),
    (3.0, "preprocessing.quantiles['a']: must be a non-empty list of numbers"),
])
def test_unusable_quantiles_are_refused_naming_the_column(quantiles, message):
    data = _quantile_prep(TRAIN).to_dict()
    data["quantiles"]["a"] = quantiles
    with pytest.raises(ValueError) as info:
        Preprocessor.from_dict(data)
    assert str(info.value) == message


def test_quantiles_must_cover_exactly_the_numeric_features():
    data = _quantile_prep(TRAIN).to_dict()
    data["quantiles"]["c"] = [0.0, 1.0]
    with pytest.raises(ValueError, match=r"^preprocessing.quantiles: 'c' is not a numeric feature$"):
        Preprocessor.from_dict(data)
    del data["quantiles"]["c"], data["quantiles"]["flag"]
    with pytest.raises(ValueError, match=r"^preprocessing.quantiles: none for column 'flag'$"):
        Preprocessor.from_dict(data)
    assert check_quantiles([1, 2.5], "q") == [1.0, 2.5]  # integers in a JSON file are numbers

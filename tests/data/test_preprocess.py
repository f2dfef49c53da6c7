import json

import numpy as np
import pandas as pd
import pytest

from nnfit.config.schema import DataConfig
from nnfit.data.preprocess import Preprocessor, fit_preprocessor
from nnfit.data.table import READING_DEFAULTS, reading_options
from nnfit.errors import NnfitError


def _fitted(missing="error", task="classification", reading=None):
    train = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "c": ["p", "q", "p", "q"],
                          "y": ["x", "z", "x", "z"] if task == "classification" else [0.5, 1, 2, 3]})
    return fit_preprocessor(train, task=task, targets=["y"], features=["a", "c"],
                            classes=["x", "z"] if task == "classification" else None,
                            scale="standard", missing=missing, scale_target=True, source="train.csv",
                            reading=reading)


def _error(call):
    with pytest.raises(NnfitError) as info:
        call()
    return info.value.message


def test_missing_policy_and_reading_options_are_stored_as_json():
    reading = reading_options(DataConfig(target="y", delimiter=";", keep_default_na=False))
    prep = _fitted("drop", reading=reading)
    stored = json.loads(json.dumps(prep.to_dict()))
    assert stored["missing"] == "drop" and stored["reading"] == {
        "delimiter": ";", "na_values": None, "keep_default_na": False, "encoding": "utf-8",
        "decimal": ".", "thousands": None}
    assert Preprocessor.from_dict(stored) == prep
    assert _fitted().reading == READING_DEFAULTS


def test_a_model_json_from_before_these_fields_still_loads():
    old = _fitted("mean").to_dict()
    del old["missing"], old["reading"]
    prep = Preprocessor.from_dict(old)
    assert prep.missing == "error" and prep.reading == READING_DEFAULTS
    assert prep.reading is not Preprocessor.from_dict(old).reading  # no shared default dict


NEW = pd.DataFrame({"a": [1.0, np.nan, 3.0, 4.0, 5.0], "c": ["p", "q", None, "q", "p"],
                    "y": ["x", "z", "x", None, "z"]}, index=[0, 1, 2, 3, 4])


def test_drop_removes_rows_with_empty_features_and_targets():
    prep = _fitted("drop")
    frame, dropped = prep.apply_missing(NEW, "new.csv")
    assert dropped == 3 and frame.index.tolist() == [0, 4]
    frame, dropped = prep.apply_missing(NEW, "new.csv", with_targets=False)  # predict
    assert dropped == 2 and frame.index.tolist() == [0, 3, 4]
    frame, dropped = prep.apply_missing(NEW.drop(columns="y"), "new.csv")  # no target column
    assert dropped == 2 and frame.index.tolist() == [0, 3, 4]
    assert _error(lambda: prep.apply_missing(NEW.iloc[1:3], "new.csv")) == (
        "new.csv: no rows left after dropping rows with empty cells")


def test_mean_keeps_rows_and_fills_features_but_drops_empty_targets_as_training_did():
    prep = _fitted("mean")
    frame, dropped = prep.apply_missing(NEW, "new.csv")
    assert dropped == 1 and frame.index.tolist() == [0, 1, 2, 4]
    X, unseen = prep.transform(frame, "new.csv")
    assert not np.isnan(X).any() and unseen == {}
    assert X[1, 0] == pytest.approx(0.0)  # the training mean, standardized
    assert X[2, 1:].tolist() == [1.0, 0.0]  # the most frequent category (first of a tie)
    frame, dropped = prep.apply_missing(NEW, "new.csv", with_targets=False)
    assert frame is NEW and dropped == 0


def test_error_names_the_first_empty_cell_in_file_order():
    prep = _fitted("error")
    assert _error(lambda: prep.apply_missing(NEW, "new.csv")).startswith(
        "new.csv: 3 row(s) have empty cells, the first at line 3, column 'a'; this model was "
        "trained with data.missing: error (")
    full = NEW.dropna()
    assert prep.apply_missing(full, "new.csv") == (full, 0)


def test_unseen_classes_are_an_error_by_default_or_marked():
    prep = _fitted()
    frame = pd.DataFrame({"a": [1.0] * 4, "c": ["p"] * 4, "y": ["z", "w", "x", "v"]})
    assert _error(lambda: prep.encode_targets(frame, "new.csv")) == (
        "new.csv: target 'y', line 3: class 'w' was not among the training classes (x, z)")
    codes, unseen = prep.encode_targets(frame, "new.csv", unseen="mark")
    assert codes.tolist() == [1, -1, 0, -1] and codes.dtype == np.intp
    assert unseen == ["v", "w"]
    assert prep.encode_targets(frame.iloc[[0, 2]], "new.csv").tolist() == [1, 0]
    with pytest.raises(ValueError):
        prep.encode_targets(frame, "new.csv", unseen="ignore")


def test_regression_targets_have_no_unseen_labels():
    prep = _fitted(task="regression")
    frame = pd.DataFrame({"a": [1.0, 2.0], "c": ["p", "q"], "y": [0.5, 100.0]})
    values, unseen = prep.encode_targets(frame, "new.csv", unseen="mark")
    assert unseen == [] and values.shape == (2, 1)
    np.testing.assert_array_equal(values, prep.encode_targets(frame, "new.csv"))


def _scaled(scale, missing="error", values=(2.0, 4.0, 10.0)):
    train = pd.DataFrame({"a": list(values), "y": [0.0, 1.0, 2.0]})
    return fit_preprocessor(train, task="regression", targets=["y"], features=["a"], classes=None,
                            scale=scale, missing=missing, scale_target=True, source="t.csv")


def test_min_max_maps_the_training_range_onto_0_1():
    prep = _scaled("minmax")
    assert prep.numeric["a"] == [2.0, 8.0]  # [min, max − min]
    X, _ = prep.transform(pd.DataFrame({"a": [2.0, 4.0, 10.0, 14.0]}), "new.csv")
    np.testing.assert_allclose(X[:, 0], [0.0, 0.25, 1.0, 1.5])


def test_standard_scaling_uses_the_training_mean_and_std():
    prep = _scaled("standard")
    mean, std = np.mean([2.0, 4.0, 10.0]), np.std([2.0, 4.0, 10.0])
    assert prep.numeric["a"] == pytest.approx([mean, std])
    X, _ = prep.transform(pd.DataFrame({"a": [mean + std]}), "new.csv")
    assert X[0, 0] == pytest.approx(1.0)


def test_mean_fill_uses_the_training_mean_not_zero():
    prep = _scaled("none", missing="mean", values=(2.0, 4.0, np.nan))
    assert prep.fill["a"] == 3.0
    X, _ = prep.transform(pd.DataFrame({"a": [np.nan, 5.0]}), "new.csv")
    assert X[:, 0].tolist() == [3.0, 5.0]


def _mixed(n=300, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=n), "n": rng.integers(0, 9, n),
                          "c": rng.choice(["p", "q", " r"], n), "b": rng.random(n) < 0.5,
                          "y": rng.choice(["x", "z"], n)})
    frame.index = frame.index + 7  # CSV rows as left by dropped rows: not 0..n-1
    return frame


def test_transform_of_chosen_rows_is_transform_of_those_rows():
    frame = _mixed()
    prep = fit_preprocessor(frame, task="classification", targets=["y"], features=["a", "n", "c", "b"],
                            classes=["x", "z"], scale="quantile", missing="error", scale_target=True,
                            source="t.csv", rows=np.arange(0, 300, 2))
    assert prep == fit_preprocessor(frame.iloc[::2], task="classification", targets=["y"],
                                    features=["a", "n", "c", "b"], classes=["x", "z"],
                                    scale="quantile", missing="error", scale_target=True,
                                    source="t.csv")
    rows = np.random.default_rng(1).permutation(300)[:250]
    frame.loc[frame.index[rows[3]], "c"] = "new"
    X, unseen = prep.transform(frame, "t.csv", rows=rows)
    X_part, unseen_part = prep.transform(frame.iloc[rows], "t.csv")
    np.testing.assert_array_equal(X, X_part)
    assert unseen == unseen_part == {"c": 1}


def test_a_float32_matrix_holds_the_float64_values_rounded_once():
    frame = _mixed(20_000)  # several chunks of rows
    prep = fit_preprocessor(frame, task="classification", targets=["y"], features=["a", "n", "c", "b"],
                            classes=["x", "z"], scale="standard", missing="error", scale_target=True,
                            source="t.csv")
    X64, _ = prep.transform(frame, "t.csv")
    X32, _ = prep.transform(frame, "t.csv", dtype=np.float32)
    assert X64.dtype == np.float64 and X32.dtype == np.float32 and X32.flags.c_contiguous
    np.testing.assert_array_equal(X32, X64.astype(np.float32))
    center, scale = prep.numeric["a"]
    np.testing.assert_array_equal(X64[:, 0], (frame["a"].to_numpy() - center) / scale)


def test_empty_cells_and_text_in_chosen_rows_name_their_csv_line():
    frame = _mixed(40)
    prep = fit_preprocessor(frame, task="classification", targets=["y"], features=["a", "n", "c", "b"],
                            classes=["x", "z"], scale="standard", missing="error", scale_target=True,
                            source="t.csv")
    frame.loc[[20, 30], "a"] = np.nan  # positions 13 and 23, lines 22 and 32
    assert prep.transform(frame, "t.csv", rows=np.arange(13))[0].shape == (13, 6)  # none in these
    assert _error(lambda: prep.transform(frame, "t.csv", rows=np.array([30, 25, 23, 13]))) == (
        "t.csv: column 'a', line 32: empty cell, and this model has no fill value (train with "
        "data.missing: mean to get one)")
    frame["n"] = frame["n"].astype(object)
    frame.loc[12, "n"] = "oops"  # position 5, line 14
    assert _error(lambda: prep.transform(frame, "t.csv", rows=np.array([9, 5, 23]))) == (
        "t.csv: column 'a', line 32: empty cell, and this model has no fill value (train with "
        "data.missing: mean to get one)")  # columns in order: 'a' comes first
    assert _error(lambda: prep.transform(frame, "t.csv", rows=np.array([9, 5]))) == (
        "t.csv: column 'n', line 14: 'oops' is not a number")


# -- numbers that are not numbers a network can take ----------------------------------------
def _fit(frame, **options):
    from nnfit.data.preprocess import fit_preprocessor

    kwargs = dict(task="regression", targets=["y"], features=[c for c in frame if c != "y"],
                  classes=None, scale="standard", missing="error", scale_target=True, source="d.csv")
    return fit_preprocessor(frame, **{**kwargs, **options})


@pytest.mark.parametrize("cells,line,shown,count", [
    (["1", "inf", "2", "-inf"], 3, "inf", "2 such cells"),
    (["1", "2", "1e400", "3"], 4, "inf", "1 such cell"),  # beyond float64: inf after parsing
])
def test_infinite_cells_are_refused_naming_the_first_line(cells, line, shown, count):
    import pandas as pd

    from nnfit.errors import NnfitError

    frame = pd.DataFrame({"x": cells, "y": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(NnfitError) as info:
        _fit(frame)
    assert info.value.message == (f"d.csv: column 'x', line {line}: {shown} is not a finite number "
                                  f"({count}); remove the rows, or empty the cells and set "
                                  f"data.missing")


def test_numbers_whose_statistics_overflow_are_refused():
    import pandas as pd

    from nnfit.errors import NnfitError

    frame = pd.DataFrame({"x": [1e308, 1.5e308, -1e308], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(NnfitError, match="column 'x': its numbers are too large to scale in "
                                         "float64 \\(the standard scaling overflows\\)"):
        _fit(frame)


def test_a_column_empty_in_the_training_rows_has_no_mean_to_fill_with():
    import pandas as pd

    from nnfit.errors import NnfitError

    frame = pd.DataFrame({"x": [None, None, None], "z": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(NnfitError, match="column 'x' has no values in the training rows, so it "
                                         "has no mean to fill with"):
        _fit(frame, missing="mean")

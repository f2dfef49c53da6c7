"""The column-at-a-time label functions against the per-cell code they replaced.

``old_*`` below are the implementations before vectorizing (``Series.map(label_text)``
per cell, ``pd.to_numeric`` on every filled cell), kept here as the reference.
"""

import numpy as np
import pandas as pd
import pytest

from nnfit.config.labels import label_text
from nnfit.data.labels import column_labels, sorted_labels, text_array
from nnfit.data.preprocess import Preprocessor, fit_preprocessor, looks_numeric, text_labels


def old_labels(series) -> list:
    return series.map(label_text, na_action="ignore").tolist()


def old_looks_numeric(series) -> bool:
    if pd.api.types.is_numeric_dtype(series):
        return True
    filled = series.dropna()
    return len(filled) > 0 and pd.to_numeric(filled, errors="coerce").notna().mean() >= 0.5


def old_categories_and_fill(series) -> tuple[list[str], str]:
    text = series.map(label_text, na_action="ignore")
    fill = str(text.mode().iloc[0])
    return sorted(text.fillna(fill).dropna().unique().tolist()), fill


def old_one_hot(series, cats, fill=None) -> tuple[np.ndarray, int]:
    if fill is not None:
        series = series.fillna(fill)
    codes = pd.Index(cats).get_indexer(series.map(label_text, na_action="ignore"))
    block = np.zeros((len(series), len(cats)))
    block[np.flatnonzero(codes >= 0), codes[codes >= 0]] = 1.0
    return block, int((codes < 0).sum())


def new_labels(series) -> list:
    codes, labels = column_labels(series)
    return [labels[c] if c >= 0 else None for c in codes]


def same(old: list, new: list) -> bool:
    return [None if pd.isna(v) else v for v in old] == new


TRICKY = {
    "mixed objects": pd.Series([1, 1.0, "1", True, False, 0, 0.0, "a", " a", "a ", np.nan, None,
                                2.5, -0.0, np.float64(3.0), np.int64(4), "true", np.bool_(True)],
                               dtype=object),
    "bools, ints and floats": pd.Series([True, 1, 1.0, False, 0, 0.0, 2, np.nan], dtype=object),
    "bools with holes": pd.Series([True, False, np.nan, True], dtype=object),
    "floats": pd.Series([1.0, 2.5, np.nan, -0.0, 1e20, 1.5e16, 0.1, 3.0, -7.0, np.inf]),
    "ints": pd.Series([3, -1, 0, 3, 10 ** 12]),
    "bools": pd.Series([True, False, True]),
    "text with spaces": pd.Series([" red", "red", "red ", "Red", np.nan, "", " red"]),
    "numbers as text": pd.Series(["1", "1.0", "01", "x", np.nan, "1"], dtype=object),
    "text (str dtype)": pd.Series(["b", "a", np.nan, "b", "a", "c"], dtype="str"),
    "all empty": pd.Series([np.nan, None], dtype=object),
}


@pytest.mark.parametrize("series", TRICKY.values(), ids=TRICKY.keys())
def test_column_labels_read_every_cell_as_label_text_did(series):
    assert same(old_labels(series), new_labels(series))
    codes, labels = column_labels(series)
    assert codes.dtype == np.intp and len(set(labels)) == len(labels)


def test_labels_that_compare_equal_but_read_differently_stay_apart():
    codes, labels = column_labels(pd.Series([1, True, 1.0, "1", "true"], dtype=object))
    assert [labels[c] for c in codes] == ["1", "true", "1", "1", "true"]
    assert labels == ["1", "true"]  # 1, 1.0 and "1" are one label; True and "true" another


def test_whole_floats_read_as_integers():
    codes, labels = column_labels(pd.Series([1.0, 2.0, 1.5, -3.0, 1e20]))
    assert labels == ["1", "2", "1.5", "-3", "100000000000000000000"]
    assert text_array(*column_labels(pd.Series([2.0, 1.0, 2.0]))).tolist() == ["2", "1", "2"]


def test_the_text_array_of_the_codes_is_the_old_text_array_of_a_target_column():
    for series in (pd.Series([1.0, 0.0, 1.0]), pd.Series(["x", " y", "x"]),
                   pd.Series([True, False]), pd.Series([3, 1, 2])):
        old = series.map(label_text).to_numpy(dtype=str)
        new = text_array(*column_labels(series))
        assert new.dtype == old.dtype and new.tolist() == old.tolist()


@pytest.mark.parametrize("series", [
    *TRICKY.values(),
    pd.Series(["1", "2", "x", "y"]),  # exactly half: numbers
    pd.Series(["1", "x", "y", np.nan, np.nan]),  # a third of the filled cells
    pd.Series(["1", "2", "3", "oops", np.nan]),
    pd.Series(["1e3", " 2", "-inf", "nan", "abc"]),
], ids=[*TRICKY.keys(), "half", "a third", "a typo", "odd numbers"])
def test_looks_numeric_agrees_with_parsing_every_cell(series):
    assert looks_numeric(series) == old_looks_numeric(series)
    found = text_labels(series)
    assert (found is None) == old_looks_numeric(series)
    if found is not None:
        codes, labels = found
        assert same(old_labels(series), [labels[c] if c >= 0 else None for c in codes])


def test_looks_numeric_on_many_random_text_columns():
    rng = np.random.default_rng(0)
    pool = np.array(["1", "2.5", "-3", "x", "y", "1e2", " 7", "n/a", "0x10", "inf"], dtype=object)
    for _ in range(200):
        cells = pool[rng.integers(0, pool.size, rng.integers(1, 12))].copy()
        cells[rng.random(cells.size) < 0.2] = np.nan
        series = pd.Series(cells, dtype=rng.choice(["str", "object"]))
        assert looks_numeric(series) == old_looks_numeric(series), cells


CATEGORICAL = {
    "tie: the first in order": pd.Series(["b", "a", "b", "a", "c"]),
    "upper case sorts first": pd.Series(["a", "B", "a", "B"]),
    "spaces kept": pd.Series([" p", "p", "p ", " p", np.nan]),
    "numbers among text": pd.Series(["7", "x", "7.0", "y", np.nan, "z", "w"], dtype=object),
    "mixed objects": pd.Series(["x", 1, 1.0, True, np.nan, "x", "1", "y", "z", "w"], dtype=object),
}


@pytest.mark.parametrize("series", CATEGORICAL.values(), ids=CATEGORICAL.keys())
def test_fitted_categories_fill_and_one_hots_match_the_per_cell_code(series):
    train = pd.DataFrame({"c": series, "y": np.arange(len(series)) % 2})
    prep = fit_preprocessor(train, task="regression", targets=["y"], features=["c"], classes=None,
                            scale="standard", missing="mean", scale_target=True, source="t.csv")
    cats, fill = old_categories_and_fill(series)
    assert prep.categorical["c"] == cats and prep.fill["c"] == fill
    new = pd.DataFrame({"c": pd.Series([*series.tolist(), "unseen", np.nan, 7], dtype=object)})
    X, unseen = prep.transform(new, "new.csv")
    block, count = old_one_hot(new["c"], cats, fill)
    np.testing.assert_array_equal(X, block)
    assert unseen == ({"c": count} if count else {})
    without_fill = Preprocessor(**{**prep.to_dict(), "fill": {}})  # empty cells: unseen
    X, unseen = without_fill.transform(new, "new.csv")
    block, count = old_one_hot(new["c"], cats)
    np.testing.assert_array_equal(X, block)
    assert unseen == {"c": count}  # the empty cells among them


def test_classes_of_new_targets_are_encoded_as_before():
    prep = Preprocessor(task="classification", targets=["y"], features=[], classes=["0", "1", "2"])
    frame = pd.DataFrame({"y": [2.0, 0.0, 1.0, 5.0, 2.5, 5.0]})
    codes, unseen = prep.encode_targets(frame, "new.csv", unseen="mark")
    assert codes.tolist() == [2, 0, 1, -1, -1, -1] and unseen == sorted_labels(["5", "2.5"])
    assert unseen == ["2.5", "5"]


def test_text_columns_as_categories_read_the_same_labels():
    from nnfit.data.dataset import text_as_categories

    frame = pd.DataFrame({"t": pd.Series([" a", "b", np.nan, "a", "b"], dtype="str"),
                          "o": pd.Series(["x", "y", "x", None, "z"], dtype=object),
                          "bools": pd.Series([True, False, np.nan, True, True], dtype=object),
                          "mixed": pd.Series([1, "1", True, "x", 2.0], dtype=object),
                          "f": [1.0, 2.0, 3.0, np.nan, 5.0]})
    converted = text_as_categories(frame, list(frame.columns))
    assert [c for c in frame if isinstance(converted[c].dtype, pd.CategoricalDtype)] == ["t", "o"]
    assert frame["t"].dtype == "str" and frame["o"].dtype == object  # the caller's frame is as it was
    for col in frame:
        assert new_labels(converted[col]) == new_labels(frame[col])
        assert looks_numeric(converted[col]) == looks_numeric(frame[col])


@pytest.mark.parametrize("series", CATEGORICAL.values(), ids=CATEGORICAL.keys())
def test_a_categorical_frame_fits_and_transforms_as_the_text_one(series):
    from nnfit.data.dataset import text_as_categories

    n = len(series)
    frame = pd.DataFrame({"c": series, "a": np.arange(n) * 1.5, "y": np.arange(n) % 2})
    frame.loc[len(frame)] = ["only in the last row", 0.0, 0]  # not among the training rows
    converted = text_as_categories(frame, ["c"])
    rows = np.arange(n)
    fitted = [fit_preprocessor(f, rows=rows, task="regression", targets=["y"], features=["c", "a"],
                               classes=None, scale="standard", missing="mean", scale_target=True,
                               source="t.csv") for f in (frame, converted)]
    assert fitted[0] == fitted[1] and "only in the last row" not in fitted[0].categorical["c"]
    X, unseen = fitted[0].transform(frame, "t.csv")
    X_cat, unseen_cat = fitted[1].transform(converted, "t.csv", dtype=np.float32)
    np.testing.assert_array_equal(X_cat, X.astype(np.float32))
    assert unseen == unseen_cat == {"c": 1}


def test_class_labels_are_the_text_array_the_per_cell_code_made(tmp_path):
    from nnfit.config.schema import Config
    from nnfit.workflows.prepared import read_dataset

    path = tmp_path / "d.csv"
    path.write_text("a,y\n" + "".join(f"{i},{[1.0, 0.0, 2.5][i % 3]}\n" for i in range(30)))
    dataset = read_dataset(Config(data={"target": "y", "task": "classification"}), path)
    old = pd.read_csv(path)["y"].map(label_text).to_numpy(dtype=str)
    assert dataset.labels.dtype == old.dtype and dataset.labels.tolist() == old.tolist()
    assert dataset.classes == ["0", "1", "2.5"]


def test_padding_around_a_label_is_not_part_of_it(tmp_path):
    from nnfit.config.schema import Config
    from nnfit.workflows.prepared import read_dataset

    assert label_text("  p ") == "p" and label_text(" 1") == "1"
    codes, labels = column_labels(pd.Series([" p", "p", "q ", None], dtype=object))
    assert labels == ["p", "q"] and codes.tolist() == [0, 0, 1, -1]
    path = tmp_path / "padded.csv"
    path.write_text("a, b, y\n" + "".join(f"{i}, {i % 3}, {'pq'[i % 2]}\n" for i in range(30)))
    dataset = read_dataset(Config(data={"target": "y"}), path)
    assert dataset.classes == ["p", "q"]
    assert [n.text for n in dataset.notes if n.text.startswith("classes")] == ["classes: p, q"]

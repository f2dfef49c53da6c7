import numpy as np
import pytest

from nnfit.config.schema import Config
from nnfit.data.split import split_indices
from nnfit.errors import NnfitError
from nnfit.workflows import prepare


def _csv(tmp_path, text, name="d.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _load(path, **data):
    return prepare(Config(data={"target": "y", **data}), path)


def _error(path, **data):
    with pytest.raises(NnfitError) as info:
        _load(path, **data)
    assert info.value.exit_code == 2 and "\n" not in info.value.message
    return info.value.message.replace(str(path), "d.csv")


def _rows(n, fmt):
    return "".join(fmt(i) for i in range(n))


def test_missing_file(tmp_path):
    assert _error(tmp_path / "d.csv") == "d.csv: no such data file"


def test_empty_file_and_header_only(tmp_path):
    assert _error(_csv(tmp_path, "")) == "d.csv: the CSV is empty"
    assert _error(_csv(tmp_path, "a,y\n")) == "d.csv: the CSV has a header but no rows"


def test_missing_target_and_feature_columns_are_named(tmp_path):
    path = _csv(tmp_path, "a,b,label\n1,2,x\n")
    assert _error(path) == "d.csv: target column not found: y; the CSV has: a, b, label"
    assert _error(path, target="lable") == ("d.csv: target column not found: lable (did you mean "
                                            "'label'?); the CSV has: a, b, label")
    assert _error(path, target="label", features=["a", "c", "d"]) == (
        "d.csv: feature columns not found: c, d; the CSV has: a, b, label")


@pytest.mark.parametrize("text,expected", [
    ("a,b,y\n" + _rows(20, lambda i: f"{i},,{i % 2}\n"),
     "d.csv: column 'b' is entirely empty; drop it from features"),
    ("a,y\n" + _rows(20, lambda i: f"{i},cat\n"),
     "d.csv: target 'y' has a single class ('cat'); classification needs at least two"),
    ("a,y\n1,0.5\n2,0.7\n3,0.1\n",
     "d.csv: 3 rows are too few for test_fraction 0.2 and val_fraction 0.1: training would keep 1 "
     "(need at least 4 rows, or smaller fractions)"),
    ("a,y\n" + _rows(20, lambda i: f"{'oops' if i == 7 else i},{i * 0.5}\n"),
     "d.csv: column 'a', line 9: 'oops' is not a number"),
], ids=["all-empty column", "single class", "too few rows", "text in a numeric column"])
def test_data_errors_name_the_problem(tmp_path, text, expected):
    assert _error(_csv(tmp_path, text)) == expected


def test_empty_cells_error_by_default_then_drop_or_mean(tmp_path):
    path = _csv(tmp_path, "a,b,y\n" + _rows(40, lambda i: f"{'' if i == 3 else i},{i % 3},{i * 0.5}\n"))
    assert _error(path) == ("d.csv: 1 row(s) have empty cells, the first at line 5, column 'a'; "
                            "set data.missing to drop or mean (cells reading NA, N/A, null and the "
                            "like count as empty unless data.keep_default_na is false)")
    dropped = _load(path, missing="drop")
    assert dropped.n_rows == 39 and "dropped 1 of 40 rows with empty cells" in map(str, dropped.notes)
    filled = _load(path, missing="mean")
    assert filled.n_rows == 40 and not any(np.isnan(x).any() for x in filled.data.X.values())


def test_task_auto_decides_and_says_why(tmp_path):
    text = _load(_csv(tmp_path, "a,y\n" + _rows(30, lambda i: f"{i},{'ab'[i % 2]}\n")))
    assert text.prep.task == "classification" and text.prep.classes == ["a", "b"]
    assert "task: classification ('y' holds text; set data.task to override)" in map(str, text.notes)
    assert text.task_reason == "'y' holds text"  # the decision as data, for the starter
    ints = _load(_csv(tmp_path, "a,y\n" + _rows(30, lambda i: f"{i},{i % 3}\n")))
    assert ints.prep.task == "classification" and ints.prep.classes == ["0", "1", "2"]
    floats = _load(_csv(tmp_path, "a,y\n" + _rows(30, lambda i: f"{i},{i * 1.5}\n")))
    assert floats.prep.task == "regression"
    forced = _load(_csv(tmp_path, "a,y\n" + _rows(30, lambda i: f"{i},{i % 3}\n")), task="regression")
    assert forced.prep.task == "regression"


def test_split_is_seeded_and_stratified():
    labels = np.repeat(["a", "b", "c"], [60, 30, 10])
    first = split_indices(100, 0.2, 0.1, np.random.default_rng(5), labels)
    again = split_indices(100, 0.2, 0.1, np.random.default_rng(5), labels)
    other = split_indices(100, 0.2, 0.1, np.random.default_rng(6), labels)
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert not np.array_equal(first["test"], other["test"])
    assert {k: v.size for k, v in first.items()} == {"train": 70, "val": 10, "test": 20}
    assert np.sort(np.concatenate(list(first.values()))).tolist() == list(range(100))
    counts = {k: {c: int((labels[v] == c).sum()) for c in "abc"} for k, v in first.items()}
    assert counts["test"] == {"a": 12, "b": 6, "c": 2}
    assert counts["val"] == {"a": 6, "b": 3, "c": 1}


def test_preprocessing_fits_on_train_only_and_one_hot_encodes_text(tmp_path):
    path = _csv(tmp_path, "num,colour,y\n" + _rows(
        50, lambda i: f"{i * 2.0},{['red', 'green', 'blue'][i % 3]},{i % 2}\n"))
    ds = _load(path)
    prep = ds.prep
    assert prep.input_names == ["num", "colour=blue", "colour=green", "colour=red"]
    x = ds.data.X["train"]
    assert x.dtype == np.float32  # training.dtype's, so the mean is 0 to float32 precision
    assert x[:, 0].mean() == pytest.approx(0, abs=1e-6) and x[:, 0].std() == pytest.approx(1)
    assert set(np.unique(x[:, 1:])) == {0.0, 1.0} and (x[:, 1:].sum(axis=1) == 1).all()
    restored = type(prep).from_dict(prep.to_dict())
    assert restored == prep


def test_unseen_category_becomes_all_zero_and_is_counted(tmp_path):
    import pandas as pd

    path = _csv(tmp_path, "c,y\n" + _rows(30, lambda i: f"{'pq'[i % 2]},{i % 2}\n"))
    prep = _load(path).prep
    X, unseen = prep.transform(pd.DataFrame({"c": ["p", "z", "q"]}), "new.csv")
    assert X.tolist() == [[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]]
    assert unseen == {"c": 1}


def test_an_id_like_text_column_gets_a_note(tmp_path):
    path = _csv(tmp_path, "name,a,y\n" + _rows(80, lambda i: f"row{i},{i},{i * 0.5}\n"))
    ds = _load(path)
    assert ds.audit.identifier_columns == ["name", "a"]
    assert any(note.warning and note.text.startswith(
        "column 'name' looks like a row identifier (text with a distinct value in 80 of 80 rows)")
        and "--set 'data.exclude=[name, a]'" in note.text for note in ds.notes)

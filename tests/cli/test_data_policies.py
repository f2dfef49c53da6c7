"""The data keys and missing-value policies, end to end through the CLI (in process)."""

import io
import json

import numpy as np
import pandas as pd
import pytest
from conftest import cli, metrics


def _blobs(n=90, seed=0):
    rng = np.random.default_rng(seed)
    label = np.repeat(["cat", "dog", "fox"], n // 3)
    x = rng.normal(size=n) + np.repeat([0.0, 3.0, 6.0], n // 3)
    return pd.DataFrame({"x": x, "z": rng.normal(size=n), "animal": label})


def _config(tmp_path, data_keys="", name="c.yaml"):
    path = tmp_path / name
    path.write_text(f"data: {{target: animal{data_keys}}}\ntraining: {{epochs: 5, lr: 0.05}}\n")
    return path


def _notes(result):
    return result.stderr.splitlines()


def test_an_exported_index_column_is_flagged_and_can_be_excluded(tmp_path):
    data = tmp_path / "indexed.csv"
    _blobs().to_csv(data)  # pandas writes the index as an unnamed first column
    result = cli("summary", _config(tmp_path), data)
    assert result.returncode == 0, result.stderr
    assert ("warning: column 'Unnamed: 0' looks like a row identifier (distinct integers filling "
            "0..89, in file order); leave it out: --set 'data.exclude=[\"Unnamed: 0\"]'"
            ) in result.stdout
    shown = cli("summary", _config(tmp_path, ", exclude: ['Unnamed: 0']", "x.yaml"), data)
    assert "Unnamed" not in shown.stdout and "2 inputs" in shown.stdout


def test_the_delimiter_is_sniffed_and_a_one_column_parse_gets_a_hint(tmp_path):
    data = tmp_path / "semi.csv"
    _blobs().to_csv(data, sep=";", index=False)
    run = tmp_path / "run"
    assert cli("train", _config(tmp_path), data, "--out", run, "-q").returncode == 0
    assert metrics(run)["data"]["inputs"] == 2
    wrong = cli("train", _config(tmp_path, ", delimiter: ','", "comma.yaml"), data)
    assert wrong.returncode == 2
    assert "is the delimiter ';'? set data.delimiter" in wrong.stderr


def test_the_text_na_is_a_category_when_default_na_strings_are_off(tmp_path):
    frame = _blobs()
    frame["region"] = np.where(np.arange(len(frame)) % 2, "NA", "EU")  # North America
    data = tmp_path / "regions.csv"
    frame.to_csv(data, index=False)
    refused = cli("summary", _config(tmp_path), data)
    assert refused.returncode == 2 and "have empty cells" in refused.stderr
    kept = cli("summary", _config(tmp_path, ", keep_default_na: false", "na.yaml"), data)
    assert kept.returncode == 0, kept.stderr
    assert "4 inputs" in kept.stdout  # x, z, region=EU, region=NA


@pytest.fixture(scope="module")
def dropping_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("drop")
    frame = _blobs()
    frame.loc[5, "z"] = np.nan
    frame.to_csv(root / "train.csv", index=False)
    run = root / "run"
    result = cli("train", _config(root, ", missing: drop"), root / "train.csv", "--out", run, "-q")
    assert result.returncode == 0, result.stderr
    return run


def test_eval_and_predict_apply_the_training_drop_policy(tmp_path, dropping_run):
    frame = _blobs(seed=1)
    frame.loc[[2, 7], "x"] = np.nan
    data = tmp_path / "new.csv"
    frame.to_csv(data, index=False)
    scored = cli("eval", dropping_run, data, "--json")
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["n_rows"] == 88
    assert (f"warning: {data}: skipped 2 of 90 rows with empty cells (the model was trained with "
            f"data.missing: drop)") in scored.stderr
    predicted = cli("predict", dropping_run, data)
    assert predicted.returncode == 0 and len(pd.read_csv(io.StringIO(predicted.stdout))) == 88


def test_eval_counts_an_unseen_class_as_wrong_and_names_it(tmp_path, dropping_run):
    frame = _blobs(seed=2)
    frame.loc[:4, "animal"] = "owl"
    data = tmp_path / "owls.csv"
    frame.to_csv(data, index=False)
    result = cli("eval", dropping_run, data, "--json")
    assert result.returncode == 0, result.stderr
    assert ("5 row(s) have a class never seen in training ('owl'): counted as wrong"
            in result.stderr)
    scored = json.loads(result.stdout)
    assert scored["unseen_rows"] == 5 and scored["n_rows"] == 90
    assert scored["accuracy"] <= 85 / 90
    assert np.sum(scored["confusion_matrix"]) == 85


def test_names_that_look_like_rich_markup_are_printed_as_they_are(tmp_path):
    frame = _blobs()
    frame["animal"] = frame["animal"].map({"cat": "[/]", "dog": "[bold]dog", "fox": "fox"})
    frame = frame.rename(columns={"z": "[/z]"})
    data = tmp_path / "markup.csv"
    frame.to_csv(data, index=False)
    run = tmp_path / "run"
    trained = cli("train", _config(tmp_path), data, "--out", run)
    assert trained.returncode == 0, trained.stderr
    assert "classes: [/], [bold]dog, fox" in trained.stderr
    scored = cli("eval", run, data)
    assert scored.returncode == 0, scored.stderr
    assert "[bold]dog" in scored.stdout and "[/]" in scored.stdout
    shown = cli("show", run)
    assert shown.returncode == 0 and "x, [/z]" in shown.stdout


def test_eval_under_missing_error_names_the_first_empty_cell_in_file_order(tmp_path):
    frame = _blobs()
    frame["colour"] = np.where(np.arange(len(frame)) % 2, "red", "blue")
    data = tmp_path / "train.csv"
    frame.to_csv(data, index=False)
    run = tmp_path / "run"
    assert cli("train", _config(tmp_path), data, "--out", run, "-q").returncode == 0
    frame.loc[1, "colour"] = np.nan  # a text cell: once silently encoded as all zeros
    frame.loc[4, "x"] = np.nan
    frame.to_csv(tmp_path / "holes.csv", index=False)
    for command in ("eval", "predict"):
        result = cli(command, run, tmp_path / "holes.csv")
        assert result.returncode == 2
        assert result.stderr.startswith(
            f"{tmp_path / 'holes.csv'}: 2 row(s) have empty cells, the first at line 3, column "
            f"'colour'; this model was trained with data.missing: error")


def test_quiet_training_still_shows_warnings(tmp_path):
    data = tmp_path / "indexed.csv"
    _blobs().to_csv(data)
    result = cli("train", _config(tmp_path), data, "--out", tmp_path / "run", "-q")
    assert result.returncode == 0
    lines = result.stderr.splitlines()
    assert lines[0].startswith("warning: column 'Unnamed: 0' looks like a row identifier")
    assert len(lines) == 3 and lines[-1] == f"run directory: {tmp_path / 'run'}"

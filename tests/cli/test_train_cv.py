"""``nnfit train --cv K``: a verdict small files can trust, a normal run directory, clear errors."""

import json

import numpy as np
import pytest
from conftest import cli, metrics

LINEAR = ("data: {target: y, test_fraction: 0.2, val_fraction: 0.2}\n"
          "model: {layers: []}\n"
          "training: {lr: 0.05, epochs: 150, batch_size: 32, early_stopping: {patience: 20}}\n")


@pytest.fixture
def line_data(tmp_path):
    """40 rows of a straight line plus noise, and a linear model: a good fit by construction."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, 40)
    y = 2 * x + 1 + rng.normal(0, 0.4, 40)
    csv = tmp_path / "line.csv"
    csv.write_text("x,y\n" + "".join(f"{a:.5f},{b:.5f}\n" for a, b in zip(x, y, strict=False)))
    config = tmp_path / "linear.yaml"
    config.write_text(LINEAR)
    return config, csv


def test_cv_turns_a_small_files_inconclusive_into_a_verdict(line_data, tmp_path):
    config, csv = line_data
    plain = cli("train", config, csv, "-o", tmp_path / "plain", "-q")
    assert plain.returncode == 0, plain.stderr
    assert metrics(tmp_path / "plain")["diagnosis"]["verdict"] == "inconclusive"  # 8 val rows

    run = tmp_path / "cv"
    result = cli("train", config, csv, "--cv", "5", "--jobs", "1", "-o", run, "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record.pop("run_dir") == str(run)
    assert record == json.loads((run / "metrics.json").read_text())
    assert record["diagnosis"]["verdict"] == "good fit"
    assert record["diagnosis"]["val_rows"] == 32 and record["cv"]["k"] == 5
    assert "5-fold cross-validation" in result.stderr and "mean ± std" in result.stderr
    assert f"run directory: {run}" in result.stderr
    assert (run / "cv.csv").read_text().count("\n") == 6

    evaluated = cli("eval", run, csv, "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["n_rows"] == 40
    shown = cli("show", run)
    assert shown.returncode == 0 and "good fit" in shown.stdout


@pytest.fixture
def two_classes(tmp_path):
    rng = np.random.default_rng(1)
    csv = tmp_path / "two.csv"
    csv.write_text("x,label\n" + "".join(f"{rng.normal():.4f},{'a' if i < 20 else 'b'}\n"
                                         for i in range(30)))
    config = tmp_path / "two.yaml"
    config.write_text("data: {target: label}\nmodel: {layers: []}\ntraining: {epochs: 3}\n")
    return config, csv


@pytest.mark.parametrize("k, words", [
    ("1", "--cv must be a number of folds of at least 2 (got 1)"),
    ("0", "--cv must be a number of folds of at least 2 (got 0)"),
    ("50", "--cv 50: only 24 rows lie outside the test split of"),
    ("10", "class 'b' has 8 rows, fewer than the 10 folds"),
])
def test_impossible_folds_are_one_line_errors_and_write_nothing(two_classes, tmp_path, k, words):
    config, csv = two_classes
    out = tmp_path / "never"
    result = cli("train", config, csv, "--cv", k, "--jobs", "1", "-o", out)
    assert result.returncode == 2
    assert words in result.stderr and result.stderr.count("\n") == 1
    assert not out.exists()


def test_jobs_needs_cv(two_classes, tmp_path):
    config, csv = two_classes
    result = cli("train", config, csv, "--jobs", "2", "-o", tmp_path / "never")
    assert result.returncode == 2 and "give --cv K" in result.stderr
    assert not (tmp_path / "never").exists()

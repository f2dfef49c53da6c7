"""The data checks before the fit, end to end in process: train and --cv say each once and
record them in metrics.json; init leaves a row identifier out and sizes the network without it."""

import numpy as np
import pandas as pd
import yaml
from conftest import cli, metrics

WARNING = ("warning: column 'rownames' looks like a row identifier (distinct integers filling "
           "1..400, in file order); leave it out: --set 'data.exclude=[rownames]'")


def _csv(tmp_path, copies=0):
    """400 rows of R's write.csv: ``rownames`` 1..n, three features, a numeric target; the
    first ``copies`` rows again at the end (numbered on)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400 - copies, 3))
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2],
                          "y": x @ [1.0, -1.0, 0.5] + rng.normal(scale=0.3, size=len(x))})
    frame = pd.concat([frame, frame.iloc[:copies]], ignore_index=True)
    frame.insert(0, "rownames", np.arange(1, 401))
    path = tmp_path / "rdata.csv"
    frame.to_csv(path, index=False)
    return path


def _config(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data: {target: y}\nmodel: {layers: [{type: dense, units: 8, activation: relu}]}\n"
                    "training: {epochs: 3, lr: 0.01}\n")
    return path


def test_train_warns_once_and_records_the_checks(tmp_path):
    result = cli("train", _config(tmp_path), _csv(tmp_path), "--out", tmp_path / "run",
                 "--no-probe")
    assert result.returncode == 0, result.stderr
    assert (result.stdout + result.stderr).count(WARNING) == 1
    checks = metrics(tmp_path / "run")["data_checks"]
    assert checks["identifiers"] == [{"column": "rownames", "reason": "distinct integers filling "
                                                                      "1..400, in file order"}]
    assert checks["leaks"] == [] and set(checks["duplicates"]) == {"val", "test"}
    assert "class_shares" not in checks  # regression


def test_cv_prints_the_checks_once_not_per_fold(tmp_path):
    data = _csv(tmp_path, copies=60)  # copies across the folds and the test split
    result = cli("train", _config(tmp_path), data, "--cv", "3", "--jobs", "1", "--no-probe",
                 "--out", tmp_path / "run")
    assert result.returncode == 0, result.stderr
    shown = result.stdout + result.stderr
    assert shown.count(WARNING) == 1
    assert shown.count("identical to a training row") == 1
    assert not any(line.startswith("fold ") and "warning" in line for line in shown.splitlines())
    assert metrics(tmp_path / "run")["data_checks"]["identifiers"][0]["column"] == "rownames"


def test_init_leaves_the_identifier_out_and_sizes_the_network_without_it(tmp_path):
    data = _csv(tmp_path)
    config = tmp_path / "starter.yaml"
    made = cli("init", data, "--target", "y", "-o", config)
    assert made.returncode == 0, made.stderr
    text = config.read_text()
    assert ("  # 'rownames' looks like a row identifier (distinct integers filling 1..400, in "
            "file order)\n  exclude: [rownames]") in text
    assert "  # 3 feature columns: every column but the target and data.exclude\n" in text
    assert ", 3 inputs → a periodic embedding of each number, then one hidden layer" in text
    assert yaml.safe_load(text)["data"]["exclude"] == ["rownames"]
    assert "data.exclude: [rownames] ('rownames' looks like a row identifier" in made.stderr
    assert "warning" not in made.stderr  # left out: nothing left to warn about
    run = cli("train", config, data, "--epochs", "2", "--no-probe", "-q", "--out", tmp_path / "r")
    assert run.returncode == 0, run.stderr
    assert metrics(tmp_path / "r")["data"]["inputs"] == 3
    assert metrics(tmp_path / "r")["data_checks"]["identifiers"] == []


# -- numbers written as text ------------------------------------------------------------------
def _decimal_commas(tmp_path):
    """201 rows written with ';' and decimal commas: a feature 'a', a regression target 'y'."""
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0, 10, 200), rng.uniform(0, 1, 200)
    rows = [f"{x:.2f};{z:.3f};{2 * x + z:.3f}".replace(".", ",") for x, z in zip(a, b, strict=True)]
    path = tmp_path / "comma.csv"
    path.write_text("a;b;y\n0,10;0,300;0,5\n" + "\n".join(rows) + "\n")
    return path


def test_a_target_of_numbers_written_with_a_decimal_comma_is_refused_naming_the_key(tmp_path):
    data = _decimal_commas(tmp_path)
    result = cli("train", data, "--target", "y", "--out", tmp_path / "run")
    assert result.returncode == 2
    assert result.stderr == (
        f"{data}: target 'y' holds numbers written as text (e.g. '0,5'), which task auto "
        f"would make classes of; to read them as numbers, set data.decimal: ',' (--set "
        f"data.decimal=,); to keep them as classes, set data.task: classification\n")
    fixed = cli("train", data, "--target", "y", "--set", "data.decimal=,", "--epochs", "2",
                "--no-probe", "-q", "--out", tmp_path / "run")
    assert fixed.returncode == 0, fixed.stderr
    assert metrics(tmp_path / "run")["task"] == "regression"
    assert "written as text" not in fixed.stderr
    predicted = cli("predict", tmp_path / "run", data, "-o", tmp_path / "p.csv")
    assert predicted.returncode == 0, predicted.stderr  # the model reads with its data.decimal


def test_a_feature_of_numbers_written_as_text_gets_a_warning_naming_the_key(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, 300)
    path = tmp_path / "shares.csv"
    path.write_text("share,price,y\n" + "".join(
        f'{v:.0%},"${1000 + 900 * v:,.2f}",{v + rng.normal(scale=0.1):.4f}\n' for v in x))
    result = cli("train", _config(tmp_path), path, "--out", tmp_path / "run", "--no-probe")
    assert result.returncode == 0, result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    assert ("warning: column 'share' holds numbers written as text (e.g. '26%'), read as "
            "categories (one-hot); to read them as numbers, take the '%' sign out of the file "
            "(no data key does)") in lines
    assert ("warning: column 'price' holds numbers written as text (e.g. '$1,235.45'), read as "
            "categories (one-hot); to read them as numbers, take the '$' sign out of the file "
            "(no data key does); set data.thousands: ',' (--set data.thousands=,)") in lines
    assert not any("row identifier" in line or "one-hot inputs" in line for line in lines)
    checks = metrics(tmp_path / "run")["data_checks"]
    assert [n["column"] for n in checks["number_text"]] == ["share", "price"]

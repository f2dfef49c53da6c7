"""`nnfit init` and `nnfit train DATA.csv --target COLUMN` (the starter config), in process."""

import json
import re

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT, cli, metrics

from nnfit.workflows.init import starter_config

SAMPLE_DATA = ROOT / "sample_data"
IRIS = SAMPLE_DATA / "iris.csv"
TARGETS = {"noisy_sine.csv": "y"}  # shipped files that sample_data/README.md's table leaves out


def _readme_targets() -> dict[str, str]:
    """``{file: target}`` from sample_data/README.md's table (the first `column` of its target cell)."""
    rows = [line.split("|")[1:-1] for line in (SAMPLE_DATA / "README.md").read_text().splitlines()
            if line.startswith("|")]
    header = [cell.strip() for cell in rows[0]]
    file_at, target_at = header.index("file"), header.index("target")
    found = {}
    for row in rows[2:]:
        name = re.search(r"`([^`]+)`", row[file_at])
        target = re.search(r"`([^`]+)`", row[target_at])
        if name and target:
            found[name.group(1)] = target.group(1)
    return found


def _sample_csvs() -> list[tuple[str, str | None]]:
    targets = {**_readme_targets(), **TARGETS}
    return [(path.name, targets.get(path.name)) for path in sorted(SAMPLE_DATA.glob("*.csv"))]


def test_the_readme_table_is_read():
    assert {"iris.csv": "species", "wine.csv": "cultivar", "breast_cancer.csv": "diagnosis",
            "diabetes.csv": "progression"}.items() <= _readme_targets().items()


@pytest.mark.parametrize("name, target", _sample_csvs())
def test_a_written_starter_config_trains_without_edits(tmp_path, name, target):
    assert target, f"sample_data/{name}: add its target to sample_data/README.md's table"
    config = tmp_path / "starter.yaml"
    made = cli("init", SAMPLE_DATA / name, "--target", target, "-o", config)
    assert made.returncode == 0, made.stderr
    result = cli("train", config, SAMPLE_DATA / name, "--epochs", "3", "--no-probe", "-q",
                 "--out", tmp_path / "run")
    assert result.returncode == 0, result.stderr
    assert metrics(tmp_path / "run")["epochs_run"] == 3


def test_init_writes_csv_stem_yaml_here_and_says_what_it_decided(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("init", IRIS, "--target", "species")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "iris.yaml").read_text()
    assert yaml.safe_load(text) == starter_config(IRIS, "species")
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{IRIS}: 150 rows, 4 feature columns → 4 inputs",
        "task: classification, 3 classes in 'species': setosa, versicolor, virginica → loss "
        "cross_entropy",
        "model: a periodic embedding of each number, then one hidden layer of 32 ReLU units (98 "
        "training rows)",
        "ensemble: 5 networks averaged (up to 10,000 training rows, an ensemble is cheap and "
        "steadies a small table's fit; set training.ensemble: 1 for one network)",
        "data.val_fraction: 0.15 (the default 0.1 leaves 15 validation rows, fewer than the 20 "
        "the fit verdict needs; 0.15 leaves 22)",
        f"wrote iris.yaml; train it: nnfit train iris.yaml {IRIS}",
    ]


def test_init_says_why_a_table_above_10000_training_rows_gets_one_network(tmp_path):
    data = tmp_path / "big.csv"
    x = np.random.default_rng(0).normal(size=15_000)
    pd.DataFrame({"x": x, "y": 2 * x}).to_csv(data, index=False)
    result = cli("init", data, "--target", "y", "-o", tmp_path / "big.yaml")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load((tmp_path / "big.yaml").read_text())["training"]["ensemble"] == 1
    assert result.stderr.splitlines()[2:4] == [
        "model: a periodic embedding of each number, then two hidden layers of 256 ReLU units "
        "(10,500 training rows)",
        "ensemble: 1 network (above 10,000 training rows, an ensemble costs 5× the training "
        "time; set training.ensemble: 5 to average 5 networks)"]


def test_init_to_stdout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("init", IRIS, "--target", "species", "-o", "-")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout) == starter_config(IRIS, "species")
    assert result.stderr.splitlines()[-1] == f"save it, then train it: nnfit train CONFIG.yaml {IRIS}"
    assert list(tmp_path.iterdir()) == []


def test_init_refuses_to_overwrite_without_force(tmp_path):
    out = tmp_path / "mine.yaml"
    out.write_text("# my edits\n")
    result = cli("init", IRIS, "--target", "species", "-o", out)
    assert (result.returncode, result.stderr) == (
        2, f"{out}: already exists; pass --force to overwrite it, or -o another file\n")
    assert out.read_text() == "# my edits\n"
    result = cli("init", IRIS, "--target", "species", "-o", out, "--force")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(out.read_text())["data"]["target"] == "species"


def test_init_with_an_unknown_target(tmp_path):
    result = cli("init", IRIS, "--target", "Species", "-o", tmp_path / "x.yaml")
    assert (result.returncode, result.stderr) == (
        2, f"{IRIS}: target column not found: Species (did you mean 'species'?); the CSV has: "
           f"sepal_length, sepal_width, petal_length, petal_width, species\n")
    assert not (tmp_path / "x.yaml").exists()


def test_init_needs_a_target_and_never_writes_over_its_csv(tmp_path):
    result = cli("init", IRIS)
    assert (result.returncode, result.stderr) == (
        2, f"--target: name the column to predict: nnfit init {IRIS} --target COLUMN\n")
    result = cli("init", IRIS, "--target", "species", "-o", IRIS, "--force")
    assert (result.returncode, result.stderr) == (
        2, f"-o {IRIS}: is the input CSV; write to another file\n")


# -- nnfit train DATA.csv --target COLUMN ------------------------------------------------------


def test_train_without_a_config_trains_the_starter_config(tmp_path):
    config = tmp_path / "iris.yaml"
    assert cli("init", IRIS, "--target", "species", "-o", config).returncode == 0
    with_file = cli("train", config, IRIS, "--epochs", "3", "--no-probe", "--out", tmp_path / "a")
    assert with_file.returncode == 0, with_file.stderr
    without = cli("train", IRIS, "--target", "species", "--epochs", "3", "--no-probe",
                  "--out", tmp_path / "b")
    assert without.returncode == 0, without.stderr
    assert without.stderr.splitlines()[0] == (
        f"no config: using the starter config (to edit it: nnfit init {IRIS} --target species)")
    assert (tmp_path / "a" / "config.yaml").read_text() == (tmp_path / "b" / "config.yaml").read_text()
    assert metrics(tmp_path / "a")["splits"] == metrics(tmp_path / "b")["splits"]
    assert (tmp_path / "a" / "model.npz").read_bytes() == (tmp_path / "b" / "model.npz").read_bytes()


def test_train_without_a_config_keeps_the_other_options(tmp_path):
    result = cli("train", IRIS, "--target", "species", "--set", "model.layers[1].units=5",
                 "--seed", "3", "--epochs", "2", "--json", "-q", "--out", tmp_path / "run")
    assert result.returncode == 0, result.stderr
    assert "no config" not in result.stderr  # -q: notes are quiet
    assert json.loads(result.stdout)["run_dir"] == str(tmp_path / "run")
    resolved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert resolved["model"]["layers"][1]["units"] == 5  # [0]: the numeric embedding
    assert (resolved["training"]["seed"], resolved["training"]["epochs"]) == (3, 2)
    cv = cli("train", IRIS, "--target", "species", "--cv", "2", "-j", "1", "--epochs", "2", "-q",
             "--no-probe", "--out", tmp_path / "cv")
    assert cv.returncode == 0, cv.stderr
    assert len(metrics(tmp_path / "cv")["cv"]["folds"]) == 2


def test_the_starter_run_is_named_after_the_csv(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("train", IRIS, "--target", "species", "--epochs", "1", "--no-probe", "-q")
    assert result.returncode == 0, result.stderr
    assert [p.name.rsplit("-", 2)[0] for p in (tmp_path / "runs").iterdir()] == ["iris"]


def test_train_with_a_config_and_a_target(tmp_path):
    result = cli("train", ROOT / "configs" / "iris.yaml", IRIS, "--target", "petal_width")
    assert (result.returncode, result.stderr) == (
        2, f"--target: {ROOT / 'configs' / 'iris.yaml'} already names the target (data.target); "
           f"to change it, use --set data.target=petal_width\n")


def test_train_with_a_csv_and_no_target():
    result = cli("train", IRIS)
    assert (result.returncode, result.stderr) == (
        2, f"{IRIS}: no config given; pass --target COLUMN to train the starter config, or a "
           f"config first: nnfit train CONFIG.yaml {IRIS}\n")


def test_train_with_a_config_and_no_data():
    config = ROOT / "configs" / "iris.yaml"
    result = cli("train", config)
    assert (result.returncode, result.stderr) == (2, f"missing DATA: nnfit train {config} DATA.csv\n")


def test_a_config_without_a_yaml_suffix_is_still_a_config(tmp_path):
    config = tmp_path / "settings.conf"
    config.write_text((ROOT / "configs" / "iris.yaml").read_text())
    result = cli("train", config, "--target", "species")
    assert (result.returncode, result.stderr) == (2, f"missing DATA: nnfit train {config} DATA.csv\n")


def test_train_with_config_and_data_swapped():
    config = ROOT / "configs" / "iris.yaml"
    result = cli("train", IRIS, config)
    assert (result.returncode, result.stderr) == (
        2, f"{config} is a config and {IRIS} is not: the config comes first, "
           f"nnfit train {config} {IRIS}\n")


# -- --set without a config, and nnfit init --set -----------------------------------------------


def _latin1(tmp_path):
    """A ';' CSV in latin-1 with '?' for a missing number: 'café' is not UTF-8."""
    path = tmp_path / "cafe.csv"
    rows = [f"{i % 7};{'?' if i == 5 else i % 5};{'café' if i % 2 else 'thé'}" for i in range(80)]
    path.write_bytes(("a;b;y\n" + "\n".join(rows) + "\n").encode("latin-1"))
    return path


def test_train_without_a_config_reads_the_csv_with_the_set_data_keys(tmp_path):
    data = _latin1(tmp_path)
    refused = cli("train", data, "--target", "y", "--out", tmp_path / "run")
    assert refused.returncode == 2 and refused.stderr.endswith("; set data.encoding\n")
    half = cli("train", data, "--target", "y", "--set", "data.encoding=latin-1",
               "--out", tmp_path / "run")
    assert (half.returncode, half.stderr) == (
        2, f"{data}: column 'b', line 7: '?' is not a number\n")
    result = cli("train", data, "--target", "y", "--set", "data.encoding=latin-1", "--set",
                 'data.na_values=["?"]', "--epochs", "2", "--no-probe", "--out", tmp_path / "run")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"no config: using the starter config (to edit it: nnfit init {data} --target y "
        f"--set data.encoding=latin-1 --set 'data.na_values=[\"?\"]')")
    resolved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["data"]
    assert (resolved["encoding"], resolved["na_values"], resolved["missing"]) == (
        "latin-1", ["?"], "mean")  # the starter saw the '?' as an empty cell: mean
    assert "classes: café, thé" in result.stderr


def test_init_takes_set_and_says_so_in_the_config(tmp_path):
    data, out = _latin1(tmp_path), tmp_path / "cafe.yaml"
    result = cli("init", data, "--target", "y", "-o", out, "--set", "data.encoding=latin-1",
                 "--set", 'data.na_values=["?"]', "--set", "data.missing=drop", "--set",
                 "training.lr=0.01")
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    config = yaml.safe_load(text)
    assert (config["data"]["encoding"], config["data"]["missing"], config["training"]["lr"]) == (
        "latin-1", "drop", 0.01)
    assert text.startswith(f"# nnfit starter config for {data}, from: nnfit init {data} "
                           f"--target y --set data.encoding=latin-1 --set 'data.na_values=[\"?\"]' "
                           f"--set data.missing=drop --set training.lr=0.01\n")
    assert "  # --set data.missing=drop\n  missing: drop" in text
    assert "  # --set training.lr=0.01\n  lr: 0.01" in text
    assert "data.missing: drop (--set data.missing=drop)" in result.stderr
    bad = cli("init", data, "--target", "y", "-o", tmp_path / "x.yaml", "--set",
              "data.encoding=latin-1", "--set", 'data.na_values=["?"]', "--set", "training.lr=-1")
    assert (bad.returncode, bad.stderr) == (
        2, "--set training.lr=-1: training.lr: must be positive (got -1)\n")
    assert not (tmp_path / "x.yaml").exists()


def test_a_column_left_out_with_set_is_left_out_of_the_starter(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("x,code,y\n" + "".join(f"{i % 7},c{i % 100:03d},{'ab'[i % 2]}\n"
                                           for i in range(400)))
    result = cli("init", path, "--target", "y", "-o", "-", "--set", "data.exclude=[code]")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["data"]["exclude"] == ["code"]
    assert "  # 'code' left out by --set\n  exclude: [code]" in result.stdout
    assert result.stderr.splitlines()[0] == f"{path}: 400 rows, 1 feature column → 1 input"


def test_an_unknown_target_among_long_names_is_one_short_line(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(f"{'a' * 5000},{'b' * 5000},y\n1,2,p\n3,4,q\n")
    result = cli("train", path, "--target", "z", "--out", tmp_path / "run")
    assert (result.returncode, result.stderr) == (
        2, f"{path}: target column not found: z; the CSV has: {'a' * 39}…, {'b' * 39}…, y\n")

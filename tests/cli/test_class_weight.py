"""``training.class_weight`` end to end, in process: resolved on the training rows, reported,
saved, and the same weighted loss from ``nnfit eval``."""

import json
import math

import numpy as np
import pytest
from conftest import ROOT, cli, metrics
from test_inference import _rows_csv

from nnfit.config.load import load_config
from nnfit.workflows import prepare

CANCER = ROOT / "sample_data" / "breast_cancer.csv"
IRIS = ROOT / "sample_data" / "iris.csv"
DIABETES = ROOT / "sample_data" / "diabetes.csv"


@pytest.fixture
def cancer_config(tmp_path):
    path = tmp_path / "cancer.yaml"
    path.write_text("data: {target: diagnosis, test_fraction: 0.2, val_fraction: 0.2}\n"
                    "model: {layers: [{type: dense, units: 8, activation: relu}]}\n"
                    "training: {lr: 0.01, epochs: 12, batch_size: 32, early_stopping: false}\n")
    return path


def _train(*args):
    result = cli("train", *map(str, args))
    assert result.returncode == 0, result.stderr
    return result


def test_balanced_weights_on_breast_cancer_are_resolved_reported_saved_and_evaluated(
        tmp_path, cancer_config):
    run = tmp_path / "run"
    sets = ("--set", "training.class_weight=balanced")
    result = _train(cancer_config, CANCER, "--out", run, *sets)
    prepared = prepare(load_config(cancer_config, [sets[1]]), CANCER)
    counts = np.bincount(prepared.data.y["train"])
    assert prepared.task.classes == ["benign", "malignant"] and counts.tolist() == [214, 127]
    expected = {"benign": 341 / (2 * 214), "malignant": 341 / (2 * 127)}  # n / (k · n_k)
    m = metrics(run)
    assert m["class_weight"] == pytest.approx(expected)
    assert "class weights: benign 0.80, malignant 1.34\n" in result.stdout
    assert json.loads((run / "model.json").read_text())["class_weight"] == pytest.approx(
        [expected["benign"], expected["malignant"]])
    for split in ("train", "val", "test"):
        assert set(m["splits"][split]) == {"rows", "loss", "accuracy", "f1_macro",
                                           "balanced_accuracy", "roc_auc", "log_loss"}
        # balanced weights make both classes weigh the same in total on the training rows, so
        # the best constant is p = 1/2 (p_k ∝ w_k·n_k): a loss of log 2 on any rows
        assert m["baseline"][split]["loss"] == pytest.approx(math.log(2), rel=1e-6)
        assert m["baseline"][split]["roc_auc"] == 0.5

    test_csv = _rows_csv(CANCER, prepared.data.rows["test"], tmp_path / "test.csv")
    evaluated = cli("eval", run, test_csv, "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    scored = json.loads(evaluated.stdout)
    for name, value in m["splits"]["test"].items():
        if name != "rows":
            assert scored[name] == value, name  # the weighted loss, bit for bit


def test_the_weighted_loss_is_the_one_trained_and_judged(tmp_path, cancer_config):
    plain, weighted = tmp_path / "plain", tmp_path / "weighted"
    _train(cancer_config, CANCER, "--out", plain, "-q")
    _train(cancer_config, CANCER, "--out", weighted, "-q", "--set",
           "training.class_weight={malignant: 5}")
    p, w = metrics(plain), metrics(weighted)
    assert "class_weight" not in p and w["class_weight"] == {"benign": 1.0, "malignant": 5.0}
    assert "class_weight" not in json.loads((plain / "model.json").read_text())
    assert (plain / "model.npz").read_bytes() != (weighted / "model.npz").read_bytes()
    # p(malignant) of the constant baseline: 127/341 unweighted, 5·127/(214 + 5·127) weighted
    # log_loss stays unweighted: on it the priors are the best constant, not the weighted one
    assert p["baseline"]["train"]["log_loss"] < w["baseline"]["train"]["log_loss"]
    assert w["baseline"]["train"]["loss"] == pytest.approx(
        -(214 * math.log(214 / 849) + 5 * 127 * math.log(635 / 849)) / 849, rel=1e-5)
    assert p["baseline"]["train"]["loss"] == pytest.approx(
        -(214 * math.log(214 / 341) + 127 * math.log(127 / 341)) / 341, rel=1e-5)


def test_balanced_weights_on_iris_are_all_one_and_change_nothing(tmp_path, small_config):
    plain, balanced = tmp_path / "plain", tmp_path / "balanced"
    _train(small_config, IRIS, "--out", plain, "-q")
    _train(small_config, IRIS, "--out", balanced, "-q", "--set",
           "training.class_weight=balanced")
    p, b = metrics(plain), metrics(balanced)
    assert b["class_weight"] == {"setosa": 1.0, "versicolor": 1.0, "virginica": 1.0}
    # unit weights scale the gradient by exactly 1: the same weights, bit for bit
    assert (plain / "model.npz").read_bytes() == (balanced / "model.npz").read_bytes()
    for split in ("train", "val", "test"):
        assert b["splits"][split] == pytest.approx(p["splits"][split], rel=1e-6)
        assert b["baseline"][split] == pytest.approx(p["baseline"][split], rel=1e-6)
    assert b["diagnosis"]["verdict"] == p["diagnosis"]["verdict"]


def _error(*args) -> str:
    result = cli(*map(str, args))
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    return line


def test_an_unknown_label_is_named_with_the_classes(tmp_path, cancer_config):
    out = tmp_path / "run"
    line = _error("train", cancer_config, CANCER, "--out", out, "--set",
                  "training.class_weight={malignent: 2, benign: 1}")
    assert line == (f"{cancer_config}: training.class_weight: 'malignent' is not a class of "
                    f"'diagnosis' (its classes: benign, malignant) (did you mean 'malignant'?)")
    assert not out.exists()


def test_class_weight_on_a_regression_target_is_refused(tmp_path):
    out = tmp_path / "run"
    config = ROOT / "configs" / "diabetes.yaml"
    line = _error("train", config, DIABETES, "--out", out, "--set",
                  "training.class_weight=balanced")
    assert line == (f"{config}: training.class_weight needs a classification target, but "
                    f"'progression' is a regression target (leave class_weight out, or set "
                    f"data.task: classification)")
    assert not out.exists()


def test_eval_on_one_class_has_no_roc_auc_and_says_so_in_table_and_json(tmp_path, cancer_config):
    run = tmp_path / "run"
    _train(cancer_config, CANCER, "--out", run, "-q")
    lines = CANCER.read_text().splitlines()
    benign = tmp_path / "benign.csv"
    benign_rows = [line for line in lines[1:] if line.endswith(",benign")][:20]
    benign.write_text("\n".join([lines[0], *benign_rows]) + "\n")
    scored = json.loads(cli("eval", run, benign, "--json").stdout)
    assert scored["roc_auc"] is None and scored["n_rows"] == 20
    assert scored["balanced_accuracy"] == scored["accuracy"]  # one class: recall = accuracy
    table = cli("eval", run, benign)
    assert table.returncode == 0
    header, row = [line for line in table.stdout.splitlines() if "│" in line or "┃" in line][:2]
    cells = dict(zip([c.strip() for c in header.split("┃")[1:-1]],
                     [c.strip() for c in row.split("│")[1:-1]], strict=False))
    assert cells["roc auc"] == "—" and float(cells["log loss"]) == pytest.approx(
        scored["log_loss"], rel=1e-3)


def test_cross_validation_names_the_config_file_too(tmp_path, cancer_config):
    line = _error("train", cancer_config, CANCER, "--cv", 3, "--out", tmp_path / "run", "--set",
                  "training.class_weight={malignent: 2}")
    assert line.startswith(f"{cancer_config}: training.class_weight: 'malignent' is not a class")

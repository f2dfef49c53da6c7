"""`nnfit train` and `nnfit summary` through Typer's CliRunner (fast, in process)."""

import csv
import json

import pytest
from conftest import ROOT, metrics
from typer.testing import CliRunner

from nnfit.cli.app import app

IRIS = ROOT / "sample_data" / "iris.csv"
runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "120"})


def test_train_writes_a_complete_run_directory(tmp_path, small_config):
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", str(small_config), str(IRIS), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "config.yaml", "confusion.csv", "curves.png", "history.csv", "metrics.json", "model.json",
        "model.npz"]
    m = metrics(out)
    assert set(m) >= {"task", "loss", "splits", "baseline", "diagnosis", "epochs_run", "best_epoch",
                      "seconds"}
    assert (m["task"], m["loss"]) == ("classification", "cross_entropy")
    for split in ("train", "val", "test"):
        assert set(m["splits"][split]) == {"rows", "loss", "accuracy", "f1_macro",
                                           "balanced_accuracy"}
        assert set(m["baseline"][split]) == {"rows", "loss", "accuracy", "f1_macro",
                                             "balanced_accuracy"}
    assert m["diagnosis"]["verdict"] in ("underfitting", "overfitting", "good fit", "inconclusive")
    assert m["diagnosis"]["reason"]
    with open(out / "history.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == m["epochs_run"]
    assert {"epoch", "train_loss", "val_loss", "lr", "seconds", "val_accuracy"} <= set(rows[0])
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "run directory: " + str(out) in result.stderr
    assert f"{m['diagnosis']['verdict']}: {m['diagnosis']['reason']}" in result.stdout


def test_json_prints_metrics_json_to_stdout(tmp_path, small_config):
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", str(small_config), str(IRIS), "--out", str(out), "--json",
                                 "--quiet"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["splits"] == metrics(out)["splits"] and printed["run_dir"] == str(out)


def test_same_seed_gives_identical_metrics_and_other_seed_does_not(tmp_path, small_config):
    runs = {}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        result = runner.invoke(app, ["train", str(small_config), str(IRIS), "--out",
                                     str(tmp_path / name), "--seed", str(seed), "-q"])
        assert result.exit_code == 0, result.output
        runs[name] = metrics(tmp_path / name)
    assert runs["a"]["splits"] == runs["b"]["splits"]
    assert runs["a"]["splits"] != runs["c"]["splits"]
    assert (tmp_path / "a" / "model.npz").read_bytes() == (tmp_path / "b" / "model.npz").read_bytes()


def test_options_override_the_config(tmp_path, small_config):
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", str(small_config), str(IRIS), "--out", str(out),
                                 "--epochs", "3", "--lr", "0.5", "--seed", "9", "-q"])
    assert result.exit_code == 0, result.output
    resolved = (out / "config.yaml").read_text()
    assert "epochs: 3" in resolved and "lr: 0.5" in resolved and "seed: 9" in resolved
    assert metrics(out)["epochs_run"] <= 3


def test_declared_output_layer_with_the_wrong_width(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("data: {target: species}\nmodel: {layers: [{type: dense, units: 2}]}\n")
    result = runner.invoke(app, ["train", str(config), str(IRIS), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"{config}: model.layers[0].units: the output layer needs 3 units for 3 classes with "
        f"cross_entropy (got 2); or give it an activation to make it a hidden layer")
    assert not (tmp_path / "r").exists()


def test_a_declared_softmax_output_is_fused_into_the_loss(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("data: {target: species}\nmodel: {layers: [{type: dense, units: 3, "
                      "activation: softmax}]}\ntraining: {epochs: 2}\n")
    result = runner.invoke(app, ["summary", str(config), str(IRIS)])
    assert result.exit_code == 0, result.output
    assert "softmax is applied by the cross_entropy loss" in result.stdout
    assert "Dense(4 → 3, identity)" in result.stdout


def test_loss_that_does_not_fit_the_task(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("data: {target: species}\ntraining: {loss: mse}\n")
    result = runner.invoke(app, ["train", str(config), str(IRIS)])
    assert result.exit_code == 2
    assert ("training.loss: mse is for regression, but 'species' is a classification target"
            in result.stderr)


def test_summary_prints_layers_shapes_and_parameter_counts(small_config):
    result = runner.invoke(app, ["summary", str(small_config), str(IRIS)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Dense(4 → 8, relu)" in out and "(batch, 8)" in out and "40" in out
    assert "Dense(8 → 3, identity)" in out and "27" in out
    assert "total" in out and "67" in out


def test_refuses_to_overwrite_an_existing_run(tmp_path, small_config):
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", str(small_config), str(IRIS), "--out", str(out), "-q"])
    assert result.exit_code == 0
    before = (out / "model.npz").read_bytes()
    result = runner.invoke(app, ["train", str(small_config), str(IRIS), "--out", str(out)])
    assert result.exit_code == 2 and "already holds a run" in result.stderr
    assert (out / "model.npz").read_bytes() == before


def test_several_regression_targets_train_and_predict(tmp_path):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (200, 2))
    data = tmp_path / "two.csv"
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "sum": x.sum(axis=1),
                  "diff": x[:, 0] - x[:, 1]}).to_csv(data, index=False)
    config = tmp_path / "two.yaml"
    config.write_text("data: {target: [sum, diff]}\nmodel: {layers: [{type: dense, units: 16, "
                      "activation: tanh}]}\ntraining: {lr: 0.01, epochs: 150}\n")
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", str(config), str(data), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    m = metrics(out)
    assert m["task"] == "regression" and m["splits"]["test"]["r2"] > 0.95
    predicted = runner.invoke(app, ["predict", str(out), str(data)])
    assert predicted.stdout.splitlines()[0] == "predicted_sum,predicted_diff"


def test_set_overrides_reach_summary_and_the_runs_config(tmp_path, small_config):
    sets = ["--set", "model.layers[0].units=7", "--set", "training.lr=0.02"]
    shown = runner.invoke(app, ["summary", str(small_config), str(IRIS), *sets])
    assert shown.exit_code == 0, shown.output
    assert "Dense(4 → 7, relu)" in shown.stdout and "(batch, 7)" in shown.stdout
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", str(small_config), str(IRIS), "--out", str(out), *sets,
                                 "--epochs", "2", "-q"])
    assert result.exit_code == 0, result.output
    resolved = (out / "config.yaml").read_text()
    assert resolved.startswith("# overrides applied to the config file:\n"
                               "# --set model.layers[0].units=7\n# --set training.lr=0.02\n"
                               "# --set training.epochs=2\n")
    import yaml

    config = yaml.safe_load(resolved)
    assert config["model"]["layers"][0]["units"] == 7 and config["training"]["lr"] == 0.02


def test_a_wrong_set_path_is_one_line_naming_it(tmp_path, small_config):
    result = runner.invoke(app, ["train", str(small_config), str(IRIS), "--out",
                                 str(tmp_path / "run"), "--set", "model.layers[4].units=7"])
    assert result.exit_code == 2 and not (tmp_path / "run").exists()
    assert result.stderr == ("--set model.layers[4].units=7: model.layers has 1 entry "
                             "(index 4 is out of range)\n")


def test_quiet_prints_only_the_verdict_line_and_the_run_directory(tmp_path, small_config):
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", str(small_config), str(IRIS), "--out", str(out), "-q"])
    assert result.exit_code == 0 and result.stdout == ""
    verdict, where = result.stderr.splitlines()
    assert verdict.startswith(metrics(out)["diagnosis"]["verdict"] + ": ")
    assert where == f"run directory: {out}"


def test_the_run_keeps_the_held_out_confusion_matrix(tmp_path, small_config):
    out = tmp_path / "run"
    assert runner.invoke(app, ["train", str(small_config), str(IRIS), "--out", str(out),
                               "-q"]).exit_code == 0
    rows = list(csv.reader(open(out / "confusion.csv")))
    assert rows[0] == ["true\\predicted", "setosa", "versicolor", "virginica"]
    m = metrics(out)
    assert m["confusion_split"] == "test"
    assert sum(int(v) for row in rows[1:] for v in row[1:]) == m["splits"]["test"]["rows"]


@pytest.mark.parametrize("command", [[], ["train"], ["summary"], ["eval"], ["predict"], ["show"]])
def test_help_has_no_stray_markup_or_type_placeholders(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "<bool>" not in result.stdout and " ." not in result.stdout
    if command == ["train"]:
        assert "(default: runs/<config>-<time>)" in result.stdout and "--set PATH=VALUE" in result.stdout


def test_ctrl_c_while_the_run_is_being_saved_loses_nothing(tmp_path, small_config, monkeypatch):
    import importlib
    import os
    import signal

    workflow = importlib.import_module("nnfit.workflows.train")  # the module, not the function

    real_save = workflow.save

    def interrupted_save(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C just as training ended
        return real_save(*args, **kwargs)

    monkeypatch.setattr(workflow, "save", interrupted_save)
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", str(small_config), str(IRIS), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert {"model.npz", "metrics.json", "curves.png", "confusion.csv"} <= {
        p.name for p in out.iterdir()}


def test_the_live_view_shows_the_best_epoch_early_stopping_kept(tmp_path):
    """With min_delta > 0 the best epoch is not the argmin of val_loss: one tracker decides."""
    import re

    config = tmp_path / "delta.yaml"
    config.write_text("data: {target: species}\nmodel: {layers: [{type: dense, units: 8, "
                      "activation: relu}]}\ntraining: {lr: 0.01, epochs: 40, batch_size: 16, "
                      "early_stopping: {patience: 100, min_delta: 0.05}}\n")
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", str(config), str(IRIS), "--out", str(out)])
    assert result.exit_code == 0, result.output
    last = [line for line in result.stderr.splitlines() if line.startswith("epoch 40/40")][0]
    shown = int(re.search(r"best \S+ @ (\d+)", last).group(1))
    m = metrics(out)
    assert shown == m["best_epoch"]
    with open(out / "history.csv") as fh:
        val = [float(row["val_loss"]) for row in csv.DictReader(fh)]
    assert shown != val.index(min(val)) + 1  # the naive argmin would disagree here


def test_batchnorm_and_dropout_train_from_the_yaml_and_predict_like_the_run(tmp_path):
    config = tmp_path / "bn.yaml"
    config.write_text("data: {target: species}\nmodel: {layers: [{type: dense, units: 16, "
                      "activation: relu}, {type: batchnorm}, {type: dropout, rate: 0.2}]}\n"
                      "training: {lr: 0.02, epochs: 20, batch_size: 16}\n")
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", str(config), str(IRIS), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    shown = runner.invoke(app, ["show", str(out)])
    assert "BatchNorm(16)" in shown.stdout and "Dropout(0.2)" in shown.stdout
    scored = json.loads(runner.invoke(app, ["eval", str(out), str(IRIS), "--json"]).stdout)
    assert scored["accuracy"] > 0.8
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: {target: species}\nmodel: {layers: [{type: dropout, rate: 1.5}]}\n")
    result = runner.invoke(app, ["summary", str(bad), str(IRIS)])
    assert result.exit_code == 2
    assert "model.layers[0].rate: must be less than 1 (got 1.5)" in result.stderr


@pytest.mark.parametrize("name", ["wine", "diabetes"])
def test_the_shipped_attention_configs_build_and_train(tmp_path, name):
    config = ROOT / "configs" / "attention" / f"{name}.yaml"
    data = ROOT / "sample_data" / f"{name}.csv"
    shown = runner.invoke(app, ["summary", str(config), str(data)])
    assert shown.exit_code == 0 and "Attention(dim=16, heads=4)" in shown.stdout
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", str(config), str(data), "--epochs", "2", "--out",
                                 str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["eval", str(out), str(data)]).exit_code == 0


def test_a_schedule_moves_the_rate_in_history_and_the_live_view(tmp_path, small_config):
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", str(small_config), str(IRIS), "--out", str(out),
                                 "--set", "training.schedule={name: cosine, warmup: 2}",
                                 "--set", "training.early_stopping=false",
                                 "--set", "training.optimizer=adamw", "--set", "training.clip_norm=5"])
    assert result.exit_code == 0, result.output
    with open(out / "history.csv") as fh:
        lrs = [float(row["lr"]) for row in csv.DictReader(fh)]
    assert len(lrs) == 15 and lrs[1] == pytest.approx(0.02)  # warm-up ends at epoch 2's last update
    assert lrs[0] == pytest.approx(0.01, rel=0.1) and lrs[-1] < 1e-4
    assert all(a > b for a, b in zip(lrs[1:], lrs[2:], strict=False))
    assert "lr 0.02" in result.stderr  # the live view shows the moving rate
    resolved = (out / "config.yaml").read_text()
    assert "schedule:\n    name: cosine\n    warmup: 2\n" in resolved
    assert "weight_decay: 0.01\n" in resolved and "clip_norm: 5.0\n" in resolved


def test_weight_decay_without_adamw_names_l2(tmp_path, small_config):
    result = runner.invoke(app, ["train", str(small_config), str(IRIS), "--out", str(tmp_path / "r"),
                                 "--set", "training.optimizer=adam",
                                 "--set", "training.weight_decay=0.1"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "--set training.weight_decay=0.1: training: weight_decay is decoupled weight decay, which "
        "needs optimizer: adamw (got adam); for the coupled penalty (λ/2)·‖W‖² use l2: 0.1")

"""`nnfit sweep` end to end on a shipped dataset (in process), and --jobs 2 against --jobs 1."""

import csv
import json
import math

import pytest
from conftest import ROOT, cli

IRIS = ROOT / "sample_data" / "iris.csv"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("sweep") / "small.yaml"
    path.write_text("data: {target: species, val_fraction: 0.2}\n"
                    "model: {layers: [{type: dense, units: 8, activation: relu}]}\n"
                    "training: {optimizer: sgd, epochs: 30, batch_size: 16, "
                    "early_stopping: {patience: 10}}\n")
    return path


def _rows(run_dir):
    with open(run_dir / "sweep.csv") as fh:
        return list(csv.DictReader(fh))


def test_a_five_rate_sweep_is_sorted_marks_divergence_and_keeps_the_best(tmp_path):
    out = tmp_path / "sweep"
    result = cli("sweep", ROOT / "configs" / "iris.yaml", IRIS, "--lr-range", "1e-3:1:4", "--lr",
                 "10", "--set", "training.optimizer=sgd", "--epochs", "40", "--jobs", "1",
                 "--repeats", "1", "--out", out)
    assert result.returncode == 0, result.stderr
    rows = _rows(out)
    assert len(rows) == 5
    by_lr = {float(r["training.lr"]): r for r in rows}
    assert by_lr[10.0]["status"] == "diverged"  # sgd at 10
    ok = [r for r in rows if r["status"] == "ok"]
    losses = [float(r["val_loss"]) for r in ok]
    assert losses == sorted(losses)  # best first
    assert "chosen: run " + ok[0]["run"] in result.stderr
    best = json.loads((out / "best" / "metrics.json").read_text())
    assert math.isclose(best["splits"]["val"]["loss"], min(losses), rel_tol=1e-6)
    assert (out / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    assert len([p for p in out.iterdir() if p.is_dir()]) == 7  # 5 runs, best/ and points/
    scored = cli("eval", out / "best", IRIS, "--json")
    assert scored.returncode == 0 and json.loads(scored.stdout)["n_rows"] == 150


def test_two_workers_give_the_numbers_of_one(tmp_path, small):
    for jobs in ("1", "2"):
        assert cli("sweep", small, IRIS, "--lr", "0.01", "--lr", "0.1", "--jobs", jobs, "--out",
                   tmp_path / jobs).returncode == 0
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(_rows(tmp_path / "1")) == strip(_rows(tmp_path / "2"))


def test_a_run_that_fails_is_marked_with_its_error_and_the_sweep_goes_on(tmp_path, small):
    out = tmp_path / "sweep"
    result = cli("sweep", small, IRIS, "--lr", "0.05", "--set", "training.loss=auto,mse",
                 "--out", out)
    assert result.returncode == 0, result.stderr
    failed = [r for r in _rows(out) if r["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["error"].endswith(
        "grid point 02-lr=0.05_loss=mse: training.loss: mse is for regression, but 'species' is "
        "a classification target (use cross_entropy)")


def test_without_values_to_sweep_the_error_shows_an_example(tmp_path, small):
    result = cli("sweep", small, IRIS, "--out", tmp_path / "s")
    assert result.returncode == 2 and not (tmp_path / "s").exists()
    assert result.stderr.startswith("nothing to sweep: give rates, e.g. --lr 0.001 --lr 0.01")


def test_lr_find_seeds_five_rates_a_decade_each_side_of_its_suggestion(tmp_path, small):
    out = tmp_path / "sweep"
    result = cli("sweep", small, IRIS, "--lr-find", "--jobs", "1", "--out", out, "--json")
    assert result.returncode == 0, result.stderr
    suggested = json.loads((out / "sweep.json").read_text())["lr_find"]["suggested"]
    rates = sorted(float(r["training.lr"]) for r in _rows(out))
    assert len(rates) == 5
    assert math.isclose(rates[0], suggested / 10, rel_tol=0.01)
    assert math.isclose(rates[-1], suggested * 10, rel_tol=0.01)
    assert cli("sweep", small, IRIS, "--lr-find", "--lr", "0.1").stderr.startswith(
        "--lr-find chooses the rates")


@pytest.mark.parametrize("sweep_yaml,args,expected", [
    ("{training.lr: []}", (), "c.yaml: sweep.training.lr: an empty list of values"),
    ("{training.bogus: [1, 2]}", (), "c.yaml: sweep: training.bogus=1: training: unknown key"),
    ("{training.lr: [-0.01, 0.1]}", (), "c.yaml: sweep: training.lr=-0.01: training.lr: must be "
                                        "positive (got -0.01)"),
    (None, ("--lr", "0.01", "--jobs", "0"), "--jobs must be a positive integer (got 0)"),
    (None, ("--lr", "inf"), "--lr: learning rates must be positive and finite (got inf)"),
    (None, ("--lr", "0.01", "--set", "training.lr=0.1,0.2"),
     "--set training.lr=0.1,0.2: the rates are given twice"),
], ids=["empty list", "unknown key", "bad value in the file", "jobs 0", "inf", "rates twice"])
def test_a_bad_plan_is_one_line_and_writes_nothing(tmp_path, sweep_yaml, args, expected):
    config = tmp_path / "c.yaml"
    config.write_text("data: {target: species}\n" + (f"sweep: {sweep_yaml}\n" if sweep_yaml else ""))
    result = cli("sweep", config, IRIS, *args, "--out", tmp_path / "s")
    assert result.returncode == 2 and not (tmp_path / "s").exists()
    assert result.stderr.replace(str(config), "c.yaml").startswith(expected)
    assert len(result.stderr.strip().splitlines()) == 1


def test_other_keys_can_be_swept_alone_at_the_configs_rate(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("data: {target: species}\ntraining: {epochs: 5, lr: 0.02}\n"
                      "sweep: {training.batch_size: [16, 32]}\n")
    result = cli("sweep", config, IRIS, "--jobs", "1", "--out", tmp_path / "s", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["rows"]
    assert sorted((r["training.lr"], r["training.batch_size"]) for r in rows) == [(0.02, 16),
                                                                                 (0.02, 32)]


def _json(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_few_validation_rows_get_three_seeds_each_with_their_noise(tmp_path, small):
    record = _json(cli("sweep", small, IRIS, "--lr", "0.03", "--lr", "0.1", "--json",
                       "--out", tmp_path / "s"))
    assert record["notes"] == ["30 validation rows (fewer than 200): 3 seeds per point "
                               "(--repeats to choose)"]
    best, other = record["rows"]
    assert best["seeds"] == other["seeds"] == 3 and best["val_loss_se"] > 0
    assert (best["vs_best"], best["vs_best_se"]) == (0.0, 0.0) and other["vs_best_se"] > 0
    assert best["tied"] and other["tied"] == (other["vs_best"] <= other["vs_best_se"])
    header = (tmp_path / "s" / "sweep.csv").read_text().splitlines()[0].split(",")
    assert {"val_loss", "val_loss_se", "vs_best", "vs_best_se", "test_loss",
            "test_accuracy"} <= set(header)


def test_a_choice_at_the_edge_warns_and_a_tie_is_reported(tmp_path, small):
    result = cli("sweep", small, IRIS, "--lr", "0.001", "--lr", "0.01", "--lr", "0.3",
                 "--repeats", "1", "--out", tmp_path / "s")
    assert result.returncode == 0, result.stderr
    assert "warning: training.lr=0.3 is the largest value swept: the best may lie beyond it; " \
           "widen the range (e.g. --lr-range 0.3:30:5)" in result.stderr
    tied = cli("sweep", small, IRIS, "--lr", "0.05", "--lr", "0.0501", "--lr", "0.0502",
               "--repeats", "1", "--out", tmp_path / "t")
    assert "lr 0.05, lr 0.0501 and lr 0.0502 are within noise of each other (1 paired " \
           "standard error or 1% of the best); chosen: the middle of them" in tied.stderr
    assert "chosen: run 2 (training.lr=0.0501)" in tied.stderr


def test_resume_reruns_only_what_is_missing_and_gives_the_same_table(tmp_path, small):
    import shutil

    args = ("sweep", small, IRIS, "--lr", "0.01", "--lr", "0.1", "--repeats", "2")
    whole = _json(cli(*args, "--json", "--out", tmp_path / "whole"))
    part = tmp_path / "part"
    shutil.copytree(tmp_path / "whole", part)
    for gone in ("02-lr=0.1", "best"):
        shutil.rmtree(part / gone)
    for suffix in ("npz", "json"):
        (part / "points" / f"02-lr=0.1.{suffix}").unlink()
    resumed = cli(*args, "--json", "--resume", "--out", part)
    assert "resumed: 2 finished seed(s) kept" in resumed.stderr
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(_json(resumed)["rows"]) == strip(whole["rows"])
    assert (part / "best" / "model.npz").read_bytes() == \
        (tmp_path / "whole" / "best" / "model.npz").read_bytes()


def test_resume_refuses_a_changed_csv_or_config_naming_it(tmp_path, small):
    data = tmp_path / "iris.csv"
    data.write_text(IRIS.read_text())
    args = ("--lr", "0.1", "--repeats", "1", "--out", tmp_path / "s")
    assert cli("sweep", small, data, *args).returncode == 0
    data.write_text(IRIS.read_text() + "5.0,3.0,1.5,0.2,setosa\n")
    result = cli("sweep", small, data, *args, "--resume")
    assert result.returncode == 2
    assert f"--resume {tmp_path / 's'}: {data} changed since that sweep started" in result.stderr
    data.write_text(IRIS.read_text())
    result = cli("sweep", small, data, *args, "--resume", "--epochs", "7")
    assert result.returncode == 2 and "the config changed since that sweep started " \
        "(training.epochs); start a new sweep" in result.stderr
    assert cli("sweep", small, data, "--lr", "0.1", "--resume").stderr.startswith(
        "--resume needs --out DIR")


def test_class_weights_and_scaling_are_swept_on_the_same_rows(tmp_path, small):
    record = _json(cli("sweep", small, IRIS, "--lr", "0.05", "--repeats", "1", "--json",
                       "--set", "training.class_weight=none,balanced",
                       "--set", "data.scale=standard,quantile", "--out", tmp_path / "s"))
    rows = record["rows"]
    assert sorted((r["training.class_weight"], r["data.scale"]) for r in rows) == [
        ("balanced", "quantile"), ("balanced", "standard"), ("none", "quantile"),
        ("none", "standard")]
    assert all(r["status"] == "ok" for r in rows)
    val_rows = {json.loads((tmp_path / "s" / f"{r['run']:02d}-{_label(r)}" / "metrics.json")
                           .read_text())["splits"]["val"]["rows"] for r in rows}
    assert val_rows == {30}


def _label(row) -> str:
    return "_".join(f"{k.split('.')[-1]}={v}" for k, v in row.items() if "." in k)


def test_a_starter_config_with_an_ensemble_sweeps_single_networks(tmp_path, small):
    starter = tmp_path / "starter.yaml"
    starter.write_text(small.read_text().replace("training: {", "training: {ensemble: 5, "))
    result = cli("sweep", starter, IRIS, "--lr", "0.1", "--repeats", "1", "--json",
                 "--out", tmp_path / "s")
    plain = _json(cli("sweep", small, IRIS, "--lr", "0.1", "--repeats", "1", "--json",
                      "--out", tmp_path / "p"))
    record = _json(result)
    assert record["notes"] == ["training.ensemble is 5: nnfit sweep trains single networks, so "
                               "each run is one network (seed 0); train the chosen config as "
                               "the ensemble of 5 with nnfit train"]
    assert record["rows"][0]["val_loss"] == plain["rows"][0]["val_loss"]


def test_cross_validated_points_choose_and_train_the_chosen_one_as_train_cv(tmp_path, small):
    out = tmp_path / "s"
    record = _json(cli("sweep", small, IRIS, "--lr", "0.01", "--lr", "0.1", "--cv", "3",
                       "--repeats", "1", "--json", "--out", out))
    assert all(r["seeds"] == 1 and math.isnan(r["test_loss"] or math.nan) for r in record["rows"])
    chosen = record["chosen"]
    assert record["choice"]["reproduce"].endswith(f"--set training.lr={chosen['training.lr']} "
                                                  f"--cv 3")
    metrics = json.loads((out / "best" / "metrics.json").read_text())
    assert metrics["cv"]["k"] == 3 and metrics["data"]["rows"] == 150

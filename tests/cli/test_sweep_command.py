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
                 "--out", out)
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
    assert len([p for p in out.iterdir() if p.is_dir()]) == 6  # 5 runs and best/
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
    assert len(failed) == 1 and "training.loss mse differs" in failed[0]["error"]


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

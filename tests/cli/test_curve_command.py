"""``nnfit curve``: options, files, --jobs 2 against --jobs 1, and the errors."""

import csv
import json

import pytest
from conftest import ROOT, cli

SINE = ROOT / "sample_data" / "noisy_sine.csv"
IRIS = ROOT / "sample_data" / "iris.csv"
UNDERFIT = ROOT / "configs" / "bias_variance" / "underfit.yaml"


def _rows(run_dir):
    with open(run_dir / "curve.csv") as fh:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(fh)]


def _timeless(value):
    """``value`` with every ``seconds`` entry left out, at any depth (the runs', the probe's)."""
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k != "seconds"}
    return [_timeless(v) for v in value] if isinstance(value, list) else value


def test_two_processes_give_the_numbers_of_one(tmp_path):
    one = cli("curve", UNDERFIT, SINE, "--repeats", "2", "--jobs", "1", "-o", tmp_path / "one")
    two = cli("curve", UNDERFIT, SINE, "--repeats", "2", "--jobs", "2", "-o", tmp_path / "two")
    assert one.returncode == two.returncode == 0, one.stderr + two.stderr
    assert len(_rows(tmp_path / "one")) == 10  # five sizes × two seeds
    assert _rows(tmp_path / "one") == _rows(tmp_path / "two")
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == [
        "config.yaml", "curve.csv", "curve.json", "curve.png"]
    for shown in (one, two):
        assert "underfitting: at 210 training rows (size 1)" in shown.stdout
        assert "│ baseline │" in shown.stdout and "val r2" in shown.stdout
        run_dir = tmp_path / ("one" if shown is one else "two")
        assert shown.stderr.strip().endswith(f"run directory: {run_dir}")
        assert shown.stderr.count("seed ") == 10  # one progress line per run


def test_json_goes_to_stdout_and_the_table_to_stderr(tmp_path):
    shown = cli("curve", UNDERFIT, SINE, "--sizes", "0.5,1", "--repeats", "1", "--jobs", "1",
                "--json", "--seed", "3", "--epochs", "20", "-o", tmp_path / "c")
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert record["run_dir"] == str(tmp_path / "c") and record["sizes"] == [0.5, 1.0]
    assert record["seeds"] == [3] and record["verdict"]["verdict"] in (
        "underfitting", "overfitting", "good fit", "inconclusive")
    assert [r["epochs_run"] <= 20 for r in record["runs"]] == [True, True]
    assert "val r2" in shown.stderr
    config = (tmp_path / "c" / "config.yaml").read_text()
    assert "# --set training.seed=3" in config and "# --set training.epochs=20" in config


def test_the_default_directory_is_under_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shown = cli("curve", UNDERFIT, SINE, "--sizes", "1", "--repeats", "1", "--jobs", "1",
                "--epochs", "5")
    assert shown.returncode == 0, shown.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.startswith("underfit-curve-") and (run_dir / "curve.csv").exists()


@pytest.mark.parametrize("sizes, message", [
    ("0", "--sizes: 0 is not a fraction in (0, 1] of the training part"),
    ("0.5,1.2", "--sizes: 1.2 is not a fraction in (0, 1] of the training part"),
    ("a,b", "--sizes: 'a' is not a number"),
    ("", "--sizes: empty"),
    ("0.001", "--sizes 0.001: keeps 0 of the 210 training rows; each size needs at least 2"),
])
def test_bad_sizes_are_one_line_errors_and_nothing_is_written(tmp_path, monkeypatch, sizes,
                                                              message):
    monkeypatch.chdir(tmp_path)
    shown = cli("curve", UNDERFIT, SINE, "--sizes", sizes, "--jobs", "1")
    assert shown.returncode == 2
    assert shown.stderr.startswith(message) and shown.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option, value", [("--repeats", "0"), ("--jobs", "0")])
def test_counts_below_one_are_one_line_errors(tmp_path, monkeypatch, option, value):
    monkeypatch.chdir(tmp_path)
    shown = cli("curve", UNDERFIT, SINE, option, value)
    assert shown.returncode == 2
    assert shown.stderr == f"{option} must be a positive integer (got {value})\n"
    assert list(tmp_path.iterdir()) == []


def test_a_starter_config_with_an_ensemble_runs_as_single_networks_and_says_so_once(tmp_path):
    starter = tmp_path / "iris.yaml"
    assert cli("init", IRIS, "--target", "species", "-o", starter).returncode == 0
    assert "ensemble: 5 " in starter.read_text()  # what nnfit init writes for 98 training rows
    args = ("curve", starter, IRIS, "--sizes", "0.5,1", "--repeats", "2", "--jobs", "1",
            "--set", "training.epochs=3", "--json")
    five = cli(*args, "-o", tmp_path / "five")
    one = cli(*args, "--set", "training.ensemble=1", "-o", tmp_path / "one")
    assert five.returncode == one.returncode == 0, five.stderr + one.stderr
    note = ("training.ensemble is 5: nnfit curve trains single networks, so each run is one "
            "network (seeds 0…1, one per repeat); train the chosen config as the ensemble of 5 "
            "with nnfit train")
    assert five.stderr.splitlines().count(note) == 1 and five.stderr.count("training.ensemble") == 1
    assert "ensemble" not in one.stderr
    records = [json.loads(shown.stdout) for shown in (five, one)]  # stdout: the JSON alone
    assert [r.pop("notes") for r in records] == [[note], []]
    assert [r.pop("run_dir") for r in records] == [str(tmp_path / "five"), str(tmp_path / "one")]
    assert _timeless(records[0]) == _timeless(records[1])
    assert _rows(tmp_path / "five") == _rows(tmp_path / "one")

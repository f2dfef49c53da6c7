"""``nnfit lr-find``: the report, the files, --json, --set/--seed, and the usage errors."""

import csv
import json

import pytest
from conftest import ROOT, cli

IRIS = ROOT / "sample_data" / "iris.csv"
IRIS_CONFIG = ROOT / "configs" / "iris.yaml"
SINE = ROOT / "sample_data" / "noisy_sine.csv"
GOOD = ROOT / "configs" / "bias_variance" / "good.yaml"


def _rows(run_dir):
    with open(run_dir / "lr_find.csv") as fh:
        return list(csv.DictReader(fh))


def test_the_suggestion_is_shown_and_the_files_are_written(tmp_path):
    shown = cli("lr-find", IRIS_CONFIG, IRIS, "-o", tmp_path / "lr")
    assert shown.returncode == 0, shown.stderr
    assert sorted(p.name for p in (tmp_path / "lr").iterdir()) == [
        "config.yaml", "lr_find.csv", "lr_find.png"]
    assert (tmp_path / "lr" / "lr_find.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = _rows(tmp_path / "lr")
    assert list(rows[0]) == ["step", "lr", "loss", "smoothed"]
    assert [int(r["step"]) for r in rows] == list(range(1, len(rows) + 1))
    assert float(rows[0]["lr"]) == 1e-7 and 50 < len(rows) <= 100
    assert "suggested learning rate: " in shown.stdout and "half-way down" in shown.stdout
    assert " +" in shown.stdout and "^" in shown.stdout  # the text plot, the suggestion marked
    assert shown.stderr.strip().endswith(f"run directory: {tmp_path / 'lr'}")


def test_json_prints_the_suggestion_the_rule_and_the_curve(tmp_path):
    shown = cli("lr-find", IRIS_CONFIG, IRIS, "--json", "--steps", "60", "-o", tmp_path / "j")
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    rows = _rows(tmp_path / "j")
    assert record["run_dir"] == str(tmp_path / "j") and record["steps"] == 60
    assert record["rule"].startswith("half-way down")
    assert len(record["curve"]) == len(rows) <= 60
    step = record["suggested_step"]
    assert record["suggested_lr"] == record["curve"][step - 1]["lr"] == float(rows[step - 1]["lr"])
    assert set(record["curve"][0]) == {"step", "lr", "loss", "smoothed"}
    assert "suggested learning rate" in shown.stderr  # the report moves to stderr


def test_set_and_seed_reach_the_run_and_the_same_seed_gives_the_same_curve(tmp_path):
    args = ("lr-find", IRIS_CONFIG, IRIS, "--seed", "3", "--set", "training.batch_size=8", "--json")
    one = cli(*args, "-o", tmp_path / "a")
    two = cli(*args, "-o", tmp_path / "b")
    other = cli("lr-find", IRIS_CONFIG, IRIS, "--json", "-o", tmp_path / "c")
    assert one.returncode == two.returncode == other.returncode == 0, one.stderr
    assert json.loads(one.stdout)["curve"] == json.loads(two.stdout)["curve"]
    assert json.loads(one.stdout)["curve"] != json.loads(other.stdout)["curve"]
    config = (tmp_path / "a" / "config.yaml").read_text()
    assert "# --set training.batch_size=8" in config and "# --set training.seed=3" in config


def test_the_default_directory_is_under_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shown = cli("lr-find", IRIS_CONFIG, IRIS, "--steps", "20")
    assert shown.returncode in (0, 1), shown.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.startswith("iris-lr-find-") and (run_dir / "lr_find.csv").exists()


def test_no_suggestion_exits_1_with_the_reason_and_keeps_the_files(tmp_path):
    shown = cli("lr-find", GOOD, SINE, "--seed", "2", "-o", tmp_path / "g")
    assert shown.returncode == 1
    assert "no suggestion: the smoothed loss fell by 6% of its peak" in shown.stdout
    assert (tmp_path / "g" / "lr_find.png").exists() and _rows(tmp_path / "g")


@pytest.mark.parametrize("options, message", [
    (["--start", "0"], "--start must be a positive learning rate (got 0)"),
    (["--start=-1e-3"], "--start must be a positive learning rate (got -0.001)"),
    (["--end", "0"], "--end must be a positive learning rate (got 0)"),
    (["--start", "1", "--end", "1"],
     "--start 1 must be below --end 1: the rate grows from start to end"),
    (["--start", "0.1", "--end", "0.01"], "--start 0.1 must be below --end 0.01"),
    (["--steps", "5"], "--steps must be an integer of at least 10 (got 5)"),
])
def test_a_bad_range_is_one_line_exit_2_and_writes_nothing(tmp_path, monkeypatch, options, message):
    monkeypatch.chdir(tmp_path)
    shown = cli("lr-find", IRIS_CONFIG, IRIS, *options, "-o", tmp_path / "out")
    assert shown.returncode == 2
    assert shown.stderr.startswith(message) and shown.stderr.count("\n") == 1
    assert shown.stdout == ""
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()


def test_a_starter_config_with_an_ensemble_is_tested_as_one_network_and_says_so_once(tmp_path):
    starter = tmp_path / "iris.yaml"
    assert cli("init", IRIS, "--target", "species", "-o", starter).returncode == 0
    assert "ensemble: 5 " in starter.read_text()  # what nnfit init writes for 98 training rows
    args = ("lr-find", starter, IRIS, "--steps", "30", "--json")
    five = cli(*args, "-o", tmp_path / "five")
    one = cli(*args, "--set", "training.ensemble=1", "-o", tmp_path / "one")
    assert five.returncode == one.returncode == 0, five.stderr + one.stderr
    note = ("training.ensemble is 5: nnfit lr-find trains single networks, so each run is one "
            "network (seed 0); train the chosen config as the ensemble of 5 with nnfit train")
    assert five.stderr.splitlines().count(note) == 1 and five.stderr.count("training.ensemble") == 1
    assert "ensemble" not in one.stderr
    records = [json.loads(shown.stdout) for shown in (five, one)]  # stdout: the JSON alone
    assert [r.pop("notes") for r in records] == [[note], []]
    assert [r.pop("run_dir") for r in records] == [str(tmp_path / "five"), str(tmp_path / "one")]
    assert records[0] == records[1] and records[0]["suggested_lr"] is not None
    assert _rows(tmp_path / "five") == _rows(tmp_path / "one")

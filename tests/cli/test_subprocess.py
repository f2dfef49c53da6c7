"""The installed `nnfit` command in real processes (exit codes, stderr, signals, parallel
runs), and the cases that need no process, in process through ``cli``."""

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import NNFIT, ROOT, cli, metrics, nnfit

DEMO = ROOT / "configs" / "bias_variance"
SINE = ROOT / "sample_data" / "noisy_sine.csv"
IRIS = ROOT / "sample_data" / "iris.csv"


@pytest.mark.parametrize("config,verdict", [("underfit", "underfitting"),
                                            ("overfit", "overfitting"),
                                            ("good", "good fit")])
def test_bias_variance_demo_verdicts(tmp_path, config, verdict):
    result = cli("train", DEMO / f"{config}.yaml", SINE, "--out", tmp_path / "run")
    assert result.returncode == 0, result.stderr
    assert metrics(tmp_path / "run")["diagnosis"]["verdict"] == verdict
    assert f"{verdict}:" in result.stdout
    assert "epoch" in result.stderr  # plain progress lines when not on a terminal


def _one_line_error(result, code=2):
    assert result.returncode == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    return lines[0]


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_error_cases_exit_2_with_one_line(tmp_path, small_config):
    good_cfg = small_config
    cases = {
        "missing data file": ((good_cfg, tmp_path / "nope.csv"), "nope.csv: no such data file"),
        "missing config": ((tmp_path / "nope.yaml", IRIS), "nope.yaml: no such config file"),
        "empty csv": ((good_cfg, _write(tmp_path, "empty.csv", "")), "empty.csv: the CSV is empty"),
        "missing target": ((_write(tmp_path, "t.yaml", "data: {target: kind}\n"), IRIS),
                           "iris.csv: target column not found: kind"),
        "missing features": ((_write(tmp_path, "f.yaml", "data: {target: species, features: "
                                     "[sepal_length, petal_size]}\n"), IRIS),
                             "iris.csv: feature column not found: petal_size"),
        "all-empty column": ((good_cfg, _write(tmp_path, "nan.csv", "a,b,species\n" + "".join(
            f"{i},,{'xy'[i % 2]}\n" for i in range(20)))), "nan.csv: column 'b' is entirely empty"),
        "single class": ((good_cfg, _write(tmp_path, "one.csv", "a,species\n" + "".join(
            f"{i},setosa\n" for i in range(20)))), "one.csv: target 'species' has a single class"),
        "too few rows": ((good_cfg, _write(tmp_path, "few.csv", "a,species\n1,x\n2,y\n3,x\n")),
                         "few.csv: 3 rows are too few"),
        "bad config value": ((_write(tmp_path, "bad.yaml", "data: {target: species}\nmodel: {layers: "
                                     "[{type: dense, units: 8}, {type: dense, units: -3}]}\n"), IRIS),
                             "bad.yaml: model.layers[1].units: must be a positive integer (got -3)"),
    }
    for name, ((config, data), expected) in cases.items():
        run = nnfit if name == "bad config value" else cli  # one real process is enough
        line = _one_line_error(run("train", config, data, "--out", tmp_path / "run"))
        assert expected in line, (name, line)
        assert not (tmp_path / "run").exists(), name


def test_divergence_is_reported_and_the_run_is_still_saved(tmp_path):
    config = _write(tmp_path, "sgd.yaml", "data: {target: y}\nmodel: {layers: [{type: dense, "
                    "units: 16, activation: tanh}]}\ntraining: {optimizer: sgd, lr: 50, epochs: 50}\n")
    result = nnfit("train", config, SINE, "--out", tmp_path / "run", "-q")
    assert result.returncode == 1, result.stderr
    # --quiet still says how it ended, and where the run is
    assert result.stderr.splitlines()[-2].startswith("diverged at epoch ")
    assert "lower the learning rate" in result.stderr
    assert result.stderr.splitlines()[-1] == f"run directory: {tmp_path / 'run'}"
    assert "Traceback" not in result.stderr and "RuntimeWarning" not in result.stderr
    m = metrics(tmp_path / "run")
    assert m["stop_reason"] == "diverged"
    assert all(v == v for v in m["splits"]["train"].values())  # finite weights were kept


def test_ctrl_c_stops_cleanly_and_saves_everything(tmp_path):
    out = tmp_path / "run"
    user = {k: v for k, v in os.environ.items() if k != "NNFIT_PLOTS"}  # the plot helper too
    proc = subprocess.Popen([str(NNFIT), "train", str(DEMO / "overfit.yaml"), str(SINE), "--out",
                             str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=user)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        history = out / "history.csv"
        # the header and 21 epochs written: a press landing in epoch 22 drops that partial
        # epoch and keeps 21, so "more than 20" below never depends on where it lands
        if history.exists() and len(history.read_text().splitlines()) > 21:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted at epoch" in stderr and "Traceback" not in stderr
    m = metrics(out)
    assert m["stop_reason"] == "interrupted" and 20 < m["epochs_run"] < 2000
    rows = (out / "history.csv").read_text().splitlines()
    assert len(rows) == m["epochs_run"] + 1
    assert {p.name for p in out.iterdir()} == {"config.yaml", "curves.png", "history.csv",
                                               "metrics.json", "model.json", "model.npz"}
    evaluated = nnfit("eval", out, SINE, "--json")  # the model saved at the interrupt is whole
    assert evaluated.returncode == 0, evaluated.stderr


def test_help_is_instant_because_heavy_modules_load_lazily():
    result = subprocess.run([sys.executable, "-c", (
        "import sys; from nnfit.cli import app; "
        "print(sorted(m for m in ('numpy', 'pandas', 'matplotlib', 'pydantic', 'yaml') "
        "if m in sys.modules))")],
        capture_output=True, text=True)
    assert result.stdout.strip() == "[]"
    help_result = nnfit("--help")
    assert help_result.returncode == 0 and "train" in help_result.stdout


def test_version_and_debug_traceback(tmp_path):
    assert nnfit("--version").stdout.strip().startswith("nnfit ")
    result = nnfit("--debug", "train", tmp_path / "nope.yaml", IRIS)
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_same_seed_same_numbers_and_every_file_parses(tmp_path):
    import csv
    import json

    import yaml

    runs = [tmp_path / "a", tmp_path / "b"]
    for out in runs:
        result = nnfit("train", DEMO / "underfit.yaml", SINE, "--out", out, "--seed", "7", "-q")
        assert result.returncode == 0, result.stderr
    first, second = metrics(runs[0]), metrics(runs[1])
    def untimed(diagnosis):  # the probe's seconds are the one thing a clock decides
        return {**diagnosis, "evidence": [{k: v for k, v in check.items() if k != "seconds"}
                                          for check in diagnosis["evidence"]]}

    assert first["splits"] == second["splits"]
    assert untimed(first["diagnosis"]) == untimed(second["diagnosis"])
    out = runs[0]
    assert yaml.safe_load((out / "config.yaml").read_text())["training"]["seed"] == 7
    assert json.loads((out / "model.json").read_text())["format_version"] == 1
    with open(out / "history.csv") as fh:
        assert len(list(csv.DictReader(fh))) == first["epochs_run"]


def test_parallel_runs_without_out_each_get_their_own_complete_directory(tmp_path, small_config):
    """Four processes started together, in the same second, with the default run directory."""
    import os

    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("NNFIT_DEBUG", None)
    procs = [subprocess.Popen([str(NNFIT), "train", str(small_config), str(IRIS), "--epochs", "2",
                               "-q"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [proc.communicate(timeout=240) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 4, outputs
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 4
    printed = sorted(err.splitlines()[-1].removeprefix("run directory: ") for _, err in outputs)
    assert printed == sorted(str(run.relative_to(tmp_path)) for run in runs)
    for run in runs:
        assert {"model.npz", "model.json", "metrics.json", "history.csv", "config.yaml",
                "curves.png"} <= {p.name for p in run.iterdir()}
        assert metrics(run)["epochs_run"] == 2


def test_debug_is_for_the_invocation_that_asks_for_it(tmp_path):
    """In one process (an embedding program, the doc tests), --debug does not stick."""
    from typer.testing import CliRunner

    from nnfit.cli import app
    from nnfit.errors import NnfitError

    runner = CliRunner()
    missing = str(tmp_path / "nope.yaml")
    with pytest.raises(NnfitError):  # --debug: the error itself, with its traceback
        runner.invoke(app, ["--debug", "train", missing, str(tmp_path / "d.csv")],
                      catch_exceptions=False)
    plain = runner.invoke(app, ["train", missing, str(tmp_path / "d.csv")])
    assert plain.exit_code == 2 and "no such config file" in plain.output

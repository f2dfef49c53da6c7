"""``nnfit doctor`` end to end (in process): the table, the best run that ``eval`` reads, the
reproducing line, ``--json``, ``--jobs 2`` against ``--jobs 1``, and one-line errors."""

import json

import pytest
from conftest import cli

import doctor_cases


@pytest.fixture(scope="module")
def overfit(tmp_path_factory):
    return doctor_cases.overfit(tmp_path_factory.mktemp("overfit"))


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return doctor_cases.small(tmp_path_factory.mktemp("small"))


def test_the_remedy_that_helped_is_saved_and_evaluates(tmp_path, overfit):
    config, csv = overfit
    out = tmp_path / "doc"
    result = cli("doctor", config, csv, "--repeats", "1", "--jobs", "1", "-o", out)
    assert result.returncode == 0, result.stderr
    assert "verdict: overfitting" in result.stderr
    assert "variants against the base" in result.stdout and "helped" in result.stdout
    assert "best: l2 ×10 helped beyond the noise" in result.stderr
    assert f"reproduce: nnfit train {config} {csv} --set training.l2=0.1" in result.stderr
    for run in ("base", "best"):
        scored = cli("eval", out / run, csv, "--json")
        assert scored.returncode == 0, scored.stderr
    assert cli("show", out / "best").returncode == 0
    assert cli("predict", out / "best", csv, "-o", tmp_path / "p.csv").returncode == 0
    record = json.loads((out / "doctor.json").read_text())
    assert record["best"] == "l2 ×10" and record["repeats"] == 1


def test_json_prints_doctor_json_and_nothing_else_on_stdout(tmp_path, small):
    config, csv = small
    result = cli("doctor", config, csv, "--repeats", "1", "--jobs", "1", "-o", tmp_path / "d",
                 "--json")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed == json.loads((tmp_path / "d" / "doctor.json").read_text())
    assert printed["kind_tried"] == printed["diagnosis"]["kind"]
    assert "variants against the base" in result.stderr


def test_few_validation_rows_get_three_seeds_and_say_so(tmp_path, small):
    config, csv = small
    result = cli("doctor", config, csv, "--jobs", "1", "-o", tmp_path / "d", "--epochs", "5")
    assert result.returncode == 0, result.stderr
    assert "30 validation rows (fewer than 200): 3 seeds per variant" in result.stderr
    record = json.loads((tmp_path / "d" / "doctor.json").read_text())
    assert record["seeds"] == [0, 1, 2] and record["base"]["seeds"] == 3


def test_two_workers_give_the_numbers_of_one(tmp_path, small):
    config, csv = small
    records = []
    for jobs in ("1", "2"):
        result = cli("doctor", config, csv, "--repeats", "2", "--epochs", "8", "--jobs", jobs,
                     "-o", tmp_path / jobs)
        assert result.returncode == 0, result.stderr
        records.append(json.loads((tmp_path / jobs / "doctor.json").read_text()))

    def numbers(value):  # everything but the clock
        if isinstance(value, dict):
            return {k: numbers(v) for k, v in value.items() if k not in ("seconds", "jobs")}
        return [numbers(v) for v in value] if isinstance(value, list) else value

    assert numbers(records[0]) == numbers(records[1])
    assert records[0]["variants"] and records[0]["base"]["seeds"] == 2


@pytest.mark.parametrize("args,message", [
    (["--repeats", "0"], "--repeats must be a positive integer (got 0)"),
    (["--cv", "1"], "--cv must be a number of folds of at least 2 (got 1)"),
    (["--jobs", "0"], "--jobs must be a positive integer (got 0)"),
    (["--scheduler-timeout", "3"], "--scheduler-timeout: waits for the Dask scheduler"),
    (["--set", "data.val_fraction=0", "--set", "training.early_stopping=false"],
     "the doctor judges variants by their val loss, and data.val_fraction is 0"),
    (["--set", "training.ensemble=3"], "training.ensemble: nnfit doctor trains single networks"),
    (["--set", "training.lr=-1"], "--set training.lr=-1"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, small, args, message):
    config, csv = small
    result = cli("doctor", config, csv, "-o", tmp_path / "d", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and not (tmp_path / "d").exists()


def test_a_missing_file_is_one_line(tmp_path, small):
    config, csv = small
    for args in ([tmp_path / "none.yaml", csv], [config, tmp_path / "none.csv"]):
        result = cli("doctor", *args, "-o", tmp_path / "d")
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1

"""bench/diagnosis.py end to end on three tiny cases whose truth is plain: the truth by
experiment, the verdicts through nnfit's public path, and the scores over them."""

from __future__ import annotations

import importlib
import math
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "bench"


@pytest.fixture(scope="module")
def bench():
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(BENCH))
        yield importlib.import_module("diagnosis"), importlib.import_module("fit_cases")


def tiny_cases(cases):
    """A straight line through a sine (its truth: underfitting, a hidden layer helps), a
    right-sized one on a straight line (good fit) and SGD at rate 1 (diverged)."""
    Case, config, R = cases.Case, cases.config, cases.R
    line = config("y", [], epochs=25, batch_size=64)
    made = [Case("t_sine_linear", "under", R, 200, line, cases.sine(0.2)),
            Case("t_linear_good", "good", R, 200, config("y", [], epochs=40, lr=0.03,
                                                          batch_size=64), cases.linear(0.5, d=2)),
            Case("t_diverge", "diverge", R, 200,
                 config("y", cases.dense(16), optimizer="sgd", lr=1.0, schedule="constant",
                        epochs=5), cases.friedman(), extras=("lr_div10",))]
    for case in made:
        case.config["data"]["val_fraction"] = cases.val_fraction(case.n)
    return made


def test_truth_verdicts_and_scores(bench, tmp_path, capsys):
    diagnosis, cases = bench
    made = tiny_cases(cases)
    results, errors = diagnosis.run(made, [0], tmp_path, 600, n_jobs=1)
    assert errors == []
    judged = {j["case"]: j for j in diagnosis.judge_cases(made, results)}
    assert judged["t_sine_linear"]["truth"] == "underfitting"
    assert {"width_2x", "width_4x"} & set(judged["t_sine_linear"]["helping"])
    assert judged["t_diverge"]["truth"] == "diverged"
    assert judged["t_diverge"]["verdicts"][0]["verdict"] == "diverged"
    assert judged["t_diverge"]["advice"][0]["remedy"] == "lr_div10"
    # every remedy of the fixed set that applies to a linear model ran, and only those
    assert set(results["t_linear_good"]) == {"base", "l2_10x", "early_stop", "width_2x",
                                             "width_4x", "epochs_2x", "lr_3x"}
    for j in judged.values():
        assert j["verdicts"][0]["kind"] in diagnosis.SHORT  # one of diagnosis.Kind
    s = diagnosis.summary(list(judged.values()))
    assert s["verdicts"] == 3 and sum(map(sum, (m.values() for m in s["matrix"].values()))) == 3
    assert 0 <= s["agreement"] <= 1 and s["agree"] >= 1  # the diverged one agrees
    assert math.isnan(s["false_nothing_to_fix_rate"]) or 0 <= s["false_nothing_to_fix_rate"] <= 1
    print(diagnosis.case_table(list(judged.values()), markdown=True))
    assert "| t_diverge |" in capsys.readouterr().out


def test_remedies_change_one_thing(bench):
    diagnosis, cases = bench
    base = cases.config("y", cases.dense(8, 300), epochs=10)
    assert diagnosis.remedy_config(base, "l2_10x")["training"]["l2"] == 1e-3
    assert [layer["units"] for layer in diagnosis.remedy_config(base, "width_4x")["model"]
            ["layers"]] == [32, 300]  # widened up to MAX_UNITS, never narrowed
    assert [layer["type"] for layer in diagnosis.remedy_config(base, "dropout")["model"]
            ["layers"]] == ["dense", "dropout", "dense", "dropout"]
    assert diagnosis.remedy_config(base, "exclude") is None  # no column to leave out
    assert diagnosis.remedy_config(base, "exclude", "id")["data"]["exclude"] == ["id"]
    assert diagnosis.remedy_config(base, "early_stop")["training"]["early_stopping"] == {
        "patience": 10}
    assert base["training"].get("l2") is None  # the base is left as it was

"""The one-line outcome: the verdict, or the divergence, made in one place."""

import io

import pytest
from rich.console import Console

from nnfit.evaluation.verdicts import Check
from nnfit.report.console import curve_owner, diverged_message, print_outcome, quotes_curve
from nnfit.report.tables import print_ensemble, print_report

REASON = "train loss 0.1 is 20% of the input-ignoring baseline's 0.5; " * 3  # long on purpose


def _metrics(stop_reason="completed", best_epoch=7):
    split = {"rows": 10, "loss": 0.1, "accuracy": 0.9}
    return {"task": "classification", "loss": "cross_entropy", "stop_reason": stop_reason,
            "epochs_run": 1 if stop_reason == "diverged" else 9, "best_epoch": best_epoch,
            "splits": {"train": split, "val": split}, "baseline": {"val": split},
            "diagnosis": {"verdict": "good fit", "reason": REASON.rstrip("; ")}}


def _out(fn, *args, width=40):
    console = Console(file=io.StringIO(), width=width, force_terminal=False)
    fn(console, *args)
    return console.file.getvalue()


def test_outcome_is_one_line_with_the_verdict_and_its_reason():
    out = _out(print_outcome, _metrics())
    assert out == f"good fit: {REASON.rstrip('; ')}\n"


def test_diverged_run_says_so_instead_of_a_verdict():
    out = _out(print_outcome, _metrics("diverged", best_epoch=0))
    assert out == f"{diverged_message(1)}; kept the initial weights\n"
    assert "good fit" not in out
    assert "epoch 1" in diverged_message(1) and "lower the learning rate" in diverged_message(1)
    assert _out(print_outcome, _metrics("diverged", best_epoch=3)).endswith(
        "kept the weights of epoch 3\n")


def test_report_prints_the_same_outcome_line():
    for metrics in (_metrics(), _metrics("diverged")):
        report = _out(print_report, metrics, [], width=200)
        assert _out(print_outcome, metrics, width=200) in report


# -- a seed ensemble: whose numbers the reason quotes -----------------------------------

ROSE = "val loss rose from its best 0.4 (epoch 5) to 0.6 over the next 20 epochs"
GAP = "val loss 0.6 is 3.0× the train loss 0.2"


def _ensemble(kind, reason, evidence, **extra):
    metrics = _metrics()
    metrics["diagnosis"] = {"verdict": "overfitting", "kind": kind, "reason": reason,
                            "evidence": evidence}
    split = {"loss": 0.5, "accuracy": 0.9}
    metrics["ensemble"] = {"members": 5, "metric": "accuracy", "records": [
        {"seed": 7 + i, "best_epoch": 5, "epochs_run": 25, "splits": {"val": split}}
        for i in range(5)]}
    return metrics | extra


def _check(name, result):
    return {"check": name, "result": result}


@pytest.mark.parametrize("kind, evidence, reason, curve", [
    ("overfitting_rose", [], ROSE, True),
    ("overfitting", [_check(Check.VAL_ROSE, True)], ROSE, True),
    ("overfitting", [_check(Check.VAL_ROSE, False), _check(Check.GAP, True)], GAP, False),
    ("underfitting_epochs", [_check(Check.STILL_LEARNING, True)], "train loss was still falling",
     True),
    ("underfitting_capacity", [_check(Check.STILL_LEARNING, False), _check(Check.PROBE, True)],
     "a wider network", False),
    ("inconclusive", [_check(Check.VAL_ROSE, False) | {"material": True},
                      _check(Check.GAP, False) | {"material": False}],
     "val loss rose by 0.1 after epoch 5, only 1.2 standard errors", True),
    ("inconclusive", [_check(Check.VAL_ROSE, False) | {"material": True},
                      _check(Check.GAP, False) | {"material": True}],
     "the gap 0.2 between val and train loss is 30% of the baseline's", False),
    ("inconclusive", [_check(Check.VAL_ROSE, False), _check(Check.GAP, False)],  # older keys
     "val loss rose by 0.1 after epoch 5, only 1.2 standard errors", True),
    ("underfitting_collapse", [_check(Check.COLLAPSE, True)], "predicts one class", False),
    ("good_fit", [_check(Check.VAL_ROSE, False)], "train loss 0.1 is 5% of the baseline's",
     False),
])
def test_an_ensembles_reason_from_the_curve_names_member_1(kind, evidence, reason, curve):
    metrics = _ensemble(kind, reason, evidence)
    assert quotes_curve(metrics["diagnosis"]) is curve
    out = _out(print_outcome, metrics, width=300)
    label = "member 1 of 5 (seed 7): "
    assert out == f"overfitting: {label if curve else ''}{reason}\n"
    # a single network, and --cv (whose verdict is the folds'), are not labelled
    single = {k: v for k, v in metrics.items() if k != "ensemble"}
    assert label not in _out(print_outcome, single, width=300)
    assert label not in _out(print_outcome, metrics | {"cv": {"k": 5}}, width=300)


def test_a_diverged_ensemble_names_the_member_whose_epochs_it_quotes():
    metrics = _ensemble("diverged", "", []) | {"stop_reason": "diverged", "epochs_run": 3}
    assert _out(print_outcome, metrics, width=300).startswith(
        f"member 1 of 5 (seed 7): {diverged_message(3)}")


def test_the_ensemble_table_says_whose_curve_the_verdict_reads():
    metrics = _ensemble("good_fit", "r", [])
    assert curve_owner(metrics) == "member 1 of 5 (seed 7)"
    table = " ".join(_out(print_ensemble, metrics, width=300).split())  # the caption wraps
    assert "curves.png and the verdict's curve evidence (best epoch, the rise after it, the trend " \
           "at the end) are member 1 of 5 (seed 7)'s" in table
    assert "member 1 of 5" not in _out(print_ensemble, metrics | {"cv": {"k": 5}}, width=300)

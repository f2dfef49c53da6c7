"""The one-line outcome: the verdict, or the divergence, made in one place."""

import io

from rich.console import Console

from nnfit.report.console import diverged_message, print_outcome
from nnfit.report.tables import print_report

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

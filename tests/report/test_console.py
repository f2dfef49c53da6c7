"""The live training view: full-width lines, and the best epoch read from its tracker."""

import io
import re
from types import SimpleNamespace

from rich.console import Console

from nnfit.report.console import TrainingView

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _console(width, terminal):
    return Console(file=io.StringIO(), width=width, force_terminal=terminal, highlight=False)


def _run(console, logs_per_epoch, tracker, best_per_epoch=None):
    """Drive a view as the trainer would, updating the tracker before the view's turn."""
    view = TrainingView(console, len(logs_per_epoch), tracker)
    view.on_train_begin(SimpleNamespace())
    for epoch, logs in enumerate(logs_per_epoch, 1):
        if best_per_epoch:
            tracker.best, tracker.best_epoch = best_per_epoch[epoch - 1]
        view.on_epoch_end(epoch, {"epoch": epoch, **logs})
    view.on_train_end({"epoch": len(logs_per_epoch), **logs_per_epoch[-1]})
    return ANSI.sub("", console.file.getvalue())


LONG = {"train_loss": 0.123456789, "val_loss": 0.234567891}
TRACKER = SimpleNamespace(best=0.2345678, best_epoch=1)


def test_terminal_line_uses_the_full_width_and_keeps_the_losses_whole():
    out = _run(_console(160, True), [LONG], TRACKER)
    last = out.split("\r")[-1].rstrip("\n")
    assert "train 0.1235  val 0.2346  best 0.2346 @ 1" in last
    assert len(last) == 160  # the bar stretches; a fixed 40-column bar stopped near 110


def test_narrow_terminal_shrinks_the_bar_not_the_losses():
    out = _run(_console(70, True), [LONG], TRACKER)
    assert "train 0.1235  val 0.2346  best 0.2346 @ 1" in out.split("\r")[-1]


def test_plain_lines_are_never_wrapped_or_cut():
    # A console that would wrap at 40 columns: the view's lines still come out whole.
    out = _run(_console(40, False), [LONG] * 3, TRACKER)
    lines = out.splitlines()
    assert lines[0] == "epoch 1/3  train 0.1235  val 0.2346  best 0.2346 @ 1"
    assert all(re.search(r"best \S+ @ \d+$", line) for line in lines)


def test_wide_plain_console_prints_the_best_line_whole():
    out = _run(_console(160, False), [LONG], TRACKER)
    assert re.search(r"^epoch 1/1  train 0\.1235  val 0\.2346  best 0\.2346 @ 1$", out, re.M)


def test_best_epoch_comes_from_the_tracker_not_from_the_losses():
    # val_loss is lowest at epoch 3, but with min_delta the tracker kept epoch 2.
    vals = [1.0, 0.5, 0.49, 0.6]
    tracker = SimpleNamespace(best=float("inf"), best_epoch=0)
    out = _run(_console(160, False), [{"train_loss": 1.0, "val_loss": v} for v in vals], tracker,
               best_per_epoch=[(1.0, 1), (0.5, 2), (0.5, 2), (0.5, 2)])
    lines = out.splitlines()
    assert lines[-1].endswith("val 0.6  best 0.5 @ 2")
    assert "@ 3" not in out


def test_no_best_is_shown_before_the_tracker_has_one():
    tracker = SimpleNamespace(best=float("inf"), best_epoch=0)
    out = _run(_console(160, False), [{"train_loss": float("nan"), "val_loss": float("nan")}],
               tracker)
    assert out.splitlines() == ["epoch 1/1  train —  val —"]


def test_a_table_too_wide_for_a_narrow_terminal_prints_row_by_row_with_every_digit():
    import io

    from rich.table import Table

    from nnfit.report.console import NarrowConsole

    table = Table(title="scores")
    for name in ("split", "loss", "balanced accuracy", "f1 macro"):
        table.add_column(name)
    table.add_row("train", "0.123456", "0.987654", "0.5")
    table.add_row("val", "0.234567", "0.876543", "0.4")
    narrow = NarrowConsole(file=io.StringIO(), width=40, color_system=None)
    narrow.print(table)
    assert narrow.file.getvalue() == ("scores\n\nsplit: train\nloss: 0.123456\nbalanced "
                                      "accuracy: 0.987654\nf1 macro: 0.5\n\nsplit: val\nloss: "
                                      "0.234567\nbalanced accuracy: 0.876543\nf1 macro: 0.4\n")
    wide = NarrowConsole(file=io.StringIO(), width=120, color_system=None)
    wide.print(table)
    assert "┃ split" in wide.file.getvalue() and "0.987654" in wide.file.getvalue()

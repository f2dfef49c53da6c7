import io

from rich.console import Console

from nnfit.report.sweep_view import SweepView
from nnfit.report.tables import results_table

ROW = {"run": 2, "training.lr": "0.1", "status": "ok", "val_loss": 0.2, "test_loss": 0.3,
       "accuracy": 0.9, "epochs": 10, "best_epoch": 7, "seconds": 0.5, "verdict": "good fit",
       "error": ""}


def _console(terminal):
    return Console(file=io.StringIO(), width=120, force_terminal=terminal, color_system=None)


def test_plain_output_is_one_line_per_finished_run():
    console = _console(False)
    view = SweepView(console)
    view.started(["lr=0.01", "lr=0.1"])
    view.progress(2, 3, {"train_loss": 0.5, "val_loss": 0.6})  # not printed without a terminal
    view.finished(ROW)
    view.close()
    assert console.file.getvalue() == "run  2 lr=0.1: ok (val loss 0.2, good fit)\n"


def test_the_live_view_shows_each_running_run_and_the_table():
    view = SweepView(_console(True))
    view.started(["lr=0.01", "lr=0.1"])
    view.progress(1, 4, {"train_loss": 0.5, "val_loss": 0.6})
    view.finished(ROW)
    text = view._render()
    console = _console(False)
    console.print(text)
    out = console.file.getvalue()
    view.close()
    assert "run  1 lr=0.01: epoch 4  train 0.5  val 0.6" in out and "good fit" in out


def test_a_failed_or_diverged_run_shows_its_status_as_the_verdict():
    table = results_table([{**ROW, "status": "diverged", "verdict": "diverged"},
                           {**ROW, "run": 3, "status": "failed", "verdict": "", "error": "x"}])
    console = _console(False)
    console.print(table)
    assert "diverged" in console.file.getvalue() and "failed" in console.file.getvalue()


def test_off_a_terminal_a_status_line_names_the_running_points_every_few_seconds():
    import time

    console = _console(False)
    view = SweepView(console, every=0.05)
    view.started(["lr=0.01", "lr=0.1"])
    view.progress(1, 37, {"train_loss": 0.5, "val_loss": 0.21})
    deadline = time.monotonic() + 5
    while "running:" not in console.file.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    view.close()
    line = console.file.getvalue().splitlines()[0]
    assert line.startswith("running: run 1 lr=0.01 epoch 37  train 0.5  val 0.21; 0 of 2 "
                           "points done (")
    assert SweepView(console).every == 10.0  # what nnfit sweep uses: within 15 s of the start

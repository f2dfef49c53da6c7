"""The sweep's live view: a line per run (epoch and losses as they train), then the table.

On a terminal it is a rich ``Live`` display redrawn as events arrive; elsewhere
one plain line per finished run. The workflow tells it ``started``,
``progress`` and ``finished``; it draws and nothing else.
"""

from __future__ import annotations

import math
import threading

from rich.console import Group
from rich.live import Live
from rich.text import Text

from .tables import fmt_finite, results_table


class SweepView:
    """Live lines for the runs in progress and a growing table of the finished ones."""

    def __init__(self, console):
        self.console = console
        self.live = None
        self.lock = threading.Lock()

    def started(self, labels: list[str]):
        self.labels = labels
        self.state = {i + 1: "queued" for i in range(len(labels))}
        self.rows: list[dict] = []
        if self.console.is_terminal and not self.console.quiet:

            self.live = Live(self._render(), console=self.console, refresh_per_second=4,
                             transient=True)
            self.live.start()

    def _render(self):

        lines = [Text(f"run {run:>2} {self.labels[run - 1]}: {state}", no_wrap=True,
                      overflow="ellipsis")
                 for run, state in self.state.items() if state != "done"]
        return Group(*lines, results_table(self.rows))

    def progress(self, run: int, epoch: int, logs: dict):
        with self.lock:
            if self.state.get(run) != "done":
                self.state[run] = (f"epoch {epoch}  train {fmt_finite(logs.get('train_loss'))}  "
                                   f"val {fmt_finite(logs.get('val_loss'))}")
            if self.live is not None:
                self.live.update(self._render())

    def finished(self, row: dict):
        with self.lock:
            self.state[row["run"]] = "done"
            self.rows = sorted([*self.rows, row], key=lambda r: (
                not math.isfinite(r["val_loss"]), r["val_loss"], r["run"]))
            if self.live is not None:
                self.live.update(self._render())
            else:
                detail = row["error"] or f"val loss {fmt_finite(row['val_loss'])}, {row['verdict']}"
                self.console.print(f"run {row['run']:>2} {self.labels[row['run'] - 1]}: "
                                   f"{row['status']} ({detail})", markup=False, soft_wrap=True)

    def close(self):
        if self.live is not None:
            self.live.stop()
            self.live = None

"""The sweep's live view: a line per run (epoch and losses as they train), then the table.

On a terminal it is a rich ``Live`` display redrawn as events arrive; elsewhere
(a log, a pipe, a batch job) one plain line per finished point, and every
``every`` seconds (10) a line naming the points in progress and their epochs, so a
long sweep is never silent. The workflow tells it ``started``, ``progress`` and
``finished``; it draws and nothing else.
"""

from __future__ import annotations

import math
import threading
import time

from rich.console import Group
from rich.live import Live
from rich.text import Text

from .tables import fmt_finite, results_table


class SweepView:
    """Live lines for the runs in progress and a growing table of the finished ones."""

    def __init__(self, console, every: float = 10.0):
        self.console = console
        self.live: Live | None = None
        self.lock = threading.Lock()
        self.every = every
        self.closed = threading.Event()

    def started(self, labels: list[str]):
        self.labels = labels
        self.state = {i + 1: "queued" for i in range(len(labels))}
        self.rows: list[dict] = []
        self.began = time.monotonic()
        if self.console.quiet:
            return
        if self.console.is_terminal:
            self.live = Live(self._render(), console=self.console, refresh_per_second=4,
                             transient=True)
            self.live.start()
        else:
            threading.Thread(target=self._tick, daemon=True).start()

    def _tick(self):
        """Off a terminal: every ``every`` seconds, what is running (until closed)."""
        while not self.closed.wait(self.every):
            with self.lock:
                line = self.status_line()
            if line:
                self.console.print(line, markup=False, soft_wrap=True)

    def status_line(self) -> str | None:
        """``running: run 2 lr=0.1 epoch 37 val 0.21; 3 of 8 points done (40 s)``; None when
        every point is done."""
        done = sum(state == "done" for state in self.state.values())
        if done == len(self.state):
            return None
        busy = [f"run {run} {self.labels[run - 1]} {state}" for run, state in self.state.items()
                if state not in ("done", "queued")]
        seconds = time.monotonic() - self.began
        return (f"running: {'; '.join(busy) or 'the first epochs'}; {done} of {len(self.state)} "
                f"points done ({seconds:.0f} s)")

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
                verdict = f", {row['verdict']}" if row.get("verdict") else ""
                detail = row["error"] or f"val loss {fmt_finite(row['val_loss'])}{verdict}"
                self.console.print(f"run {row['run']:>2} {self.labels[row['run'] - 1]}: "
                                   f"{row['status']} ({detail})", markup=False, soft_wrap=True)

    def close(self):
        self.closed.set()
        if self.live is not None:
            self.live.stop()
            self.live = None

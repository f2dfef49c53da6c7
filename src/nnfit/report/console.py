"""The console: a live training view (an observer) and the tables printed after a run.

Progress goes to stderr. On a terminal it is a rich progress bar with ETA and
the current losses; elsewhere (a pipe, a log file, CI) it is one plain line
every few epochs. Rich honours ``NO_COLOR``.
"""

from __future__ import annotations

import math

from ..training.observers import Observer


def make_console(stderr: bool = True, quiet: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, quiet=quiet, highlight=False, soft_wrap=True)


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


class TrainingView(Observer):
    """Epoch progress with ETA, train loss, val loss, and the best val loss with its epoch."""

    LINES = 20  # plain mode prints about this many lines per run

    def __init__(self, console, epochs: int):
        self.console, self.epochs = console, epochs

    def on_train_begin(self, trainer):
        super().on_train_begin(trainer)
        self.best, self.best_epoch = math.inf, 0
        self.progress = None
        self.every = max(1, self.epochs // self.LINES)
        self.last_printed = 0
        if self.console.is_terminal and not self.console.quiet:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)

            self.progress = Progress(
                TextColumn("epoch"), MofNCompleteColumn(), BarColumn(), TimeElapsedColumn(),
                TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[losses]}"),
                console=self.console)
            self.task = self.progress.add_task("train", total=self.epochs, losses="")
            self.progress.start()

    def _line(self, epoch, logs) -> str:
        text = f"train {_fmt(logs.get('train_loss'))}"
        if "val_loss" in logs:
            text += f"  val {_fmt(logs['val_loss'])}"
            if self.best_epoch:
                text += f"  best {_fmt(self.best)} @ {self.best_epoch}"
        return text

    def on_epoch_end(self, epoch, logs):
        val = logs.get("val_loss")
        if val is not None and val < self.best:
            self.best, self.best_epoch = val, epoch
        if self.progress is not None:
            self.progress.update(self.task, completed=epoch, losses=self._line(epoch, logs))
        elif epoch == 1 or epoch % self.every == 0:
            self._print(epoch, logs)
        self._last = (epoch, logs)

    def _print(self, epoch, logs):
        self.console.print(f"epoch {epoch:>{len(str(self.epochs))}}/{self.epochs}  "
                           f"{self._line(epoch, logs)}")
        self.last_printed = epoch

    def on_train_end(self, logs):
        if self.progress is not None:
            self.progress.stop()
        elif getattr(self, "_last", None) and self._last[0] != self.last_printed:
            self._print(*self._last)


def print_report(console, metrics: dict, notes_after: list[str]) -> None:
    """The results table (splits and baseline), the verdict, dead units, then closing notes."""
    from rich.table import Table

    splits = metrics["splits"]
    names = [k for k in next(iter(splits.values())) if k not in ("loss", "rows")]
    table = Table(title=f"{metrics['task']} · loss {metrics['loss']}", title_justify="left")
    table.add_column("split")
    table.add_column("rows", justify="right")
    table.add_column("loss", justify="right")
    for name in names:
        table.add_column(name, justify="right")
    for split, values in splits.items():
        table.add_row(split, str(values.get("rows", "")), _fmt(values["loss"]),
                      *(_fmt(values[n]) for n in names))
    base_split = "val" if "val" in metrics["baseline"] else "train"
    base = metrics["baseline"][base_split]
    table.add_row(f"baseline ({base_split})", str(base.get("rows", "")), _fmt(base["loss"]),
                  *(_fmt(base[n]) for n in names), style="dim")
    console.print(table)

    diagnosis = metrics["diagnosis"]
    colour = {"good fit": "green", "overfitting": "yellow", "underfitting": "yellow"}
    console.print(f"[bold {colour.get(diagnosis['verdict'], 'white')}]{diagnosis['verdict']}"
                  f"[/]: {diagnosis['reason']}")
    for layer in metrics.get("dead_relu", []):
        console.print(f"dead ReLU units in layer {layer['layer']} {layer['description']}: "
                      f"{layer['dead']}/{layer['units']} ({layer['share']:.0%}) never positive on "
                      f"the training rows")
    for note in notes_after:
        console.print(note)

"""The console: a live training view (an observer), the notes and the run's outcome lines.

Progress goes to stderr. On a terminal it is a rich progress bar with ETA and
the current losses; elsewhere (a pipe, a log file, CI) it is one plain line
every few epochs. Rich honours ``NO_COLOR``.
"""

from __future__ import annotations

import math
import os

from rich.console import Console
from rich.markup import escape as rich_escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column, Table
from rich.text import Text

from ..errors import Note
from ..evaluation.verdicts import Check, Kind
from ..training.observers import Observer


def escape(text) -> str:
    """Text from the data (column, class and file names) with rich markup made literal."""
    return rich_escape(str(text))


PIPE_WIDTH = 120  # a pipe or a log file has no width: rich's 80 would cut wide tables


class NarrowConsole(Console):
    """A Console that prints a table too wide for it as one block per row (``column:
    value`` lines) instead of cutting every number to ``0.…``: on a narrow terminal
    (``COLUMNS=40``) every digit stays readable."""

    def print(self, *objects, **kwargs):
        if len(objects) == 1 and isinstance(objects[0], Table) and self._too_wide(objects[0]):
            return super().print(vertical(objects[0]), **kwargs)
        return super().print(*objects, **kwargs)

    def _too_wide(self, table: Table) -> bool:
        from rich.measure import Measurement

        table_width = Measurement.get(self, self.options, table).minimum
        widest = [max((len(str(c)) for c in column.cells), default=0) for column in table.columns]
        needed = sum(max(w, len(str(c.header))) for w, c in zip(widest, table.columns,
                                                                  strict=True))
        return table_width > self.width or needed + 3 * len(table.columns) + 1 > self.width


def vertical(table: Table) -> Text:
    """``table`` as text: its title, then per row ``header: value`` lines, rows apart."""
    lines = [str(table.title)] if table.title else []
    columns = [(str(c.header), [str(v) for v in c.cells]) for c in table.columns]
    for i in range(table.row_count):
        lines.append("")
        lines += [f"{name}: {cells[i]}" for name, cells in columns if i < len(cells)]
    return Text("\n".join(lines))


def make_console(stderr: bool = True, quiet: bool = False):
    console = NarrowConsole(stderr=stderr, quiet=quiet, highlight=False, soft_wrap=True)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPE_WIDTH
    return console


def fmt(value, finite_only: bool = False) -> str:
    """A number as tables show it (4 significant digits); a dash for None and NaN, and for
    infinities too with ``finite_only``."""
    if value is None or (isinstance(value, float) and (
            math.isnan(value) or finite_only and not math.isfinite(value))):
        return "—"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def header(key: str) -> str:
    """A metric's column header: ``balanced_accuracy`` -> ``balanced accuracy``, which a
    narrow terminal wraps at the space instead of cutting short."""
    return key.replace("_", " ")


class TrainingView(Observer):
    """Epoch progress with ETA, train loss, val loss, and the best epoch so far.

    Parameters
    ----------
    console : rich Console
    epochs : int
        The planned number of epochs (the bar's total).
    tracker : object with ``best`` (float) and ``best_epoch`` (int, 0 while none), optional
        The one owner of the best epoch: the run's EarlyStopping, placed *before*
        this view in the observer list so it has judged the epoch when the view
        draws it. The view only reads it, so the line names the epoch whose
        weights are kept (``min_delta`` included). Without it no best is shown.

    On a terminal the line is a progress bar that takes the console's full width
    (the bar gives way first, the losses text never); elsewhere plain lines,
    never wrapped, about ``LINES`` per run.
    """

    LINES = 20  # plain mode prints about this many lines per run
    show_lr = False  # set in on_train_begin: the rate is shown when a schedule moves it

    def __init__(self, console, epochs: int, tracker=None):
        self.console, self.epochs, self.tracker = console, epochs, tracker

    def on_train_begin(self, trainer):
        super().on_train_begin(trainer)
        self.progress = None
        self.show_lr = getattr(trainer, "schedule", None) is not None  # a constant rate is in the config
        self.every = max(1, self.epochs // self.LINES)
        self.last_printed = 0
        if self.console.is_terminal and not self.console.quiet:

            # The bar takes what is left of the width; the losses column never wraps, so
            # on a narrow terminal the other columns shrink before the numbers do.
            self.progress = Progress(
                TextColumn("epoch"), MofNCompleteColumn(),
                BarColumn(bar_width=None, table_column=Column(ratio=1)), TimeElapsedColumn(),
                TextColumn("eta"), TimeRemainingColumn(),
                TextColumn("{task.fields[losses]}", table_column=Column(no_wrap=True)),
                console=self.console, expand=True)
            self.task = self.progress.add_task("train", total=self.epochs, losses="")
            self.progress.start()

    def _line(self, logs) -> str:
        text = f"train {fmt(logs.get('train_loss'))}"
        if "val_loss" in logs:
            text += f"  val {fmt(logs['val_loss'])}"
        if self.tracker is not None and self.tracker.best_epoch:
            text += f"  best {fmt(self.tracker.best)} @ {self.tracker.best_epoch}"
        if self.show_lr and "lr" in logs:
            text += f"  lr {logs['lr']:.3g}"
        return text

    def on_epoch_end(self, epoch, logs):
        if self.progress is not None:
            self.progress.update(self.task, completed=epoch, losses=self._line(logs))
        elif epoch == 1 or epoch % self.every == 0:
            self._print(epoch, logs)

    def _print(self, epoch, logs):
        # soft_wrap: a log file or CI gets the whole line, whatever width rich assumes there.
        self.console.print(f"epoch {epoch:>{len(str(self.epochs))}}/{self.epochs}  "
                           f"{self._line(logs)}", soft_wrap=True)
        self.last_printed = epoch

    def on_train_end(self, logs):
        if self.progress is not None:
            self.progress.stop()
        elif logs and logs["epoch"] != self.last_printed:
            self._print(logs["epoch"], logs)


def print_notes(console, alerts, notes: list[Note]) -> None:
    """The data notes: dim on ``console``; warnings in yellow, on ``alerts`` when given, so
    they show even when the notes are quiet."""
    for note in notes:
        (alerts if note.warning and alerts else console).print(
            str(note), style="yellow" if note.warning else "dim", markup=False)


def print_warnings(alerts, notes: list[Note]) -> None:
    """Only the warnings among the notes (e.g. the data checks'), for the many-run commands."""
    print_notes(alerts, alerts, [note for note in notes if note.warning])


def diverged_message(epoch: int) -> str:
    """What a diverged run says, in the console and on its learning curves."""
    return f"diverged at epoch {epoch}: the loss became NaN/inf — lower the learning rate"


def kept_weights(best_epoch: int) -> str:
    """Which weights a run that stopped early kept (0: no epoch improved on the start)."""
    return f"kept the weights of epoch {best_epoch}" if best_epoch else "kept the initial weights"


VERDICT_COLOUR = {"good fit": "green", "overfitting": "yellow", "underfitting": "yellow",
                  "diverged": "red"}
CURVE_KINDS = (Kind.OVERFITTING_ROSE, Kind.UNDERFITTING_EPOCHS)
CURVE_CHECKS = (Check.VAL_ROSE, Check.STILL_LEARNING)


def quotes_curve(diagnosis: dict) -> bool:
    """Whether a verdict's reason quotes the learning curve (its best epoch, the rise after it,
    its trend at the end) rather than the scored losses.

    Read from the verdict's kind, else from the check that decided (the last one whose
    result is true). An inconclusive verdict decided by no check is the rise's when the
    rise was material and the gap was not (the diagnosis prefers a material gap); without
    those keys (an older ``metrics.json``), when its reason is about the rise.
    """
    kind = diagnosis.get("kind")
    if kind in CURVE_KINDS:
        return True
    checks = [c for c in diagnosis.get("evidence") or [] if isinstance(c, dict)]
    decided = [c for c in checks if c.get("result")]
    if decided:
        return decided[-1].get("check") in CURVE_CHECKS
    if kind != Kind.INCONCLUSIVE:
        return False
    material = {c.get("check"): c["material"] for c in checks if "material" in c}
    if material:
        return bool(material.get(Check.VAL_ROSE)) and not material.get(Check.GAP)
    return "rose" in str(diagnosis.get("reason", ""))


def curve_owner(metrics: dict) -> str:
    """``"member 1 of 5 (seed 0)"``: whose curve a seed ensemble's verdict reads (its first
    member's); empty for a single network and for ``--cv`` (whose verdict is the folds')."""
    ensemble = metrics.get("ensemble")
    if not ensemble or metrics.get("cv"):
        return ""
    records = ensemble.get("records") or [{}]
    seed = records[0].get("seed")
    return f"member 1 of {ensemble['members']}" + (f" (seed {seed})" if seed is not None else "")


def print_outcome(console, metrics: dict) -> None:
    """One line: the verdict and its reason, or for a diverged run what happened instead.

    ``metrics`` is ``metrics.json``'s content. The one place this line is made:
    :func:`print_report` prints it, and ``--quiet`` runs print it alone. A seed
    ensemble's reason that quotes its curve (:func:`quotes_curve`) is labelled with the
    member whose curve it is (:func:`curve_owner`), so that it is not read as the
    ensemble's losses printed next to it.
    """
    if metrics.get("stop_reason") == "diverged":
        kept = kept_weights(metrics.get("best_epoch", 0))
        member = curve_owner(metrics)
        console.print(f"{escape(member + ': ') if member else ''}"
                      f"[bold red]{diverged_message(metrics['epochs_run'])}[/]; {kept}",
                      soft_wrap=True)
        return
    diagnosis = metrics["diagnosis"]
    colour = VERDICT_COLOUR
    label = curve_owner(metrics) if quotes_curve(diagnosis) else ""
    console.print(f"[bold {colour.get(diagnosis['verdict'], 'white')}]{escape(diagnosis['verdict'])}"
                  f"[/]: {escape(label + ': ') if label else ''}{escape(diagnosis['reason'])}",
                  soft_wrap=True)

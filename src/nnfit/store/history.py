"""``history.csv``: one row per epoch, appended and flushed as training goes."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import FAILED, NnfitError
from ..training.observers import Observer
from .csv_file import csv_text, write_csv

EMPTY = ("epoch", "train_loss")  # the header of a history without an epoch


class HistoryWriter(Observer):
    """Appends one ``history.csv`` row per epoch and flushes it, so a killed run keeps its history.

    The one file not written through :func:`write_atomic`: a log grows a line at a
    time, each line whole once flushed; it is fsynced when training ends. (Rewriting
    it atomically every epoch cost a quarter of a 2000-epoch run.)
    """

    def __init__(self, path: Path):
        self.path = path

    def on_train_begin(self, trainer):
        super().on_train_begin(trainer)
        self.columns: list[str] | None = None
        self._file = open(self.path, "w", encoding="utf-8", newline="")

    def on_epoch_end(self, epoch, logs):
        first = self.columns is None
        if self.columns is None:
            self.columns = list(logs)
        self._append(csv_text(self.columns, [logs], nonfinite="nan", header=first))

    def _append(self, text: str) -> None:
        """Write whole lines or none: on a full disk the file is cut back to its last
        complete line, and the run stops with a one-line error."""
        try:
            good = self._file.tell()
            try:
                self._file.write(text)
                self._file.flush()
            except OSError:
                self._file = open(self.path, "r+", encoding="utf-8", newline="")
                self._file.truncate(good)
                raise
        except OSError as exc:
            raise NnfitError(f"{self.path}: cannot write ({exc.strerror or exc}); the rows "
                             f"written so far are kept", FAILED) from None

    def on_train_end(self, logs):
        if self.columns is None:  # no epoch finished: still a CSV, with its header
            self._append(csv_text(EMPTY, []))
        try:
            os.fsync(self._file.fileno())
            self._file.close()
        except OSError as exc:
            raise NnfitError(f"{self.path}: cannot write ({exc.strerror or exc})", FAILED) from None


def write_history(path: Path, history: dict[str, list[float]], epochs: list[int]) -> Path:
    """``history.csv`` at once, from a finished run's History (the same format as HistoryWriter)."""
    columns = list(history)
    rows = [[epoch, *(history[c][i] if i < len(history[c]) else None for c in columns)]
            for i, epoch in enumerate(epochs)]
    return write_csv(path, ["epoch", *columns] if columns else EMPTY, rows, nonfinite="nan")

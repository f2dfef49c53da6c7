"""The one CSV writer: every table nnfit writes (``cv.csv``, ``curve.csv``, ``sweep.csv``,
``lr_find.csv``, ``confusion.csv``, ``history.csv``) goes through :func:`csv_text`; the
predictions of ``nnfit predict``, a DataFrame, through :func:`frame_csv`.

Floats are written with ``repr``, so a value read back is the value written, bit for
bit; a missing value (None) is an empty cell. How a NaN or infinite value is written
is the table's choice (``nonfinite``): ``sweep.csv`` leaves the cell empty, the history
writes ``nan``, the others write what ``repr`` gives (``nan``, ``inf``).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from .atomic import write_atomic


def cell(value, nonfinite: str | None = None) -> str:
    """One value as CSV text (before quoting): ``repr`` for floats, ``""`` for None."""
    if value is None:
        return ""
    if isinstance(value, np.generic):  # a NumPy scalar: its Python value's text
        value = value.item()
    if isinstance(value, float):
        if nonfinite is not None and not math.isfinite(value):
            return nonfinite
        return repr(value)
    return str(value)


def csv_text(columns: Sequence[str], rows: Iterable[Mapping | Sequence], *,
             nonfinite: str | None = None, header: bool = True) -> str:
    """The header ``columns`` and one line per row; a row is a mapping (its values for
    ``columns``, absent ones empty) or a sequence in column order. Lines end in ``\\n``.
    ``header=False``: the rows alone (lines appended to a file that has its header)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(columns)
    for row in rows:
        values = [row.get(c) for c in columns] if isinstance(row, Mapping) else row
        writer.writerow([cell(v, nonfinite) for v in values])
    return buffer.getvalue()


def write_csv(path: str | Path, columns: Sequence[str], rows: Iterable[Mapping | Sequence], *,
              nonfinite: str | None = None) -> Path:
    """:func:`csv_text` written atomically to ``path``."""
    return write_atomic(path, csv_text(columns, rows, nonfinite=nonfinite))


def confusion_csv(classes: Sequence[str], matrix) -> str:
    """The confusion matrix as CSV: header ``true\\predicted,<class>,...``, one row per true
    class. ``matrix`` is ``(n_classes, n_classes)`` counts, rows the true class."""
    return csv_text(["true\\predicted", *map(str, classes)],
                    [[str(cls), *(int(v) for v in row)]
                     for cls, row in zip(classes, matrix, strict=False)])


def frame_csv(frame, header: bool = True) -> str:
    """A pandas DataFrame as CSV text, as pandas writes it (``nnfit predict``'s table: its
    columns keep their own types, an empty cell for a missing value). Each value's text
    depends on that value alone, so a table written a piece at a time (``header=False``
    after the first) reads as the whole table would."""
    return frame.to_csv(index=False, header=header)

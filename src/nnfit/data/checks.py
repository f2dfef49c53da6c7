"""Checks on a freshly read table that point at one place in the file.

Each works on a frame straight from :func:`nnfit.data.table.read_table` (or a row
subset of it): its index holds the 0-based data row, whose line in the file
:func:`~nnfit.data.table.file_line` gives, and its columns are in the CSV's order.
"""

from __future__ import annotations

import numpy as np

from .table import file_line

NA_HINT = ("cells reading NA, N/A, null and the like count as empty unless "
           "data.keep_default_na is false")


def empty_cells_message(frame, columns: list[str], source: str,
                        remedy: str = "set data.missing to drop or mean") -> str | None:
    """The error for empty cells under ``data.missing: error``, or None when there are none."""
    found = _empty_cells(frame, columns)
    if found is None:
        return None
    n_rows, line, column = found
    return (f"{source}: {n_rows} row(s) have empty cells, the first at line {line}, "
            f"column {column!r}; {remedy} ({NA_HINT})")


def _empty_cells(frame, columns):
    """``(n_rows_with_holes, line, column)`` of the first hole, or None."""
    wanted = set(columns)
    ordered = [c for c in frame.columns if c in wanted]
    holes = frame[ordered].isna().to_numpy()  # (n_rows, n_columns)
    rows = holes.any(axis=1)
    if not rows.any():
        return None
    row = int(np.argmax(rows))
    return (int(rows.sum()), file_line(frame, int(frame.index[row])),
            ordered[int(np.argmax(holes[row]))])

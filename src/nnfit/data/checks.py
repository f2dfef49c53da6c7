"""Checks on a freshly read table that point at one place in the file.

Each works on a frame straight from :func:`nnfit.data.table.read_table` (or a row
subset of it): its index holds the 0-based data row, so data row ``i`` is file line
``i + 2`` (line 1 is the header), and its columns are in the CSV's order.
"""

from __future__ import annotations

import numpy as np

from ..errors import Note, warning

MIN_INDEX_ROWS = 5  # below this, a column 0, 1, 2 is as likely a real feature as an index


def index_like_columns(frame, columns: list[str]) -> list[tuple[str, int]]:
    """``(column, start)`` for each numeric column equal to the row number ``start``, ``start + 1``, ...

    ``start`` is 0 or 1: the column equals the data row number in file order
    (``0..n-1`` or ``1..n``), as an exported index such as pandas' ``Unnamed: 0`` does.
    A model can learn such a column when the file is sorted by the target.
    """
    import pandas as pd  # local: workers' jobs get arrays, not tables


    numeric = [c for c in columns
               if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]
    if len(frame) < MIN_INDEX_ROWS or not numeric:
        return []
    index = frame.index.to_numpy(dtype=float)
    found = []
    for col in numeric:  # the first row rules out nearly every column: only the rest are read
        start = float(frame[col].iat[0]) - index[0]  # NaN never matches
        if start in (0.0, 1.0) and (frame[col].to_numpy(dtype=float, na_value=np.nan) - index
                                    == start).all():
            found.append((col, int(start)))
    return found


def index_warning(column: str, start: int) -> Note:
    """The note for a column :func:`index_like_columns` found."""
    numbers = "0..n-1" if start == 0 else "1..n"
    return warning(f"column {column!r} equals the row number ({numbers}); it is likely an "
                   f"exported index: leave it out with data.exclude")


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
    return int(rows.sum()), int(frame.index[row]) + 2, ordered[int(np.argmax(holes[row]))]

"""The design matrix's size, known before it is built.

A fitted :class:`~nnfit.data.preprocess.Preprocessor` knows its input width (one input
per numeric column, one per category of a text column) from the categories alone, so a
text column of 100,000 names is refused here, naming it, before ``rows × inputs`` floats
are allocated, not after.
"""

from __future__ import annotations

import numpy as np

from ..runtime import memory
from ..runtime.memory import format_bytes


def design_refusal(prep, n_rows: int, dtype, where: str = "") -> tuple[str, str | None] | None:
    """Why the ``(n_rows, prep.n_inputs)`` matrix in ``dtype`` does not fit in the memory
    available now, and the text column to blame; None when it fits (or that is unknown).

    The message names the widest text column when its one-hot inputs are most of the
    width (``where`` follows its count of distinct values, e.g. ``" in the training rows"``).
    """
    width = prep.n_inputs
    nbytes = n_rows * width * np.dtype(dtype).itemsize
    available = memory.available_memory()
    if available is None or nbytes <= available:
        return None
    need = (f"{n_rows:,} rows × {width:,} inputs need ~{format_bytes(nbytes)} and this "
            f"machine has {format_bytes(available)} available")
    column, n_categories = widest_text(prep)
    if column is None or 2 * n_categories < width:
        return need, None
    return (f"text column {column!r} has {n_categories:,} distinct values{where}, one input "
            f"each: {need}"), column


def widest_text(prep) -> tuple[str | None, int]:
    """``(column, categories)`` of the text feature with the most categories (None, 0: none)."""
    if not prep.categorical:
        return None, 0
    column = max(prep.categorical, key=lambda c: len(prep.categorical[c]))
    return column, len(prep.categorical[column])

"""Cells as labels: the text of class labels and categories, per cell and per column.

A label is what a cell reads as text, the same whichever way a CSV wrote it:
``1.0`` and ``1`` are both ``"1"``, booleans are ``"true"`` / ``"false"``, text is
kept as it is but for surrounding spaces (`` p`` and ``p`` are one label).
:func:`label_text` says it for one value; :func:`column_labels` for a whole column at
the cost of a hash pass over the cells plus one :func:`label_text` call per distinct
value.
"""

from __future__ import annotations

import numpy as np

from ..config.labels import label_text

SAFE_KINDS = ("string", "boolean", "integer", "floating", "mixed-integer-float", "empty",
              "decimal")  # object columns whose equal values have equal labels


def sorted_labels(labels) -> list[str]:
    """Distinct labels, in numeric order when they are all numbers, else alphabetical."""
    unique = sorted({str(label) for label in labels})
    try:
        return sorted(unique, key=float)
    except ValueError:
        return unique


def column_labels(series) -> tuple[np.ndarray, list[str]]:
    """Each cell's label, as codes into the column's distinct labels.

    Parameters
    ----------
    series : pandas Series (n,), any dtype

    Returns
    -------
    codes : (n,) intp; cell ``i`` reads ``labels[codes[i]]``, and ``-1`` marks an empty cell
    labels : the distinct labels (``label_text`` of the cells), in order of first appearance
        (of a categorical's categories: in their order, those in use)
    """
    import pandas as pd  # local: workers' jobs get arrays, not tables


    values = series
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) not in SAFE_KINDS:
        # Hashing finds True == 1 == 1.0 equal, but True reads "true": label the booleans first.
        array = series.to_numpy(dtype=object)
        flags = np.frompyfunc(_is_bool, 1, 1)(array).astype(bool)
        if flags.any():
            array = array.copy()
            array[flags] = np.where(array[flags].astype(bool), "true", "false")
        values = array
    if isinstance(series.dtype, pd.CategoricalDtype):  # the codes are there: keep those in use
        codes = series.cat.codes.to_numpy().astype(np.intp)
        used = np.flatnonzero(np.bincount(codes + 1, minlength=len(series.cat.categories) + 1)[1:])
        renumber = np.full(len(series.cat.categories) + 1, -1, dtype=np.intp)  # [-1] stays -1
        renumber[used] = np.arange(used.size)
        codes, uniques = renumber[codes], series.cat.categories[used]
    else:
        codes, uniques = pd.factorize(values)
    labels = [label_text(value) for value in uniques.tolist()]
    if len(set(labels)) < len(labels):  # e.g. 1 and "1" in one object column
        merged, distinct = pd.factorize(np.array(labels, dtype=object))
        codes = np.where(codes >= 0, merged[codes], -1)
        labels = list(distinct)
    return codes.astype(np.intp, copy=False), labels


def text_array(codes: np.ndarray, labels: list[str]) -> np.ndarray:
    """``labels[codes]`` as a text array ``(n,)`` (``"nan"`` for ``-1``, as ``str(nan)`` reads)."""
    empty = ["nan"] if (codes < 0).any() else []
    return np.array([*labels, *empty], dtype=str)[codes]


def _is_bool(value) -> bool:
    return isinstance(value, (bool, np.bool_))

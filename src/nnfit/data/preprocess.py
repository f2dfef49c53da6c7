"""Preprocessor: columns -> model inputs and targets, fitted on the training rows only.

Numeric features are scaled (standard, min-max, robust with a smooth clip: see
:mod:`nnfit.data.scaling`, or a quantile transform to a normal distribution: see
:mod:`nnfit.data.quantile`; statistics from the training split); text features are
one-hot encoded with the categories seen in training (a category never seen becomes
an all-zero row, and is counted); empty cells are filled with the training mean
(numeric) or most frequent value (text) when ``missing: mean``. Classification targets
become class indices; regression targets are standardized for training and mapped back
for metrics.

It also keeps what ``eval`` and ``predict`` need to treat new files as training did:
the missing-value policy (:meth:`Preprocessor.apply_missing`) and the reading options
(``reading``, for :func:`nnfit.data.table.read_table`).

A fitted Preprocessor is plain data: ``to_dict()`` is JSON, ``from_dict`` reads it back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import NnfitError
from .checks import empty_cells_message
from .columns import Numbers, OneHot
from .labels import column_labels, sorted_labels
from .quantile import check_quantiles, fit_quantiles
from .scaling import SQUASH, center_scale
from .table import READING_DEFAULTS, file_line
from .width import design_refusal

CHUNK_ROWS = 4096  # rows of X written at a time (4096 × 100 float32 inputs: 1.6 MB, in cache)


def numeric_column(series, source: str):
    """The column as floats; text where a number belongs is an error naming the line."""
    import pandas as pd  # local: workers' jobs get arrays, not tables

    if pd.api.types.is_numeric_dtype(series):  # bool included
        values = series.astype(float)
    else:
        series = plain(series)
        values = pd.to_numeric(series, errors="coerce")
        bad = values.isna() & series.notna()
        if bad.any():
            row = bad.idxmax()
            raise NnfitError(f"{source}: column {series.name!r}, line "
                             f"{file_line(series, row)}: {series[row]!r} is not a number")
        values = values.astype(float)
    infinite = np.isinf(values.to_numpy())
    if infinite.any():  # "inf", or a number beyond float64 such as 1e400
        row = values.index[int(np.argmax(infinite))]
        raise NnfitError(f"{source}: column {series.name!r}, line {file_line(series, row)}: "
                         f"{values[row]:g} is not a finite number ({int(infinite.sum())} such "
                         f"cell{'s' if infinite.sum() > 1 else ''}); remove the rows, or empty the "
                         f"cells and set data.missing")
    return values


def looks_numeric(series) -> bool:
    """Numbers, or text of which at least half the filled cells are numbers (a stray typo)."""
    import pandas as pd  # local: workers' jobs get arrays, not tables

    if pd.api.types.is_numeric_dtype(series):  # bool included
        return True
    if isinstance(series.dtype, pd.CategoricalDtype):  # each category is parsed once
        return _mostly_numbers(series.cat.codes.to_numpy(), series.cat.categories)
    if pd.api.types.infer_dtype(series, skipna=True) == "string":
        codes, uniques = pd.factorize(series)  # each distinct text is parsed once
        return _mostly_numbers(codes, uniques)
    filled = series.dropna()
    return len(filled) > 0 and pd.to_numeric(filled, errors="coerce").notna().mean() >= 0.5


def plain(series):
    """``series`` with a categorical's codes turned back into its values (objects)."""
    import pandas as pd  # local: workers' jobs get arrays, not tables

    return series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series


def _mostly_numbers(codes: np.ndarray, texts) -> bool:
    """Whether at least half the filled cells (``codes >= 0``) of ``texts[codes]`` parse as numbers."""
    import pandas as pd  # local: workers' jobs get arrays, not tables

    filled = codes[codes >= 0]
    if filled.size == 0:
        return False
    numeric = pd.notna(pd.to_numeric(np.asarray(texts, dtype=object), errors="coerce"))
    return float(np.mean(numeric[filled])) >= 0.5


def text_labels(series) -> tuple[np.ndarray, list[str]] | None:
    """A text column's :func:`column_labels`; None for a column :func:`looks_numeric` calls numbers.

    Plain text is hashed once for both questions (its labels are its distinct cells).
    """
    import pandas as pd  # local: workers' jobs get arrays, not tables

    if pd.api.types.is_numeric_dtype(series):
        return None
    if not isinstance(series.dtype, pd.CategoricalDtype) and \
            pd.api.types.infer_dtype(series, skipna=True) == "string":
        codes, labels = column_labels(series)
        return None if _mostly_numbers(codes, labels) else (codes, labels)
    return None if looks_numeric(series) else column_labels(series)


@dataclass
class Preprocessor:
    """The fitted transformation, as plain data."""

    task: str
    targets: list[str]
    features: list[str]
    numeric: dict[str, list[float]] = field(default_factory=dict)  # column -> [center, scale]
    # scale: quantile: column -> quantiles
    quantiles: dict[str, list[float]] = field(default_factory=dict)
    categorical: dict[str, list[str]] = field(default_factory=dict)  # column -> categories
    fill: dict[str, float | str] = field(default_factory=dict)  # column -> value for empty cells
    classes: list[str] | None = None
    target_scale: list[list[float]] | None = None  # per target: [center, scale]
    scale: str = "standard"
    missing: str = "error"  # data.missing of the training run
    reading: dict = field(default_factory=lambda: dict(READING_DEFAULTS))  # read_table options

    # -- shape --------------------------------------------------------------------
    @property
    def input_names(self) -> list[str]:
        """One name per model input: numeric columns as they are, ``col=category`` for one-hots."""
        names = []
        for col in self.features:
            if col in self.categorical:
                names += [f"{col}={cat}" for cat in self.categorical[col]]
            else:
                names.append(col)
        return names

    @property
    def n_inputs(self) -> int:
        return len(self.input_names)

    @property
    def numeric_inputs(self) -> list[int]:
        """The positions of the numeric columns' inputs among :attr:`input_names`."""
        widths = [len(self.categorical.get(col, [col])) for col in self.features]
        starts = [sum(widths[:i]) for i in range(len(widths))]
        return [at for col, at in zip(self.features, starts, strict=True)
                if col not in self.categorical]

    # -- transform ----------------------------------------------------------------
    def transform(self, frame, source: str, rows: np.ndarray | None = None,
                  dtype=np.float64) -> tuple[np.ndarray, dict[str, int]]:
        """The model inputs of ``frame``'s rows, and ``{column: count}`` of unseen categories.

        Parameters
        ----------
        frame : DataFrame with the feature columns; its index holds the 0-based CSV data rows
        rows : (n_rows,) int positions into ``frame`` (default: every row, in order)
        dtype : of ``X``; each value is computed in float64 and stored as ``dtype``

        Returns
        -------
        X : (n_rows, n_inputs) ``dtype``: one array, written ``CHUNK_ROWS`` rows at a time
        unseen : cells per text column that are neither a training category nor filled
        """
        columns, unseen = self._columns(frame, source, rows)
        n_rows = len(frame) if rows is None else len(rows)
        if (refusal := design_refusal(self, n_rows, dtype)) is not None:  # before allocating
            raise NnfitError(f"{source}: {refusal[0]}")
        X = np.zeros((n_rows, self.n_inputs), dtype=dtype)
        # Row chunks, each column within a chunk: the chunk stays in cache while its
        # columns are written, where whole strided columns would stream X once per column.
        for start in range(0, n_rows, CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, n_rows)
            block = X[start:stop]
            at_rows = slice(start, stop) if rows is None else rows[start:stop]
            for column in columns:
                column.write(block, at_rows, slice(start, stop))
        return X, unseen

    def _columns(self, frame, source, rows) -> tuple[list, dict[str, int]]:
        """Each feature checked over the rows (the first problem, column by column, raises)
        and ready to write: one-hot codes per row, or numbers with their scaling."""
        import pandas as pd  # local: workers' jobs get arrays, not tables

        columns: list[OneHot | Numbers] = []
        squash = SQUASH.get(self.scale)
        unseen, at = {}, 0
        for col in self.features:
            series = frame[col]
            if col in self.categorical:
                cats = pd.Index(self.categorical[col])
                codes, labels = column_labels(series if rows is None else series.iloc[rows])
                empty = cats.get_indexer(pd.Index([self.fill[col]]))[0] if col in self.fill else -1
                # per distinct label its category (-1: unseen), and last the empty cells' one
                where = np.append(cats.get_indexer(pd.Index(labels)), empty)[codes]
                if (where < 0).any():
                    unseen[col] = int(np.count_nonzero(where < 0))
                columns.append(OneHot(at, where))
                at += len(cats)
                continue
            fill = self.fill.get(col)
            if series.dtype.kind in "iuf":  # read in place, a chunk at a time
                values, by_frame_row = series.to_numpy(), True
                odd = values[~np.isfinite(values)] if series.dtype.kind == "f" else values[:0]
                if odd.size:  # a hole (raise if among these rows, unfilled), or inf / 1e400
                    part = series if rows is None else series.iloc[rows]
                    if fill is None and np.isnan(odd).any():
                        _no_fill(col, part, source)
                    if np.isinf(odd).any():
                        numeric_column(part, source)
            else:  # booleans, or text where numbers belong: converted (and checked) once
                part = plain(series if rows is None else series.iloc[rows])
                if fill is not None:
                    part = part.fillna(fill)
                values, by_frame_row = numeric_column(part, source).to_numpy(), False
                _no_fill(col, part, source)
            center, scale = self.numeric[col]
            columns.append(Numbers(at, values, by_frame_row, fill, self.quantiles.get(col),
                                   center, scale, squash))
            at += 1
        return columns, unseen

    def encode_targets(self, frame, source: str, unseen: str = "error"):
        """Class indices ``(n,)``, or standardized values ``(n, k)`` for regression.

        A class not among the training classes is an error naming its line; with
        ``unseen="mark"`` it becomes -1 and the result is ``(codes, unseen_labels)``
        (regression: ``(values, [])``).
        """
        import pandas as pd  # local: workers' jobs get arrays, not tables

        if unseen not in ("error", "mark"):
            raise ValueError(f"unseen must be 'error' or 'mark' (got {unseen!r})")
        for target in self.targets:
            empty = frame[target].isna()
            if empty.any():
                raise NnfitError(f"{source}: target {target!r}, line "
                                 f"{file_line(frame, empty.idxmax())}: empty cell")
        new_labels: list[str] = []
        if self.task == "classification":
            assert self.classes is not None  # fitted with the task: a classification has them
            codes, labels = column_labels(frame[self.targets[0]])
            # -1: a class training never saw
            where = pd.Index(self.classes).get_indexer(pd.Index(labels))
            y = where[codes].astype(np.intp, copy=False)
            new = y < 0
            if new.any() and unseen == "error":
                first = np.flatnonzero(new)[0]
                raise NnfitError(f"{source}: target {self.targets[0]!r}, line "
                                 f"{file_line(frame, frame.index[first])}: class "
                                 f"{labels[codes[first]]!r} was not among the training classes "
                                 f"({', '.join(self.classes)})")
            new_labels = sorted_labels(label for label, w in zip(labels, where, strict=False) if w < 0)
        else:
            values = np.column_stack([numeric_column(frame[t], source).to_numpy()
                                      for t in self.targets])
            center, scale = np.asarray(self.target_scale).T
            y = (values - center) / scale
        return (y, new_labels) if unseen == "mark" else y

    def apply_missing(self, frame, source: str, with_targets: bool = True):
        """New rows under the training's ``missing`` policy: ``(frame, n_dropped)``.

        ``drop``: rows with an empty feature cell go, and rows with an empty target
        cell when ``with_targets`` and the targets are in ``frame``. ``mean``: only
        those empty-target rows go, as in training (``transform`` fills features).
        ``error``: the first empty cell in file order is an error. Pass
        ``with_targets=False`` for ``predict``, whose target column, if present, may
        be empty on purpose.
        """
        targets = [t for t in self.targets if t in frame.columns] if with_targets else []
        if self.missing == "error":
            message = empty_cells_message(frame, self.features + targets, source,
                                          "this model was trained with data.missing: error")
            if message:
                raise NnfitError(message)
            return frame, 0
        columns = (self.features if self.missing == "drop" else []) + targets
        if not columns:
            return frame, 0
        empty = frame[columns].isna().any(axis=1)
        dropped = int(empty.sum())
        if dropped and dropped == len(frame):
            raise NnfitError(f"{source}: no rows left after dropping rows with empty cells")
        return (frame[~empty], dropped) if dropped else (frame, 0)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Preprocessor:
        """Read back ``to_dict()``; ``ValueError`` for quantiles that cannot be used."""
        prep = cls(**data)
        if not isinstance(prep.quantiles, dict):
            raise ValueError("preprocessing.quantiles: must be a mapping of column to quantiles")
        numeric = [col for col in prep.features if col not in prep.categorical]
        for col in prep.quantiles:
            if col not in numeric:
                raise ValueError(f"preprocessing.quantiles: {col!r} is not a numeric feature")
        prep.quantiles = {col: check_quantiles(quantiles, f"preprocessing.quantiles[{col!r}]")
                          for col, quantiles in prep.quantiles.items()}
        if prep.scale == "quantile":
            for col in numeric:
                if col not in prep.quantiles:
                    raise ValueError(f"preprocessing.quantiles: none for column {col!r}")
        return prep


def _no_fill(col: str, series, source: str) -> None:
    """Raise for the first empty cell of ``series``, if any: its column has no fill value."""
    empty = np.flatnonzero(series.isna().to_numpy())
    if empty.size == 0:
        return
    row = series.index[empty[0]]
    raise NnfitError(f"{source}: column {col!r}, line {file_line(series, row)}: empty cell, "
                     f"and this model has no fill value (train with data.missing: mean to get one)")


def fit_preprocessor(train, *, task: str, targets: list[str], features: list[str],
                     classes: list[str] | None, scale: str, missing: str, scale_target: bool,
                     source: str, reading: dict | None = None,
                     rows: np.ndarray | None = None) -> Preprocessor:
    """Learn categories, fill values and scaling statistics from the training rows.

    ``train`` holds them, or ``rows`` (int positions) picks them out of it, a column
    at a time. ``missing`` and ``reading`` (see
    :func:`nnfit.data.table.reading_options`) are stored as they are, for ``eval``
    and ``predict``.
    """
    prep = Preprocessor(task=task, targets=targets, features=features, classes=classes, scale=scale,
                        missing=missing, reading=dict(reading or READING_DEFAULTS))

    def column(name):
        return train[name] if rows is None else train[name].iloc[rows]

    for col in features:
        series = column(col)
        text = text_labels(series)
        if text is None:
            values = numeric_column(series, source)
            if missing == "mean":
                if values.isna().all():
                    _nothing_to_fill(col, source)
                prep.fill[col] = float(values.mean())
                values = values.fillna(prep.fill[col])
            if scale == "quantile":
                prep.quantiles[col] = fit_quantiles(values.to_numpy())
                prep.numeric[col] = [0.0, 1.0]  # the quantile map is the whole scaling
            else:
                prep.numeric[col] = center_scale(values.to_numpy(), scale, col, source)
        else:
            codes, labels = text
            if missing == "mean":  # the most frequent label, the first in order of a tie
                if not labels:
                    _nothing_to_fill(col, source)
                counts = np.bincount(codes[codes >= 0], minlength=len(labels))
                prep.fill[col] = min(labels[i] for i in np.flatnonzero(counts == counts.max()))
            prep.categorical[col] = sorted(labels)
    if task == "regression":
        prep.target_scale = [
            center_scale(numeric_column(column(t), source).to_numpy(),
                          "standard" if scale_target else "none", t, source)
            for t in targets]
    return prep


def _nothing_to_fill(col: str, source: str) -> None:
    raise NnfitError(f"{source}: column {col!r} has no values in the training rows, so it has no "
                     f"mean to fill with; leave it out (data.exclude) or set data.missing: drop")

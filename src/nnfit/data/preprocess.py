"""Preprocessor: columns -> model inputs and targets, fitted on the training rows only.

Numeric features are scaled (standard, min-max, or a quantile transform to a
normal distribution: see :mod:`nnfit.data.quantile`; statistics from the training
split); text features are one-hot encoded with the categories seen in training
(a category never seen becomes an all-zero row, and is counted); empty cells are
filled with the training mean (numeric) or most frequent value (text) when
``missing: mean``. Classification targets become class indices; regression
targets are standardized for training and mapped back for metrics.

It also keeps what ``eval`` and ``predict`` need to treat new files as training did:
the missing-value policy (:meth:`Preprocessor.apply_missing`) and the reading options
(``reading``, for :func:`nnfit.data.table.read_table`).

A fitted Preprocessor is plain data: ``to_dict()`` is JSON, ``from_dict`` reads it back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import NnfitError
from .quantile import check_quantiles, fit_quantiles, to_normal
from .table import READING_DEFAULTS


def label_text(value) -> str:
    """A class label as text: ``1.0`` and ``1`` are both ``"1"``, so CSVs agree with each other."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    return str(value)


def sorted_labels(labels) -> list[str]:
    """Distinct labels, in numeric order when they are all numbers, else alphabetical."""
    unique = sorted({str(label) for label in labels})
    try:
        return sorted(unique, key=float)
    except ValueError:
        return unique


def numeric_column(series, source: str):
    """The column as floats; text where a number belongs is an error naming the line."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series):  # bool included
        return series.astype(float)
    values = pd.to_numeric(series, errors="coerce")
    bad = values.isna() & series.notna()
    if bad.any():
        row = bad.idxmax()
        raise NnfitError(f"{source}: column {series.name!r}, line {row + 2}: "
                         f"{series[row]!r} is not a number")
    return values.astype(float)


def looks_numeric(series) -> bool:
    """Numbers, or text of which at least half the filled cells are numbers (a stray typo)."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series):  # bool included
        return True
    filled = series.dropna()
    return len(filled) > 0 and pd.to_numeric(filled, errors="coerce").notna().mean() >= 0.5


@dataclass
class Preprocessor:
    """The fitted transformation, as plain data."""

    task: str
    targets: list[str]
    features: list[str]
    numeric: dict[str, list[float]] = field(default_factory=dict)  # column -> [center, scale]
    quantiles: dict[str, list[float]] = field(default_factory=dict)  # scale: quantile: column -> quantiles
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

    # -- transform ----------------------------------------------------------------
    def transform(self, frame, source: str) -> tuple[np.ndarray, dict[str, int]]:
        """``X (n_rows, n_inputs)`` float64, and ``{column: count}`` of unseen categories."""
        import pandas as pd

        blocks, unseen = [], {}
        for col in self.features:
            series = frame[col]
            if col in self.fill:
                series = series.fillna(self.fill[col])
            if col in self.categorical:
                cats = self.categorical[col]
                text = series.map(label_text, na_action="ignore")
                codes = pd.Index(cats).get_indexer(text)  # -1: unseen or empty
                known = codes >= 0
                if (~known).any():
                    unseen[col] = int((~known).sum())
                block = np.zeros((len(frame), len(cats)))
                block[np.flatnonzero(known), codes[known]] = 1.0
                blocks.append(block)
            else:
                values = numeric_column(series, source).to_numpy()
                if np.isnan(values).any():
                    row = frame.index[np.flatnonzero(np.isnan(values))[0]]
                    raise NnfitError(f"{source}: column {col!r}, line {row + 2}: empty cell, and "
                                     f"this model has no fill value (train with data.missing: "
                                     f"mean to get one)")
                if col in self.quantiles:  # then center, scale = 0, 1
                    values = to_normal(values, self.quantiles[col])
                center, scale = self.numeric[col]
                blocks.append(((values - center) / scale)[:, None])
        X = np.hstack(blocks) if blocks else np.zeros((len(frame), 0))
        return X, unseen

    def encode_targets(self, frame, source: str, unseen: str = "error"):
        """Class indices ``(n,)``, or standardized values ``(n, k)`` for regression.

        A class not among the training classes is an error naming its line; with
        ``unseen="mark"`` it becomes -1 and the result is ``(codes, unseen_labels)``
        (regression: ``(values, [])``).
        """
        import pandas as pd

        if unseen not in ("error", "mark"):
            raise ValueError(f"unseen must be 'error' or 'mark' (got {unseen!r})")
        for target in self.targets:
            empty = frame[target].isna()
            if empty.any():
                raise NnfitError(f"{source}: target {target!r}, line {empty.idxmax() + 2}: "
                                 f"empty cell")
        new_labels: list[str] = []
        if self.task == "classification":
            text = frame[self.targets[0]].map(label_text)
            y = pd.Index(self.classes).get_indexer(text)  # -1: a class training never saw
            new = y < 0
            if new.any() and unseen == "error":
                first = np.flatnonzero(new)[0]
                raise NnfitError(f"{source}: target {self.targets[0]!r}, line "
                                 f"{frame.index[first] + 2}: class {text.iloc[first]!r} was not "
                                 f"among the training classes ({', '.join(self.classes)})")
            new_labels = sorted_labels(text[new])
            y = y.astype(np.intp, copy=False)
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
        from .checks import empty_cells_message

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
    def from_dict(cls, data: dict) -> "Preprocessor":
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


def fit_preprocessor(train, *, task: str, targets: list[str], features: list[str],
                     classes: list[str] | None, scale: str, missing: str, scale_target: bool,
                     source: str, reading: dict | None = None) -> Preprocessor:
    """Learn categories, fill values and scaling statistics from the training rows.

    ``missing`` and ``reading`` (see :func:`nnfit.data.table.reading_options`) are
    stored as they are, for ``eval`` and ``predict``.
    """
    prep = Preprocessor(task=task, targets=targets, features=features, classes=classes, scale=scale,
                        missing=missing, reading=dict(reading or READING_DEFAULTS))
    for col in features:
        series = train[col]
        if looks_numeric(series):
            values = numeric_column(series, source)
            if missing == "mean":
                prep.fill[col] = float(values.mean())
                values = values.fillna(prep.fill[col])
            if scale == "quantile":
                prep.quantiles[col] = fit_quantiles(values.to_numpy())
                prep.numeric[col] = [0.0, 1.0]  # the quantile map is the whole scaling
            else:
                prep.numeric[col] = _center_scale(values.to_numpy(), scale)
        else:
            text = series.map(label_text, na_action="ignore")
            if missing == "mean":
                prep.fill[col] = str(text.mode().iloc[0])
                text = text.fillna(prep.fill[col])
            prep.categorical[col] = sorted(text.dropna().unique().tolist())
    if task == "regression":
        prep.target_scale = [
            _center_scale(numeric_column(train[t], source).to_numpy(), "standard" if scale_target else "none")
            for t in targets]
    return prep


def _center_scale(values: np.ndarray, how: str) -> list[float]:
    if how == "standard":
        center, scale = float(np.mean(values)), float(np.std(values))
    elif how == "minmax":
        center, scale = float(np.min(values)), float(np.max(values) - np.min(values))
    else:
        center, scale = 0.0, 1.0
    return [center, scale if scale > 0 else 1.0]  # a constant column is left unscaled

"""Preprocessor: columns -> model inputs and targets, fitted on the training rows only.

Numeric features are scaled (standard or min-max, statistics from the training
split); text features are one-hot encoded with the categories seen in training
(a category never seen becomes an all-zero row, and is counted); empty cells are
filled with the training mean (numeric) or most frequent value (text) when
``missing: mean``. Classification targets become class indices; regression
targets are standardized for training and mapped back for metrics.

A fitted Preprocessor is plain data: ``to_dict()`` is JSON, ``from_dict`` reads it back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import NnfitError


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
    categorical: dict[str, list[str]] = field(default_factory=dict)  # column -> categories
    fill: dict[str, float | str] = field(default_factory=dict)  # column -> value for empty cells
    classes: list[str] | None = None
    target_scale: list[list[float]] | None = None  # per target: [center, scale]
    scale: str = "standard"

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
                center, scale = self.numeric[col]
                blocks.append(((values - center) / scale)[:, None])
        X = np.hstack(blocks) if blocks else np.zeros((len(frame), 0))
        return X, unseen

    def encode_targets(self, frame, source: str) -> np.ndarray:
        """Class indices ``(n,)``, or standardized values ``(n, k)`` for regression."""
        for target in self.targets:
            empty = frame[target].isna()
            if empty.any():
                raise NnfitError(f"{source}: target {target!r}, line {empty.idxmax() + 2}: "
                                 f"empty cell")
        if self.task == "classification":
            text = frame[self.targets[0]].map(label_text)
            index = {label: i for i, label in enumerate(self.classes)}
            codes = text.map(index)
            if codes.isna().any():
                row = codes.isna().idxmax()
                raise NnfitError(f"{source}: target {self.targets[0]!r}, line {row + 2}: class "
                                 f"{text[row]!r} was not among the training classes "
                                 f"({', '.join(self.classes)})")
            return codes.to_numpy(dtype=np.intp)
        values = np.column_stack([numeric_column(frame[t], source).to_numpy() for t in self.targets])
        center, scale = np.asarray(self.target_scale).T
        return (values - center) / scale

    def decode_values(self, scaled: np.ndarray) -> np.ndarray:
        """Regression outputs back in the target's units."""
        center, scale = np.asarray(self.target_scale).T
        return scaled * scale + center

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Preprocessor":
        return cls(**data)


def fit_preprocessor(train, *, task: str, targets: list[str], features: list[str],
                     classes: list[str] | None, scale: str, missing: str, scale_target: bool,
                     source: str) -> Preprocessor:
    """Learn categories, fill values and scaling statistics from the training rows."""
    prep = Preprocessor(task=task, targets=targets, features=features, classes=classes, scale=scale)
    for col in features:
        series = train[col]
        if looks_numeric(series):
            values = numeric_column(series, source)
            if missing == "mean":
                prep.fill[col] = float(values.mean())
                values = values.fillna(prep.fill[col])
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

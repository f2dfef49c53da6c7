"""From a CSV and the ``data:`` config to split, preprocessed arrays, one step per function.

:func:`read_dataset` reads and cleans the CSV and decides the task (a
:class:`Dataset`, before any split); :func:`default_split` gives the seeded train /
val / test rows; :func:`fit_on_train` and :func:`transform_splits` fit the
preprocessing on the training rows and make every split's arrays (:class:`Splits`).
``nnfit.workflows.prepared`` runs them in that order, so the path from file to
arrays reads as one straight line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import NnfitError, Note
from ..nn.checks import all_finite
from .checks import empty_cells_message
from .labels import column_labels, sorted_labels, text_array
from .number_text import numbers_as_text
from .preprocess import Preprocessor, fit_preprocessor, looks_numeric
from .seeds import SPLIT_STREAM, stream
from .split import split_indices
from .table import exclude_columns, file_line, read_table, reading_options, require_columns

if TYPE_CHECKING:
    import pandas as pd

    from ..config.schema import Config

MAX_AUTO_CLASSES = 10  # integer targets with at most this many values count as classes


@dataclass
class Splits:
    """Model-ready arrays per split (``train``, ``val``, ``test``; empty splits are left out)."""

    X: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    rows: dict[str, np.ndarray] = field(default_factory=dict)  # each split's 0-based CSV data rows


def select_columns(frame, data, source: str) -> tuple[pd.DataFrame, list[str]]:
    """The frame cut to ``features + targets`` and the feature names (default: every other column)."""
    targets = data.targets
    require_columns(frame, targets, source, "target")
    features = data.features if data.features is not None else [
        c for c in frame.columns if c not in targets]
    require_columns(frame, features, source, "feature")
    clash = sorted(set(features) & set(targets))
    if clash:
        raise NnfitError(f"{source}: {', '.join(clash)} cannot be both a feature and the target")
    if not features:
        raise NnfitError(f"{source}: no feature columns left besides the target")
    used = set(features + targets)
    return frame[[c for c in frame.columns if c in used]], features  # file order, for messages


def text_as_categories(frame, columns: list[str]):
    """``frame`` with its text columns among ``columns`` as pandas Categoricals.

    Each text is hashed once here; the steps after it (empty cells, the task, labels,
    fitting and transforming every split) then read small integer codes. Only
    columns of plain text change: a cell reads the same label either way.
    """
    import pandas as pd  # local: workers' jobs get arrays, not tables


    text = [c for c in columns if frame[c].dtype.kind == "O"
            and not isinstance(frame[c].dtype, pd.CategoricalDtype)
            and pd.api.types.infer_dtype(frame[c], skipna=True) == "string"]
    if not text:
        return frame
    frame = frame.copy(deep=False)  # the caller's frame keeps its columns
    for col in text:
        codes, uniques = pd.factorize(frame[col])  # categories in order of appearance: no sort
        frame[col] = pd.Categorical.from_codes(codes, categories=uniques)
    return frame


def class_labels(frame, data, task: str, source: str, notes: list[Note]):
    """``(labels (n,), classes)`` as text for classification, ``(None, None)`` for regression."""
    if task != "classification":
        return None, None
    codes, distinct = column_labels(frame[data.targets[0]])
    return text_array(codes, distinct), _check_classes(sorted_labels(distinct), data.targets[0],
                                                       source, notes)


def split_rows(n_rows: int, data, labels, rng: np.random.Generator, source: str) -> dict:
    """Row positions per split, stratified by ``labels`` when given."""
    return split_indices(n_rows, data.test_fraction, data.val_fraction, rng, labels,
                         where=f"{source}: ")


def fit_on_train(frame, rows: dict, features: list[str], task: str, classes, labels, data,
                 source: str) -> Preprocessor:
    """The Preprocessor fitted on the training rows."""
    if classes is not None:
        missing_in_train = sorted(set(classes) - set(np.unique(labels[rows["train"]]).tolist()))
        if missing_in_train:
            raise NnfitError(f"{source}: class {missing_in_train[0]!r} has too few rows to appear "
                             f"in the training split; add rows or drop that class")
    return fit_preprocessor(frame, rows=rows["train"], task=task, targets=data.targets,
                            features=features, classes=classes, scale=data.scale,
                            missing=data.missing, scale_target=data.scale_target, source=source,
                            reading=reading_options(data))


def transform_splits(prep: Preprocessor, frame, rows: dict, source: str, notes: list[Note],
                     dtype=np.float64) -> Splits:
    """Inputs (``dtype``) and encoded targets for every non-empty split.

    Each split's inputs are one ``(n_split, n_inputs)`` array written straight from
    ``frame``'s columns: no copy of the frame's rows, no float64 matrix cast afterwards.
    """
    X, y, csv_rows = {}, {}, {}
    targets = frame[prep.targets]
    for name in ("train", "val", "test"):
        if rows[name].size == 0:
            continue
        csv_rows[name] = frame.index.to_numpy()[rows[name]]
        X[name], unseen = prep.transform(frame, source, rows=rows[name], dtype=dtype)
        y[name] = prep.encode_targets(targets.iloc[rows[name]], source)
        for col, count in unseen.items():
            notes.append(Note(f"{name}: {count} value(s) of {col!r} never seen in training "
                              f"(encoded as all-zero)"))
    return Splits(X, y, csv_rows)


def handle_missing(frame, features: list[str], data, source: str, notes: list[Note]):
    """Apply ``data.missing`` to empty cells: refuse, drop rows, or note the fill to come."""
    targets, policy = data.targets, data.missing
    holes = frame.isna()
    empty = [c for c, whole in holes.all().items() if whole]
    if empty:
        raise NnfitError(f"{source}: column{'s' if len(empty) > 1 else ''} "
                         f"{', '.join(map(repr, empty))} {'are' if len(empty) > 1 else 'is'} "
                         f"entirely empty; drop {'them' if len(empty) > 1 else 'it'} from features")
    if not holes.any().any():
        return frame
    if policy == "error":
        message = empty_cells_message(frame, features + targets, source)
        assert message is not None  # the holes are in these columns: the frame has no other
        raise NnfitError(message)
    target_holes = holes[targets].any(axis=1)
    drop = holes.any(axis=1) if policy == "drop" else target_holes
    if drop.any():
        why = "empty cells" if policy == "drop" else "an empty target"
        notes.append(Note(f"dropped {int(drop.sum())} of {len(frame)} rows with {why}"))
        frame = frame[~drop]
    if policy == "mean" and holes[features].any().any():
        notes.append(Note(f"filled {int(holes[features][~drop].sum().sum())} empty feature cells "
                          f"with the training mean (text: most frequent value)"))
    if frame.empty:
        raise NnfitError(f"{source}: no rows left after dropping rows with empty cells")
    return frame


def decide_task(frame, data, source: str, notes: list[Note]) -> tuple[str, str | None]:
    """``(classification or regression, why)``: what ``auto`` decided and why (a note says
    it too), or the task ``data.task`` names and None."""
    targets, task = data.targets, data.task
    why = None
    if task == "auto":
        if len(targets) > 1:
            task, why = "regression", f"{len(targets)} target columns"
        else:
            column = frame[targets[0]]
            n_distinct = column.nunique()
            if not looks_numeric(column):
                _no_numbers_as_classes(frame, targets[0], source)
                task, why = "classification", f"{targets[0]!r} holds text"
            elif n_distinct == 2:
                task, why = "classification", f"{targets[0]!r} has 2 distinct values"
            elif n_distinct <= MAX_AUTO_CLASSES and _integer_valued(column):
                task, why = "classification", f"{targets[0]!r} has {n_distinct} integer values"
            else:
                task, why = ("regression",
                             f"{targets[0]!r} is numeric with {n_distinct} distinct values")
        notes.append(Note(f"task: {task} ({why}; set data.task to override)", key="task"))
    if task == "classification" and len(targets) > 1:
        raise NnfitError(f"{source}: classification takes one target column, got {len(targets)}")
    return task, why


def _no_numbers_as_classes(frame, target: str, source: str) -> None:
    """Refuse a text target that holds numbers (``1,5``, ``13%``): ``task: auto`` would make
    classes of them (a regression target read with the wrong ``data.decimal``)."""
    for found in numbers_as_text(frame, [target]):
        raise NnfitError(f"{source}: target {target!r} holds numbers written as text (e.g. "
                         f"{found.example!r}), which task auto would make classes of; to read "
                         f"them as numbers, {found.remedy()}; to keep them as classes, set "
                         f"data.task: classification")


def _check_classes(classes, target, source, notes) -> list[str]:
    if len(classes) < 2:
        raise NnfitError(f"{source}: target {target!r} has a single class ({classes[0]!r}); "
                         f"classification needs at least two")
    notes.append(Note(f"classes: {', '.join(classes)}"))
    return classes


def _integer_valued(column) -> bool:
    if column.dtype.kind in "iub":
        return True
    return column.dtype.kind == "f" and bool((column.dropna() % 1 == 0).all())


@dataclass
class Dataset:
    """The data side before any split: the CSV read and cleaned, the task decided.

    ``workflows.prepared.prepare`` is :func:`read_dataset`, then :func:`default_split`,
    then ``prepare_split`` in one go; a command that splits the same rows many ways
    (``train --cv``) reads once and calls ``prepare_split`` per split.
    """

    config: Config
    source: str
    frame: pd.DataFrame  # the used columns (text as categoricals), rows left after the
    # missing-cell policy
    features: list[str]
    kind: str
    labels: np.ndarray | None  # (n_rows,) class labels as text; None for regression
    classes: list[str] | None
    split_seed: int
    notes: list[Note]
    task_reason: str | None = None  # why data.task: auto decided ``kind`` (None: it was set)

    @property
    def n_rows(self) -> int:
        return len(self.frame)


def read_dataset(config: Config, csv_path: str | Path) -> Dataset:
    """The CSV read for ``config``, before any split: read, select (text columns as
    categoricals), missing cells, task, classes."""
    data, source = config.data, str(csv_path)
    frame = exclude_columns(read_table(csv_path, data), data.exclude, source)
    frame, features = select_columns(frame, data, source)
    frame = text_as_categories(frame, list(frame.columns))
    notes: list[Note] = []
    frame = handle_missing(frame, features, data, source, notes)
    kind, why = decide_task(frame, data, source, notes)
    labels, classes = class_labels(frame, data, kind, source, notes)
    split_seed = config.training.seed if data.split_seed is None else data.split_seed
    return Dataset(config, source, frame, features, kind, labels, classes, split_seed, notes, why)


def default_split(dataset: Dataset) -> dict[str, np.ndarray]:
    """The train / val / test row positions of this config's split (seeded)."""
    return split_rows(dataset.n_rows, dataset.config.data, dataset.labels,
                      stream(dataset.split_seed, SPLIT_STREAM), dataset.source)


def check_finite_splits(splits, prep, frame, source: str) -> None:
    """NnfitError when a split's inputs or targets are not all finite: an inf in the CSV
    (``inf``, or a number too large for float64), named by column and line."""
    for name, X in splits.X.items():
        for array, columns in ((X, prep.input_names), (splits.y[name], prep.targets)):
            if all_finite(array):
                continue
            bad = ~np.isfinite(array.reshape(array.shape[0], -1))
            column = columns[int(np.argmax(bad.any(axis=0)))]  # one-hot columns are 0 or 1
            _raise_infinite(column, frame, source)


def _raise_infinite(column: str, frame, source: str) -> None:

    import pandas as pd  # local: workers' jobs get arrays, not tables

    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    infinite = np.flatnonzero(np.isinf(values))
    if infinite.size:
        row = frame.index[infinite[0]]
        raise NnfitError(f"{source}: column {column!r}, line {file_line(frame, row)}: "
                         f"{frame[column][row]} is "
                         f"not a finite number ({infinite.size} such cell"
                         f"{'s' if infinite.size > 1 else ''}); remove the rows, or empty the "
                         f"cells and set data.missing")
    raise NnfitError(f"{source}: column {column!r}: its numbers are too large to scale in float64; "
                     f"rescale the column")

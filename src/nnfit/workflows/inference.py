"""``nnfit eval``, ``nnfit predict`` and ``nnfit show``: everything that starts from a saved run.

The model is loaded with :func:`nnfit.store.model_file.load_model`, which checks every
byte it uses against one schema before anything is built (no pickle, no symlinks, sizes
before allocation);
the stored preprocessing is applied exactly as in training, so the same rows give
bit-identical outputs. Categories never seen in training become all-zero one-hot
rows, and empty cells follow the training's ``data.missing`` policy (``drop``
skips the rows, ``mean`` fills them); both come back as warnings. In ``eval``, a
class never seen in training counts as a wrong prediction, with a warning.
``predict`` reads its CSV a chunk at a time and hands its table on a piece at a time
(:class:`Predictions`): its memory is bounded by a chunk, its outputs are a whole read's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..config.labels import label_text
from ..data.preprocess import Preprocessor
from ..data.table import read_table, read_table_chunks, require_columns
from ..errors import NnfitError, Note, warning
from ..evaluation.task import Classification, Task, make_task
from ..runtime.memory import PREDICT_CHUNK  # rows per forward pass: bounded scratch memory
from ..runtime.threads import blas_threads, choose_threads
from ..store.metrics import read_metrics
from ..store.model_file import load_model

if TYPE_CHECKING:
    import pandas as pd

    from ..nn.ensemble import Ensemble
    from ..nn.network import Network


@dataclass
class Inputs:
    """A saved run's model and a CSV's rows, transformed as in training."""

    network: Network | Ensemble
    prep: Preprocessor
    task: Task
    frame: pd.DataFrame  # the rows kept (after data.missing)
    X: np.ndarray  # (n_rows, n_inputs)
    warnings: list[Note]


def load_inputs(run_dir, csv_path, need_targets: bool, keep: tuple[str, ...] = ()) -> Inputs:
    """The model of ``run_dir`` and the rows of ``csv_path`` it will see."""
    network, prep, meta = load_model(run_dir)
    frame, X, warnings = read_rows(prep, csv_path, need_targets, keep)
    task = make_task(prep, meta["loss"], meta.get("class_weight"), meta.get("label_smoothing", 0.0))
    return Inputs(network, prep, task, frame, X, warnings)


def read_rows(prep: Preprocessor, csv_path, need_targets: bool, keep: tuple[str, ...] = ()):
    """The whole CSV read and transformed as ``prep`` says: ``(frame, X, warnings)``, the
    frame holding the rows kept (``data.missing``) and ``X`` their model inputs."""
    frame = read_table(csv_path, prep.reading)
    source = str(csv_path)
    require_columns(frame, prep.features, source, "feature")
    if need_targets:
        require_columns(frame, prep.targets, source, "target")
    require_columns(frame, list(keep), source, "id")
    n_rows = len(frame)
    frame, dropped = prep.apply_missing(frame, source, with_targets=need_targets)
    X, unseen = prep.transform(frame, source)
    return frame, X, read_warnings(prep, source, n_rows, dropped, unseen)


def read_warnings(prep: Preprocessor, source: str, n_rows: int, dropped: int,
                  unseen: dict[str, int]) -> list[Note]:
    """What reading a CSV for a saved model noticed: rows skipped for their empty cells, and
    category values the training never saw (in the model's feature order)."""
    notes = [warning(f"{source}: skipped {dropped} of {n_rows} rows with empty cells (the "
                     f"model was trained with data.missing: {prep.missing})")] if dropped else []
    return notes + [warning(f"{source}: {unseen[col]} value(s) of {col!r} never seen in "
                            f"training (encoded as all-zero)")
                    for col in prep.features if col in unseen]


def _outputs(network, X, threads: int | None = None):
    """``network.predict(X)`` with ``threads`` BLAS threads, or as many as pay for ``X``
    (see ``nnfit.runtime.threads``)."""
    with blas_threads(threads or _threads(network, len(X))):
        return network.predict(X, batch_size=PREDICT_CHUNK)


def _threads(network, n_rows: int) -> int:
    """The BLAS threads that pay for predicting ``n_rows`` rows (at most a chunk's worth)."""
    return choose_threads(None, network.macs_per_row() * min(n_rows, PREDICT_CHUNK))[0]


@dataclass
class Evaluation:
    """``nnfit eval``'s numbers (what ``--json`` prints) and its warnings."""

    scores: dict
    warnings: list[Note]


def evaluate(run_dir: str | Path, csv_path: str | Path) -> Evaluation:
    """Loss and the task's metrics of a saved model on a CSV that has the target column.

    ``scores`` holds ``n_rows``, ``loss`` and the task's metrics; classification adds
    ``classes``, ``per_class`` (precision, recall, f1, support) and ``confusion_matrix``.
    Rows whose class the model never saw count as wrong in ``accuracy`` and
    ``f1_macro`` (each such label is a class with F1 = 0); ``loss``, ``per_class``
    and the confusion matrix cover the rows of known classes (``unseen_rows`` says
    how many were left out).
    """
    inputs = load_inputs(run_dir, csv_path, True)
    prep, task, frame, source = inputs.prep, inputs.task, inputs.frame, str(csv_path)
    y, new_labels = prep.encode_targets(frame, source, unseen="mark")
    unseen = None
    if new_labels:
        assert isinstance(task, Classification)  # the one task with labels
        unseen = frame[prep.targets[0]].map(label_text).to_numpy(dtype=str)[y < 0]
        if len(unseen) == len(y):
            raise NnfitError(f"{source}: no row has a class the model was trained on "
                             f"({', '.join(task.classes)})")
        inputs.warnings.append(warning(
            f"{source}: {len(unseen)} row(s) have a class never seen in training "
            f"({', '.join(map(repr, new_labels))}): counted as wrong; loss and the per-class "
            f"table leave them out"))
    scores = {"n_rows": len(frame),
              **task.evaluate(_outputs(inputs.network, inputs.X), y, unseen)}
    return Evaluation(scores, inputs.warnings)


READ_CELLS = 1 << 21  # model inputs per chunk of a streamed CSV: 16 MB of float64 rows
CHUNK_ROW_BOUNDS = (256, 65_536)  # the fewest and the most rows per chunk


def chunk_rows(n_inputs: int) -> int:
    """Rows per chunk when ``predict`` streams a CSV of ``n_inputs`` model inputs a row."""
    low, high = CHUNK_ROW_BOUNDS
    return int(min(high, max(low, READ_CELLS // max(n_inputs, 1))))


def predict(run_dir: str | Path, csv_path: str | Path, id_column: str | None = None,
            rows_per_chunk: int | None = None) -> Predictions:
    """Predictions for a CSV, in its row order, a piece at a time (the target column may be
    absent).

    Classification: ``predicted_<target>`` and ``probability_<class>`` per class;
    regression: ``predicted_<target>`` per target, in the target's units. An
    ``id_column`` is copied through first; one named as a prediction column is refused
    here, before the CSV is read. The CSV is read ``rows_per_chunk`` rows at a time
    (default :func:`chunk_rows`), so memory stays bounded by a chunk whatever the file's
    size.
    """
    network, prep, meta = load_model(run_dir)
    task = make_task(prep, meta["loss"], meta.get("class_weight"), meta.get("label_smoothing", 0.0))
    if id_column is not None and id_column in task.prediction_names():
        raise NnfitError(f"--id {id_column}: clashes with the prediction column {id_column} "
                         f"that predict writes; rename the column in the CSV, or copy another")
    return Predictions(network, prep, task, csv_path, id_column,
                       rows_per_chunk or chunk_rows(prep.n_inputs))


class Predictions:
    """``nnfit predict``'s table as DataFrames of consecutive rows (iterate once).

    The CSV goes through the path ``eval`` takes (:func:`nnfit.data.table.read_table_chunks`,
    ``apply_missing``, ``transform``) a chunk at a time, each chunk's index continuing the
    file's rows; the network sees the batches a whole file gives it, so every output is
    bit-identical. A problem found in a chunk is raised as a whole read words it (the
    first problem in a whole read's order, counts over the whole file): the file is then
    read whole again to find it, which only a bad file costs. ``n_rows`` and ``warnings``
    (rows skipped, categories never seen) are complete once the iteration ends.
    """

    def __init__(self, network, prep: Preprocessor, task: Task, csv_path, id_column, rows: int):
        self.network, self.prep, self.task = network, prep, task
        self.csv_path, self.id_column, self.rows = csv_path, id_column, rows
        self.n_rows = 0
        self.warnings: list[Note] = []

    def __iter__(self) -> Iterator[pd.DataFrame]:
        prep, source = self.prep, str(self.csv_path)
        batches = _Batches(self.network)
        counted = [0, 0]  # rows read, rows dropped
        unseen: dict[str, int] = {}
        try:
            for frame in self._kept(counted):
                X, new = prep.transform(frame, source)
                for col, count in new.items():
                    unseen[col] = unseen.get(col, 0) + count
                ids = frame[self.id_column].to_numpy() if self.id_column else None
                for logits, id_values in batches.add(X, ids):
                    yield self._table(logits, id_values)
        except NnfitError as exc:
            raise self._as_a_whole_read(exc) from None
        for logits, id_values in batches.rest():
            yield self._table(logits, id_values)
        self.warnings += read_warnings(prep, source, counted[0], counted[1], unseen)

    def _kept(self, counted: list[int]) -> Iterator[pd.DataFrame]:
        """The CSV's chunks under the model's ``data.missing``, each with rows left;
        ``counted`` becomes ``[rows read, rows dropped]``."""
        prep, source = self.prep, str(self.csv_path)
        emptied = None  # the last chunk that lost every row, to raise for a file that did
        for frame in read_table_chunks(self.csv_path, prep.reading, self.rows):
            if counted[0] == 0:
                require_columns(frame, prep.features, source, "feature")
                require_columns(frame, [self.id_column] if self.id_column else [], source, "id")
            counted[0] += len(frame)
            if prep.missing == "drop" and frame[prep.features].isna().any(axis=1).all():
                counted[1], emptied = counted[1] + len(frame), frame  # no rows left: not yet
                continue
            frame, n_dropped = prep.apply_missing(frame, source, with_targets=False)
            counted[1] += n_dropped
            yield frame
        if emptied is not None and counted[1] == counted[0]:
            prep.apply_missing(emptied, source, with_targets=False)  # raises: no rows left

    def _as_a_whole_read(self, found: NnfitError) -> NnfitError:
        """The error a whole read of the CSV raises; ``found`` (a chunk's) if that read
        raises none or does not fit in memory."""
        try:
            read_rows(self.prep, self.csv_path, False, (self.id_column,) if self.id_column
                      else ())
        except NnfitError as exc:
            return exc
        except MemoryError:
            pass
        return found

    def _table(self, logits: np.ndarray, id_values) -> pd.DataFrame:
        import pandas as pd  # local: eval and show never build a frame

        columns = {self.id_column: id_values} if self.id_column else {}
        columns.update(self.task.prediction_columns(logits))
        self.n_rows += len(logits)
        return pd.DataFrame(columns)


class _Batches:
    """Rows of X (and their IDs) put through the network in the batches a whole file gets:
    the full ``PREDICT_CHUNK``-row ones as soon as they fill, the last partial one at the
    end, with the BLAS threads the whole file would get."""

    def __init__(self, network):
        self.network = network
        self.X: list[np.ndarray] = []
        self.ids: list[np.ndarray | None] = []
        self.n = 0
        self.threads: int | None = None

    def add(self, X: np.ndarray, ids) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """``(logits, ids)`` of the full batches that ``X`` completes."""
        self.X.append(X)
        self.ids.append(ids)
        self.n += len(X)
        if self.n < PREDICT_CHUNK:
            return
        X_all, ids_all = np.concatenate(self.X), _joined(self.ids)
        cut = self.n - self.n % PREDICT_CHUNK
        self.X, self.ids, self.n = [X_all[cut:]], [None if ids_all is None else ids_all[cut:]], \
            self.n - cut
        yield self._outputs(X_all[:cut]), None if ids_all is None else ids_all[:cut]

    def rest(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        if self.n:
            yield self._outputs(np.concatenate(self.X)), _joined(self.ids)

    def _outputs(self, X: np.ndarray) -> np.ndarray:
        if self.threads is None:  # the first call: PREDICT_CHUNK rows, or the whole file
            self.threads = _threads(self.network, len(X))
        return _outputs(self.network, X, self.threads)


def _joined(parts: list) -> np.ndarray | None:
    """ID arrays as one; of different dtypes, as objects (each value keeps its text)."""
    if parts[0] is None:
        return None
    if len({part.dtype for part in parts}) == 1:
        return np.concatenate(parts)
    return np.concatenate([part.astype(object) for part in parts])


@dataclass
class Shown:
    """What a run holds (``nnfit show``): the model, its data columns, its checked metrics.

    ``metrics`` is the checked ``metrics.json`` (None when absent or unreadable), and
    ``metrics_problem`` the one line saying why it could not be read, or None.
    """

    run_dir: str
    nnfit_version: str
    task: str
    loss: str
    targets: list[str]
    classes: list[str] | None
    features: list[str]
    inputs: list[str]
    layers: list[tuple[str, tuple[int, ...], int]]
    n_params: int
    dtype: str
    members: int
    metrics: dict | None
    metrics_problem: str | None


def show(run_dir: str | Path) -> Shown:
    """What a run holds: architecture, parameter counts, data columns, classes, its metrics."""
    network, prep, meta = load_model(run_dir)
    metrics, problem = read_metrics(run_dir)
    return Shown(str(run_dir), meta["nnfit_version"], prep.task, meta["loss"], prep.targets,
                 prep.classes, prep.features, prep.input_names, network.summary(),
                 int(network.n_params), network.dtype.name, len(network.members), metrics,
                 problem)

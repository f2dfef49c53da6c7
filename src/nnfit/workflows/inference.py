"""``nnfit eval``, ``nnfit predict`` and ``nnfit show``: everything that starts from a saved run.

The model is loaded with :func:`nnfit.store.model_file.load_model`, which checks every
byte it uses against one schema before anything is built (no pickle, no symlinks, sizes
before allocation);
the stored preprocessing is applied exactly as in training, so the same rows give
bit-identical outputs. Categories never seen in training become all-zero one-hot
rows, and empty cells follow the training's ``data.missing`` policy (``drop``
skips the rows, ``mean`` fills them); both come back as warnings. In ``eval``, a
class never seen in training counts as a wrong prediction, with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..config.labels import label_text
from ..data.preprocess import Preprocessor
from ..data.table import read_table, require_columns
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
    frame = read_table(csv_path, prep.reading)
    source = str(csv_path)
    require_columns(frame, prep.features, source, "feature")
    if need_targets:
        require_columns(frame, prep.targets, source, "target")
    require_columns(frame, list(keep), source, "id")
    warnings = []
    n_rows = len(frame)
    frame, dropped = prep.apply_missing(frame, source, with_targets=need_targets)
    if dropped:
        warnings.append(warning(f"{source}: skipped {dropped} of {n_rows} rows with empty cells "
                                f"(the model was trained with data.missing: {prep.missing})"))
    X, unseen = prep.transform(frame, source)
    warnings += [warning(f"{source}: {count} value(s) of {col!r} never seen in training "
                         f"(encoded as all-zero)") for col, count in unseen.items()]
    task = make_task(prep, meta["loss"], meta.get("class_weight"))
    return Inputs(network, prep, task, frame, X, warnings)


def _outputs(network, X):
    """``network.predict(X)`` with as many BLAS threads as pay (see ``nnfit.runtime.threads``)."""
    threads, _ = choose_threads(None, network.macs_per_row() * min(len(X), PREDICT_CHUNK))
    with blas_threads(threads):
        return network.predict(X, batch_size=PREDICT_CHUNK)


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


@dataclass
class Predictions:
    """``nnfit predict``'s table and its warnings."""

    frame: pd.DataFrame
    warnings: list[Note]


def predict(run_dir: str | Path, csv_path: str | Path, id_column: str | None = None
            ) -> Predictions:
    """Predictions as a DataFrame, in the CSV's row order (the target column may be absent).

    Classification: ``predicted_<target>`` and ``probability_<class>`` per class;
    regression: ``predicted_<target>`` per target, in the target's units. An
    ``id_column`` is copied through first.
    """
    import pandas as pd  # local: eval and show never build a frame

    keep = (id_column,) if id_column else ()
    inputs = load_inputs(run_dir, csv_path, False, keep)
    columns = {id_column: inputs.frame[id_column].to_numpy()} if id_column else {}
    columns.update(inputs.task.prediction_columns(_outputs(inputs.network, inputs.X)))
    return Predictions(pd.DataFrame(columns), inputs.warnings)


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

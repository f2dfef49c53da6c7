"""``nnfit eval``, ``nnfit predict`` and ``nnfit show``: everything that starts from a saved run.

The model is loaded with :func:`nnfit.store.load_model`, which checks every byte it uses
against one schema before anything is built (:mod:`nnfit.model_file`: no pickle, no
symlinks, sizes before allocation);
the stored preprocessing is applied exactly as in training, so the same rows give
bit-identical outputs. Categories never seen in training become all-zero one-hot
rows, and empty cells follow the training's ``data.missing`` policy (``drop``
skips the rows, ``mean`` fills them); both come back as warnings. In ``eval``, a
class never seen in training counts as a wrong prediction, with a warning.
"""

from __future__ import annotations

from pathlib import Path

from ..data.preprocess import label_text
from ..errors import NnfitError
from ..runtime.memory import PREDICT_CHUNK  # rows per forward pass: bounded scratch memory
from .train import layer_rows


def _load_inputs(run_dir, csv_path, need_targets: bool, keep: tuple[str, ...] = ()):
    """``(network, prep, task, frame, X, warnings)`` for a saved run and a CSV."""
    from ..data.table import read_table, require_columns
    from ..evaluation.task import make_task
    from ..store.model_file import load_model

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
        warnings.append(f"warning: {source}: skipped {dropped} of {n_rows} rows with empty cells "
                        f"(the model was trained with data.missing: {prep.missing})")
    X, unseen = prep.transform(frame, source)
    warnings += [f"warning: {source}: {count} value(s) of {col!r} never seen in training "
                 f"(encoded as all-zero)" for col, count in unseen.items()]
    return network, prep, make_task(prep, meta["loss"], meta.get("class_weight")), frame, X, warnings


def _outputs(network, X):
    """``network.predict(X)`` with as many BLAS threads as pay (see ``nnfit.threads``)."""
    from ..runtime.threads import blas_threads, choose_threads

    threads, _ = choose_threads(None, network.macs_per_row() * min(len(X), PREDICT_CHUNK))
    with blas_threads(threads):
        return network.predict(X, batch_size=PREDICT_CHUNK)


def evaluate(run_dir: str | Path, csv_path: str | Path) -> dict:
    """Loss and the task's metrics of a saved model on a CSV that has the target column.

    Returns ``{"loss", "n_rows", <metrics>, "warnings"}``; classification adds
    ``classes``, ``per_class`` (precision, recall, f1, support) and ``confusion_matrix``.
    Rows whose class the model never saw count as wrong in ``accuracy`` and
    ``f1_macro`` (each such label is a class with F1 = 0); ``loss``, ``per_class``
    and the confusion matrix cover the rows of known classes (``unseen_rows`` says
    how many were left out).
    """
    network, prep, task, frame, X, warnings = _load_inputs(run_dir, csv_path, True)
    source = str(csv_path)
    y, new_labels = prep.encode_targets(frame, source, unseen="mark")
    unseen = None
    if new_labels:
        unseen = frame[prep.targets[0]].map(label_text).to_numpy(dtype=str)[y < 0]
        if len(unseen) == len(y):
            raise NnfitError(f"{source}: no row has a class the model was trained on "
                             f"({', '.join(task.classes)})")
        warnings.append(f"warning: {source}: {len(unseen)} row(s) have a class never seen in "
                        f"training ({', '.join(map(repr, new_labels))}): counted as wrong; "
                        f"loss and the per-class table leave them out")
    result = {"n_rows": len(frame), **task.evaluate(_outputs(network, X), y, unseen)}
    return {**result, "warnings": warnings}


def predict(run_dir: str | Path, csv_path: str | Path, id_column: str | None = None):
    """Predictions as a DataFrame, in the CSV's row order (the target column may be absent).

    Classification: ``predicted_<target>`` and ``probability_<class>`` per class;
    regression: ``predicted_<target>`` per target, in the target's units. An
    ``id_column`` is copied through first. Returns ``(frame, warnings)``.
    """
    import pandas as pd

    keep = (id_column,) if id_column else ()
    network, prep, task, frame, X, warnings = _load_inputs(run_dir, csv_path, False, keep)
    columns = {id_column: frame[id_column].to_numpy()} if id_column else {}
    columns.update(task.prediction_columns(_outputs(network, X)))
    return pd.DataFrame(columns), warnings


def show(run_dir: str | Path) -> dict:
    """What a run holds: architecture, parameter counts, data columns, classes, its metrics.

    ``metrics`` is the checked ``metrics.json`` (None when absent or unreadable), and
    ``metrics_problem`` the one line saying why it could not be read, or None.
    """
    from ..store.metrics import read_metrics
    from ..store.model_file import load_model

    network, prep, meta = load_model(run_dir)
    metrics, problem = read_metrics(run_dir)
    return {
        "run_dir": str(run_dir), "nnfit_version": meta["nnfit_version"],
        "task": prep.task, "loss": meta["loss"], "target": prep.targets, "classes": prep.classes,
        "features": prep.features, "inputs": prep.input_names,
        "layers": layer_rows(network),
        "n_params": int(network.n_params), "dtype": network.dtype.name,
        "members": len(network.members),
        "metrics": metrics, "metrics_problem": problem,
    }

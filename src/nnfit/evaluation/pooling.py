"""One verdict from all cross-validation folds: the folds' evidence pooled into one ``Evidence``.

Every non-test row is held out by exactly one fold, so the folds' per-row val losses
concatenated are every such row once, scored by a model that never trained on it: the
diagnosis's noise tests are then judged on all of them, which is what a small file
needs. See :func:`pooled_evidence` for how the curves and epochs are pooled.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .diagnosis import Evidence


@dataclass
class RunRows:
    """What one run sends back for pooling: its numbers, its curve, its per-row losses.

    A ``--cv`` fold and a learning curve's point are each one; their runs are pooled
    by :func:`pooled_evidence` into the evidence one verdict reads.
    """

    record: dict  # its row of cv.csv / curve.csv, with the losses and baselines pooling reads
    history: dict[str, list[float]]  # train_loss and val_loss per epoch
    scored_epoch: int  # the epoch whose weights were scored (best if restored, else last)
    patience: int | None
    train_rows: np.ndarray  # (n_train,) per-row losses of the scored weights
    val_rows: np.ndarray  # (n_val,)
    rise_rows: np.ndarray | None  # (n_val,) val loss at the peak after the best − at it, per row
    held: dict  # classification: its classes and the val rows' true and predicted classes


def median_epoch(epochs: Sequence[int]) -> int:
    """The median of epoch counts, a half rounded up."""
    return int(math.floor(statistics.median(epochs) + 0.5))


def pooled_evidence(folds: Sequence[RunRows], *, same_rows: bool = False,
                    identifiers: Sequence[str] = (), row_ids: Sequence[str] = (),
                    leaks: Sequence[str] = ()) -> Evidence:
    """One ``Evidence`` from several runs; ``identifiers``, ``row_ids``, ``leaks``: the
    columns the data checks flagged (``workflows.run.audit_columns``).

    ``--cv``'s folds hold out different rows, so their per-row losses are concatenated
    (every non-test row once). A learning curve's repeats at one size are scored on the
    **same** validation rows (``same_rows``): their per-row losses are averaged row by
    row instead, so no row counts twice in a standard error.

    The curves are **aligned at their last epochs** and cut to the shortest: with
    early stopping the folds stop at different epochs, and what the diagnosis asks
    of a curve is about its end (did val rise after its best, by the end; was train
    still falling at the end; was the best epoch in the last window). Cutting every
    curve at the shortest one's length *from the start* would make the shortest
    fold's end everyone's, and folds still improving there would read as "still
    falling at the end". Aligned at the end, each fold keeps its own distance from
    best epoch to end; the pooled best epoch is the folds' median position in that
    frame. Without early stopping (equal lengths) the two cuts are the same.
    """
    n = min(len(f.history["train_loss"]) for f in folds)
    with np.errstate(over="ignore", invalid="ignore"):
        history = {key: np.mean([f.history[key][len(f.history[key]) - n:] for f in folds],
                                 axis=0).tolist() if n else [] for key in ("train_loss", "val_loss")}
    positions = [f.record["best_epoch"] - (len(f.history["train_loss"]) - n) for f in folds]
    best = min(max(median_epoch(positions), 1), n) if any(f.record["best_epoch"] for f in folds) \
        else 0
    reasons = {f.record["stop_reason"] for f in folds}
    stop_reason = next((r for r in ("diverged", "interrupted") if r in reasons),
                       "early_stopping" if reasons == {"early_stopping"} else "completed")
    rises = [f.rise_rows for f in folds if f.rise_rows is not None]
    join = _averaged if same_rows else np.concatenate
    return Evidence(
        train_loss=_mean(f.record["train_loss"] for f in folds),
        base_train=_mean(f.record["baseline_train_loss"] for f in folds),
        train_rows=np.concatenate([f.train_rows for f in folds]), history=history,
        best_epoch=best, epochs_run=n, stop_reason=stop_reason, patience=folds[0].patience,
        val_loss=_mean(f.record["val_loss"] for f in folds),
        base_val=_mean(f.record["baseline_val_loss"] for f in folds),
        val_rows=join([f.val_rows for f in folds]),
        rise_rows=join(rises) if len(rises) == len(folds) else None,
        restored=all(f.scored_epoch == f.record["best_epoch"] for f in folds),
        identifiers=list(identifiers), row_ids=list(row_ids), leaks=list(leaks),
        **_pooled_classes(folds[:1] if same_rows else folds))


def _averaged(arrays: list) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        return np.mean(arrays, axis=0)


def _pooled_classes(folds: Sequence) -> dict:
    """The folds' held-out true and predicted classes, concatenated (every row once)."""
    held = [f.held for f in folds]
    if not held[0]:
        return {}
    return {"classes": held[0]["classes"], "class_weighted": held[0]["class_weighted"],
            **{key: np.concatenate([h[key] for h in held])
               for key in ("held_true", "held_pred", "train_true", "train_pred")}}


def _mean(values) -> float:
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.mean(list(values)))

"""What the fit verdict reads (``Evidence``), the thresholds it judges by, and its noise model.

``nnfit.evaluation.diagnosis`` holds the rules; ``nnfit.evaluation.curve_checks`` the
checks that read the loss curves. Every loss is per row; ``B`` is the loss of the
baseline that ignores its inputs on the same rows; a standard error comes from the
spread of the per-row losses (:func:`se`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

MIN_VAL_ROWS = 20  # fewer validation rows: the verdict would be the noise's
Z = 2.0  # standard errors a gap or rise must exceed to count
GAP = 0.2  # share of the baseline's val loss a generalization gap must reach
RATIO = 2.0  # and val must exceed train by this factor
RISE = 0.1  # share of the baseline's val loss the val curve must climb after its best
FALLING = 0.02  # share of the baseline's train loss still lost per window at the end
BLOWN_UP = 10.0  # a train loss this many times the baseline's: it blew up, as good as NaN
WORSE = 0.05  # a train loss this share above the baseline's (and 2 SE) means training failed
PROBE_ABOVE = 0.25  # train loss above this share of the baseline's: ask the probe
PROBE_GAIN = 0.05  # the probe must cut the train loss by this share of the baseline's
MEMORIZES = 4.0  # val loss this many times the train loss: the network memorizes its rows ...
SMALL_GAP = 0.05  # ... and a gap above this share of B_val then counts as material
NEAR_ZERO = 0.1  # train loss under this share of B_train: the training rows are memorized
BORDER = 1.0  # standard errors either side of Z within which a verdict is borderline



@dataclass
class Evidence:
    """What the diagnosis reads: the restored weights' losses, the curve, and the probe."""

    train_loss: float
    base_train: float
    train_rows: np.ndarray  # per-row train losses of the restored weights
    history: dict[str, list[float]]
    best_epoch: int
    epochs_run: int
    stop_reason: str
    patience: int | None = None
    val_loss: float | None = None
    base_val: float | None = None
    val_rows: np.ndarray | None = None  # per-row val losses of the restored weights
    rise_rows: np.ndarray | None = None  # per row: val loss at the peak after the best − at it
    peak_epoch: int = 0  # that peak: the epoch with the highest val loss after the best one
    probe: dict | None = None  # {"train_loss", "val_loss", "layers", "epochs", "seconds"}
    probe_skipped: str | None = None  # why no probe ran, when one was wanted
    classes: list[str] | None = None  # classification: the class labels, and of the held-out
    held_true: np.ndarray | None = None  # rows (val, else train) the true and the predicted
    held_pred: np.ndarray | None = None  # class indices, for the collapse check
    class_weighted: bool = False  # the loss already weighs the classes
    restored: bool = False  # the scored weights are the best epoch's (early stopping restored them)
    train_true: np.ndarray | None = None  # classification: the training rows' true and
    train_pred: np.ndarray | None = None  # predicted classes (a rare class's rows there)
    identifiers: list[str] = field(default_factory=list)  # columns the data checks flagged
    row_ids: list[str] = field(default_factory=list)  # of them, the row identifiers
    leaks: list[str] = field(default_factory=list)  # columns that copy the target
    checks: list[dict] = field(default_factory=list)

    @property
    def n_val(self) -> int:
        return 0 if self.val_rows is None else int(self.val_rows.size)


def se(rows: np.ndarray | None) -> float:
    if rows is None or rows.size < 2:
        return math.inf
    return float(np.std(rows, ddof=1) / math.sqrt(rows.size))


def ratio(value: float, se: float) -> float:
    """How many standard errors ``value`` is (infinite when there is no spread at all)."""
    return value / se if se > 0 else math.inf


def given(value: float | None) -> float:
    assert value is not None  # a validation number of a run with a validation split
    return value


def finite(values) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]

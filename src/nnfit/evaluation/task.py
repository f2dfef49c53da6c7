"""Task: what is predicted and how it is judged — one object every step asks.

Classification and regression differ in their loss, their output width and
activation, the decision rule, the metrics, the baseline that ignores the inputs,
and how predictions are written. Each difference lives here, once, instead of as
``if task == ...`` branches across the code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import NnfitError, did_you_mean
from ..nn.losses import Loss, make_loss
from .metrics import (
    binary_metrics,
    class_report,
    classification_metrics,
    confusion_matrix,
    regression_metrics,
)

REGRESSION_LOSSES = ("mse", "sse", "rss")
HEADLINE_METRIC = {"classification": "accuracy", "regression": "r2"}  # one number per run in tables


@dataclass
class Task:
    """Base: the loss by name, the target columns, and the shared scoring path."""

    loss_name: str
    targets: list[str]
    kind = "task"

    @property
    def class_weight(self) -> list[float] | None:
        """The loss's weight per class: classification only (a field there), else None."""
        return None

    @property
    def label_smoothing(self) -> float:
        """The ε of the loss's soft targets: classification only (a field there), else 0."""
        return 0.0

    @cached_property
    def loss(self) -> Loss:
        return make_loss(self.loss_name)

    @property
    def n_outputs(self) -> int:
        raise NotImplementedError

    def describe(self) -> str:
        """What the output layer is sized for, in words."""
        raise NotImplementedError

    def score(self, logits: np.ndarray, y: np.ndarray) -> dict[str, float]:
        """``loss`` (per row) and the task's metrics for raw outputs and encoded targets."""
        loss = self.loss
        return {"loss": loss.per_row(logits, loss.targets(y, logits.dtype)),
                **self.metrics(logits, y)}

    def metrics(self, logits: np.ndarray, y: np.ndarray) -> dict[str, float]:
        raise NotImplementedError

    def row_losses(self, logits: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Each row's loss ``(n,)`` (float64): the spread behind a loss's standard error.
        Their mean is the loss, class weights included (see ``Loss.row_losses``)."""
        loss = self.loss
        return loss.row_losses(logits, loss.targets(y, logits.dtype))

    def evaluate(self, logits: np.ndarray, y: np.ndarray, unseen=None) -> dict:
        """What ``nnfit eval`` reports: the score, and per-class detail for classes."""
        return self.score(logits, y)

    def confusion(self, logits: np.ndarray, y: np.ndarray) -> list | None:
        """The confusion matrix (rows: true class), or None when there are no classes."""
        return None

    def baseline_logits(self, y_train: np.ndarray, n_rows: int, dtype) -> np.ndarray:
        """Outputs of the model that ignores its inputs, one row repeated ``n_rows`` times."""
        row = np.asarray(self._baseline_row(y_train), dtype=dtype)
        return np.tile(row, (n_rows, 1))

    def _baseline_row(self, y_train: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def prediction_columns(self, logits: np.ndarray) -> dict[str, np.ndarray]:
        """The columns ``nnfit predict`` writes, by name."""
        raise NotImplementedError

    def prediction_names(self) -> list[str]:
        """The names of :meth:`prediction_columns`, in order, known before any row."""
        return list(self.prediction_columns(np.zeros((0, self.n_outputs), dtype=np.float32)))


@dataclass
class Classification(Task):
    """One target column of class labels; ``y`` holds class indices ``(n,)``."""

    classes: list[str]
    class_weight: list[float] | None = None  # per class, in the order of classes; None: all 1
    # ε of the soft targets (1 − ε)·onehot + ε/K the loss fits: the training objective, so the
    # scored ``loss`` and the baseline's include it; the metrics (log_loss too) do not
    label_smoothing: float = 0.0
    kind = "classification"

    @cached_property
    def loss(self) -> Loss:
        return make_loss(self.loss_name, self.class_weight, self.label_smoothing)

    @property
    def weight_by_class(self) -> dict[str, float] | None:
        """``{class label: weight}`` of a class-weighted loss, else None."""
        if self.class_weight is None:
            return None
        return dict(zip(self.classes, map(float, self.class_weight), strict=False))

    @property
    def n_outputs(self) -> int:
        return 1 if self.loss.output_activation == "sigmoid" else len(self.classes)

    def describe(self) -> str:
        return f"{len(self.classes)} classes with {self.loss_name}"

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """``(n, n_classes)`` class probabilities; one sigmoid output becomes ``[1 − p, p]``."""
        proba = self.loss.output(logits)
        if proba.shape[1] == 1:
            proba = np.hstack([1.0 - proba, proba])
        return proba

    def decide(self, logits: np.ndarray) -> np.ndarray:
        """Class indices ``(n,)``: the most probable class; a tie goes to the first one,
        so a binary p = 0.5 is class 0 (as in ``argmax`` and scikit-learn)."""
        return self._choose(self.probabilities(logits))

    @staticmethod
    def _choose(proba: np.ndarray) -> np.ndarray:
        """The decision rule on probabilities ``(n, n_classes)``: the first most probable."""
        return proba.argmax(axis=1)

    def metrics(self, logits, y):
        """Accuracy, macro-F1 and balanced accuracy; with two classes ROC AUC and log loss
        too (see ``nnfit.evaluation.metrics``). None of them is weighted by class."""
        return self._metrics(self.probabilities(logits), np.asarray(y, dtype=np.intp).reshape(-1))

    def _metrics(self, proba: np.ndarray, true: np.ndarray, known=None) -> dict:
        """The metrics of ``proba`` ``(n, n_classes)``; ``true`` may hold labels past the
        known classes (never predicted), and ``known`` marks the rows whose class the model
        has (the probability metrics read those only)."""
        result: dict[str, float | None] = dict(classification_metrics(true, self._choose(proba)))
        if len(self.classes) == 2:
            result.update(binary_metrics(true, proba) if known is None
                          else binary_metrics(true[known], proba[known]))
        return result

    def evaluate(self, logits, y, unseen=None):
        """Score, per-class report and confusion matrix.

        ``y`` may hold -1 for rows whose class the model never saw, with ``unseen``
        their labels in row order: each such label counts as a class of its own that
        is never predicted (wrong in ``accuracy``, F1 = 0 in ``f1_macro``, recall 0 in
        ``balanced_accuracy``); ``loss``, ``roc_auc``, ``log_loss``, ``per_class`` and
        the matrix cover the known rows (``unseen_rows``: how many not).
        """
        y = np.asarray(y, dtype=np.intp).reshape(-1)
        proba = self.probabilities(logits)
        known, pred = y >= 0, self._choose(proba)  # one decision for every report below
        loss = self.loss
        result = {"loss": loss.per_row(logits[known], loss.targets(y[known], logits.dtype))}
        true = y
        if not known.all():
            true = y.copy()
            true[~known] = len(self.classes) + np.searchsorted(np.unique(unseen), unseen)
        result.update(self._metrics(proba, true, known))
        if not known.all():
            result["unseen_rows"] = int((~known).sum())
        return {**result, "classes": self.classes,
                **class_report(y[known], pred[known], self.classes)}

    def confusion(self, logits, y):

        return confusion_matrix(y, self.decide(logits), len(self.classes)).tolist()

    def _baseline_row(self, y_train):
        """The best constant prediction under the loss: the class priors, or with class
        weights ``p_k ∝ w_k·n_k`` (it minimizes ``−Σ_k w_k·n_k·log p_k``); with label
        smoothing ``ε`` the mean soft target, ``(1 − ε)·p_k + ε/K``."""
        counts = np.bincount(np.asarray(y_train, dtype=np.intp).reshape(-1),
                             minlength=len(self.classes)).astype(np.float64)
        if self.class_weight is not None:
            counts *= np.asarray(self.class_weight, dtype=np.float64)
        priors = counts / counts.sum()
        if self.label_smoothing:
            priors = (1.0 - self.label_smoothing) * priors + self.label_smoothing / priors.size
        with np.errstate(divide="ignore"):
            if self.n_outputs == 1:  # one output: the logit of class 1
                return np.log(priors[1:] / priors[:1])
            return np.log(priors)

    def prediction_columns(self, logits: np.ndarray) -> dict[str, np.ndarray]:
        """``predicted_<target>`` and ``probability_<class>`` per class."""
        proba = self.probabilities(logits).astype(np.float64)
        labels = np.asarray(self.classes, dtype=object)
        columns = {f"predicted_{self.targets[0]}": labels[self.decide(logits)]}
        for i, cls in enumerate(self.classes):
            columns[f"probability_{cls}"] = proba[:, i]
        return columns


@dataclass
class Regression(Task):
    """Numeric targets, trained standardized: ``y (n, k)`` in standardized units.

    ``target_scale`` holds ``[center, scale]`` per target, to report metrics and
    predictions in the target's own units.
    """

    target_scale: list[list[float]]
    kind = "regression"

    @property
    def n_outputs(self) -> int:
        return len(self.targets)

    def describe(self) -> str:
        n = len(self.targets)
        return f"{n} target column{'s' if n > 1 else ''}"

    def decode(self, values: np.ndarray) -> np.ndarray:
        """Standardized values ``(n, k)`` back in the targets' units (float64)."""
        center, scale = np.asarray(self.target_scale, dtype=np.float64).T
        return np.asarray(values, dtype=np.float64) * scale + center

    def metrics(self, logits, y):

        return regression_metrics(self.decode(y), self.decode(self.loss.output(logits)))

    def _baseline_row(self, y_train):
        return np.asarray(y_train).mean(axis=0)

    def prediction_columns(self, logits):
        values = self.decode(self.loss.output(logits))
        return {f"predicted_{t}": values[:, i] for i, t in enumerate(self.targets)}


def choose_loss(kind: str, n_classes: int | None, requested: str, targets: list[str],
                source: str) -> str:
    """The loss for the task: ``auto`` picks one; an explicit one must fit the task."""
    if kind == "regression":
        if requested == "auto":
            return "mse"
        if requested not in REGRESSION_LOSSES:
            raise NnfitError(f"{source}: training.loss: {requested} needs a classification "
                             f"target, but {', '.join(targets)} is a regression target (use mse, "
                             f"sse or rss, or set data.task: classification)")
        return requested
    if requested == "auto":
        return "binary_cross_entropy" if n_classes == 2 else "cross_entropy"
    if requested in REGRESSION_LOSSES:
        raise NnfitError(f"{source}: training.loss: {requested} is for regression, but "
                         f"{targets[0]!r} is a classification target (use cross_entropy"
                         f"{' or binary_cross_entropy' if n_classes == 2 else ''})")
    if requested == "binary_cross_entropy" and n_classes != 2:
        raise NnfitError(f"{source}: training.loss: binary_cross_entropy needs exactly 2 "
                         f"classes, {targets[0]!r} has {n_classes} (use cross_entropy)")
    return requested


def resolve_class_weight(spec, classes: list[str] | None, y_train: np.ndarray | None,
                         targets: list[str], source: str) -> list[float] | None:
    """``training.class_weight`` as one weight per class (in the order of ``classes``).

    ``balanced``: ``n / (n_classes · n_k)`` over the training rows ``y_train``
    (class indices ``(n,)``), scikit-learn's ``class_weight="balanced"``; a mapping
    ``{label: weight}``: the classes it leaves out weigh 1. Raises NnfitError on a
    regression target or a label that is not a class.
    """
    if spec is None:
        return None
    if classes is None:
        raise NnfitError(f"{source}: training.class_weight needs a classification target, but "
                         f"{', '.join(map(repr, targets))} is a regression target (leave "
                         f"class_weight out, or set data.task: classification)")
    if spec == "balanced":
        counts = np.bincount(np.asarray(y_train, dtype=np.intp).reshape(-1),
                             minlength=len(classes))
        return (counts.sum() / (len(classes) * counts.astype(np.float64))).tolist()
    for label in spec:
        if label not in classes:
            raise NnfitError(f"{source}: training.class_weight: {label!r} is not a class of "
                             f"{targets[0]!r} (its classes: {', '.join(classes)})"
                             f"{did_you_mean(label, classes)}")
    return [float(spec.get(label, 1.0)) for label in classes]


def check_label_smoothing(smoothing: float, kind: str, targets: list[str], source: str) -> float:
    """``training.label_smoothing``, refused (NnfitError naming the key) above 0 for a
    regression target: soft targets are for classes."""
    if smoothing and kind == "regression":
        raise NnfitError(f"{source}: training.label_smoothing: {smoothing:g} needs a "
                         f"classification target, but {', '.join(map(repr, targets))} is a "
                         f"regression target (leave label_smoothing at 0, or set data.task: "
                         f"classification)")
    return smoothing


def check_class_weight(weights, classes: list[str] | None) -> list[float]:
    """A saved ``class_weight`` (read from a model file) checked: one positive finite
    number per class. Raises ValueError saying what is wrong (the key left to the caller)."""
    if classes is None:
        raise ValueError("given for a model without classes")
    if not isinstance(weights, list) or len(weights) != len(classes):
        raise ValueError(f"must be a list of {len(classes)} weights, one per class "
                         f"(got {weights!r})")
    for w in weights:
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) \
                or w <= 0:
            raise ValueError(f"weights must be positive finite numbers (got {w!r})")
    return [float(w) for w in weights]


def make_task(prep, loss_name: str, class_weight: list[float] | None = None,
              label_smoothing: float = 0.0) -> Task:
    """The Task of a fitted preprocessor (its kind, targets, classes or target scale);
    ``class_weight``: the loss's weight per class, ``label_smoothing``: its soft targets'
    ``ε`` (classification)."""
    if prep.task == "classification":
        return Classification(loss_name, list(prep.targets), classes=list(prep.classes),
                              class_weight=class_weight, label_smoothing=label_smoothing)
    if class_weight is not None:
        raise ValueError("class_weight needs a classification task")
    if label_smoothing:
        raise ValueError("label_smoothing needs a classification task")
    return Regression(loss_name, list(prep.targets), target_scale=prep.target_scale)

"""Task metrics: accuracy and macro-F1 for classes; RMSE, MAE and R² for values."""

from __future__ import annotations

import numpy as np

CLASSIFICATION_METRICS = ("accuracy", "f1_macro")
REGRESSION_METRICS = ("mse", "rmse", "mae", "r2")


def classification_metrics(true: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """``true``, ``pred``: class indices ``(n,)``. Macro-F1 averages over the classes present
    in either (as scikit-learn does), a class with no true and no predicted rows scoring 0."""
    k = int(max(true.max(initial=0), pred.max(initial=0))) + 1
    tp = np.bincount(true[true == pred], minlength=k).astype(float)
    support = np.bincount(true, minlength=k) + np.bincount(pred, minlength=k)
    present = support > 0
    f1 = 2 * tp[present] / support[present]
    return {"accuracy": float(np.mean(true == pred)), "f1_macro": float(f1.mean())}


def regression_metrics(true: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """``true``, ``pred``: ``(n, k)`` in the target's units; averaged over the k outputs."""
    err = pred - true
    ss_res = np.sum(err**2, axis=0)
    ss_tot = np.sum((true - true.mean(axis=0)) ** 2, axis=0)
    r2 = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1), np.where(ss_res > 0, 0.0, 1.0))
    return {"mse": float(np.mean(err**2)),
            "rmse": float(np.mean(np.sqrt(np.mean(err**2, axis=0)))),
            "mae": float(np.mean(np.abs(err))),
            "r2": float(np.mean(r2))}


def confusion_matrix(true: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """``(n_classes, n_classes)`` counts; rows are the true class, columns the predicted one."""
    k = n_classes
    true = np.asarray(true, dtype=np.intp).reshape(-1)
    return np.bincount(true * k + pred, minlength=k * k).reshape(k, k)


def class_report(true: np.ndarray, pred: np.ndarray, classes: list[str]) -> dict:
    """Per-class precision, recall, F1 and support, and the confusion matrix (rows: true)."""
    k = len(classes)
    confusion = confusion_matrix(true, pred, k)
    tp = np.diag(confusion).astype(float)
    n_pred, n_true = confusion.sum(axis=0), confusion.sum(axis=1)
    precision = np.divide(tp, n_pred, out=np.zeros(k), where=n_pred > 0)
    recall = np.divide(tp, n_true, out=np.zeros(k), where=n_true > 0)
    f1 = np.divide(2 * tp, n_pred + n_true, out=np.zeros(k), where=(n_pred + n_true) > 0)
    per_class = {c: {"precision": float(precision[i]), "recall": float(recall[i]),
                     "f1": float(f1[i]), "support": int(n_true[i])} for i, c in enumerate(classes)}
    return {"per_class": per_class, "confusion_matrix": confusion.tolist()}

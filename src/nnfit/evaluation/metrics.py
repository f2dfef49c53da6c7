"""Task metrics: accuracy, macro-F1 and balanced accuracy for classes (ROC AUC and log loss
for two classes); RMSE, MAE and R² for values."""

from __future__ import annotations

import numpy as np


def classification_metrics(true: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """``true``, ``pred``: class indices ``(n,)``. Macro-F1 averages over the classes present
    in either (as scikit-learn does), a class with no true and no predicted rows scoring 0;
    balanced accuracy is the mean recall over the classes present in ``true`` (as
    scikit-learn's ``balanced_accuracy_score``)."""
    k = int(max(true.max(initial=0), pred.max(initial=0))) + 1
    tp = np.bincount(true[true == pred], minlength=k).astype(float)
    n_true = np.bincount(true, minlength=k)
    support = n_true + np.bincount(pred, minlength=k)
    present = support > 0
    f1 = 2 * tp[present] / support[present]
    seen = n_true > 0
    return {"accuracy": float(np.mean(true == pred)), "f1_macro": float(f1.mean()),
            "balanced_accuracy": float(np.mean(tp[seen] / n_true[seen]))}


def binary_metrics(true: np.ndarray, proba: np.ndarray) -> dict[str, float | None]:
    """``roc_auc`` (None when ``true`` holds one class only) and ``log_loss``.

    ``true``: class indices ``(n,)`` in {0, 1}; ``proba``: ``(n, 2)`` probabilities.
    """
    return {"roc_auc": roc_auc(true, proba[:, 1]), "log_loss": log_loss(true, proba)}


def roc_auc(true: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve from ranks (the Mann–Whitney U): the chance that a random
    class-1 row scores above a random class-0 row, ties counting one half.

    ``true``: ``(n,)`` in {0, 1}; ``score``: ``(n,)``, higher meaning class 1. None when
    ``true`` holds one class only (the area is undefined), NaN when a score is not finite.
    """
    true = np.asarray(true).reshape(-1) == 1
    n_pos = int(true.sum())
    n_neg = true.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    score = np.asarray(score, dtype=np.float64).reshape(-1)
    if not np.isfinite(score).all():
        return float("nan")
    _, group, counts = np.unique(score, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[group]  # 1-based, ties averaged
    u = float(ranks[true].sum()) - n_pos * (n_pos + 1) / 2.0
    return u / (n_pos * n_neg)


def log_loss(true: np.ndarray, proba: np.ndarray) -> float:
    """Mean ``−log p(true class)``, unweighted, with ``p`` clipped to ``[eps, 1 − eps]`` for
    the machine epsilon of ``proba``'s dtype (as scikit-learn's ``log_loss``).

    ``true``: class indices ``(n,)``; ``proba``: ``(n, n_classes)``.
    """
    proba = np.asarray(proba)
    eps = np.finfo(proba.dtype).eps if np.issubdtype(proba.dtype, np.floating) \
        else np.finfo(np.float64).eps
    picked = proba[np.arange(proba.shape[0]), np.asarray(true, dtype=np.intp).reshape(-1)]
    return float(-np.mean(np.log(np.clip(picked.astype(np.float64), eps, 1 - eps))))


def regression_metrics(true: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """``true``, ``pred``: ``(n, k)`` in the target's units; averaged over the k outputs."""
    err = pred - true
    ss_res = np.sum(err**2, axis=0)
    ss_tot = np.sum((true - true.mean(axis=0)) ** 2, axis=0)
    r2 = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1),
                  np.where(ss_res > 0, 0.0, 1.0))
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

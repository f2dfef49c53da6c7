"""Balanced accuracy, ROC AUC and log loss: by hand, and against scikit-learn when it is there."""

import math

import numpy as np
import pytest

from nnfit.evaluation.metrics import binary_metrics, classification_metrics, log_loss, roc_auc


def test_balanced_accuracy_by_hand():
    true = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 1, 1, 1, 2, 0])
    # recall per class: 0: 1/2, 1: 2/2, 2: 1/2
    assert classification_metrics(true, pred)["balanced_accuracy"] == pytest.approx(2 / 3)
    # a class that is only predicted has no recall: the mean runs over the classes in `true`
    m = classification_metrics(np.array([0, 0, 1, 1, 1, 1]), np.array([2, 0, 1, 1, 1, 0]))
    assert m["balanced_accuracy"] == pytest.approx((1 / 2 + 3 / 4) / 2)
    assert m["accuracy"] == pytest.approx(4 / 6)  # what imbalance hides: 0.667 vs 0.625


def test_roc_auc_by_hand():
    # pairs (class-1 score > class-0 score): 0.35 > 0.1, 0.8 > both, 0.35 < 0.4 → 3/4
    assert roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    # a tie counts one half: 0.5 vs 0.5 → 1/2, the other three pairs 1 → 3.5/4
    assert roc_auc(np.array([0, 1, 0, 1]), np.array([0.5, 0.5, 0.2, 0.9])) == 0.875
    assert roc_auc(np.array([1, 0]), np.array([0.0, 1.0])) == 0.0
    assert roc_auc(np.array([0, 1, 1]), np.full(3, 0.3)) == 0.5  # all tied: the baseline's


def test_roc_auc_is_none_with_one_class_and_nan_with_a_non_finite_score():
    assert roc_auc(np.array([1, 1, 1]), np.array([0.1, 0.2, 0.3])) is None
    assert roc_auc(np.array([], dtype=int), np.array([])) is None
    assert math.isnan(roc_auc(np.array([0, 1]), np.array([0.1, np.nan])))
    m = binary_metrics(np.array([0, 0]), np.array([[0.9, 0.1], [0.4, 0.6]]))
    assert m["roc_auc"] is None and m["log_loss"] == pytest.approx(-(np.log(0.9) + np.log(0.4)) / 2)


def test_log_loss_by_hand_and_clipped_at_the_dtypes_epsilon():
    proba = np.array([[0.25, 0.75], [0.5, 0.5]])
    assert log_loss(np.array([1, 0]), proba) == pytest.approx((np.log(4 / 3) + np.log(2)) / 2)
    certain = np.array([[0.0, 1.0]])  # certain and wrong
    assert log_loss(np.array([0]), certain) == pytest.approx(-np.log(np.finfo(np.float64).eps))
    assert log_loss(np.array([0]), certain.astype(np.float32)) == pytest.approx(
        -np.log(np.finfo(np.float32).eps))
    assert log_loss(np.array([1]), certain) == pytest.approx(-np.log1p(-np.finfo(float).eps))


def _random_binary(seed, n=200):
    rng = np.random.default_rng(seed)
    true = rng.integers(0, 2, n)
    p1 = np.clip(0.5 + 0.3 * (true - 0.5) + 0.25 * rng.standard_normal(n), 0, 1)
    p1[: n // 4] = np.round(p1[: n // 4], 1)  # ties, and some exact 0s and 1s
    return true, np.column_stack([1 - p1, p1])


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_against_scikit_learn_on_random_data(seed):
    sk = pytest.importorskip("sklearn.metrics")
    true, proba = _random_binary(seed)
    assert roc_auc(true, proba[:, 1]) == pytest.approx(sk.roc_auc_score(true, proba[:, 1]),
                                                       rel=1e-12)
    assert log_loss(true, proba) == pytest.approx(sk.log_loss(true, proba), rel=1e-9)
    p32 = proba.astype(np.float32)
    assert log_loss(true, p32) == pytest.approx(sk.log_loss(true, p32), rel=1e-5)
    rng = np.random.default_rng(seed)
    multi_true, multi_pred = rng.integers(0, 4, 150), rng.integers(0, 5, 150)  # 4: never true
    multi_true[:60] = 0  # imbalanced
    assert classification_metrics(multi_true, multi_pred)["balanced_accuracy"] == pytest.approx(
        sk.balanced_accuracy_score(multi_true, multi_pred), rel=1e-12)
    k_proba = rng.dirichlet(np.ones(4), 150)
    assert log_loss(multi_true, k_proba) == pytest.approx(
        sk.log_loss(multi_true, k_proba, labels=range(4)), rel=1e-9)

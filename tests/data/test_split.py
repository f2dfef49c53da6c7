"""K-fold indices: a seeded, stratified partition of the rows."""

import numpy as np
import pytest

from nnfit.data.split import kfold_indices
from nnfit.errors import NnfitError


def test_folds_partition_the_rows_in_near_equal_sorted_parts():
    folds = kfold_indices(23, 5, np.random.default_rng(0))
    assert len(folds) == 5
    assert np.concatenate(folds).size == 23
    assert np.sort(np.concatenate(folds)).tolist() == list(range(23))
    assert sorted(f.size for f in folds) == [4, 4, 5, 5, 5]
    assert all(np.array_equal(f, np.sort(f)) for f in folds)


def test_folds_are_stratified_every_class_in_every_fold():
    labels = np.repeat(["a", "b", "c"], [31, 12, 5])
    np.random.default_rng(1).shuffle(labels)
    folds = kfold_indices(labels.size, 5, np.random.default_rng(2), labels)
    assert np.sort(np.concatenate(folds)).tolist() == list(range(labels.size))
    for cls, n_cls in (("a", 31), ("b", 12), ("c", 5)):
        counts = [int((labels[f] == cls).sum()) for f in folds]
        assert sum(counts) == n_cls and max(counts) - min(counts) <= 1 and min(counts) >= 1
    assert max(f.size for f in folds) - min(f.size for f in folds) <= 1  # the deal continues


def test_folds_are_seeded():
    labels = np.repeat(["a", "b"], [20, 10])
    first = kfold_indices(30, 3, np.random.default_rng(7), labels)
    again = kfold_indices(30, 3, np.random.default_rng(7), labels)
    other = kfold_indices(30, 3, np.random.default_rng(8), labels)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=False))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=False))


@pytest.mark.parametrize("n, k, labels, words", [
    (10, 1, None, "at least 2 folds (got 1)"),
    (10, 0, None, "at least 2 folds (got 0)"),
    (4, 5, None, "5 folds need at least 5 rows (got 4)"),
    (12, 5, ["a"] * 9 + ["b"] * 3, "class 'b' has 3 rows, fewer than the 5 folds"),
    (12, 2, ["a"] * 11 + ["b"], "class 'b' has 1 row, fewer than the 2 folds"),
])
def test_impossible_folds_are_clear_errors(n, k, labels, words):
    with pytest.raises(NnfitError) as info:
        kfold_indices(n, k, np.random.default_rng(0), None if labels is None else np.array(labels))
    assert words in info.value.message and "\n" not in info.value.message

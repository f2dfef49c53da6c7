"""One seed, independent streams: the split, training (initialization, shuffling, dropout),
curve subsets and cross-validation folds each draw from their own child of the seed, so a
change in one never moves another (a new learning rate never changes which rows are held out).
"""

from __future__ import annotations

import numpy as np

SPLIT_STREAM, TRAIN_STREAM, SUBSET_STREAM, FOLD_STREAM = 0, 1, 2, 3


def stream(seed: int, which: int) -> np.random.Generator:
    """The seeded Generator of one purpose (split or training): ``seed``'s child stream
    ``which``, statistically independent of the other (NumPy's SeedSequence spawning)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(which,)))

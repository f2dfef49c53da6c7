"""EarlyStopping: keep the best weights, stop when the monitored loss stops improving."""

from __future__ import annotations

import math

import numpy as np

from .observers import Observer


class EarlyStopping(Observer):
    """Track the best ``monitor`` value and a copy of the weights at that epoch.

    Parameters
    ----------
    monitor : str
        The log to watch, ``val_loss`` normally.
    patience : int or None
        Stop after this many epochs without an improvement larger than
        ``min_delta``; ``None`` never stops (the observer then only keeps the best).
    restore_best : bool
        Put the best weights back when training ends, on every path. Whatever
        this says, a run that diverged or was interrupted gets the best weights back
        (the initial ones if no epoch finished).

    The weights are one flat vector, so a snapshot is a single ``copyto``; the
    network's non-trainable state (batchnorm's running statistics) is kept beside
    them, so restored weights come back with the statistics of their own epoch.
    """

    def __init__(self, monitor: str = "val_loss", patience: int | None = 20,
                 min_delta: float = 0.0, restore_best: bool = True):
        self.monitor, self.patience = monitor, patience
        self.min_delta, self.restore_best = float(min_delta), restore_best

    def on_train_begin(self, trainer):
        super().on_train_begin(trainer)
        self.best = math.inf
        self.best_epoch = 0
        self.wait = 0
        self.restored = False
        # The initial weights are the fallback if the very first epoch diverges.
        self._snapshot = trainer.network.params.copy()
        self._state = trainer.network.state.copy()

    def on_epoch_end(self, epoch, logs):
        value = logs.get(self.monitor, math.nan)
        if math.isfinite(value) and value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            np.copyto(self._snapshot, self.trainer.network.params)
            np.copyto(self._state, self.trainer.network.state)
            return
        self.wait += 1
        if self.patience is not None and self.wait >= self.patience:
            self.trainer.stop_training = True
            self.trainer.stop_reason = "early_stopping"

    def on_train_end(self, logs):
        must = self.trainer.stop_reason in ("diverged", "interrupted")
        if must or (self.restore_best and self.best_epoch):
            np.copyto(self.trainer.network.params, self._snapshot)
            np.copyto(self.trainer.network.state, self._state)
            self.restored = True

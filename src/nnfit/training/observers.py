"""Observers of the training loop (Keras's callbacks): the base class and History."""

from __future__ import annotations

import numpy as np


class Observer:
    """Hooks the trainer calls; override any of them. State is reset in ``on_train_begin``."""

    def on_train_begin(self, trainer) -> None:
        self.trainer = trainer

    def on_batch_end(self, step: int, loss: float) -> None:
        """After each mini-batch's update: ``step`` counts them from 1 since ``on_train_begin``
        (across epochs); ``loss`` is that batch's loss per row, before the update.

        Called only on observers that override it, so the loop pays nothing for the
        others. Setting ``trainer.stop_training`` here ends the epoch after this batch:
        its logs cover the rows seen so far, ``on_epoch_end`` is called, and training
        stops (Keras's semantics). A batch whose loss is not finite ends training as
        diverged before this hook.
        """

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        pass

    def on_train_end(self, logs: dict) -> None:
        pass


class History(Observer):
    """Every epoch's logs, as ``history["train_loss"] -> [float, ...]``."""

    def on_train_begin(self, trainer):
        super().on_train_begin(trainer)
        self.epochs: list[int] = []
        self.history: dict[str, list[float]] = {}

    def on_epoch_end(self, epoch, logs):
        self.epochs.append(epoch)
        for key, value in logs.items():
            if key != "epoch":
                self.history.setdefault(key, []).append(value)

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epochs)}, keys={sorted(self.history)})"


class EpochMetrics(Observer):
    """Adds ``val_<name>`` entries to each epoch's logs from ``metrics(outputs, y) -> dict``.

    Scores the validation outputs the trainer already computed for ``val_loss``
    (``trainer.val_outputs``), so the validation rows are predicted once per epoch.
    Place it before the observers that read the logs (history writer, console).
    """

    def __init__(self, metrics, y):
        self.metrics, self.y = metrics, y

    def on_epoch_end(self, epoch, logs):
        outputs = self.trainer.val_outputs
        if outputs is not None:
            for name, value in self.metrics(outputs, self.y).items():
                logs["val_" + name] = value


class ValOutputs(Observer):
    """Keeps the validation outputs of the best epoch (by ``tracker``) and of the *peak*: the
    epoch with the highest val loss since the best one (the largest rise after it).

    With both, a diagnosis can ask whether the val loss rose after its best by more
    than the noise, row by row on the same rows (a paired difference), instead of
    comparing two noisy averages — and judge the whole stretch after the best epoch,
    not only where it happened to end. Place it after the tracker (early stopping).
    """

    def __init__(self, tracker):
        self.tracker = tracker

    def on_train_begin(self, trainer):
        super().on_train_begin(trainer)
        self.best: np.ndarray | None = None
        self.peak: np.ndarray | None = None
        self.peak_epoch = 0
        self._peak_loss = -np.inf

    def on_epoch_end(self, epoch, logs):
        outputs = self.trainer.val_outputs  # a new array each epoch: keeping it copies nothing
        if outputs is None:
            return
        loss = logs.get("val_loss", np.nan)
        if self.tracker.best_epoch == epoch:
            self.best, self.peak, self.peak_epoch, self._peak_loss = outputs, None, 0, -np.inf
        elif self.peak is None or loss > self._peak_loss:  # NaN never replaces a peak
            self.peak, self.peak_epoch, self._peak_loss = outputs, epoch, loss

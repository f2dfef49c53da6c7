"""Observers of the training loop (Keras's callbacks): the base class and History."""

from __future__ import annotations


class Observer:
    """Hooks the trainer calls; override any of them. State is reset in ``on_train_begin``."""

    def on_train_begin(self, trainer) -> None:
        self.trainer = trainer

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
    """Adds ``prefix + name`` entries to each epoch's logs from ``metrics(X, y) -> dict``.

    Place it before the observers that read the logs (history writer, console).
    """

    def __init__(self, metrics, X, y, prefix: str = "val_"):
        self.metrics, self.X, self.y, self.prefix = metrics, X, y, prefix

    def on_epoch_end(self, epoch, logs):
        if logs.get("train_loss") == logs.get("train_loss"):  # skip a diverged (NaN) epoch
            for name, value in self.metrics(self.X, self.y).items():
                logs[self.prefix + name] = value

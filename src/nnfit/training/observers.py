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

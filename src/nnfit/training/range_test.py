"""The learning-rate range test's observer: an exponentially growing rate per mini-batch, each
batch's loss recorded and smoothed, and a stop once the loss blows up (``nnfit lr-find``)."""

from __future__ import annotations

import math

import numpy as np

from .observers import Observer

START, END, STEPS = 1e-7, 10.0, 100
MIN_STEPS = 10  # fewer cannot show a curve (the first tenth is the average's warm-up)
BETA = 0.98  # the moving average's decay (fastai's)
DIVERGE = 4.0  # stop once the smoothed loss exceeds this many times its minimum
WARMUP = 0.1  # the share of steps the stop rule and the suggestion leave out at the start


def warmup_steps(steps: int) -> int:
    """How many of ``steps`` the stop rule, the suggestion and the plots leave out at the start."""
    return int(WARMUP * steps)


def schedule(start: float, end: float, steps: int) -> np.ndarray:
    """``(steps,)`` rates growing exponentially from ``start`` to ``end`` (both included)."""
    return start * (end / start) ** (np.arange(steps) / (steps - 1))


class RangeTest(Observer):
    """Sets the rate of each mini-batch, records its loss, and stops the run.

    ``rates`` is the schedule: step ``t`` (from 1) trains at ``rates[t − 1]``. The
    smoothed losses of the first ``warmup`` steps neither set the minimum nor are
    held against it. Training stops after the last rate, once the smoothed loss
    passes ``diverge`` times its minimum (``reason = "exploded"``), or when it is
    not finite (``"diverged"``).
    """

    def __init__(self, rates: np.ndarray, beta: float = BETA, diverge: float = DIVERGE,
                 warmup: int = 0):
        self.rates, self.beta, self.diverge, self.warmup = rates, beta, diverge, warmup

    def on_train_begin(self, trainer):
        super().on_train_begin(trainer)
        trainer.optimizer.lr = float(self.rates[0])
        self.lrs: list[float] = []
        self.losses: list[float] = []
        self.smoothed: list[float] = []
        self.average, self.best = 0.0, math.inf
        self.reason = "completed"

    def on_batch_end(self, step, loss):
        trainer = self.trainer
        self.lrs.append(trainer.optimizer.lr)
        self.losses.append(loss)
        self.average = self.beta * self.average + (1.0 - self.beta) * loss
        value = self.average / (1.0 - self.beta**step)
        self.smoothed.append(value)
        if step > self.warmup:  # an average of a few batches is no level to judge by
            self.best = min(self.best, value)
        if not math.isfinite(value):
            self.reason = "diverged"
        elif value > self.diverge * self.best:
            self.reason = "exploded"
        elif step < self.rates.size:
            trainer.optimizer.lr = float(self.rates[step])
            return
        trainer.stop_training = True

"""Learning-rate schedules: the rate of every update, from the configured ``lr``.

A schedule is started with the base rate, the updates per epoch and the planned
epochs; the trainer then asks ``rate(step)`` before each update (``step`` counts
updates from 0 across epochs) and calls ``epoch_end(epoch, logs)`` after each
epoch, which is where ``plateau`` listens to the loss. The formulas follow
PyTorch's schedulers of the same names, so numbers can be checked against them.
Each class declares its YAML ``options`` (as layers do), from which the config
builds its models.
"""

from __future__ import annotations

import math
from typing import ClassVar

from ..nn.base import Option


class Schedule:
    """``constant``: every update at ``lr``."""

    name = "constant"
    options: ClassVar[dict[str, Option]] = {}

    def __init__(self, **options):
        for key, value in options.items():
            setattr(self, key, value)

    def start(self, lr: float, steps_per_epoch: int, epochs: int) -> None:
        """Begin a run: base rate ``lr``, ``steps_per_epoch`` updates an epoch, ``epochs`` planned."""
        self.lr, self.steps_per_epoch, self.epochs = float(lr), int(steps_per_epoch), int(epochs)
        self.total = self.steps_per_epoch * self.epochs

    def rate(self, step: int) -> float:
        """The learning rate of update ``step`` (0-based, counted across epochs)."""
        return self.lr

    def epoch_end(self, epoch: int, logs: dict) -> None:
        """After epoch ``epoch`` (1-based) with its ``logs``; only ``plateau`` listens."""

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.options)
        return f"{self.name}({options})"


def follows_losses(schedule: Schedule) -> bool:
    """Whether ``schedule``'s rate depends on the run's losses (it overrides ``epoch_end``),
    not only on the step count: then runs with their own losses cannot share its rate."""
    return type(schedule).epoch_end is not Schedule.epoch_end


class Cosine(Schedule):
    """Linear warm-up over ``warmup`` epochs to ``lr``, then half a cosine down to 0.

    Update ``s`` of ``T`` (``W`` of them warm-up): ``lr·(s + 1)/W`` while ``s < W``,
    then ``lr·½·(1 + cos(π·(s − W)/(T − W)))`` (Loshchilov & Hutter's SGDR without
    restarts; PyTorch's ``CosineAnnealingLR`` with ``eta_min = 0``).
    """

    name = "cosine"
    options = {"warmup": Option(int, default=0, ge=0)}
    warmup: int  # the options, set by Schedule.__init__

    def start(self, lr, steps_per_epoch, epochs):
        super().start(lr, steps_per_epoch, epochs)
        self.warm = self.warmup * self.steps_per_epoch  # warm-up updates

    def rate(self, step):
        warm = self.warm
        if step < warm:
            return self.lr * (step + 1) / warm
        progress = (step - warm) / max(1, self.total - warm)
        return self.lr * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


class OneCycle(Schedule):
    """Smith's one-cycle policy as PyTorch's ``OneCycleLR`` (cosine, two phases).

    From ``lr/div_factor`` up to ``lr`` over the first ``pct_start`` of the updates,
    then down to ``lr/(div_factor·final_div_factor)`` at the last one; each phase
    is ``end + (start − end)·½·(1 + cos(π·p))`` with ``p`` its fraction done.
    """

    name = "onecycle"
    options = {"pct_start": Option(float, default=0.3, gt=0, lt=1),
               "div_factor": Option(float, default=25.0, ge=1),
               "final_div_factor": Option(float, default=1e4, ge=1)}
    pct_start: float
    div_factor: float
    final_div_factor: float

    def start(self, lr, steps_per_epoch, epochs):
        super().start(lr, steps_per_epoch, epochs)
        self.initial = self.lr / self.div_factor
        self.peak_step = self.pct_start * self.total - 1

    def rate(self, step):
        initial, peak_step = self.initial, self.peak_step
        if step <= peak_step:
            start, end, p = initial, self.lr, step / max(peak_step, 1e-12)
        else:
            last = self.total - 1
            p = (step - peak_step) / max(last - peak_step, 1e-12)
            start, end = self.lr, initial / self.final_div_factor
        return end + (start - end) * 0.5 * (1.0 + math.cos(math.pi * min(p, 1.0)))


class Step(Schedule):
    """``lr·gamma^⌊(epoch − 1)/step_size⌋``: the rate drops by ``gamma`` every
    ``step_size`` epochs (PyTorch's ``StepLR``)."""

    name = "step"
    options = {"step_size": Option(int, default=30, gt=0),
               "gamma": Option(float, default=0.1, gt=0, le=1)}
    step_size: int
    gamma: float

    def rate(self, step):
        return self.lr * self.gamma ** (step // self.steps_per_epoch // self.step_size)


class Plateau(Schedule):
    """Multiply the rate by ``factor`` after ``patience`` epochs in a row without a new best
    loss (``val_loss``, or ``train_loss`` without validation), never below ``min_lr``.

    A new best must beat the old one by a relative ``1e-4`` (PyTorch's and Keras's
    default threshold), so a loss creeping down by rounding does not count. After a
    cut the count starts again. As Keras's ``ReduceLROnPlateau`` (PyTorch's cuts one
    epoch later: ``> patience``).
    """

    name = "plateau"
    options = {"factor": Option(float, default=0.1, gt=0, lt=1),
               "patience": Option(int, default=10, gt=0),
               "min_lr": Option(float, default=0.0, ge=0)}
    factor: float
    patience: int
    min_lr: float
    THRESHOLD = 1e-4

    def start(self, lr, steps_per_epoch, epochs):
        super().start(lr, steps_per_epoch, epochs)
        self.current, self.best, self.bad = float(lr), math.inf, 0

    def rate(self, step):
        return self.current

    def epoch_end(self, epoch, logs):
        loss = logs.get("val_loss", logs.get("train_loss", math.nan))
        if loss < self.best * (1.0 - self.THRESHOLD):  # NaN is never a new best
            self.best, self.bad = loss, 0
            return
        self.bad += 1
        if self.bad >= self.patience:
            self.current, self.bad = max(self.current * self.factor, self.min_lr), 0


SCHEDULES: dict[str, type[Schedule]] = {cls.name: cls for cls in (Schedule, Cosine, OneCycle,
                                                                   Step, Plateau)}


def make_schedule(spec: str | dict | Schedule | None) -> Schedule | None:
    """A schedule from its YAML form: a name, or ``{name: ..., **options}``; None stays None."""
    if spec is None or isinstance(spec, Schedule):
        return spec
    options = {"name": spec} if isinstance(spec, str) else dict(spec)
    name = options.pop("name")
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose from {', '.join(SCHEDULES)}")
    cls = SCHEDULES[name]
    unknown = set(options) - set(cls.options)
    if unknown:
        raise ValueError(f"{name} takes no option {sorted(unknown)[0]!r}")
    return cls(**{key: options.get(key, option.default) for key, option in cls.options.items()})

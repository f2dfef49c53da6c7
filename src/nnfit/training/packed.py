"""Train K members in one loop: their mini-batches through one packed stack of layers.

Each member is a :class:`~nnfit.training.trainer.Trainer` of its own (its network, seed,
shuffles, observers, early stopping and history), set up as for a separate fit; this
loop only replaces the per-batch work. Per step, every member's batch is gathered with
its own shuffled order into a ``(K, batch, …)`` block, one packed forward and backward
run (:class:`~nnfit.nn.packed.PackedNetwork`), every member's loss is taken in one pass
(:mod:`nnfit.nn.member_losses`; one member at a time for the losses it does not cover),
and one optimizer step updates the ``(K, n_params)`` parameters elementwise.

Each epoch then ends member by member through ``Trainer.end_epoch``, exactly as a
separate run's would, with every member's validation outputs from one packed pass when
they fit (``PackedNetwork.predict``). A member that stops (early stopping, divergence)
leaves the pack: the others are packed again without it, and its parameters stay as they
were when it stopped. Interrupting stops every member.

Shared across the members: the learning rate (the first member's schedule; packing is
for schedules whose rate depends only on the step count), the optimizer's step count
and settings. With these, a member's numbers are those of its separate fit, bit for bit.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence

import numpy as np

from ..nn.member_losses import members_value_and_grad
from ..nn.packed import PackedNetwork
from .schedules import follows_losses
from .trainer import Trainer


def unpackable_training(trainers: Sequence[Trainer]) -> str | None:
    """Why these trainers' runs cannot share one packed loop (None: they can)."""
    first = trainers[0]
    if first.optimizer.clip_norm is not None:
        return "clip_norm (a norm over each member's own gradient)"
    schedule = first.schedule
    if schedule is not None and follows_losses(schedule):
        return f"the {schedule.name} schedule (its rate follows each member's own losses)"
    for trainer in trainers:
        if trainer.stop is not first.stop or trainer.batch_size != first.batch_size:
            return "members with different batch sizes or stop requests"
        if repr(trainer.optimizer) != repr(first.optimizer) \
                or repr(trainer.loss) != repr(first.loss) \
                or type(trainer.schedule) is not type(schedule):
            return "members with different optimizers, losses or schedules"
    return None


def train_packed(trainers: Sequence[Trainer], X: np.ndarray, y: np.ndarray, epochs: int,
                 validation: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Train each trainer's network on ``X, y`` as ``trainer.fit`` would, all in one loop.

    The trainers must be fresh (nothing trained) and share loss, optimizer settings,
    schedule and batch size; their observers must not hook batches. Afterwards each
    trainer holds its run's state (``epoch``, ``stop_reason``, ``logs``) as after ``fit``.
    """
    why = unpackable_training(trainers)
    if why is not None:
        raise ValueError(f"cannot pack these trainings: {why}")
    if any(t.batch_hooks() for t in trainers):
        raise ValueError("cannot pack trainings whose observers hook every batch")
    loop = _Loop(trainers)
    started = [t.begin(X, y, epochs, validation) for t in trainers]
    X, y, validation, _, _, weight = started[0]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # each member's order from its begin: shuffled in place every epoch, as in its own run
        loop.run(X, y, epochs, validation, weight, [s[4] for s in started])
    for trainer in trainers:
        trainer.end()


class _Loop:
    """The shared epochs: batches, the packed step, and each member's epoch end.

    ``live`` are the members still training, in the packed stack in that order; when one
    stops, the others are packed again without it (its parameters stay where they were,
    untouched from then on), so a stopped member costs nothing more.
    """

    def __init__(self, trainers):
        self.trainers = trainers
        self.live = list(range(len(trainers)))
        self.packed = PackedNetwork([t.network for t in trainers])
        first = trainers[0].optimizer
        self.optimizer = copy.copy(first).bind(self.packed.params, self.packed.grads,
                                               self.packed.n_decay)
        self.updates = 0

    def run(self, X, y, epochs: int, validation, weight: bool, orders: list[np.ndarray]
            ) -> None:
        self.X, self.y, self.weight, self.orders = X, y, weight, orders
        self._buffers()
        trainers = self.trainers
        try:
            for epoch in range(1, epochs + 1):
                started = time.perf_counter()
                losses, lrs = self._train_epoch()
                if trainers[0]._stop_requested():
                    self._interrupt()
                    return
                stopped = []
                outputs, val_losses = self._validation(validation)
                for slot, i in enumerate(self.live):
                    trainers[i].optimizer.lr = lrs[slot]  # what its logs report
                    if trainers[i].end_epoch(epoch, losses[slot], validation, started,
                                             None if outputs is None else outputs[slot],
                                             None if val_losses is None else val_losses[slot]):
                        stopped.append(i)
                if stopped:
                    self._drop(stopped)
                if not self.live:
                    return
        except KeyboardInterrupt:
            self._interrupt()

    def _validation(self, validation) -> tuple[np.ndarray | None, list[float] | None]:
        """Every live member's validation outputs and their loss per row, each in one pass;
        None for what each member computes on its own (see ``PackedNetwork.predict`` and
        :func:`~nnfit.nn.member_losses.members_value_and_grad`)."""
        if validation is None:
            return None, None
        outputs = self.packed.predict(validation[0])
        if outputs is None:
            return None, None
        y_val, loss = validation[1], self.trainers[0].loss
        values = members_value_and_grad(loss, outputs, np.broadcast_to(
            y_val, (outputs.shape[0],) + y_val.shape), np.empty_like(outputs))
        if values is None:
            return outputs, None
        rows = outputs.shape[1] if loss.reduction == "sum" else 1  # Loss.per_row's scaling
        return outputs, [value / rows for value in values]

    def _buffers(self) -> None:
        """Batch buffers ``(members, rows, …)`` for the full and the last partial batch."""
        self.batches = self.trainers[0]._batch_buffers(self.X, self.y, lead=(len(self.live),))

    def _drop(self, stopped: list[int]) -> None:
        """Pack the members still training again, without ``stopped``."""
        keep = [slot for slot, i in enumerate(self.live) if i not in stopped]
        self.live = [self.live[slot] for slot in keep]
        if not self.live:
            return
        self.packed = PackedNetwork([self.trainers[i].network for i in self.live])
        self.optimizer = self.optimizer.rows(keep, self.packed.params, self.packed.grads)
        self._buffers()

    def _train_epoch(self) -> tuple[list[float], list[float]]:
        """One pass; per live member its per-row train loss (NaN from a non-finite batch
        on) and the rate of its last update."""
        first, X, y, opt = self.trainers[0], self.X, self.y, self.optimizer
        loss, schedule, size, n = first.loss, first.schedule, first.batch_size, X.shape[0]
        for trainer, order in zip(self.trainers, self.orders, strict=True):
            trainer.rng.shuffle(order)  # every member's stream moves, as in its own run
        orders = [self.orders[i] for i in self.live]
        k = len(orders)
        ok = [True] * k  # no non-finite batch loss yet this epoch
        totals, lrs = [0.0] * k, [opt.lr] * k  # lrs: the rate of a member's last update
        for start in range(0, n, size):
            if first._stop_requested():
                return [math.nan] * k, lrs
            xb, yb, dlogits = self.batches[min(size, n - start)]
            m = xb.shape[1]
            for slot, order in enumerate(orders):
                idx = order[start:start + m]
                X.take(idx, axis=0, out=xb[slot], mode="clip")
                y.take(idx, axis=0, out=yb[slot], mode="clip")
            logits = self.packed.forward(xb)
            values = members_value_and_grad(loss, logits, yb, dlogits)  # None: one at a time
            for slot in range(k):
                if ok[slot]:
                    batch_loss = (values[slot] if values is not None else
                                  loss.value_and_grad(logits[slot], yb[slot], dlogits[slot]))
                    ok[slot] = math.isfinite(batch_loss)
                    totals[slot] = (totals[slot] + (batch_loss * m if self.weight else batch_loss)
                                    if ok[slot] else math.nan)
                    if not ok[slot]:
                        lrs[slot] = opt.lr  # its last update's rate: this batch makes none
                if not ok[slot]:  # its epoch ended at that batch: it diverged
                    dlogits[slot] = 0.0
            self.packed.backward(dlogits)
            if schedule is not None:
                opt.lr = schedule.rate(self.updates)
            opt.step()
            self.updates += 1
        return [total / n for total in totals], [opt.lr if ok[s] else lrs[s] for s in range(k)]

    def _interrupt(self) -> None:
        for i in self.live:
            self.trainers[i].interrupted()
        self.live = []

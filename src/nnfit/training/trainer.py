"""The training loop: epochs of shuffled mini-batches, reported through observers.

The trainer prints nothing. It calls ``on_train_begin``, ``on_epoch_end`` and
``on_train_end`` on its observers (Keras's callback design), ``on_batch_end`` on
those that override it, and stops when one of them sets ``trainer.stop_training``.
The loop itself allocates nothing per batch: batches are gathered into
preallocated buffers with ``np.take(out=)``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np

from ..nn.build import as_generator
from ..nn.checks import all_finite, check_finite, positive_int
from ..nn.losses import Loss, make_loss
from ..nn.network import Network
from ..nn.optimizers import Optimizer, make_optimizer
from .observers import History, Observer


class Trainer:
    """Mini-batch gradient descent on a network.

    Parameters
    ----------
    network : Network
    loss : str or Loss
    optimizer : Optimizer, bound to the network here
    batch_size : int
        Rows per step; the last, partial batch of an epoch is kept.
    rng : numpy.random.Generator
        Shuffles the rows every epoch, and is handed to the network
        (``network.set_rng``) for its training-time randomness (dropout masks).
    observers : sequence of Observer
    schedule : Schedule, optional
        Sets ``optimizer.lr`` before every update (``nnfit.training.schedules``),
        started from the optimizer's rate; the epoch's last rate is logged as ``lr``.
    stop : object with ``is_set()``, optional
        A stop request (e.g. a ``threading.Event`` set by a Ctrl-C handler): the
        trainer finishes the current mini-batch, drops the partial epoch and ends
        with ``stop_reason = "interrupted"``. How a request is made (signals, a
        parent process) is the caller's policy, not the trainer's.
    """

    def __init__(self, network: Network, loss: str | Loss, optimizer: Optimizer, *,
                 batch_size: int = 32, rng: np.random.Generator | None = None,
                 observers: Sequence[Observer] = (), schedule=None, stop=None):
        batch_size = positive_int(batch_size, "batch_size")
        self.network = network
        self.loss = make_loss(loss)
        self.optimizer = optimizer.bind(network.params, network.grads, network.n_decay)
        self.batch_size = batch_size
        self.rng = as_generator(rng)
        network.set_rng(self.rng)
        self.observers = list(observers)
        self.schedule = schedule
        self.base_lr = self.optimizer.lr  # what the schedule scales, on every fit()
        self.stop = stop
        self.stop_training = False
        self.stop_reason = "completed"  # or early_stopping, diverged, interrupted
        self.epoch = 0
        self.step = 0  # mini-batches since on_train_begin; counted only for on_batch_end hooks
        self._batch_hooks: list = []
        self.val_outputs: np.ndarray | None = None  # this epoch's outputs on the validation rows

    def fit(self, X: np.ndarray, y: np.ndarray, epochs: int,
            validation: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
        """Train for up to ``epochs`` epochs; return the last epoch's logs.

        ``X (n_samples, *input_shape)``; ``y`` as the loss expects (see ``nnfit.nn.losses``).
        Logs hold ``epoch`` (1-based), ``train_loss``, ``val_loss`` (with
        ``validation``), ``lr`` and ``seconds``. Losses are per row: a sum-reduced
        loss (``sse``) is divided by the rows it summed, so splits of any size compare.

        Training ends when the epochs run out, an observer sets ``stop_training``,
        the loss or the weights stop being finite (``stop_reason = "diverged"``), or
        a stop is requested or KeyboardInterrupt raised (``"interrupted"``);
        ``on_train_end`` is called on every path.

        The arguments are checked once, before any step (ValueError): ``epochs`` a
        positive integer, X and y of as many rows, rows of the network's input
        shape, and no NaN or infinity in X or float targets (validation alike).
        """
        started = self.begin(X, y, epochs, validation)
        # Overflow is how divergence starts; it is detected below and reported in words.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self._loop(epochs, *started)
        return self.end()

    def begin(self, X: np.ndarray, y: np.ndarray, epochs: int,
              validation: tuple[np.ndarray, np.ndarray] | None = None) -> tuple:
        """Check the arguments, reset the run's counters and start the observers; return
        what the loop reads: ``(X, y, validation, batches, order, weight)``.

        :meth:`fit` is ``begin``, the epochs, :meth:`end`; packed members
        (:mod:`nnfit.training.packed`) run each member's ``begin``, :meth:`end_epoch` and
        ``end`` around one shared loop.
        """
        loss = self.loss
        epochs = positive_int(epochs, "epochs")
        X, y = self._arrays(X, y, "")
        if validation is not None:
            if not isinstance(validation, (tuple, list)) or len(validation) != 2:
                raise ValueError("validation must be a pair (X_val, y_val)")
            validation = self._arrays(validation[0], validation[1], "validation ")
        n = X.shape[0]
        if n == 0:
            raise ValueError("no training rows")
        batches = self._batch_buffers(X, y)
        order = np.arange(n)
        weight = loss.reduction == "mean"  # mean losses weigh each batch by its rows

        self.stop_training, self.stop_reason, self.epoch, self.step = False, "completed", 0, 0
        self.updates = 0  # optimizer steps so far: the schedule's clock
        self.logs: dict = {}
        if self.schedule is not None:
            self.schedule.start(self.base_lr, -(-n // self.batch_size), epochs)
        # Found once here, so a loop without per-batch observers pays one falsy test per batch.
        self._batch_hooks = self.batch_hooks()
        for obs in self.observers:
            obs.on_train_begin(self)
        return X, y, validation, batches, order, weight

    def batch_hooks(self) -> list:
        """The observers' ``on_batch_end`` hooks: those of the observers that override it."""
        return [obs.on_batch_end for obs in self.observers
                if getattr(type(obs), "on_batch_end", Observer.on_batch_end)
                is not Observer.on_batch_end]

    def interrupted(self) -> None:
        """End as interrupted, at the last epoch that finished."""
        self.stop_reason = "interrupted"
        self.epoch = int(self.logs.get("epoch", 0))

    def end(self) -> dict:
        """Call ``on_train_end`` on the observers; return the last epoch's logs."""
        for obs in self.observers:
            obs.on_train_end(self.logs)
        return self.logs

    def _arrays(self, X, y, what: str) -> tuple[np.ndarray, np.ndarray]:
        """``X`` and ``y`` as the loop reads them, checked; ``what`` prefixes the messages."""
        net, loss = self.network, self.loss
        try:
            X = np.ascontiguousarray(X, dtype=net.dtype)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{what}X must hold numbers ({error})") from None
        try:
            y = loss.targets(y, net.dtype, net.output_shape[-1])
        except ValueError as error:
            raise ValueError(f"validation: {error}" if what else str(error)) from None
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"{what}y has {y.shape[0]} rows but {what}X has {X.shape[0]}")
        if X.shape[1:] != net.input_shape:
            raise ValueError(f"{what}X has rows of shape {X.shape[1:]} but the network takes "
                             f"{net.input_shape}")
        check_finite(X, f"{what}X")
        check_finite(y, f"{what}y")  # integer class indices pass at no cost
        return X, y

    def _loop(self, epochs, X, y, validation, batches, order, weight) -> None:
        try:
            for epoch in range(1, epochs + 1):
                started = time.perf_counter()
                train_loss = self._train_epoch(X, y, batches, order, weight)
                if self._stop_requested():
                    self.stop_reason = "interrupted"
                    break
                if self.end_epoch(epoch, train_loss, validation, started):
                    break
        except KeyboardInterrupt:
            self.interrupted()

    def end_epoch(self, epoch: int, train_loss: float, validation, started: float,
                  val_outputs: np.ndarray | None = None, val_loss: float | None = None) -> bool:
        """Score the finished epoch, log it, call the observers; True when training stops
        (diverged, or an observer set ``stop_training``). ``val_outputs`` (and ``val_loss``,
        their loss per row): the network's on the validation rows when the caller has them
        (packed members), used instead of computing them here."""
        self.epoch = epoch
        if not self._weights_finite():
            # The epoch's last steps broke the weights after their losses were
            # taken: the loss at these weights is NaN, and no observer may keep them.
            train_loss = math.nan
        logs = {"epoch": epoch, "train_loss": train_loss}
        if validation is not None:
            self.val_outputs = None
            if math.isfinite(train_loss):
                self.val_outputs = (self.network.predict(validation[0], check=False)
                                    if val_outputs is None else val_outputs)
            logs["val_loss"] = (
                math.nan if self.val_outputs is None else
                val_loss if val_loss is not None else
                self.loss.per_row(self.val_outputs, validation[1]))
        if not all(math.isfinite(v) for k, v in logs.items() if k.endswith("loss")):
            self.stop_reason = "diverged"
        logs["lr"] = self.optimizer.lr
        logs["seconds"] = time.perf_counter() - started
        self.logs = logs
        for obs in self.observers:
            obs.on_epoch_end(epoch, logs)
        if self.schedule is not None:
            self.schedule.epoch_end(epoch, logs)
        if self.stop_reason == "diverged":
            return True
        if self.stop_training:
            if self.stop_reason == "completed":
                self.stop_reason = "stopped"
            return True
        return False

    def _train_epoch(self, X, y, batches, order, weight) -> float:
        """One pass over shuffled mini-batches; the per-row train loss, NaN once it is not finite.

        When an ``on_batch_end`` hook sets ``stop_training``, the pass ends after that
        batch and the loss is the per-row loss of the rows seen.
        """
        net, loss, n, hooks = self.network, self.loss, X.shape[0], self._batch_hooks
        optimizer, schedule = self.optimizer, self.schedule
        self.rng.shuffle(order)
        total = 0.0
        for start in range(0, n, self.batch_size):
            if self._stop_requested():
                return math.nan
            idx = order[start:start + self.batch_size]
            xb, yb, dlogits = batches[idx.size]
            # mode="clip": under take's default "raise", out= is filled through a temporary
            X.take(idx, axis=0, out=xb, mode="clip")  # (idx is a permutation: in range)
            y.take(idx, axis=0, out=yb, mode="clip")
            logits = net.forward(xb, training=True)
            batch_loss = loss.value_and_grad(logits, yb, dlogits)
            if not math.isfinite(batch_loss):
                return math.nan
            net.backward(dlogits, need_dx=False)
            if schedule is not None:
                optimizer.lr = schedule.rate(self.updates)
            optimizer.step()
            self.updates += 1
            total += batch_loss * idx.size if weight else batch_loss
            if hooks:
                self.step += 1
                row_loss = batch_loss if weight else batch_loss / idx.size
                for hook in hooks:
                    hook(self.step, row_loss)
                if self.stop_training:
                    return total / (start + idx.size)
        return total / n

    def _weights_finite(self) -> bool:
        """Parameters and state (batchnorm's running statistics) all finite; once an epoch,
        two reductions over each flat vector that allocate nothing."""
        return all_finite(self.network.params) and all_finite(self.network.state)

    def _stop_requested(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def _batch_buffers(self, X: np.ndarray, y: np.ndarray, lead: tuple[int, ...] = ()
                       ) -> dict[int, tuple]:
        """Input, target and output-gradient buffers for the full and the last partial batch
        (``lead``: axes before the rows, e.g. packed members' ``(K,)``)."""
        n, sizes = X.shape[0], {min(self.batch_size, X.shape[0])}
        if n % self.batch_size:
            sizes.add(n % self.batch_size)
        out_shape = self.network.output_shape
        return {
            m: (np.empty(lead + (m,) + X.shape[1:], dtype=X.dtype),
                np.empty(lead + (m,) + y.shape[1:], dtype=y.dtype),
                np.empty(lead + (m,) + out_shape, dtype=self.network.dtype))
            for m in sizes
        }


def fit(network: Network, X: np.ndarray, y: np.ndarray, *, loss: str | Loss,
        optimizer: str | Optimizer = "adam", lr: float = 0.001, weight_decay: float = 0.0,
        epochs: int = 100, batch_size: int = 32, seed: int | np.random.Generator | None = 0,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        observers: Sequence[Observer] = ()) -> History:
    """Train ``network`` on arrays and return its :class:`History`.

    ``optimizer`` is a name (``sgd``, ``momentum``, ``nesterov``, ``adam``) built
    with ``lr`` and ``weight_decay``, or a ready Optimizer. Every argument is
    checked before the first step (ValueError); see :meth:`Trainer.fit`.
    """
    history = History()
    if isinstance(optimizer, str):
        for name, value, least in (("lr", lr, 0.0), ("weight_decay", weight_decay, None)):
            number = isinstance(value, (int, float, np.floating)) and not isinstance(value, bool)
            if not (number and math.isfinite(value)
                    and (value > 0 if least is not None else value >= 0)):
                kind = "a positive" if least is not None else "a non-negative"
                raise ValueError(f"{name} must be {kind} finite number, got {value!r}")
        optimizer = make_optimizer(optimizer, lr=lr, weight_decay=weight_decay)
    trainer = Trainer(network, loss, optimizer, batch_size=batch_size,
                      rng=as_generator(seed), observers=[history, *observers])
    trainer.fit(X, y, epochs, validation=validation)
    return history

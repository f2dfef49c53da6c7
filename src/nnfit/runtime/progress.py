"""Progress from worker processes to the parent's console, as events — never as printing.

The parent opens a :class:`ProgressServer` on loopback and hands its address (and
a random key) to every job; a :class:`ProgressReporter` observer in the job sends
``(run, epoch, logs)`` events at most every ``interval`` seconds, and the last one
always. Events arrive on one queue in the parent, whichever process sent them,
so a live table can show each running run's epoch and losses. A job that cannot
reach the server (it runs on another machine of a cluster) trains all the same,
silently: progress is a view, never a condition of training.
"""

from __future__ import annotations

import queue
import secrets
import threading
import time
from multiprocessing.connection import Client, Listener

from ..training.observers import Observer


class ProgressServer:
    """Collects events from any number of senders; ``events`` is a ``queue.Queue``."""

    def __init__(self):

        self.key = secrets.token_bytes(16)
        self._listener = Listener(("127.0.0.1", 0), authkey=self.key)
        self.address = self._listener.address
        self.events: queue.Queue = queue.Queue()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def channel(self) -> tuple:
        """What a job needs to report back: picklable."""
        return self.address, self.key

    def _accept(self):
        while not self._closed:
            try:
                conn = self._listener.accept()
            except (OSError, EOFError):
                return
            except Exception:  # a bad handshake (wrong key): ignore that sender
                continue
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn):
        with conn:
            while True:
                try:
                    self.events.put(conn.recv())
                except (EOFError, OSError):
                    return

    def close(self):
        self._closed = True
        self._listener.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class ProgressReporter(Observer):
    """Sends ``(run, epoch, {train_loss, val_loss})`` to a :class:`ProgressServer`."""

    def __init__(self, channel: tuple | None, run: int, interval: float = 0.25):
        self.channel, self.run, self.interval = channel, run, interval

    def on_train_begin(self, trainer):
        super().on_train_begin(trainer)
        self._conn, self._sent = None, 0.0
        if self.channel is not None:

            try:
                self._conn = Client(self.channel[0], authkey=self.channel[1])
            except (OSError, EOFError, ValueError):
                self._conn = None  # another machine: train without live progress

    def _send(self, epoch, logs):
        if self._conn is None:
            return
        try:
            self._conn.send((self.run, epoch, {k: logs[k] for k in ("train_loss", "val_loss")
                                               if k in logs}))
        except (OSError, EOFError):
            self._conn = None

    def on_epoch_end(self, epoch, logs):
        now = time.monotonic()
        if now - self._sent >= self.interval:
            self._sent = now
            self._send(epoch, logs)
        self._last = (epoch, logs)

    def on_train_end(self, logs):
        if getattr(self, "_last", None):
            self._send(*self._last)
        if self._conn is not None:
            self._conn.close()

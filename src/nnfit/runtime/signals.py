"""Ctrl-C: the first press asks training to stop and keep everything; in many-run commands it
stops the pool and keeps what finished."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def _on_sigint(handler) -> Iterator[None]:
    """``handler`` answers SIGINT inside the block, the previous one after it. Signals reach
    the main thread only: elsewhere the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def noting_ctrl_c(pressed: threading.Event):
    """Mark ``pressed`` on Ctrl-C, then raise KeyboardInterrupt as usual (main thread only)."""
    def handler(signum, frame):
        pressed.set()
        raise KeyboardInterrupt

    return _on_sigint(handler)


def ctrl_c_stops(stop: threading.Event):
    """First Ctrl-C: set ``stop`` (the trainer finishes its mini-batch, drops the partial
    epoch and ends normally, so every file is written; once training is over it changes
    nothing). A second one raises at once."""
    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    return _on_sigint(handler)


def ignored_by_new_workers():
    """Ignore Ctrl-C while worker processes start: a signal ignored stays ignored across fork
    and exec, so a worker never dies of a Ctrl-C, with a traceback, while it still imports
    (a terminal's Ctrl-C reaches the whole process group; the parent owns it and stops the
    workers). Main thread only; a press within these few milliseconds is not seen."""
    return _on_sigint(signal.SIG_IGN)

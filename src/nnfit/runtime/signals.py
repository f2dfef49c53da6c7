"""Ctrl-C: the first press asks training to stop and keep everything; in many-run commands it
stops the pool and keeps what finished."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


@contextmanager
def noting_ctrl_c(pressed: threading.Event):
    """Mark ``pressed`` on Ctrl-C, then raise KeyboardInterrupt as usual (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        pressed.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def ctrl_c_stops(stop: threading.Event):
    """First Ctrl-C: set ``stop`` (the trainer finishes its mini-batch, drops the partial
    epoch and ends normally, so every file is written; once training is over it changes
    nothing). A second one raises at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def ignored_by_new_workers():
    """Ignore Ctrl-C while worker processes start: a signal ignored stays ignored across fork
    and exec, so a worker never dies of a Ctrl-C, with a traceback, while it still imports
    (a terminal's Ctrl-C reaches the whole process group; the parent owns it and stops the
    workers). Main thread only; a press within these few milliseconds is not seen."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)

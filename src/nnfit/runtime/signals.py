"""Ctrl-C: the first press asks training to stop and keep everything; in many-run commands it
stops the pool and keeps what finished.

SIGTERM (``kill``, a batch scheduler's time limit) and SIGHUP (a closed terminal) are
answered the same way, with the exit code of that signal: 128 + its number (130 for
SIGINT, 143 for SIGTERM, 129 for SIGHUP). Every command installs the handlers for its
whole run (:func:`handled`), so a command started from a script with SIGINT ignored
still stops cleanly, and no signal kills the parent while its workers go on computing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: the signals that stop a run as Ctrl-C does (SIGHUP where the system has it)
STOPPING = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                 if hasattr(signal, name))
RECEIVED: dict[str, int | None] = {"signum": None}  # the last stopping signal of this run


def interrupt_code() -> int:
    """The exit code of a run stopped by a signal: 128 + its number (130 for Ctrl-C)."""
    return 128 + (RECEIVED["signum"] or signal.SIGINT)


def _recorded(handler):
    def record(signum, frame):
        RECEIVED["signum"] = signum
        return handler(signum, frame)

    return record


@contextmanager
def _on_sigint(handler, signals: tuple = STOPPING) -> Iterator[None]:
    """``handler`` answers SIGINT, SIGTERM and SIGHUP (or ``signals``) inside the block, the
    previous ones after it. Signals reach the main thread only: elsewhere the block runs as
    it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    answer = handler if handler is signal.SIG_IGN else _recorded(handler)
    previous = {signum: signal.signal(signum, answer) for signum in signals}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _raise(signum, frame):
    raise KeyboardInterrupt


def handled():
    """For a whole command: a stopping signal raises KeyboardInterrupt, as Python's own
    Ctrl-C does (and SIGINT is answered even when the command was started with it
    ignored); the blocks below answer it their way. Records the signal for the exit code."""
    RECEIVED["signum"] = None
    return _on_sigint(_raise)


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
    return _on_sigint(signal.SIG_IGN, (signal.SIGINT,))

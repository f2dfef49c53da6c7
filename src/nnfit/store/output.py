"""Files a user names (``predict -o``, ``eval --confusion``, ``init -o``): how each is written.

What the name is decides how:

- ``-``: standard output.
- ``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N``, ``/proc/self/fd/N`` (what a shell's
  ``>(cmd)`` passes): the descriptor the process already holds, written where it stands (a
  ``>> file`` keeps appending); nothing is opened by name, truncated or renamed.
- Any other name that exists and is neither a regular file nor a directory (a FIFO, a
  character device such as a terminal): opened and written straight, never replaced. A block
  device or a socket is refused.
- A regular file: written atomically (:class:`nnfit.store.atomic.AtomicFile`) once all is
  written, and one that exists only with ``--force``. Without it, an existing name is refused
  before any work, and again at the end if it appeared meanwhile (the temporary file is then
  linked, never renamed, onto the name).

A :class:`Writer` opens its target at the first write, so a command that fails before it
writes leaves nothing behind and never blocks on a FIFO nobody reads.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from ..errors import FAILED, NnfitError
from .atomic import AtomicFile
from .run_dir import check_output_path

STANDARD = {"/dev/stdout": 1, "/dev/stderr": 2}
DESCRIPTOR = re.compile(r"/(?:dev|proc/self)/fd/(\d+)")


@dataclass(frozen=True)
class Output:
    """Where a file the user named goes: ``name`` as given, the ``option`` that named it, and
    ``kind``: ``stdout``, ``descriptor`` (``fd``), ``special`` (opened as it is) or ``file``
    (atomic; ``force``: an existing file may be replaced)."""

    name: str
    option: str
    kind: Literal["stdout", "descriptor", "special", "file"]
    force: bool = False
    fd: int | None = None

    def __str__(self) -> str:
        return "stdout" if self.kind == "stdout" else self.name


def already_exists(name: str | Path, option: str) -> NnfitError:
    """The refusal of an existing file without ``--force`` (``nnfit init``'s words)."""
    return NnfitError(f"{name}: already exists; pass --force to overwrite it, or {option} "
                      f"another file")


def output_target(name: str | Path, option: str, *, csv_path: str | Path, force: bool = False,
                  run_dir: str | Path | None = None) -> Output:
    """What ``name``, given to ``option``, is, checked before any work (NnfitError, exit 2).

    A regular file also passes :func:`nnfit.store.run_dir.check_output_path` (never the
    input CSV, never inside a run directory), and must not exist unless ``force``.
    """
    text = str(name)
    if text == "-":
        return Output(text, option, "stdout")
    fd = STANDARD.get(text)
    match = DESCRIPTOR.fullmatch(text)
    if match:
        fd = int(match.group(1))
    if fd is not None:
        try:
            os.fstat(fd)
        except OSError:
            raise NnfitError(f"{option} {text}: file descriptor {fd} is not open") from None
        return Output(text, option, "descriptor", fd=fd)
    try:
        mode: int | None = os.stat(text).st_mode
    except (OSError, ValueError):
        mode = None
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        if stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
            what = "a block device" if stat.S_ISBLK(mode) else "a socket"
            raise NnfitError(f"{option} {text}: is {what}; write to a file, a pipe, or - for "
                             f"stdout")
        return Output(text, option, "special")
    check_output_path(Path(text), csv_path, option, run_dir)
    if os.path.lexists(text) and not force:
        raise already_exists(text, option)
    return Output(text, option, "file", force=force)


class Writer:
    """Text written to an :class:`Output` piece by piece (UTF-8); see :func:`writing`."""

    def __init__(self, target: Output):
        self.target = target
        self._atomic: AtomicFile | None = None
        self._stream: BinaryIO | None = None

    def write(self, text: str) -> None:
        with self._errors():
            if self.target.kind == "stdout":
                sys.stdout.write(text)
                return
            if self._atomic is None and self._stream is None:
                self._open()
            if self._atomic is not None:
                self._atomic.write(text.encode("utf-8"))
            elif self._stream is not None:
                self._stream.write(text.encode("utf-8"))

    def _open(self) -> None:
        target = self.target
        if target.kind == "file":
            self._atomic = AtomicFile(target.name, replace=target.force)
        elif target.kind == "descriptor":
            assert target.fd is not None  # a descriptor target has its number
            self._stream = os.fdopen(os.dup(target.fd), "wb")
        else:  # a FIFO or a device: opened as it is, never created, truncated or replaced
            self._stream = os.fdopen(os.open(target.name, os.O_WRONLY), "wb")

    def finish(self) -> None:
        """Everything written: flush it, close it; an atomic file takes its name now."""
        with self._errors():
            if self.target.kind == "stdout":
                sys.stdout.flush()
                return
            if self._atomic is None and self._stream is None:
                self._open()  # nothing written: an empty file is still the file asked for
            if self._atomic is not None:
                self._atomic.commit()
            elif self._stream is not None:
                self._stream.close()

    def abandon(self) -> None:
        """A failure before the end: an atomic file's temporary file goes; a stream is closed
        with what it had (a reader sees the end of its input)."""
        try:
            if self._atomic is not None:
                self._atomic.discard()
            elif self._stream is not None:
                self._stream.close()
        except OSError:
            pass

    @contextmanager
    def _errors(self):
        """A failed write as one line naming the target (exit 1); a file that appeared
        meanwhile without ``--force`` is refused (exit 2), and kept."""
        target = self.target
        try:
            yield
        except OSError as exc:
            if isinstance(exc, FileExistsError) and target.kind == "file":
                raise already_exists(target.name, target.option) from None
            if isinstance(exc, BrokenPipeError) and target.kind == "stdout":
                _quiet_stdout()
            raise NnfitError(f"{target}: cannot write ({exc.strerror or exc})", FAILED) from None


@contextmanager
def writing(target: Output) -> Iterator[Writer]:
    """A :class:`Writer` for ``target``: finished at the end of the block, abandoned when the
    block raises (an atomic file then never appears)."""
    writer = Writer(target)
    try:
        yield writer
        writer.finish()
    except BaseException:
        writer.abandon()
        raise


def write_output(target: Output, text: str) -> None:
    """All of ``text`` to ``target`` at once."""
    with writing(target) as writer:
        writer.write(text)


def _quiet_stdout() -> None:
    """After the reader of stdout went away: what is still buffered goes nowhere, instead of
    a second error when Python flushes stdout at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass

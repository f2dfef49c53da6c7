"""Reading a run directory's files as untrusted input.

A run directory may come from someone else (a shared drive, an archive, a colleague's
experiment), so ``eval``, ``predict`` and ``show`` read its files through these two
functions only:

- :func:`open_run_file` opens ``RUN_DIR/NAME`` itself: a symbolic link is refused (it
  could point anywhere on the machine), and so is anything but a regular file (a FIFO would
  block forever, a device would never end). The check and the open are one system call
  (``O_NOFOLLOW``), so the file cannot be swapped for a link in between.
- :func:`read_json` reads such a file as JSON: at most ``MAX_JSON_BYTES`` (refused before
  reading), strict JSON only (no ``NaN``/``Infinity``, no number that overflows a float, no
  key given twice), and nesting too deep for the parser is an error, not a crash.
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
from pathlib import Path
from typing import BinaryIO

from ..errors import NnfitError, shorten, shown

MAX_JSON_BYTES = 50 * 2**20  # 1000 quantiles for each of 2000 columns make a ~40 MB model.json


class RunFileError(NnfitError):
    """A run's file that cannot be read: ``where`` (the file, or the run directory) and
    ``why``; the message is ``where: why``."""

    def __init__(self, where: Path, why: str):
        super().__init__(f"{where}: {why}")
        self.where, self.why = where, why


def open_run_file(run_dir: str | Path, name: str) -> BinaryIO:
    """``RUN_DIR/name`` opened for reading in binary, if it is a regular file of that directory.

    Raises NnfitError (exit 2) when it is missing, a symbolic link, not a regular file,
    or unreadable.
    """
    run_dir = Path(run_dir)
    path = run_dir / name
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) \
        | getattr(os, "O_BINARY", 0)
    try:
        if path.is_symlink():  # O_NOFOLLOW says the same, but not on every platform
            raise OSError(errno.ELOOP, "symbolic link")
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise RunFileError(run_dir, f"{name} is missing; is this a directory written by "
                         f"'nnfit train'?") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RunFileError(path, "is a symbolic link; nnfit reads a run's files only from "
                             "inside its directory (copy the file there instead)") from None
        raise RunFileError(path, f"cannot read ({exc.strerror or exc})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise RunFileError(path, "is not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_json(run_dir: str | Path, name: str, limit: int = MAX_JSON_BYTES):
    """The JSON value of ``RUN_DIR/name`` (opened with :func:`open_run_file`).

    Raises NnfitError naming the file when it is larger than ``limit`` bytes (before
    reading it), not UTF-8, not strict JSON, or nested too deeply to parse.
    """
    path = Path(run_dir) / name
    with open_run_file(run_dir, name) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > limit:
            raise RunFileError(path, f"{size / 2**20:.0f} MB, larger than the {limit / 2**20:.0f} "
                             f"MB a run's {name} may be; refused without reading it")
        data = fh.read(limit + 1)
    if len(data) > limit:  # it grew after fstat
        raise RunFileError(path, f"larger than {limit / 2**20:.0f} MB; refused")
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_no_constant,
                          parse_float=_finite_float, object_pairs_hook=_unique_keys)
    except UnicodeDecodeError as exc:
        raise RunFileError(path, f"not valid JSON (not UTF-8 text: {exc.reason} at byte "
                         f"{exc.start})") from None
    except RecursionError:
        raise RunFileError(path, "not valid JSON (nested too deeply to read)") from None
    except ValueError as exc:  # json.JSONDecodeError, and what the hooks below raise
        raise RunFileError(path, f"not valid JSON ({shorten(str(exc))})") from None


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {shorten(text, 40)} is too large for a float")
    return value


def _unique_keys(pairs: list) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen = set()
        for twice, _ in pairs:  # the first key seen again
            if twice in seen:
                break
            seen.add(twice)
        raise ValueError(f"the key {shown(twice, 79)} is given twice in one object")
    return result

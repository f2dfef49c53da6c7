"""Every output file is written at once: a temporary file in the same directory, flushed and
fsynced, then ``os.replace``-d over the target, so a reader (or a crash) never sees half a file.
``history.csv``, a log appended line by line, is the one exception (:mod:`nnfit.store.history`);
what a user names that is not a regular file (stdout, a pipe, a device) is written straight, by
:mod:`nnfit.store.output`.
"""

from __future__ import annotations

import errno
import json
import math
import os
import secrets
from pathlib import Path

from ..errors import FAILED, NnfitError


def write_atomic(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` all at once: temp file, flush, fsync, rename.

    The temp file is created with mode 0666 and the process umask applies, as for
    ``open()``; no process-wide umask is touched (threads may be writing too). When
    the disk is full or the directory unwritable, the temp file is removed, ``path``
    is left as it was, and the error is one line (NnfitError, exit code 1).
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        file = AtomicFile(path)
        try:
            file.write(payload)
            file.commit()
        except BaseException:
            file.discard()
            raise
    except OSError as exc:
        raise NnfitError(f"{path}: cannot write ({exc.strerror or exc})", FAILED) from None
    return path


class AtomicFile:
    """A file that appears whole or not at all, written in as many pieces as it takes.

    A temporary file beside ``path`` (mode 0666 under the umask) takes the writes;
    :meth:`commit` flushes and fsyncs it, then renames it onto ``path``, or with
    ``replace=False`` links it there, so that a ``path`` that exists by then (one that
    appeared while the data was made included) is never replaced: FileExistsError.
    :meth:`discard` removes the temporary file. OSError is the caller's to word.
    """

    def __init__(self, path: str | Path, replace: bool = True):
        self.path, self.replace = Path(path), replace
        self.tmp = self.path.parent / f".{self.path.name}.{secrets.token_hex(6)}.tmp"
        self.file = os.fdopen(os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666),
                              "wb")

    def write(self, data: bytes) -> None:
        self.file.write(data)

    def commit(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        if self.replace:
            os.replace(self.tmp, self.path)
        else:
            _link(self.tmp, self.path)
            self.tmp.unlink(missing_ok=True)  # the name a link left (a rename took it)

    def discard(self) -> None:
        self.file.close()
        self.tmp.unlink(missing_ok=True)


def _link(source: Path, path: Path) -> None:
    """``os.link``; where the file system has no hard links, a rename onto a path that
    does not exist (checked just before: the one moment it could be lost)."""
    try:
        os.link(source, path)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK):
            raise
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path)) from None
        os.replace(source, path)


def write_json(path: str | Path, data) -> Path:
    return write_atomic(path, json.dumps(json_safe(data), indent=2) + "\n")


def json_safe(value):
    """JSON has no NaN/inf: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value

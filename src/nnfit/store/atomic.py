"""Every output file is written at once: a temporary file in the same directory, flushed and
fsynced, then ``os.replace``-d over the target, so a reader (or a crash) never sees half a file.
``history.csv``, a log appended line by line, is the one exception (:mod:`nnfit.store.history`).
"""

from __future__ import annotations

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
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise NnfitError(f"{path}: cannot write ({exc.strerror or exc})", FAILED) from None
    return path


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

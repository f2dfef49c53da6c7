"""Run directories and model files, written atomically and read back without pickle.

Every output file goes through :func:`write_atomic`: a temporary file in the
same directory, flushed and fsynced, then ``os.replace``-d over the target, so a
reader (or a crash) never sees half a file. The exception is ``history.csv``, a
log appended and flushed line by line (:class:`HistoryWriter`). A model is ``model.npz`` (the flat
parameter vector; loaded with ``allow_pickle=False``) plus ``model.json`` (format
version, architecture, parameter layout, preprocessing, classes, nnfit version).
"""

from __future__ import annotations

import io
import json
import math
import os
import secrets
import time
from pathlib import Path

import numpy as np

from . import __version__
from .errors import FAILED, NnfitError
from .nn.network import slot_dicts
from .training.observers import Observer

FORMAT_VERSION = 1  # nnfit.model_file reads this version (a new key in model.json: a new version)


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


def make_run_dir(out: str | Path | None, name: str, root: str | Path = "runs") -> Path:
    """``out`` if given (new or empty: never anything already written), else a new
    ``runs/<name>-<timestamp>`` (``-2``, ``-3``, … when taken).

    The default directory is claimed with an exclusive ``mkdir``, so processes
    started in the same second never share one.
    """
    try:
        if out is not None:
            run_dir = Path(out)
            if run_dir.exists() and not run_dir.is_dir():
                raise NnfitError(f"--out {run_dir}: exists and is not a directory")
            if run_dir.is_dir() and any(run_dir.iterdir()):
                held = "already holds a run" if (run_dir / "model.json").exists() else "is not empty"
                raise NnfitError(f"--out {run_dir}: {held}; choose another directory or remove it")
            run_dir.mkdir(parents=True, exist_ok=True)
            return _writable(run_dir)
        Path(root).mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for suffix in range(1, 10_000):
            run_dir = Path(root) / (f"{name}-{stamp}" + (f"-{suffix}" if suffix > 1 else ""))
            try:
                run_dir.mkdir()
                return _writable(run_dir)
            except FileExistsError:
                continue
        raise NnfitError(f"{root}: too many runs named {name}-{stamp}", FAILED)
    except OSError as exc:
        where = exc.filename or out or root
        raise NnfitError(f"{where}: cannot create the run directory ({exc.strerror or exc})",
                         FAILED) from None


def save_model(run_dir: Path, network, prep, loss_name: str,
               class_weight: list[float] | None = None) -> None:
    """``model.npz`` (the parameter vector, and the non-trainable state such as batchnorm's
    running statistics) and ``model.json`` (everything to rebuild it). ``class_weight``
    (the loss's weight per class) is written beside ``loss`` when there is one.

    An :class:`~nnfit.nn.ensemble.Ensemble` is saved as its members' vectors stacked,
    ``params (n_members, n_params)``, with ``ensemble: {members: K}`` in model.json.
    """
    members = network.members
    first, stacked = members[0], len(members) > 1
    buffer = io.BytesIO()
    if stacked:
        np.savez(buffer, params=np.stack([m.params for m in members]),
                 state=np.stack([m.state for m in members]))
    else:
        np.savez(buffer, params=first.params, state=first.state)
    write_atomic(run_dir / "model.npz", buffer.getvalue())
    meta = {
        "format_version": FORMAT_VERSION,
        "nnfit_version": __version__,
        "architecture": {"input_shape": list(first.input_shape), "layers": first.specs(),
                         "dtype": first.dtype.name, "n_params": int(first.n_params)},
        "layout": slot_dicts(first.layout),
        "state_layout": slot_dicts(first.state_layout),
        "loss": loss_name,
        **({"class_weight": [float(w) for w in class_weight]} if class_weight is not None else {}),
        "preprocessing": prep.to_dict(),
        **({"ensemble": {"members": len(members)}} if stacked else {}),
    }
    write_json(run_dir / "model.json", meta)


def load_model(run_dir: str | Path):
    """``(network, preprocessor, meta)`` from a run directory.

    The files are untrusted input: :func:`nnfit.model_file.read_model` checks all of
    model.json and model.npz against one schema before anything is built, so every
    problem is one NnfitError line (exit 2). ``meta`` is model.json as parsed.
    """
    from .data.preprocess import Preprocessor
    from .model_file import read_model
    from .nn.build import build_network

    model = read_model(run_dir)
    arch = model.description.architecture
    layers = [layer.model_dump() for layer in arch.layers]
    params = model.params if model.members else model.params[None]
    states = model.state if model.members else model.state[None]
    networks = []
    for p, s in zip(params, states):
        network = build_network(layers, input_shape=tuple(arch.input_shape), dtype=arch.dtype,
                                seed=0)
        network.params[...] = p
        network.state[...] = s
        networks.append(network)
    prep = Preprocessor.from_dict(model.meta["preprocessing"])
    if not model.members:
        return networks[0], prep, model.meta
    from .nn.ensemble import Ensemble
    from .nn.losses import make_loss

    return Ensemble(networks, make_loss(model.description.loss).output_activation), prep, \
        model.meta


def _writable(run_dir: Path) -> Path:
    """``run_dir``, once a file could be created in it: an unwritable ``--out`` fails
    before any training, not at the first write."""
    probe = run_dir / f".nnfit-probe-{secrets.token_hex(4)}"
    try:
        probe.touch(exist_ok=False)
        probe.unlink()
    except OSError as exc:
        raise NnfitError(f"{run_dir}: cannot write into the run directory "
                         f"({exc.strerror or exc})", FAILED) from None
    return run_dir


class HistoryWriter(Observer):
    """Appends one ``history.csv`` row per epoch and flushes it, so a killed run keeps its history.

    The one file not written through :func:`write_atomic`: a log grows a line at a
    time, each line whole once flushed; it is fsynced when training ends. (Rewriting
    it atomically every epoch cost a quarter of a 2000-epoch run.)
    """

    def __init__(self, path: Path):
        self.path = path

    def on_train_begin(self, trainer):
        super().on_train_begin(trainer)
        self.columns: list[str] | None = None
        self._file = open(self.path, "w", encoding="utf-8", newline="")

    def on_epoch_end(self, epoch, logs):
        lines = ""
        if self.columns is None:
            self.columns = list(logs)
            lines = ",".join(self.columns) + "\n"
        self._append(lines + ",".join(_cell(logs.get(c)) for c in self.columns) + "\n")

    def _append(self, text: str) -> None:
        """Write whole lines or none: on a full disk the file is cut back to its last
        complete line, and the run stops with a one-line error."""
        try:
            good = self._file.tell()
            try:
                self._file.write(text)
                self._file.flush()
            except OSError:
                self._file = open(self.path, "r+", encoding="utf-8", newline="")
                self._file.truncate(good)
                raise
        except OSError as exc:
            raise NnfitError(f"{self.path}: cannot write ({exc.strerror or exc}); the rows "
                             f"written so far are kept", FAILED) from None

    def on_train_end(self, logs):
        if self.columns is None:  # no epoch finished: still a CSV, with its header
            self._append("epoch,train_loss\n")
        try:
            os.fsync(self._file.fileno())
            self._file.close()
        except OSError as exc:
            raise NnfitError(f"{self.path}: cannot write ({exc.strerror or exc})", FAILED) from None


def write_history(path: Path, history: dict[str, list[float]], epochs: list[int]) -> Path:
    """``history.csv`` at once, from a finished run's History (the same format as HistoryWriter)."""
    columns = list(history)
    lines = [",".join(["epoch", *(columns or ["train_loss"])])]
    lines += [",".join([str(epoch), *(_cell(history[c][i] if i < len(history[c]) else None)
                                      for c in columns)])
              for i, epoch in enumerate(epochs)]
    return write_atomic(path, "\n".join(lines) + "\n")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "nan"
    return str(value)

"""Run directories: a new one per run, never anything already written; output paths checked."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from ..errors import FAILED, NnfitError


def make_run_dir(out: str | Path | None, name: str, root: str | Path = "runs") -> Path:
    """``out`` if given (new or empty: never anything already written), else a new
    ``runs/<name>-<timestamp>`` (``-2``, ``-3``, … when taken).

    The default directory is claimed with an exclusive ``mkdir``, so processes
    started in the same second never share one.
    """
    try:
        if out is not None:
            run_dir = Path(out)
            _check_place(run_dir)
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
    except OSError as exc:  # a path the user gave, or the default runs/ here: theirs to fix
        where = exc.filename or out or root
        raise NnfitError(f"{where}: cannot create the run directory ({exc.strerror or exc})"
                         ) from None


def _check_place(run_dir: Path) -> None:
    """Refuse a dangling symbolic link, and a directory inside another run's directory."""
    if run_dir.is_symlink() and not run_dir.exists():
        raise NnfitError(f"--out {run_dir}: a symbolic link to {os.readlink(run_dir)}, which "
                         f"does not exist; give a directory")
    for parent in run_dir.absolute().parents:
        if (parent / "model.json").is_file():
            raise NnfitError(f"--out {run_dir}: is inside the run directory {parent}, which "
                             f"nnfit never writes to after training; choose a directory "
                             f"outside it")


def _writable(run_dir: Path) -> Path:
    """``run_dir``, once a file could be created in it: an unwritable ``--out`` fails
    before any training, not at the first write."""
    probe = run_dir / f".nnfit-probe-{secrets.token_hex(4)}"
    try:
        probe.touch(exist_ok=False)
        probe.unlink()
    except OSError as exc:
        raise NnfitError(f"{run_dir}: cannot write into the run directory "
                         f"({exc.strerror or exc})") from None
    return run_dir


def check_output_path(out: Path, csv_path: str | Path, option: str = "-o",
                      run_dir: str | Path | None = None) -> None:
    """Refuse an output path that is the input CSV or lies inside a run directory.

    Paths are compared after resolving symbolic links and relative parts, and a hard link
    to the input counts as the input. Nothing inside ``run_dir`` (at any depth, existing or
    not) may be written, nor any file beside another run's ``model.json``.
    """
    out, source = Path(out), Path(csv_path)
    target = out.resolve()
    if source.exists() and (target == source.resolve()
                            or (target.exists() and os.path.samefile(target, source))):
        raise NnfitError(f"{option} {out}: is the input CSV; write to another file")
    if run_dir is not None and target.is_relative_to(Path(run_dir).resolve()):
        raise NnfitError(f"{option} {out}: is inside the run directory {run_dir}, which nnfit "
                         f"never writes to after training; write to another directory")
    if (target.parent / "model.json").exists():
        raise NnfitError(f"{option} {out}: would write into the run directory {out.parent}; "
                         f"write to another directory")
    if not out.parent.is_dir():
        raise NnfitError(f"{option} {out}: directory {out.parent} does not exist")
    if out.is_dir():
        raise NnfitError(f"{option} {out}: is a directory; give a file name")

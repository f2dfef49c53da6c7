"""A sweep's files for ``--resume``: its plan, and each grid point's finished seeds.

- ``sweep_plan.json``: the data file's SHA-256, the base config's hash and its settings,
  how points are judged (``repeats``, ``cv``), and each point's name and config hash.
  Written before the first training, so an interrupted sweep can be resumed.
- ``points/<name>.npz`` + ``points/<name>.json``: a point's per-row val losses of every
  finished seed (``seed_<r>``), and per seed its numbers; with them, what the table shows
  of its first seed's run (test scores, verdict, its val curve). Written atomically after
  each seed; read back only when its config hash is the plan's.

The files are untrusted on the way back in: a point file that does not parse, whose
arrays are not 1-D finite-or-NaN floats of the validation length, or whose hash differs is
treated as not run (it is trained again), never as a crash.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import NnfitError
from .atomic import write_atomic, write_json

PLAN = "sweep_plan.json"
POINTS = "points"


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def settings_hash(settings: dict) -> str:
    """A config's (or any JSON-able settings') hash: SHA-256 of its sorted JSON."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()


def write_plan(run_dir: Path, plan: dict) -> None:
    write_json(run_dir / PLAN, plan)


def read_plan(run_dir: Path) -> dict:
    """The plan of the sweep in ``run_dir``; NnfitError when there is none to resume."""
    path = run_dir / PLAN
    try:
        plan = json.loads(path.read_text())
    except FileNotFoundError:
        raise NnfitError(f"--resume: {run_dir} holds no sweep to resume (no {PLAN})") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise NnfitError(f"--resume: {path} cannot be read ({exc})") from None
    if not isinstance(plan, dict) or not isinstance(plan.get("points"), list):
        raise NnfitError(f"--resume: {path} is not a sweep plan")
    return plan


def changed_settings(old: dict, new: dict, prefix: str = "") -> list[str]:
    """The dotted keys whose values differ between two nested settings dicts."""
    keys = sorted(set(old) | set(new)) if isinstance(old, dict) and isinstance(new, dict) else []
    if not keys:
        return [] if old == new else [prefix.rstrip(".") or "(all)"]
    changed = []
    for key in keys:
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            changed += changed_settings(a, b, f"{prefix}{key}.")
        elif a != b:
            changed.append(f"{prefix}{key}")
    return changed


def write_point(run_dir: Path, name: str, config_hash: str, seeds: dict[int, tuple],
                shown: dict) -> None:
    """Point ``name``'s finished seeds (``{repeat: (rows, numbers)}``) and what the table
    shows of its first seed's run."""
    folder = run_dir / POINTS
    folder.mkdir(exist_ok=True)
    buffer = io.BytesIO()
    arrays: dict[str, Any] = {f"seed_{r}": np.asarray(rows, np.float64)
                              for r, (rows, _) in seeds.items()}
    np.savez(buffer, **arrays)
    write_atomic(folder / f"{name}.npz", buffer.getvalue())
    write_json(folder / f"{name}.json", {"hash": config_hash,
                                         "seeds": {str(r): n for r, (_, n) in seeds.items()},
                                         "shown": shown})


def read_point(run_dir: Path, name: str, config_hash: str, n_rows: int
               ) -> tuple[dict[int, tuple], dict] | None:
    """``({repeat: (rows, numbers)}, shown)`` of a stored point whose hash is
    ``config_hash`` and whose rows are ``n_rows`` long; None when missing, changed or bad."""
    folder = run_dir / POINTS
    try:
        meta = json.loads((folder / f"{name}.json").read_text())
        if not isinstance(meta, dict) or meta.get("hash") != config_hash:
            return None
        numbers, shown = meta["seeds"], meta.get("shown") or {}
        with np.load(folder / f"{name}.npz", allow_pickle=False) as arrays:
            seeds = {}
            for key, values in numbers.items():
                rows = arrays[f"seed_{int(key)}"]
                if rows.dtype.kind != "f" or rows.shape != (n_rows,) or not isinstance(values, dict):
                    return None
                seeds[int(key)] = (rows.astype(np.float64), _numbers(values))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return seeds, shown if isinstance(shown, dict) else {}


def _numbers(values: dict) -> dict:
    """A seed's stored numbers, the non-finite ones (stored as null) back as NaN."""
    return {k: (math.nan if v is None else v) for k, v in values.items()}

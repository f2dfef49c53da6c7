"""A sweep's plan: the grid of config overrides, and each grid point's config.

The rates (``--lr``, ``--lr-range A:B:N`` log-spaced, or ``sweep: {training.lr: [...]}``
in the YAML) times any other swept key (``--set KEY=V1,V2``: a comma separates the grid's
values). Any key can be swept, those of ``data`` too (``data.scale``, ``data.exclude``,
``data.missing``...): such a point is prepared on the base's rows (``workflows.arms``).
Only the keys that decide which rows train and validate cannot: the points would not be
judged on the same rows.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from ..config.load import load_config
from ..config.overrides import parse_value
from ..errors import NnfitError
from .arms import pinned
from .fit import single_network

MAX_POINTS = 1000  # grid points in one sweep

#: the keys a sweep cannot compare on the same rows: they move the split, or the target
SPLIT_KEYS = ("data.val_fraction", "data.test_fraction", "data.split_seed")
TARGET_KEYS = ("data.target", "data.task", "data.scale_target")


def split_values(text: str) -> list[str]:
    """The grid values of a ``--set PATH=V1,V2`` value (a YAML list or mapping is one value)."""
    value = text.strip()
    if value.startswith(("[", "{")) or "," not in value:
        return [value]
    return [v.strip() for v in value.split(",")]


def grid(rates: list[float], sets: list[str], file_sweep: dict | None,
         source: str = "config") -> tuple[list[str], list[list[str]]]:
    """``(fixed overrides, one override list per grid point)``, the rate first.

    Rates given on the command line replace a ``training.lr`` of the file's ``sweep:``
    section; giving them twice on the command line is an error. Raises NnfitError
    naming where a bad plan came from.
    """
    swept: dict[str, list[str]] = {}
    for path, values in (file_sweep or {}).items():
        values = values if isinstance(values, list) else [values]
        if not values:
            raise NnfitError(f"{source}: sweep.{path}: an empty list of values")
        swept[path] = [str(v) for v in values]
    fixed = []
    for text in sets:
        path, sep, value = text.partition("=")
        values = split_values(value) if sep else [value]
        if len(values) > 1:
            if path.strip() == "training.lr" and rates:
                raise NnfitError(f"--set {text}: the rates are given twice (also by --lr or "
                                 f"--lr-range); give them one way")
            swept[path.strip()] = values
        else:
            fixed.append(text)
    if rates:
        swept["training.lr"] = [repr(r) for r in dict.fromkeys(rates)]  # each rate once
    if not swept:
        raise NnfitError("nothing to sweep: give rates, e.g. --lr 0.001 --lr 0.01, or "
                         "--lr-range 1e-4:1e-1:5, other values with --set PATH=V1,V2, or a "
                         "sweep: section in the config")
    for path in swept:
        what = ("which rows train and validate" if path in SPLIT_KEYS else
                "the target the val loss is measured on" if path in TARGET_KEYS else None)
        if what:
            raise NnfitError(f"sweep over {path}: it changes {what}, so the points could not "
                             f"be judged on the same rows; run a sweep per value instead")
    size = math.prod(len(v) for v in swept.values())
    if size > MAX_POINTS:
        raise NnfitError(f"a grid of {size:,} points ({' × '.join(str(len(v)) for v in swept.values())}"
                         f"); at most {MAX_POINTS:,}: sweep fewer values at a time")
    keys = sorted(swept, key=lambda k: k != "training.lr")  # the rate first, when swept
    points = [[f"{k}={v}" for k, v in zip(keys, combo, strict=False)]
              for combo in itertools.product(*(swept[k] for k in keys))]
    return fixed, points


def point_values(point: list[str], config) -> dict:
    """The swept values of a grid point, typed as YAML reads them, the rate always first."""
    values = {"training.lr": config.training.lr}
    values.update({p.split("=")[0]: parse_value(p.split("=", 1)[1]) for p in point})
    return values


def point_label(point: list[str]) -> str:
    """``training.lr=0.01, training.batch_size=16`` -> ``lr=0.01_batch_size=16``."""
    return "_".join(f"{p.split('=')[0].split('.')[-1]}={p.split('=', 1)[1]}" for p in point)


@dataclass
class Grid:
    """A sweep's plan: the overrides every run shares, one list per grid point, their configs."""

    fixed: list[str]
    points: list[list[str]]
    configs: list  # each point's config: split seed pinned, one BLAS thread, one network

    @property
    def keys(self) -> list[str]:
        """The swept settings, in the order of sweep.csv's columns."""
        return list(point_values(self.points[0], self.configs[0]))


def plan_grid(config_path, rates: list[float], overrides: list[str], file_sweep,
              split_seed: int | None) -> Grid:
    """The grid's points and each point's config: the base's split seed pinned (the seeds
    of ``--repeats`` never move the split), one BLAS thread, no sweep section, one network
    (``training.ensemble`` is the base's note: ``fit.single_network``)."""
    fixed, points = grid(rates, overrides, file_sweep, str(config_path))
    configs = [pinned(single_network(_point_config(config_path, fixed, point, overrides),
                                     "nnfit sweep")[0], split_seed) for point in points]
    return Grid(fixed, points, configs)


def _point_config(config_path, fixed: list[str], point: list[str], given: list[str]):
    """The config of one grid point; a bad value is blamed on where it came from: ``--set``
    for a value given on the command line, the config's ``sweep:`` section for the others."""
    from_file = {override: f"{config_path}: sweep: {override}" for override in point
                 if not any(g.partition("=")[0] == override.partition("=")[0] for g in given)}
    return load_config(config_path, [*fixed, *point], labels=from_file)

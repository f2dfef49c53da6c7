"""The one scorer: every split's loss and metrics, and the input-ignoring baseline's on the same rows.

``train``, ``--cv`` folds, curve points, ensemble members, sweep runs and the
capacity probe all score a trained network through :func:`score_splits`, so the
numbers a verdict reads are computed one way everywhere. The baseline is the best
constant prediction under the loss (the class priors, or the training mean), fitted
on the training split it is given (:func:`baseline_scores`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..data.dataset import Splits
    from .task import Task


@dataclass
class Scored:
    """Per split: ``{"rows", "loss", <metrics>}`` of the network and of the baseline, and the
    network's raw outputs ``(n_split, n_outputs)`` (for per-row losses and the confusion
    matrix). ``dead`` is the dead-ReLU census of the training rows, when it was asked for."""

    splits: dict[str, dict] = field(default_factory=dict)
    baseline: dict[str, dict] = field(default_factory=dict)
    outputs: dict[str, np.ndarray] = field(default_factory=dict)
    dead: list[dict] = field(default_factory=list)


def score_splits(network, task: Task, data: Splits, names: Iterable[str] | None = None, *,
                 baseline: bool = True, census: bool = False) -> Scored:
    """Score ``network`` on each split of ``data`` in ``names`` (default: every split).

    ``census``: count the dead ReLU units of the training rows on the same pass
    (:func:`outputs_and_dead_units`). A diverged network scores inf or NaN without a
    warning: the verdict says it in words.
    """
    scored = Scored()
    for name in data.X if names is None else names:
        X, y = data.X[name], data.y[name]
        with np.errstate(over="ignore", invalid="ignore"):
            if census and name == "train" and not hasattr(network, "members"):
                # the census rides along on the same pass (an ensemble's layers are its first
                # member's: it is counted apart, so the outputs stay the ensemble's)
                scored.outputs[name], scored.dead = outputs_and_dead_units(network, X)
            elif census and name == "train":
                scored.outputs[name] = network.predict(X)
                scored.dead = dead_units(network.members[0], X)
            else:
                scored.outputs[name] = network.predict(X)
            scored.splits[name] = {"rows": int(X.shape[0]),
                                   **task.score(scored.outputs[name], y)}
        if baseline:
            scored.baseline[name] = baseline_scores(task, data, name, network.dtype)
    return scored


def baseline_scores(task: Task, data: Splits, name: str, dtype) -> dict:
    """``{"rows", "loss", <metrics>}`` of the input-ignoring baseline on split ``name``, its
    constant fitted on ``data``'s training split."""
    y = data.y[name]
    rows = int(y.shape[0])
    outputs = task.baseline_logits(data.y["train"], rows, dtype)
    return {"rows": rows, **task.score(outputs, y)}


def row_losses(task: Task, scored: Scored, data: Splits, name: str) -> np.ndarray:
    """Each row's loss ``(n_split,)`` on split ``name``: the spread behind a standard error."""
    with np.errstate(over="ignore", invalid="ignore"):
        return task.row_losses(scored.outputs[name], data.y[name])


def outputs_and_dead_units(network, X: np.ndarray, chunk: int = 4096
                           ) -> tuple[np.ndarray, list[dict]]:
    """``network.predict(X)`` and, for each ReLU layer, the units never positive on ``X``,
    from one pass over its rows.

    Parameters
    ----------
    X : (n_samples, *input_shape), cast to the network's dtype a chunk at a time

    Returns
    -------
    outputs : (n_samples, *output_shape) in the network's dtype, as ``predict`` gives them
    dead : one record per ReLU layer (``layer``, ``description``, ``units``, ``dead``, ``share``)
    """
    alive: dict[int, np.ndarray] = {}
    outputs = np.empty((X.shape[0],) + tuple(network.output_shape), dtype=network.dtype)
    last = len(network.layers) - 1
    for start in range(0, X.shape[0], chunk):
        x = rows = np.asarray(X[start:start + chunk], dtype=network.dtype)
        for i, layer in enumerate(network.layers):
            x = layer.forward(x, training=False,
                              **({"out": outputs[start:start + x.shape[0]]} if i == last else {}))
            if getattr(getattr(layer, "activation", None), "name", None) == "relu":
                positive = (x > 0).reshape(-1, x.shape[-1]).any(axis=0)
                alive[i] = positive | alive[i] if i in alive else positive
        if network.skip is not None:  # the linear skip adds x·W_skip
            x += network.skip.forward(rows)
    return outputs, [{"layer": i, "description": repr(network.layers[i]), "units": int(a.size),
                      "dead": int((~a).sum()), "share": float((~a).mean())}
                     for i, a in alive.items()]


def dead_units(network, X: np.ndarray, chunk: int = 4096) -> list[dict]:
    """For each ReLU layer, the units whose output is never positive on ``X``."""
    return outputs_and_dead_units(network, X, chunk)[1]


def mean_std(values: Sequence[float], *, finite_only: bool = False
             ) -> tuple[float | None, float | None]:
    """The mean and the sample standard deviation (ddof 1; 0 for one value) over runs.

    ``finite_only``: leave out runs whose value is NaN or inf (a diverged run), and give
    ``(None, None)`` when none is left; otherwise they propagate into the numbers.
    """
    if finite_only:
        values = [v for v in values if math.isfinite(v)]
        if not values:
            return None, None
    array = np.asarray(values, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return float(array.mean()), float(array.std(ddof=1)) if array.size > 1 else 0.0

"""``train --cv``'s ``curves.png``: the curves the folds' verdict was judged on.

The folds' train and val curves are aligned as
:func:`nnfit.evaluation.pooling.pooled_evidence` aligns them — **at their last epochs**,
each cut to the shortest fold's length — so the mean lines drawn are the pooled curve
the verdict read, and the pooled best epoch and the caption's numbers fall where the
verdict says. The band is the folds' spread (lowest to highest) at each epoch of that
frame. The final model's own train curve (no validation split, its own epochs) can be
drawn as a thin extra line.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...evaluation.pooling import median_epoch
from ...evaluation.verdicts import Kind
from .learning_curves import CurvesPlot, Line

KEYS = ("train_loss", "val_loss")


def aligned(histories: Sequence[dict[str, list[float]]]) -> dict[str, np.ndarray]:
    """Per key, a ``(k, n)`` array: each fold's last ``n`` values, ``n`` the shortest fold's
    number of epochs (of its train loss), as ``pooled_evidence`` cuts them."""
    n = min(len(h["train_loss"]) for h in histories)
    return {key: np.array([h[key][len(h[key]) - n:] for h in histories], dtype=float).reshape(
        len(histories), n) for key in KEYS if all(key in h for h in histories)}


def fold_plot(histories: Sequence[dict[str, list[float]]], scored_epochs: Sequence[int],
              diagnosis: dict, name: str, final: Line | None = None,
              note: str | None = None) -> CurvesPlot:
    """The plot of the folds' mean curves with their spread, the pooled best epoch
    (``diagnosis["best_epoch"]``) marked, the folds' mean scored losses at the median
    epoch they were scored at (in the aligned frame), and ``final`` as a thin line;
    titled ``name`` and the folds' verdict.

    ``histories``: each fold's ``train_loss`` and ``val_loss`` per epoch;
    ``scored_epochs``: each fold's scored epoch (its restored best, or its last).
    """
    curves = aligned(histories)
    k, n = curves["train_loss"].shape
    cut = [len(h["train_loss"]) - n for h in histories]
    with np.errstate(over="ignore", invalid="ignore"):
        mean = {key: np.mean(v, axis=0).tolist() for key, v in curves.items()}
        finite = {key: np.where(np.isfinite(v), v, np.nan) for key, v in curves.items()}
        spread = {key: (np.fmin.reduce(v, axis=0).tolist(), np.fmax.reduce(v, axis=0).tolist())
                  for key, v in finite.items()}
    shortest = 1 + int(np.argmin([len(h["train_loss"]) for h in histories]))
    xlabel = ("epoch" if not any(cut) else
              f"epoch of fold {shortest} (the shortest; each fold's last {n} epochs, aligned "
              f"at their ends)")
    scored = median_epoch([e - c for e, c in zip(scored_epochs, cut, strict=True)]) if k else 0
    limited = " (limited by the data)" if diagnosis.get("kind") == Kind.GOOD_FIT_DATA_LIMITED \
        else ""
    title = f"{name}: {diagnosis.get('verdict')}{limited}, judged on the {k} folds' curves"
    return CurvesPlot(mean, list(range(1, n + 1)), int(diagnosis.get("best_epoch") or 0), title,
                      note=note, diagnosis=diagnosis, scored_epoch=max(scored, 0),
                      scored_by="folds' mean scored loss",
                      curves_label=f" (mean of {k} folds)",
                      spread=spread, spread_label=f"lowest to highest of the {k} folds",
                      extra=[] if final is None else [_within(final, n)], xlabel=xlabel)


def _within(line: Line, n: int) -> Line:
    """``line`` cut to the frame's ``n`` epochs (its label says so): the plot is the folds'."""
    if len(line.epochs) <= n:
        return line
    return Line(f"{line.label}: first {n} of {len(line.epochs)} epochs", line.epochs[:n],
                line.values[:n])

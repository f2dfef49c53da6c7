"""The learning-curve judgement: the fit verdict at the largest size, and whether more rows help.

A learning curve is judged by **the same judge as train and ``--cv``**
(``nnfit.evaluation.diagnosis``): at the largest training size, the repeats'
evidence is pooled (their per-row validation losses averaged row by row, since
every repeat is scored on the same validation rows) and diagnosed with the same
rules, thresholds, noise model, minimum of ``MIN_VAL_ROWS`` validation rows and
wording — the capacity probe included. On the same data and config, train,
curve and ``--cv`` therefore read the same evidence the same way.

What only a curve can add is the **trend over rows**: the val loss at the two
largest sizes, compared row by row on the same validation rows (a paired
difference). When it still falls by more than ``DATA_GAIN·B_val`` and ``Z``
standard errors, **more data will help** — whatever the gap, and even when the
verdict at the largest size is a good fit.
"""

from __future__ import annotations

import math

import numpy as np

from .diagnosis import MIN_VAL_ROWS, Z
from .paired import paired_change
from .scoring import mean_std
from .verdicts import Kind

DATA_GAIN = 0.02  # val loss still falling between the two largest sizes by this share of B_val


def summarize(runs: list[dict]) -> list[dict]:
    """Per size (ascending): rows, finished repeats, mean and std of the losses and metric."""
    by_size: dict[float, list[dict]] = {}
    for run in runs:
        by_size.setdefault(run["size"], []).append(run)
    table = []
    for size in sorted(by_size):
        group = by_size[size]
        row = {"size": size, "rows": group[0]["rows"], "runs": len(group)}
        for key in ("train_loss", "val_loss", "val_metric"):
            row[f"{key}_mean"], row[f"{key}_std"] = mean_std([r[key] for r in group], finite_only=True)
        table.append(row)
    return table


def more_data(before: np.ndarray, after: np.ndarray, rows: tuple[int, int],
              base_val: float) -> dict:
    """Whether the val loss still falls from the second-largest size to the largest:
    ``before`` and ``after`` are the per-row val losses ``(n_val,)`` of the same rows."""
    paired = paired_change(before, after)  # after − before, row by row
    drop, se, z = -paired.change, paired.se, -paired.z
    falling = bool(drop > DATA_GAIN * base_val and z > Z and paired.rows >= MIN_VAL_ROWS)
    return {"from_rows": rows[0], "to_rows": rows[1], "drop": drop, "se": se, "z": z,
            "drop_vs_baseline": drop / base_val if base_val > 0 else math.nan,
            "result": falling}


def curve_verdict(diagnosis: dict, trend: dict | None, size: float, rows: int) -> dict:
    """The curve's verdict: the judge's at the largest size, with the trend over rows."""
    verdict = {**diagnosis, "size": size, "rows": rows, "more_data": trend}
    at = f"at {rows} training rows (size {size:g}): "
    verdict["reason"] = at + diagnosis["reason"]
    if not trend or not trend["result"]:
        return verdict
    fell = (f"more data will help: the val loss still fell {trend['drop']:.3g} "
            f"({trend['drop_vs_baseline']:.0%} of the baseline's, {trend['z']:.1f} standard "
            f"errors) from {trend['from_rows']} to {trend['to_rows']} rows")
    verdict["reason"] += f"; {fell}"
    if diagnosis["kind"] in (Kind.GOOD_FIT, Kind.GOOD_FIT_DATA_LIMITED, Kind.INCONCLUSIVE):
        verdict["advice"] = "more training rows will help: the val loss is still falling"
    else:
        verdict["advice"] = f"{diagnosis['advice']}; more training rows will also help"
    return verdict

"""The learning-curve judgement: what the shape of train and val loss over training-set size says.

**The verdict**, from the mean losses over repeats at each size, each loss a
share of the input-ignoring baseline's (fitted on the whole training part):
``t = train / B_train`` at the largest size that finished, ``g = (val − train) /
B_val`` there, and ``n = (gap at the smallest size − gap at the largest) / B_val``,
how much the gap closed as rows were added:

- **high variance** when the model fits its training rows (``t ≤ BIAS_TRAIN``) and
  val stays far above (``g > VARIANCE_GAP``), or when the gap is still open
  (``g > BIAS_GAP``) and clearly closing (``n > NARROWING``): more data, or
  regularization, will help;
- **high bias** when even its training rows keep ``t > BIAS_TRAIN`` of the
  baseline's loss and the gap is small (``g ≤ BIAS_GAP``) or not clearly closing
  (``n ≤ NARROWING``): the curves have levelled off high, and more data will not
  help; a more flexible model or better features will;
- otherwise **neither**.

The two exclude each other: high bias needs ``t > BIAS_TRAIN``, which rules out
the first high-variance test, and the negation of the second. High bias does
not insist on a small gap: on the underfit demo with seed 2, the 30 validation
rows are harder than the training rows (the baseline's val loss is 1.38× its
train loss), and a straight line keeps a gap of 20–35% of ``B_val`` at every
size — a difference between the rows, not a lack of them. ``VARIANCE_GAP`` is
the fit diagnosis's ``GAP``, so ``curve`` and ``train`` measure a gap in the same
units.
"""

from __future__ import annotations

from .scoring import mean_std

BIAS_TRAIN = 0.5  # train loss at the largest size above this share of B_train: high bias
VARIANCE_GAP = 0.2  # val − train there above this share of B_val (train fitted): high variance
BIAS_GAP = 0.1  # a gap above this share of B_val is still open ...
NARROWING = 0.2  # ... and clearly closing when it shrank by more than this share since the
#                  smallest size


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


def verdict(summary: list[dict], base_train: float, base_val: float) -> dict:
    """High bias, high variance or neither, from the shape of the curves (module docstring)."""
    points = [s for s in summary if s["train_loss_mean"] is not None
              and s["val_loss_mean"] is not None]
    if not points:
        return {"verdict": "no verdict", "reason": "no size has a finished run with finite losses"}
    last, first = points[-1], points[0]
    train, val = last["train_loss_mean"], last["val_loss_mean"]
    gap, gap0 = val - train, first["val_loss_mean"] - first["train_loss_mean"]
    t, g, n = train / base_train, gap / base_val, (gap0 - gap) / base_val
    facts = {"size": last["size"], "rows": last["rows"], "train_loss": train, "val_loss": val,
             "gap": gap, "first_gap": gap0, "baseline_train_loss": base_train,
             "baseline_val_loss": base_val, "train_vs_baseline": t, "gap_vs_baseline": g,
             "narrowing_vs_baseline": n}
    at = f"at {last['rows']} rows (size {last['size']:g})"
    fits = f"train loss {train:.4g} is {t:.0%} of the baseline's {base_train:.4g}"
    opened = (f"val loss {val:.4g} is {gap:.3g} above it ({g:.0%} of the baseline's "
              f"{base_val:.4g})" if gap > 0 else f"val loss {val:.4g} is no higher")
    since = (f"the gap went from {gap0:.3g} at {first['rows']} rows to {gap:.3g}"
             if len(points) > 1 else "one size: no trend")
    if (t <= BIAS_TRAIN and g > VARIANCE_GAP) or (g > BIAS_GAP and n > NARROWING):
        return {"verdict": "high variance", **facts,
                "reason": f"{at} {fits}, but {opened}; {since}",
                "advice": "more data or regularization (training.l2, a smaller "
                          "network, early stopping) will help"}
    if t > BIAS_TRAIN:
        return {"verdict": "high bias", **facts,
                "reason": f"{at} {fits}: even the training rows are fitted poorly; "
                          f"{since}, not closing",
                "advice": "more data will not help; a more flexible model or better features will"}
    return {"verdict": "neither", **facts, "reason": f"{at} {fits}; {opened}; {since}",
            "advice": "the curves call neither for more data nor for a more flexible model"}

"""The fit verdict (underfitting, overfitting, good fit) and the dead-ReLU census.

The rule, with L the per-row loss of the final weights and B the loss of the
baseline that ignores its inputs (class priors, or the training mean):

- **overfitting** when the model does clearly worse on rows it never trained on:
  ``L_val − L_train > GAP · B_val`` *and* ``L_val > RATIO · L_train``;
  or when the validation loss ended well above its best:
  ``L_val − best L_val > GAP · B_val`` (the curve turned up and no early stopping restored it);
- otherwise **underfitting** when even on its training rows the model removes
  too little of the baseline's loss: ``L_train > UNDERFIT · B_train`` (worse than the
  baseline itself usually means training failed, and the reason says so);
- otherwise **good fit**.

A numbers-first reason accompanies every verdict, and a hint when the best
epoch was the last one (more epochs might still help).
"""

from __future__ import annotations

import math

import numpy as np

GAP = 0.2  # share of the baseline loss that the generalization gap may reach
RATIO = 2.0  # and val must exceed train by this factor before it counts as overfitting
UNDERFIT = 0.5  # train loss above this share of the baseline's: too rigid


def diagnose(train: float, val: float | None, base_train: float, base_val: float | None,
             best_val: float | None, best_epoch: int, epochs_run: int) -> dict:
    """``{"verdict", "reason", ...numbers}`` from the final losses and the baseline's."""
    facts = {"train_loss": train, "val_loss": val, "baseline_train_loss": base_train,
             "train_vs_baseline": train / base_train if base_train > 0 else math.nan,
             "best_epoch": best_epoch, "epochs_since_best": epochs_run - best_epoch}
    reasons = []
    verdict = None
    if val is not None:
        gap = val - train
        facts.update(gap=gap, gap_vs_baseline=gap / base_val if base_val else math.nan)
        rise = val - best_val if best_val is not None else 0.0
        if gap > GAP * base_val and val > RATIO * train:
            verdict = "overfitting"
            reasons.append(f"val loss {val:.4g} is {val / train:.1f}× the train loss {train:.4g}; "
                           f"the gap {gap:.4g} is {gap / base_val:.0%} of the baseline's {base_val:.4g}")
        elif rise > GAP * base_val:
            verdict = "overfitting"
            reasons.append(f"val loss rose from its best {best_val:.4g} (epoch {best_epoch}) to "
                           f"{val:.4g} over the last {epochs_run - best_epoch} epochs")
    if verdict is None and train > base_train:
        verdict = "underfitting"
        reasons.append(f"train loss {train:.4g} is {train / base_train:.3g}× the input-ignoring "
                       f"baseline's {base_train:.4g}: the model fits its training rows worse than "
                       f"ignoring the inputs (is the learning rate too high?)")
    elif verdict is None and train > UNDERFIT * base_train:
        verdict = "underfitting"
        reasons.append(f"train loss {train:.4g} is {train / base_train:.0%} of the input-ignoring "
                       f"baseline's {base_train:.4g}: the model explains little even of its "
                       f"training data")
    if verdict is None:
        verdict = "good fit"
        if val is None:
            tail = "; no validation split to judge overfitting"
        elif val <= train:
            tail = f"; val loss {val:.4g} is no higher"
        else:
            tail = (f"; val loss {val:.4g} is {val - train:.2g} higher "
                    f"({(val - train) / base_val:.0%} of the baseline's {base_val:.4g})")
        reasons.append(f"train loss {train:.4g} is {train / base_train:.0%} of the input-ignoring "
                       f"baseline's {base_train:.4g}{tail}")
    if val is not None and best_epoch == epochs_run and verdict != "overfitting":
        reasons.append("val loss was still improving at the last epoch: more epochs may help")
    return {"verdict": verdict, "reason": "; ".join(reasons), **facts}


def dead_units(network, X: np.ndarray, chunk: int = 4096) -> list[dict]:
    """For each ReLU layer, the units whose output is never positive on ``X``."""
    alive: dict[int, np.ndarray] = {}
    for start in range(0, X.shape[0], chunk):
        x = np.asarray(X[start:start + chunk], dtype=network.dtype)
        for i, layer in enumerate(network.layers):
            x = layer.forward(x, training=False)
            if getattr(layer, "activation", None) is not None and layer.activation.name == "relu":
                positive = (x > 0).reshape(-1, x.shape[-1]).any(axis=0)
                alive[i] = positive | alive[i] if i in alive else positive
    return [{"layer": i, "description": repr(network.layers[i]), "units": int(a.size),
             "dead": int((~a).sum()), "share": float((~a).mean())} for i, a in alive.items()]

"""The checks that read a run's loss curves: did val rise after its best epoch, is the
generalization gap real, was train still falling at the end.

Each appends its record to the verdict's evidence and returns its finding; the order
in which they decide is ``nnfit.evaluation.diagnosis``'s.
"""

from __future__ import annotations

import math

import numpy as np

from .evidence import (
    FALLING,
    GAP,
    MEMORIZES,
    RATIO,
    RISE,
    SMALL_GAP,
    Evidence,
    Z,
    finite,
    given,
    ratio,
    se,
)
from .verdicts import Check, Kind


def rose(e: Evidence, checks: list[dict]) -> tuple[Kind, str] | None:
    """The curve turned: judged over the whole stretch after the best epoch — its mean rise
    above the best, against the noise of the row-by-row difference at its peak — not at
    the last epoch alone (which may dip back) nor at one noisy spike."""
    val, train = e.history.get("val_loss", []), e.history.get("train_loss", [])
    after = val[e.best_epoch:] if e.best_epoch else []
    if len(finite(after)) < 3 or not e.best_epoch:
        return None
    best = val[e.best_epoch - 1]
    peak_epoch = e.peak_epoch or e.best_epoch + 1 + int(np.nanargmax(np.asarray(after, float)))
    peak = val[peak_epoch - 1]
    paired = e.rise_rows is not None
    rise = float(e.rise_rows.mean()) if e.rise_rows is not None else peak - best
    noise = se(e.rise_rows) if paired else se(e.val_rows)  # same rows: smaller noise
    mean_rise = float(np.mean(finite(after))) - best
    train_fell = bool(finite(train[-1:])) and train[-1] < train[e.best_epoch - 1]
    z = ratio(rise, noise)
    # sustained, not one spike: the stretch's mean beyond one epoch's noise, or the curve
    # still up at the end by half the peak's rise; and train fell meanwhile
    sustained = train_fell and (ratio(mean_rise, noise) > 1 or val[-1] - best > rise / 2)
    material = sustained and rise > RISE * given(e.base_val)
    result = bool(material and z > Z)
    checks.append({"check": Check.VAL_ROSE, "result": result, "best_epoch": e.best_epoch,
                   "best_val_loss": best, "peak_epoch": peak_epoch, "peak_val_loss": peak,
                   "end_val_loss": val[-1], "rise": rise, "mean_rise": mean_rise, "se": noise,
                   "rise_vs_baseline": rise / given(e.base_val), "sustained": sustained,
                   "z": z, "paired": paired, "train_fell": train_fell, "material": material,
                   "epochs_after_best": len(after), "restored": e.restored})
    if result:
        return Kind.OVERFITTING_ROSE, (
            f"val loss rose after its best {best:.4g} (epoch {e.best_epoch}) to {peak:.4g} at "
            f"epoch {peak_epoch} ({z:.1f} standard errors), {mean_rise:+.3g} on average over "
            f"the {len(after)} epochs after the best, while train loss kept falling: the "
            f"network memorizes its training rows")
    if material:
        return Kind.INCONCLUSIVE, (f"val loss rose by {rise:.3g} after epoch {e.best_epoch}, "
                                   f"only {z:.1f} standard errors, on {e.n_val} "
                                   f"validation rows")
    return None


def gap(e: Evidence, checks: list[dict]) -> tuple[Kind, str] | None:
    """The gap: the restored weights' val loss well above their train loss."""
    val_loss, base_val = given(e.val_loss), given(e.base_val)
    gap = val_loss - e.train_loss
    se_gap = math.hypot(se(e.val_rows), se(e.train_rows))
    z = ratio(gap, se_gap)
    wide = gap > GAP * base_val and val_loss > RATIO * e.train_loss
    memorized = gap > SMALL_GAP * base_val and val_loss > MEMORIZES * e.train_loss
    material = wide or memorized
    checks.append({"check": Check.GAP, "result": bool(material and z > Z), "gap": gap,
                   "gap_vs_baseline": gap / base_val if base_val else math.nan, "se": se_gap,
                   "z": z, "material": material, "val_vs_train": val_loss / e.train_loss
                   if e.train_loss > 0 else math.inf})
    if material and z > Z:
        return Kind.OVERFITTING, (
            f"val loss {val_loss:.4g} is {val_loss / e.train_loss:.1f}× the train loss "
            f"{e.train_loss:.4g}; the gap {gap:.4g} is {gap / base_val:.0%} of the baseline's "
            f"{base_val:.4g} and {z:.1f} standard errors")
    if material:
        return Kind.INCONCLUSIVE, (f"the gap {gap:.4g} between val and train loss is "
                                   f"{gap / base_val:.0%} of the baseline's but only {z:.1f} "
                                   f"standard errors on {e.n_val} validation rows")
    return None


def still_falling(e: Evidence) -> dict:
    """Whether the train loss was still dropping clearly over the last epochs."""
    train = finite(e.history.get("train_loss", []))
    w = max(3, e.epochs_run // 10)  # a tenth of the epochs
    if len(train) < 2 * w:
        return {"check": Check.STILL_LEARNING, "result": False, "window": w, "drop": 0.0,
                "why": f"fewer than {2 * w} epochs"}
    drop = float(np.mean(train[-2 * w:-w]) - np.mean(train[-w:]))
    late_best = e.best_epoch > e.epochs_run - w
    return {"check": Check.STILL_LEARNING, "result": bool(drop > FALLING * e.base_train and late_best),
            "window": w, "drop": drop, "best_epoch_in_last_window": late_best}

"""The fit verdict — from the whole learning curve, judged against the noise.

Every loss here is per row; ``B`` is the loss of the baseline that ignores its
inputs (class priors, or the training mean) on the same rows; ``se`` is a
standard error from the spread of the per-row losses. The rule, in order:

1. **diverged** when the loss became NaN/inf, or a train loss above ``BLOWN_UP·B_train``.
2. **inconclusive** when no epoch finished, or the validation split has fewer than
   ``MIN_VAL_ROWS`` rows: its noise would decide (``--cv`` pools all the rows).
3. **overfitting** (needs a validation split) when either
   - *the curve turned*: the val loss of the last epoch sits above its best by
     more than ``RISE·B_val`` and ``Z`` standard errors of the row-by-row
     difference (the same rows at both epochs) while the train loss fell over the
     same epochs — even when early stopping restored an early best epoch's weights.
     How many epochs follow the best is the early-stopping patience: a short
     patience shows a shorter rise. Or
   - *the gap*: the restored weights' ``L_val − L_train`` exceeds ``GAP·B_val``,
     ``Z·se_gap`` and ``(RATIO − 1)·L_train``.
   A rise or gap that is material but within ``Z`` standard errors is
   **inconclusive**. (Before the next rule: weights restored from an early best
   epoch can be worse than the baseline on train while the curve says overfitting.)
4. **underfitting** when the model fits its training rows clearly worse than the
   baseline (by ``WORSE·B_train`` and ``Z·se_train``): training failed.
5. **underfitting** when the train loss was still falling clearly at the end
   (by more than ``FALLING·B_train`` between the last two windows of epochs, and
   the best epoch in the last window): more epochs, or a higher rate, would help.
6. When the train loss is above ``PROBE_ABOVE·B_train`` the model explains little
   of its training rows: too rigid, or a target the features explain only partly.
   A **capacity probe** (a wider variant trained briefly on the same split)
   tells them apart: if it cuts the train loss by more than ``PROBE_GAIN·B_train``
   with a val loss no worse, **underfitting** (more capacity helps); if not,
   **good fit**, limited by the data. Without a probe: **inconclusive**.
7. Otherwise **good fit**.

Each verdict comes with a reason in numbers, advice, and the evidence: every
check with its numbers, and the checks that could not run and why.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

MIN_VAL_ROWS = 20  # fewer validation rows: the verdict would be the noise's
Z = 2.0  # standard errors a gap or rise must exceed to count
GAP = 0.2  # share of the baseline's val loss a generalization gap must reach
RATIO = 2.0  # and val must exceed train by this factor
RISE = 0.1  # share of the baseline's val loss the val curve must climb after its best
FALLING = 0.02  # share of the baseline's train loss still lost per window at the end
BLOWN_UP = 10.0  # a train loss this many times the baseline's: it blew up, as good as NaN
WORSE = 0.05  # a train loss this share above the baseline's (and 2 SE) means training failed
PROBE_ABOVE = 0.25  # train loss above this share of the baseline's: ask the probe
PROBE_GAIN = 0.2  # the probe must cut the train loss by this share of the baseline's



class Kind(StrEnum):
    """Which verdict, finer than its label: the advice is keyed by it."""

    DIVERGED = "diverged"
    OVERFITTING = "overfitting"  # from the gap: val loss well above train loss
    OVERFITTING_ROSE = "overfitting_rose"  # val rose after its best epoch while train fell
    OVERFITTING_IDENTIFIER = "overfitting_identifier"  # memorized through an identifier column
    UNDERFITTING_COLLAPSE = "underfitting_collapse"  # a classifier that predicts one class
    UNDERFITTING_EPOCHS = "underfitting_epochs"  # still learning at the end
    UNDERFITTING_CAPACITY = "underfitting_capacity"  # the probe shows more capacity helps
    UNDERFITTING_FAILED = "underfitting_failed"  # worse than ignoring the inputs
    GOOD_FIT = "good_fit"
    GOOD_FIT_DATA_LIMITED = "good_fit_data_limited"  # the probe gains nothing: the data limits
    INCONCLUSIVE = "inconclusive"


class Check(StrEnum):
    """The checks a verdict's evidence lists, by the names ``metrics.json`` gives them."""

    VALIDATION_ROWS = "validation rows"
    VAL_ROSE = "val rose after its best"
    GAP = "generalization gap"
    WORSE = "worse than the baseline"
    STILL_LEARNING = "still learning"
    PROBE = "capacity probe"
    OVERFITTING = "overfitting"


ADVICE = {
    Kind.DIVERGED: "lower the learning rate (training.lr), or clip the inputs' scale",
    Kind.OVERFITTING: "regularize: l2 or weight_decay (adamw), dropout, a smaller network, or "
                      "more training rows",
    Kind.OVERFITTING_ROSE: "regularize (l2 or weight_decay, dropout, a smaller network) or stop "
                           "earlier: early stopping with less patience",
    Kind.OVERFITTING_IDENTIFIER: "leave the identifier column out (data.exclude): the network "
                                 "memorizes rows through it; regularizing will not help",
    Kind.UNDERFITTING_COLLAPSE: "weigh the classes (training.class_weight: balanced) so the rare "
                                "classes count",
    Kind.UNDERFITTING_EPOCHS: "train longer (training.epochs) or with a higher learning rate",
    Kind.UNDERFITTING_CAPACITY: "a larger network: more units or layers",
    Kind.UNDERFITTING_FAILED: "training made the model worse than ignoring the inputs: lower the "
                              "learning rate",
    Kind.GOOD_FIT: "nothing to fix in the fit",
    Kind.GOOD_FIT_DATA_LIMITED: "a bigger network will not help: better features or more data "
                                "might",
    Kind.INCONCLUSIVE: "run cross-validation (--cv 5) to judge on all rows",
}
VERDICT = {Kind.DIVERGED: "diverged", Kind.OVERFITTING: "overfitting",
           Kind.OVERFITTING_ROSE: "overfitting", Kind.OVERFITTING_IDENTIFIER: "overfitting",
           Kind.UNDERFITTING_COLLAPSE: "underfitting",
           Kind.UNDERFITTING_EPOCHS: "underfitting", Kind.UNDERFITTING_CAPACITY: "underfitting",
           Kind.UNDERFITTING_FAILED: "underfitting", Kind.GOOD_FIT: "good fit",
           Kind.GOOD_FIT_DATA_LIMITED: "good fit", Kind.INCONCLUSIVE: "inconclusive"}


@dataclass
class Evidence:
    """What the diagnosis reads: the restored weights' losses, the curve, and the probe."""

    train_loss: float
    base_train: float
    train_rows: np.ndarray  # per-row train losses of the restored weights
    history: dict[str, list[float]]
    best_epoch: int
    epochs_run: int
    stop_reason: str
    patience: int | None = None
    val_loss: float | None = None
    base_val: float | None = None
    val_rows: np.ndarray | None = None  # per-row val losses of the restored weights
    rise_rows: np.ndarray | None = None  # per row: val loss at the last epoch − at the best
    probe: dict | None = None  # {"train_loss", "val_loss", "layers", "epochs", "seconds"}
    probe_skipped: str | None = None  # why no probe ran, when one was wanted
    checks: list[dict] = field(default_factory=list)


def _se(rows: np.ndarray | None) -> float:
    if rows is None or rows.size < 2:
        return math.inf
    return float(np.std(rows, ddof=1) / math.sqrt(rows.size))


def _ratio(value: float, se: float) -> float:
    """How many standard errors ``value`` is (infinite when there is no spread at all)."""
    return value / se if se > 0 else math.inf


def _window(epochs_run: int) -> int:
    return max(3, epochs_run // 10)


def _given(value: float | None) -> float:
    """A validation number (``val_loss``, ``base_val``) of a run with a validation split:
    there it is set (``workflows.run.evidence_of``, ``pooling.pooled_evidence``)."""
    assert value is not None
    return value


def _finite(values) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def diagnose(e: Evidence) -> dict:
    """``{"verdict", "reason", "advice", "kind", "evidence": [...], "not_checked": [...],
    ...numbers}``: the rules of the module docstring, in order; the first that decides wins."""
    checks: list[dict] = []
    skipped: list[dict] = []
    has_val = e.val_loss is not None and e.val_rows is not None
    found = (_before_the_fit(e, has_val, checks) or (has_val and _overfitting(e, checks))
             or _training_failed(e, checks) or _still_learning(e, checks)
             or _capacity(e, has_val, checks, skipped))
    kind, reason = found
    if not has_val:
        skipped.append({"check": Check.OVERFITTING, "why": "no validation split"})
    n_val = 0 if e.val_rows is None else int(e.val_rows.size)
    numbers = {"train_loss": e.train_loss, "val_loss": e.val_loss,
               "baseline_train_loss": e.base_train, "baseline_val_loss": e.base_val,
               "train_vs_baseline": e.train_loss / e.base_train if e.base_train > 0 else math.nan,
               "val_rows": n_val, "best_epoch": e.best_epoch, "epochs_run": e.epochs_run}
    wanted = {"probe_wanted": True} if kind == Kind.INCONCLUSIVE and any(
        s["check"] == Check.PROBE for s in skipped) else {}
    return {"verdict": VERDICT[kind], "reason": reason, "advice": ADVICE[kind], "kind": kind,
            "evidence": checks, "not_checked": skipped, **numbers, **wanted}


def _before_the_fit(e: Evidence, has_val: bool, checks: list[dict]) -> tuple[Kind, str] | None:
    """Rules 1 and 2: a diverged run, no epoch, a constant target, too few validation rows."""
    if e.stop_reason == "diverged":
        return Kind.DIVERGED, f"the loss became NaN or infinite at epoch {e.epochs_run}"
    if e.base_train > 0 and e.train_loss > BLOWN_UP * e.base_train:
        return Kind.DIVERGED, (f"train loss {e.train_loss:.4g} is "
                               f"{e.train_loss / e.base_train:.3g}× the input-ignoring baseline's "
                               f"{e.base_train:.4g}: the loss blew up without becoming NaN")
    if e.epochs_run == 0:
        return Kind.INCONCLUSIVE, "no epoch finished: these are the initial weights"
    if not e.base_train > 0 or has_val and not _given(e.base_val) > 0:
        return Kind.INCONCLUSIVE, ("the target is constant, so ignoring the inputs is already "
                                   "exact: there is nothing to learn or to judge")
    n_val = 0 if e.val_rows is None else int(e.val_rows.size)
    if has_val and n_val < MIN_VAL_ROWS:
        checks.append({"check": Check.VALIDATION_ROWS, "result": False, "rows": n_val,
                       "needed": MIN_VAL_ROWS})
        return Kind.INCONCLUSIVE, (f"only {n_val} validation rows (fewer than {MIN_VAL_ROWS}): "
                                   f"a gap or a rise on so few rows is mostly noise")
    return None


def _training_failed(e: Evidence, checks: list[dict]) -> tuple[Kind, str] | None:
    """Rule 4: the model fits its training rows clearly worse than the baseline."""
    excess = e.train_loss - e.base_train
    if not excess > max(WORSE * e.base_train, Z * _se(e.train_rows)):
        return None
    checks.append({"check": Check.WORSE, "result": True, "train_loss": e.train_loss,
                   "baseline_train_loss": e.base_train})
    return Kind.UNDERFITTING_FAILED, (
        f"train loss {e.train_loss:.4g} is {e.train_loss / e.base_train:.3g}× the input-ignoring "
        f"baseline's {e.base_train:.4g}: the model fits its training rows worse than ignoring "
        f"the inputs")


def _still_learning(e: Evidence, checks: list[dict]) -> tuple[Kind, str] | None:
    """Rule 5: the train loss was still falling clearly at the end."""
    falling = _still_falling(e)
    checks.append(falling)
    if not falling["result"]:
        return None
    return Kind.UNDERFITTING_EPOCHS, (
        f"train loss was still falling at the end ({falling['drop']:.3g} over the last "
        f"{falling['window']} epochs, {falling['drop'] / e.base_train:.1%} of the baseline's) "
        f"and the best epoch was {e.best_epoch} of {e.epochs_run}")


def _capacity(e: Evidence, has_val: bool, checks: list[dict],
              skipped: list[dict]) -> tuple[Kind, str]:
    """Rules 6 and 7: a good fit, or what the capacity probe says about a high train loss."""
    share = e.train_loss / e.base_train
    if share <= PROBE_ABOVE:
        tail = (f"; val loss {e.val_loss:.4g}" if has_val else "; no validation split to judge "
                "overfitting")
        return Kind.GOOD_FIT, (f"train loss {e.train_loss:.4g} is {share:.0%} of the "
                               f"input-ignoring baseline's {e.base_train:.4g}{tail}")
    high = f"train loss {e.train_loss:.4g} is {share:.0%} of the baseline's"
    if e.probe is None:
        skipped.append({"check": Check.PROBE, "why": e.probe_skipped or "not run"})
        return Kind.INCONCLUSIVE, (f"{high}: too rigid a model, or a target the features "
                                   f"explain only partly; the capacity probe that tells them "
                                   f"apart did not run ({e.probe_skipped or 'not run'})")
    probe = e.probe
    gain = (e.train_loss - probe["train_loss"]) / e.base_train
    val_ok = not has_val or probe["val_loss"] <= _given(e.val_loss) + Z * _se(e.val_rows)
    helps = gain > PROBE_GAIN and val_ok
    checks.append({"check": Check.PROBE, "result": helps, "gain": gain, **probe})
    what = (f"a wider network ({probe['layers']}, {probe['epochs']} epochs) reached train loss "
            f"{probe['train_loss']:.4g}"
            + (f" and val loss {probe['val_loss']:.4g}" if has_val else ""))
    if helps:
        return Kind.UNDERFITTING_CAPACITY, f"{high}, and {what}: {gain:.0%} of the baseline lower"
    return Kind.GOOD_FIT_DATA_LIMITED, (f"{high}, but {what}, no clear improvement: the fit is "
                                        f"limited by the data")


def _overfitting(e: Evidence, checks: list[dict]) -> tuple[Kind, str] | None:
    """Rule 3: the curve test and the gap test; ``(kind, reason)`` or None."""
    # called with a validation split only (``has_val``)
    assert e.val_loss is not None and e.base_val is not None and e.val_rows is not None
    se_val = _se(e.val_rows)
    val = e.history.get("val_loss", [])
    train = e.history.get("train_loss", [])
    after = val[e.best_epoch:] if e.best_epoch else []
    unclear = None
    if len(_finite(after)) >= 3 and e.best_epoch and math.isfinite(val[-1]):
        best, end = val[e.best_epoch - 1], val[-1]
        paired = e.rise_rows is not None
        rise = float(e.rise_rows.mean()) if e.rise_rows is not None else end - best
        se_rise = _se(e.rise_rows) if paired else se_val  # same rows: the paired noise is smaller
        train_fell = bool(_finite(train[-1:])) and train[-1] < train[e.best_epoch - 1]
        material, significant = rise > RISE * e.base_val, rise > Z * se_rise
        checks.append({"check": Check.VAL_ROSE, "result": bool(
            material and significant and train_fell), "best_epoch": e.best_epoch,
            "best_val_loss": best, "end_val_loss": end, "rise": rise, "se": se_rise,
            "paired": paired, "train_fell": train_fell, "epochs_after_best": len(after)})
        if material and significant and train_fell:
            return Kind.OVERFITTING, (
                f"val loss rose from its best {best:.4g} (epoch {e.best_epoch}) to {end:.4g} over "
                f"the next {len(after)} epochs ({_ratio(rise, se_rise):.1f} standard errors) "
                f"while train loss kept falling: the network memorizes its training rows")
        if material and train_fell:
            unclear = (f"val loss rose by {rise:.3g} after epoch {e.best_epoch}, only "
                       f"{_ratio(rise, se_rise):.1f} standard errors")
    gap = e.val_loss - e.train_loss
    se_gap = math.hypot(se_val, _se(e.train_rows))
    material = gap > GAP * e.base_val and e.val_loss > RATIO * e.train_loss
    significant = gap > Z * se_gap
    checks.append({"check": Check.GAP, "result": bool(material and significant),
                   "gap": gap, "gap_vs_baseline": gap / e.base_val if e.base_val else math.nan,
                   "se": se_gap})
    if material and significant:
        return Kind.OVERFITTING, (
            f"val loss {e.val_loss:.4g} is {e.val_loss / e.train_loss:.1f}× the train loss "
            f"{e.train_loss:.4g}; the gap {gap:.4g} is {gap / e.base_val:.0%} of the baseline's "
            f"{e.base_val:.4g} and {_ratio(gap, se_gap):.1f} standard errors")
    if material:
        unclear = (f"the gap {gap:.4g} between val and train loss is {gap / e.base_val:.0%} of the "
                   f"baseline's but only {_ratio(gap, se_gap):.1f} standard errors")
    if unclear:
        return Kind.INCONCLUSIVE, unclear + f" on {e.val_rows.size} validation rows"
    return None


def _still_falling(e: Evidence) -> dict:
    """Whether the train loss was still dropping clearly over the last epochs."""
    train = _finite(e.history.get("train_loss", []))
    w = _window(e.epochs_run)
    if len(train) < 2 * w:
        return {"check": Check.STILL_LEARNING, "result": False, "window": w, "drop": 0.0,
                "why": f"fewer than {2 * w} epochs"}
    drop = float(np.mean(train[-2 * w:-w]) - np.mean(train[-w:]))
    late_best = e.best_epoch > e.epochs_run - w
    return {"check": Check.STILL_LEARNING, "result": bool(drop > FALLING * e.base_train and late_best),
            "window": w, "drop": drop, "best_epoch_in_last_window": late_best}


def needs_probe(e: Evidence) -> bool:
    """Whether the cheaper evidence leaves rigid-vs-data-limited open (rule 6)."""
    return e.probe is None and diagnose(e).get("probe_wanted", False)


def judge(e: Evidence, mode: str, train_probe: Callable[[], dict | None]) -> tuple[dict, bool]:
    """The verdict on ``e``, the capacity probe trained first where it is wanted; and whether
    it ran (train, ``--cv`` and any caller share this one decision).

    ``mode``: ``auto`` trains it when the cheaper evidence leaves rigid-vs-data-limited open
    (rule 6), ``always`` unless the run diverged, ``never`` not (the verdict then names
    ``--no-probe``). ``train_probe()`` trains it and gives its numbers, or None when the
    wider network would not fit in the memory available.
    """
    if mode == "never":
        e.probe_skipped = "--no-probe"
    verdict = diagnose(e)
    wanted = (e.stop_reason != "diverged" if mode == "always"
              else mode == "auto" and verdict.get("probe_wanted", False))
    if not wanted:
        return verdict, False
    e.probe = train_probe()
    if e.probe is None:
        e.probe_skipped = "the wider network would not fit in memory"
    return diagnose(e), e.probe is not None

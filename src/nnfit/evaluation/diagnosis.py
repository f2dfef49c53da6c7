"""The fit verdict — from the whole learning curve, judged against the noise.

Every loss here is per row; ``B`` is the loss of the baseline that ignores its
inputs (class priors, or the training mean) on the same rows; ``se`` is a
standard error from the spread of the per-row losses. The rule, in order:

1. **diverged** when the loss became NaN/inf, or a train loss above ``BLOWN_UP·B_train``.
2. **inconclusive** when no epoch finished, or the validation split has fewer than
   ``MIN_VAL_ROWS`` rows: its noise would decide (``--cv`` pools all the rows).
   **underfitting (collapse)** when a classifier predicts one class for ``DOMINANT``
   of the held-out rows and (almost) never a minority class right — on the training
   rows when too few of the class were held out (``nnfit.evaluation.collapse``):
   the advice is class weights, whatever the curves look like.
3. **overfitting** (needs a validation split) when either
   - *the curve turned* (``overfitting_rose``): over the whole stretch after the
     best epoch, the val loss at its peak sits above the best by more than
     ``RISE·B_val`` and ``Z`` standard errors of the row-by-row difference (the
     same rows at both epochs), the rise is sustained (the stretch's mean above one
     such standard error, or the end still up by half the peak's rise: not one
     spike), and the train loss fell — even when early stopping restored the best
     epoch's weights (the evidence says so), and even when the last epoch happened
     to dip back; one noisy spike is not enough. Or
   - *the gap* (``overfitting``): the restored weights' ``L_val − L_train`` exceeds
     ``Z·se_gap`` and either ``GAP·B_val`` with ``L_val > RATIO·L_train``, or
     ``SMALL_GAP·B_val`` with ``L_val > MEMORIZES·L_train`` (a network that
     memorizes its rows, in a task whose baseline loss is large).
   When the training rows are memorized (``L_train ≤ NEAR_ZERO·B_train``) and the
   data checks flagged identifier or high-cardinality columns, it is
   **overfitting through them** (``overfitting_identifier``): exclude them. A good
   fit or overfitting on data with a row identifier is ``overfitting_identifier`` too,
   and on data with a column that copies the target (the data checks' leaks, but for
   a range one) **overfitting through the leak** (``overfitting_leak``): the validation
   rows share the copy, so their loss measures it, not the fit.
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
   and the val loss by ``PROBE_GAIN/2·B_val``, **underfitting** (more capacity helps); if not,
   **good fit**, limited by the data. Without a probe: **inconclusive**. When the same
   network trained with the probe's recipe gets half the wider one's gain (and more
   than ``PROBE_GAIN/2``), the training is what held it back: too high a rate
   (``underfitting_rate``: the train loss never fell ``PROBE_GAIN`` below the
   baseline's, at a rate above the probe's), else too few epochs or too low a rate
   (``underfitting_epochs``).
7. Otherwise **good fit** — whose advice is never "nothing to fix" when the val loss
   is over ``MEMORIZES`` times the train loss.

A verdict whose deciding rise or gap is within ``BORDER`` standard errors of the
line ``Z`` is marked **borderline**, with the margin. A run whose saved weights are
those of epoch 0 or 1 gets a note that the model is (nearly) untrained, and why.
Each verdict comes with a reason in numbers, advice, and the evidence: every
check with its numbers, and the checks that could not run and why.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from . import curve_checks
from .collapse import collapse
from .collapse import describe as describe_collapse
from .evidence import (
    BLOWN_UP,
    BORDER,
    GAP,
    MEMORIZES,
    MIN_VAL_ROWS,
    NEAR_ZERO,
    PROBE_ABOVE,
    PROBE_GAIN,
    RISE,
    WORSE,
    Evidence,
    Z,
    finite,
    given,
    se,
)
from .verdicts import ADVICE, EXCLUDES, VERDICT, Check, Kind

__all__ = ["MIN_VAL_ROWS", "Z", "Evidence", "diagnose", "judge"]

def diagnose(e: Evidence) -> dict:
    """``{"verdict", "reason", "advice", "kind", "evidence": [...], "not_checked": [...],
    "borderline", "notes", ...numbers}``: the rules of the module docstring, in order; the
    first that decides wins."""
    checks: list[dict] = []
    skipped: list[dict] = []
    has_val = e.val_loss is not None and e.val_rows is not None
    found = (_before_the_fit(e, has_val, checks) or _collapsed(e, checks)
             or (has_val and _overfitting(e, checks)) or _training_failed(e, checks)
             or _still_learning(e, checks) or _capacity(e, has_val, checks, skipped))
    kind, reason = found
    columns = list(e.identifiers)
    settled = (Kind.GOOD_FIT, Kind.GOOD_FIT_DATA_LIMITED, Kind.OVERFITTING, Kind.OVERFITTING_ROSE)
    if e.leaks and kind in settled:  # the scores lean on the target's copy: nothing else counts
        kind, columns = Kind.OVERFITTING_LEAK, list(e.leaks)
        reason = (f"column(s) {', '.join(e.leaks)} give the target almost exactly on the "
                  f"training rows (the data checks' leak warning), so the validation loss "
                  f"{given(e.val_loss) if has_val else e.train_loss:.4g} measures the copy, not "
                  f"the fit; rows that lack it will score worse ({reason})")
    elif e.row_ids and kind in settled:  # a column no row shares: exclude it first
        kind, columns = Kind.OVERFITTING_IDENTIFIER, list(e.row_ids)
        reason += (f"; the data has row identifier column(s) {', '.join(e.row_ids)}, a distinct "
                   f"value per row: the network can only memorize rows by them")
    if not has_val:
        skipped.append({"check": Check.OVERFITTING, "why": "no validation split"})
    numbers = {"train_loss": e.train_loss, "val_loss": e.val_loss,
               "baseline_train_loss": e.base_train, "baseline_val_loss": e.base_val,
               "train_vs_baseline": e.train_loss / e.base_train if e.base_train > 0 else math.nan,
               "val_rows": e.n_val, "best_epoch": e.best_epoch, "epochs_run": e.epochs_run}
    wanted = {"probe_wanted": True} if kind == Kind.INCONCLUSIVE and any(
        s["check"] == Check.PROBE for s in skipped) else {}
    advice = ADVICE[kind]
    memorizes = has_val and kind in (Kind.GOOD_FIT, Kind.GOOD_FIT_DATA_LIMITED) and \
        given(e.val_loss) > MEMORIZES * e.train_loss
    if memorizes:  # a small gap in the baseline's units, but a network that memorizes
        advice = (f"val loss is {given(e.val_loss) / max(e.train_loss, 1e-300):.0f}× the train "
                  f"loss: the network memorizes its training rows; regularization may still "
                  f"help (nnfit doctor tries it)")
    borderline = None if kind == Kind.OVERFITTING_LEAK else _borderline(kind, checks)
    if borderline and VERDICT[kind] == "good fit" and not memorizes:
        advice = "nothing clearly wrong; a little regularization may help (nnfit doctor tries it)"
    named = {"columns": columns} if kind in EXCLUDES else {}
    return {"verdict": VERDICT[kind], "reason": reason, "advice": advice, "kind": kind,
            "borderline": borderline, "notes": _untrained(e),
            "evidence": checks, "not_checked": skipped, **named, **numbers, **wanted}


def _borderline(kind: Kind, checks: list[dict]) -> str | None:
    """The margin, in words, when the verdict could go either way: the rise or gap within ``BORDER``
    SE of ``Z``, or real but over 3/4 (a rise) or 1/2 (a gap) of the size that counts."""
    if VERDICT[kind] not in ("overfitting", "good fit", "inconclusive"):
        return None
    for check in checks:
        if check["check"] not in (Check.VAL_ROSE, Check.GAP):
            continue
        z, rose = check.get("z", math.inf), check["check"] == Check.VAL_ROSE
        if check.get("material") and abs(z - Z) < BORDER:
            side = "overfitting" if z >= Z else "not yet overfitting"
            return (f"borderline: {check['check']} is {z:.1f} standard errors, the line is {Z:g} "
                    f"({side}); another seed or more validation rows may flip it")
        share = check.get("rise_vs_baseline" if rose else "gap_vs_baseline", 0.0)
        line, near = (RISE, 0.75) if rose else (GAP, 0.5)
        if VERDICT[kind] != "overfitting" and not check.get("material") and z > Z and \
                share > near * line and check.get("sustained", True):
            return (f"borderline: {check['check']} is real ({z:.1f} standard errors) but "
                    f"{share:.1%} of the baseline's loss, under the {line:.0%} that counts")
    return None


def _untrained(e: Evidence) -> list[str]:
    """A note when the saved weights are those of epoch 0 or 1 of a longer run."""
    if e.epochs_run < 3 or e.best_epoch > 1 or e.stop_reason == "diverged":
        return []
    which = "the initial weights" if e.best_epoch == 0 else "the weights of epoch 1"
    monitored = "val" if e.val_loss is not None else "train"
    return [f"the saved model is (nearly) untrained: it has {which}, because the {monitored} "
            f"loss never improved on them in {e.epochs_run} epochs; the learning rate may be "
            f"too high (try nnfit lr-find) or the network memorized from the start"]


def _collapsed(e: Evidence, checks: list[dict]) -> tuple[Kind, str] | None:
    """Rule 2b: a classifier that predicts (almost) only one class and never a minority one."""
    if e.classes is None or e.held_true is None or e.held_pred is None or e.class_weighted:
        return None
    found = collapse(e.held_true, e.held_pred, e.classes)
    if found is None and e.train_true is not None and e.train_pred is not None:
        found = collapse(e.train_true, e.train_pred, e.classes, "training")  # few rare rows held
    if found is None:
        return None
    checks.append({"check": Check.COLLAPSE, "result": True, **found})
    return Kind.UNDERFITTING_COLLAPSE, describe_collapse(found)


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
    if not e.base_train > 0 or has_val and not given(e.base_val) > 0:
        return Kind.INCONCLUSIVE, ("the target is constant, so ignoring the inputs is already "
                                   "exact: there is nothing to learn or to judge")
    if has_val and e.n_val < MIN_VAL_ROWS:
        checks.append({"check": Check.VALIDATION_ROWS, "result": False, "rows": e.n_val,
                       "needed": MIN_VAL_ROWS})
        return Kind.INCONCLUSIVE, (f"only {e.n_val} validation rows (fewer than {MIN_VAL_ROWS}): "
                                   f"a gap or a rise on so few rows is mostly noise")
    return None


def _training_failed(e: Evidence, checks: list[dict]) -> tuple[Kind, str] | None:
    """Rule 4: the model fits its training rows clearly worse than the baseline."""
    excess = e.train_loss - e.base_train
    if not excess > max(WORSE * e.base_train, Z * se(e.train_rows)):
        return None
    checks.append({"check": Check.WORSE, "result": True, "train_loss": e.train_loss,
                   "baseline_train_loss": e.base_train})
    return Kind.UNDERFITTING_FAILED, (
        f"train loss {e.train_loss:.4g} is {e.train_loss / e.base_train:.3g}× the input-ignoring "
        f"baseline's {e.base_train:.4g}: the model fits its training rows worse than ignoring "
        f"the inputs")


def _still_learning(e: Evidence, checks: list[dict]) -> tuple[Kind, str] | None:
    """Rule 5: the train loss was still falling clearly at the end."""
    falling = curve_checks.still_falling(e)
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
    # it must generalize better too: memorizing noise also cuts the train loss
    val_ok = not has_val or probe["val_loss"] < given(e.val_loss) - PROBE_GAIN / 2 * given(e.base_val)
    helps = gain > PROBE_GAIN and val_ok
    checks.append({"check": Check.PROBE, "result": helps, "gain": gain, **probe})
    what = (f"a wider network ({probe['layers']}, {probe['epochs']} epochs) reached train loss "
            f"{probe['train_loss']:.4g}"
            + (f" and val loss {probe['val_loss']:.4g}" if has_val else ""))
    if helps:
        return _training_or_size(e, has_val, checks) or (
            Kind.UNDERFITTING_CAPACITY, f"{high}, and {what}: {gain:.0%} of the baseline lower")
    return Kind.GOOD_FIT_DATA_LIMITED, (f"{high}, but {what}, no clear improvement: the fit is "
                                        f"limited by the data")


def _training_or_size(e: Evidence, has_val: bool, checks: list[dict]
                      ) -> tuple[Kind, str] | None:
    """When the wider probe helps: does the same network, trained with the probe's recipe,
    get at least half of that gain (and a clear one)? Then the training held it back, not
    its size: a rate too high when its train loss never fell clearly below the baseline's
    at a rate above the probe's, else too few epochs or too low a rate."""
    same, probe = (e.probe or {}).get("same_width"), e.probe or {}
    if not same:
        return None
    split, base = ("val", given(e.base_val)) if has_val else ("train", e.base_train)
    now = given(e.val_loss) if has_val else e.train_loss
    wide_gain = (now - probe[f"{split}_loss"]) / base
    same_gain = (now - same[f"{split}_loss"]) / base
    result = same_gain > PROBE_GAIN / 2 and same_gain >= wide_gain / 2
    checks.append({"check": Check.SAME_WIDTH, "result": result, "gain": same_gain,
                   "wide_gain": wide_gain, "split": split, **same})
    if not result:
        return None
    lowest = min(finite(e.history.get("train_loss", [])), default=e.train_loss)
    stuck = lowest > (1 - PROBE_GAIN) * e.base_train
    lr = probe.get("main_lr")
    what = (f"the same network trained with Adam at lr {probe.get('lr')} for {same['epochs']} "
            f"epochs reached {split} loss {same[f'{split}_loss']:.4g} against "
            f"{now:.4g} ({same_gain:.0%} of the baseline's lower; the wider one "
            f"{wide_gain:.0%}): the training, not the size, holds it back")
    if stuck and lr is not None and lr > probe.get("lr", math.inf):
        return Kind.UNDERFITTING_RATE, (
            f"{what}; at lr {lr:g} the train loss never fell clearly below the baseline's")
    return Kind.UNDERFITTING_EPOCHS, what


def _overfitting(e: Evidence, checks: list[dict]) -> tuple[Kind, str] | None:
    """Rule 3: the curve test and the gap test; ``(kind, reason)`` or None. Overfitting on a
    run whose training rows are memorized and whose data has flagged identifier columns is
    memorization through them (``OVERFITTING_IDENTIFIER``)."""
    rose = curve_checks.rose(e, checks)
    found = rose if rose and rose[0] != Kind.INCONCLUSIVE else curve_checks.gap(e, checks)
    if found is None or found[0] == Kind.INCONCLUSIVE:
        return found or rose  # a material rise or gap within the noise: inconclusive
    if e.identifiers and e.train_loss <= NEAR_ZERO * e.base_train:
        names = ", ".join(e.identifiers)
        return Kind.OVERFITTING_IDENTIFIER, (
            f"{found[1]}; the training rows are memorized (train loss {e.train_loss:.3g}, "
            f"{e.train_loss / e.base_train:.1%} of the baseline's) and the data has identifier "
            f"or high-cardinality column(s) {names} to memorize them by")
    return found


def judge(e: Evidence, mode: str, train_probe: Callable[[bool], dict | str]
          ) -> tuple[dict, bool]:
    """The verdict on ``e``, the capacity probe trained first where it is wanted; and whether
    it ran (train, ``--cv`` and any caller share this one decision).

    ``mode``: ``auto`` trains it when the cheaper evidence leaves rigid-vs-data-limited open
    (rule 6), within its time budget; ``always`` unless the run diverged, whatever it costs;
    ``never`` not (the verdict then names ``--no-probe``). ``train_probe(full)`` trains it
    (``full``: past its budget) and gives its numbers, or says why it did not run (its
    budget too small, the wider network too large for the memory available).
    """
    if mode == "never":
        e.probe_skipped = "--no-probe"
    verdict = diagnose(e)
    wanted = (e.stop_reason != "diverged" if mode == "always"
              else mode == "auto" and verdict.get("probe_wanted", False))
    if not wanted:
        return verdict, False
    probe = train_probe(mode == "always")
    if isinstance(probe, str):
        e.probe, e.probe_skipped = None, probe
    else:
        e.probe = probe
    return diagnose(e), e.probe is not None

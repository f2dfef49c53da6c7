"""What of a fit verdict a learning-curves plot draws: the stretch where val rose after its best
epoch, the scored losses, the baselines, and a caption with the numbers the verdict used.

Everything here reads the diagnosis dict (``nnfit.evaluation.diagnosis.diagnose``, or
``metrics.json``'s ``diagnosis``) tolerantly: a key or a check that is missing is not drawn,
and a check this module does not know is named in the caption only when it decided.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field

from ...evaluation.verdicts import Check

CAPTION_WIDTH = 100  # characters per caption line


@dataclass(frozen=True)
class Rise:
    """Val rose after its best epoch: the stretch from ``start`` (the best) to ``end`` (the
    last epoch), which the diagnosis judges as a whole.

    ``rise``: how far val rose, at its ``peak`` when the diagnosis gives one (else at the
    end); ``se`` and ``z``: its standard error and how many of them it is; ``mean``: the
    average rise over the stretch; ``counted``: the diagnosis counted it as evidence of
    overfitting; None when no check judged it (it is seen on the curve only).
    """

    start: int
    end: int
    rise: float
    se: float | None
    counted: bool | None
    peak: int | None = None
    mean: float | None = None
    z: float | None = None


@dataclass
class Marks:
    """The annotations of one learning-curves plot (all optional: empty draws nothing)."""

    caption: str = ""
    rise: Rise | None = None
    scored: dict[str, float] = field(default_factory=dict)  # "train"/"val" -> loss
    baselines: dict[str, float] = field(default_factory=dict)  # "train"/"val" -> loss


def _number(value) -> float | None:
    """``value`` as a finite float, else None (a missing key, NaN, a string)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _checks(diagnosis: dict | None, name: str) -> list[dict]:
    return [c for c in (diagnosis or {}).get("evidence", []) or []
            if isinstance(c, dict) and c.get("check") == name]


def sigmas(value: float, se: float | None) -> str:
    """`` (3.4 SE)``: how many standard errors ``value`` is; empty without a usable ``se``."""
    se = _number(se)
    return f" ({value / se:.1f} SE)" if se is not None and se > 0 else ""


def rise_of(diagnosis: dict | None, history: dict[str, list[float]], epochs: list[int],
            best_epoch: int) -> Rise | None:
    """The stretch after the best epoch where val rose, as the diagnosis judged it (its
    ``val rose after its best`` check: ``rise``, ``se``, ``z``, ``best_epoch``, ``peak_epoch``,
    ``mean_rise``, whichever it has), or as the curve shows it when no check judged it (the
    highest val loss after the best epoch above the best). None when val did not rise."""
    last = epochs[-1] if epochs else 0
    for check in _checks(diagnosis, Check.VAL_ROSE):
        start = int(_number(check.get("best_epoch")) or best_epoch)
        rise = _number(check.get("rise"))
        if rise is None or rise <= 0 or not start or last <= start:
            return None
        peak = _number(check.get("peak_epoch"))
        return Rise(start, last, rise, _number(check.get("se")), bool(check.get("result")),
                    None if peak is None else int(peak), _number(check.get("mean_rise")),
                    _number(check.get("z")))
    val = history.get("val_loss") or []
    if not best_epoch or best_epoch not in epochs or last <= best_epoch or len(val) != len(epochs):
        return None
    at = epochs.index(best_epoch)
    after = [(v, e) for v, e in zip(map(_number, val[at + 1:]), epochs[at + 1:], strict=True)
             if v is not None]
    best = _number(val[at])
    if best is None or not after or max(after)[0] <= best:
        return None
    peak, peak_epoch = max(after)
    return Rise(best_epoch, last, peak - best, None, None, peak_epoch)


def caption(diagnosis: dict | None, curve_of: str = "", rise: Rise | None = None) -> str:
    """The verdict's key numbers in a line or two: the rise after the best epoch, the
    generalization gap, and any other check that decided (still learning, worse than the
    baseline, the capacity probe, too few validation rows); whether the verdict is
    borderline. ``curve_of`` (e.g. ``"member 1 of 5"``) names whose curve the numbers read
    off it are, when the curve is not the scored model's own. ``rise``: what :func:`rise_of`
    found (its numbers, when no check judged it)."""
    d = diagnosis or {}
    parts = [_rise_part(d, rise), _gap_part(d)]
    if curve_of and parts[0]:
        parts[0] = f"{curve_of}'s {parts[0]}"
    for check in d.get("evidence", []) or []:
        if isinstance(check, dict) and (check.get("result") or check.get("check") == Check.PROBE) \
                and check.get("check") not in (Check.VAL_ROSE, Check.GAP):
            part = _other_part(check, d)
            parts.append(f"{curve_of}'s {part}" if curve_of and check.get("check")
                         == Check.STILL_LEARNING else part)
    for check in _checks(d, Check.VALIDATION_ROWS):
        parts.append(f"only {check.get('rows')} validation rows (the verdict needs "
                     f"{check.get('needed')})")
    if d.get("borderline"):
        parts.append("borderline: another seed may flip it")
    return _lines([p for p in parts if p])


def _lines(parts: list[str]) -> str:
    """The parts joined by `` · ``, broken into lines of :data:`CAPTION_WIDTH` characters
    between parts where it can be (a part longer than a line is wrapped at its spaces)."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + 3 + len(part) <= CAPTION_WIDTH:
            lines[-1] += " · " + part
        else:
            lines += textwrap.wrap(part, CAPTION_WIDTH)
    return "\n".join(lines)


def _rise_part(d: dict, rise: Rise | None) -> str:
    checks = _checks(d, Check.VAL_ROSE)
    if not checks:
        return (f"val rose {rise.rise:.3g} after epoch {rise.start} (not judged)"
                if rise is not None else "")
    check = checks[0]
    if rise is None:
        return f"val did not rise after epoch {check.get('best_epoch')}"
    z = f" ({rise.z:.1f} SE)" if rise.z is not None else sigmas(rise.rise, rise.se)
    text = f"val rose {rise.rise:.3g}{z} after epoch {rise.start}"
    if rise.peak is not None:
        text += f" to a peak at epoch {rise.peak}"
    if rise.mean is not None:
        text += f"; {rise.mean:+.3g} on average{sigmas(rise.mean, rise.se)}"
    if check.get("train_fell") is False:
        text += "; train did not fall"
    return text


def _gap_part(d: dict) -> str:
    for check in _checks(d, Check.GAP):
        gap, train = _number(check.get("gap")), _number(d.get("train_loss"))
        if gap is None:
            return ""
        if gap <= 0:
            return f"val {-gap:.3g} below train: no gap"
        ratio = _number(check.get("val_vs_train"))
        if ratio is None and train and train > 0:
            ratio = (train + gap) / train
        times = f", val {ratio:.1f}× train" if ratio is not None else ""
        z = _number(check.get("z"))
        noise = f" ({z:.1f} SE)" if z is not None else sigmas(gap, check.get("se"))
        return f"gap {gap:.3g}{times}{noise}"
    return ""


def _other_part(check: dict, d: dict) -> str:
    name = str(check.get("check"))
    if name == Check.STILL_LEARNING and _number(check.get("drop")) is not None:
        return (f"train still falling: {check['drop']:.3g} over the last "
                f"{check.get('window')} epochs")
    if name == Check.WORSE:
        train, base = _number(check.get("train_loss")), _number(check.get("baseline_train_loss"))
        if train is not None and base:
            return f"train {train / base:.2g}× the baseline's {base:.3g}"
    if name == Check.PROBE and _number(check.get("train_loss")) is not None:
        share = _number(d.get("train_vs_baseline"))
        own = f"train {share:.0%} of the baseline's; " if share is not None else ""
        return (f"{own}a wider network ({check.get('layers')}) reached train "
                f"{check['train_loss']:.3g}{'' if check.get('result') else ': no clear gain'}")
    return name


def curve_marks(history: dict[str, list[float]], epochs: list[int], best_epoch: int,
                diagnosis: dict | None, curve_of: str = "") -> Marks:
    """Everything a learning-curves plot draws from ``diagnosis`` (None: nothing)."""
    if not diagnosis:
        return Marks()
    rise = rise_of(diagnosis, history, epochs, best_epoch)
    scored = {split: value for split in ("train", "val")
              if (value := _number(diagnosis.get(f"{split}_loss"))) is not None}
    baselines = {split: value for split in ("train", "val")
                 if (value := _number(diagnosis.get(f"baseline_{split}_loss"))) is not None}
    return Marks(caption(diagnosis, curve_of, rise), rise, scored, baselines)

"""The y axis of a loss plot: a log scale or a linear zoom, and which reference lines fit in it.

Two failures this avoids: a zoom so tight that noise in the fourth digit fills the
plot, and a reference line (the input-ignoring baseline) so far from the curves
that including it flattens them. A reference that would flatten the curves is left
out of the axis; the plot then names its value in the legend instead of drawing it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

LOG_DECADES = 1.5  # curves spanning more decades than this get a log axis
MIN_FILL = 0.4  # a reference joins the axis only if the curves keep this share of its height
MIN_SPAN = 0.1  # a linear zoom spans at least this share of the curves' largest value
NARROW_DECADES = 1.2  # a log axis this narrow labels its minor ticks too
PAD = 0.05  # margin on each side, as a share of the range (of the decades, on a log axis)


@dataclass(frozen=True)
class YAxis:
    """A y axis: ``scale`` is ``"log"`` or ``"linear"``, shown from ``lo`` to ``hi``."""

    scale: str
    lo: float
    hi: float

    def shows(self, value: float | None) -> bool:
        """Whether ``value`` (a reference line) lies inside the axis."""
        return value is not None and math.isfinite(value) and self.lo <= value <= self.hi


def _finite(values: Iterable[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def y_axis(curves: Iterable[float | None], references: Iterable[float | None] = ()) -> YAxis:
    """The axis for ``curves`` (every value drawn: losses, band edges, error-bar ends) and
    the ``references`` worth keeping in view (baselines); non-finite values are ignored.

    - curves spanning more than :data:`LOG_DECADES` decades: **log**, with each
      reference that leaves the curves at least :data:`MIN_FILL` of the decades;
    - else **linear** around the curves, at least :data:`MIN_SPAN` of their largest
      value wide (a narrower zoom would draw noise as shape), with the references
      if the curves keep :data:`MIN_FILL` of the height;
    - else, if on a log axis with the references the curves keep :data:`MIN_FILL`
      of the decades: **log**, references in view;
    - else **linear** around the curves alone (the references fall outside).
    """
    values, refs = _finite(curves), _finite(references)
    if not values:
        return _linear(*_window(refs or [0.0, 1.0]), refs)
    lo, hi = min(values), max(values)
    if lo > 0 and math.log10(hi / lo) > LOG_DECADES:
        return _log(lo, hi, refs)
    wlo, whi = _window(values)
    if refs and whi - wlo >= MIN_FILL * (max(whi, *refs) - min(wlo, *refs)):
        return _linear(min(wlo, *refs), max(whi, *refs), values)
    if refs and lo > 0 and min(refs) > 0:
        both = math.log10(max(hi, *refs) / min(lo, *refs))
        if math.log10(hi / lo) >= MIN_FILL * both:
            return _log(lo, hi, refs)
    return _linear(wlo, whi, values)


def _window(values: list[float]) -> tuple[float, float]:
    """The values' range, widened about its middle to :data:`MIN_SPAN` of the largest
    magnitude; never below zero when no value is."""
    lo, hi = min(values), max(values)
    span = max(hi - lo, MIN_SPAN * max(abs(lo), abs(hi))) or 1.0
    mid = (lo + hi) / 2
    wlo, whi = mid - span / 2, mid + span / 2
    if lo >= 0 > wlo:
        wlo, whi = 0.0, whi - wlo
    return wlo, whi


def _linear(lo: float, hi: float, values: list[float]) -> YAxis:
    pad = PAD * (hi - lo)
    bottom = lo - pad
    if values and min(values) > 0 and bottom < 0:  # losses: no negative margin
        bottom = 0.0
    return YAxis("linear", bottom, hi + pad)


def _log(lo: float, hi: float, refs: list[float]) -> YAxis:
    """A log axis over ``lo``..``hi``, widened to each positive reference that leaves the
    curves :data:`MIN_FILL` of the decades (nearest first)."""
    decades = math.log10(hi / lo)
    def added(ref: float) -> float:
        return max(0.0, math.log10(ref / hi)) + max(0.0, math.log10(lo / ref))

    for ref in sorted((r for r in refs if r > 0), key=added):
        wider = math.log10(max(hi, ref) / min(lo, ref))
        if decades >= MIN_FILL * wider:
            lo, hi = min(lo, ref), max(hi, ref)
    factor = 10 ** (PAD * math.log10(hi / lo) if hi > lo else 0.1)
    return YAxis("log", lo / factor, hi * factor)


def apply(ax, axis: YAxis) -> None:
    """Set ``ax``'s y scale and limits to ``axis``; a log axis is labelled in plain numbers
    (``0.3``, not ``3×10⁻¹``), which a narrow range labels at its minor ticks too."""
    if axis.scale == "log":
        from matplotlib.ticker import FuncFormatter, NullFormatter

        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        narrow = math.log10(axis.hi / axis.lo) <= NARROW_DECADES
        ax.yaxis.set_minor_formatter(FuncFormatter(_minor_label) if narrow else NullFormatter())
    ax.set_ylim(axis.lo, axis.hi)


def _minor_label(value: float, _position=None) -> str:
    """A minor tick's label on a narrow log axis: 2, 3, 5 times a power of ten."""
    mantissa = round(value / 10 ** math.floor(math.log10(value)), 6) if value > 0 else 0
    return f"{value:g}" if mantissa in (2, 3, 5) else ""


def reference(ax, axis: YAxis, value: float | None, label: str, **style) -> None:
    """A horizontal reference line at ``value`` (dashed unless ``style`` says otherwise) when
    ``axis`` shows it; otherwise only its legend entry, which says where it lies."""
    if value is None or not math.isfinite(value):
        return
    style = {"linestyle": "--", "linewidth": 1, "alpha": 0.7, **style}
    if axis.shows(value):
        ax.axhline(value, label=label, **style)
    else:
        where = "above" if value > axis.hi else "below"
        ax.plot([], [], label=f"{label}, {where} the plot", **style)

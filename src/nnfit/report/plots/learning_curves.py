"""Learning curves as PNG bytes (matplotlib's Agg, no display, no pyplot state): the losses per
epoch, and what the fit verdict read off them (:mod:`nnfit.report.plots.marks`) drawn on them,
so that the picture tells the story the verdict's words tell."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

from .marks import Marks, Rise, curve_marks
from .scale import YAxis, apply, reference, y_axis

NO_FINITE_LOSS = "no finite loss to draw: every value is NaN or inf"
SAME_BASELINE = 0.01  # train and val baselines this close (relative) share one line
LEGEND_COLUMN = 62  # characters: a longer label puts the legend in one column


@dataclass
class Line:
    """An extra curve drawn thin, e.g. the final model's train loss of ``--cv``."""

    label: str
    epochs: list[int]
    values: list[float]


@dataclass
class CurvesPlot:
    """What a ``curves.png`` shows.

    Parameters
    ----------
    history : ``train_loss`` and optionally ``val_loss``, one value per epoch (NaN/inf allowed)
    epochs : the epoch numbers, ``len(epochs)`` values
    best_epoch : marked with a dashed line; 0 for none
    title : chosen by the caller
    note : text written inside the axes, e.g. why the run stopped; when None and no loss is
        finite, :data:`NO_FINITE_LOSS` is written instead
    diagnosis : the fit verdict's dict (``Scores.diagnosis``); its numbers are drawn
        (:func:`~nnfit.report.plots.marks.curve_marks`): the rise after the best epoch, the
        scored train and val loss at ``scored_epoch``, the baselines, a caption
    scored_epoch : the epoch whose weights the diagnosis scored (the restored best, or the
        last); 0: the scored losses are not marked
    scored_by : whose those losses are, for the legend (``"restored weights"``, ``"ensemble of 5"``)
    curve_of : whose curve this is when it is not the scored model's (``"member 1 of 5"``):
        prefixes the caption's numbers read off the curve
    curves_label : appended to the train and val lines' labels (``" (mean of 5 folds)"``)
    spread : per history key, ``(low, high)`` per epoch, drawn as a band labelled ``spread_label``
    extra : thin extra lines
    """

    history: dict[str, list[float]]
    epochs: list[int]
    best_epoch: int
    title: str
    note: str | None = None
    diagnosis: dict | None = None
    scored_epoch: int = 0
    scored_by: str = "restored weights"
    curve_of: str = ""
    curves_label: str = ""
    spread: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    spread_label: str = ""
    extra: list[Line] = field(default_factory=list)
    xlabel: str = "epoch"


def learning_curves(plot: CurvesPlot) -> bytes:
    """The PNG bytes of :func:`curves_figure`."""
    buffer = io.BytesIO()
    curves_figure(plot).savefig(buffer, format="png")
    return buffer.getvalue()


def curves_figure(plot: CurvesPlot):
    """Train and val loss per epoch with the verdict's marks; returns a matplotlib ``Figure``
    (not attached to pyplot).

    The y axis is :func:`~nnfit.report.plots.scale.y_axis`'s (log when the curves span
    decades, else a zoom that keeps them readable, the baselines in it only when they do
    not flatten the curves; otherwise the legend gives their value). Non-finite values are
    left out of the lines and of the scale; a series with at most two finite points gets
    markers so that a single point is visible.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(8, 5.4), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    marks = curve_marks(plot.history, plot.epochs, plot.best_epoch, plot.diagnosis, plot.curve_of)
    finite = _plot_losses(ax, plot)
    if finite:
        scored = list(marks.scored.values()) if _in_range(plot.scored_epoch, plot.epochs) else []
        axis = y_axis(finite + scored, marks.baselines.values())
        apply(ax, axis)
        _draw_marks(ax, plot, marks, axis)
    elif plot.best_epoch:
        _best_line(ax, plot.best_epoch)
    _frame(ax, plot, bool(finite))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel(plot.xlabel)
    ax.set_ylabel("loss")
    fig.suptitle(plot.title, fontsize=10)
    if marks.caption:
        ax.set_title(marks.caption, fontsize=8, color="0.25")
    ax.grid(alpha=0.3)
    legend(fig, ax)
    return fig


def legend(fig, ax) -> None:
    """The legend below the axes, in two columns, so that it never covers a curve."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        wide = max(map(len, labels)) > LEGEND_COLUMN
        fig.legend(handles, labels, loc="outside lower center", ncols=1 if wide else 2,
                   fontsize=8, frameon=False)


def _in_range(epoch: int, epochs: list[int]) -> bool:
    return bool(epoch and epochs and min(epochs) <= epoch <= max(epochs))


def _plot_losses(ax, plot: CurvesPlot) -> list[float]:
    """The train and val lines (NaN where a value is not finite), their bands and the extra
    lines; every finite value drawn."""
    finite: list[float] = []
    for key, label, color in (("train_loss", "train loss", "tab:blue"),
                              ("val_loss", "val loss", "tab:orange")):
        if key not in plot.history:
            continue
        values = _clean(plot.history[key])
        points = [v for v in values if v == v]
        finite += points
        ax.plot(plot.epochs, values, label=label + plot.curves_label, color=color,
                marker="o" if len(points) <= 2 else None)
        if key in plot.spread:
            low, high = (_clean(v) for v in plot.spread[key])
            finite += [v for v in low + high if v == v]
            ax.fill_between(plot.epochs, low, high, color=color, alpha=0.18, linewidth=0,
                            label=plot.spread_label if key == "train_loss" else None)
    for line in plot.extra:
        values = _clean(line.values)
        finite += [v for v in values if v == v]
        ax.plot(line.epochs, values, color="tab:purple", linewidth=0.9, linestyle="-.",
                label=line.label)
    return finite


def _clean(values) -> list[float]:
    return [v if math.isfinite(v) else math.nan for v in map(float, values)]


def _best_line(ax, best_epoch: int) -> None:
    ax.axvline(best_epoch, color="tab:green", linestyle="--", linewidth=1,
               label=f"best epoch ({best_epoch})")


def _draw_marks(ax, plot: CurvesPlot, marks: Marks, axis: YAxis) -> None:
    """The best epoch, the rise after it, the scored losses and the baselines."""
    if plot.best_epoch:
        _best_line(ax, plot.best_epoch)
    if marks.rise is not None:
        _draw_rise(ax, plot, marks.rise)
    if marks.scored and _in_range(plot.scored_epoch, plot.epochs):
        splits = list(marks.scored)
        numbers = ", ".join(f"{s} {marks.scored[s]:.3g}" for s in splits)
        ax.scatter([plot.scored_epoch] * len(splits), [marks.scored[s] for s in splits],
                   c=["tab:blue" if s == "train" else "tab:orange" for s in splits], marker="D",
                   edgecolors="black", linewidths=0.8, s=36, zorder=4,
                   label=f"{plot.scored_by} (epoch {plot.scored_epoch}): {numbers}")
    _draw_baselines(ax, marks.baselines, axis)


def _draw_rise(ax, plot: CurvesPlot, rise: Rise) -> None:
    """The stretch from the best epoch to the end, shaded by how the verdict counted it; the
    best val loss carried across it (dotted), so the rise reads as the distance to it."""
    colour, what = {True: ("tab:red", "counted as overfitting"),
                    False: ("0.45", "not counted"),
                    None: ("0.45", "not judged")}[rise.counted]
    ax.axvspan(rise.start, rise.end, color=colour, alpha=0.09,
               label=f"val rose after its best ({what})")
    val = plot.history.get("val_loss") or []
    if rise.start in plot.epochs and len(val) == len(plot.epochs):
        best = float(val[plot.epochs.index(rise.start)])
        if math.isfinite(best):
            ax.hlines(best, rise.start, rise.end, colors="tab:orange", linestyles=":",
                      linewidth=1)
    if rise.peak in plot.epochs and len(val) == len(plot.epochs):
        peak = float(val[plot.epochs.index(rise.peak)])
        if math.isfinite(peak):
            ax.plot([rise.peak], [peak], marker="^", color=colour, linestyle="none",
                    label=f"val's peak after its best (epoch {rise.peak})")


def _draw_baselines(ax, baselines: dict[str, float], axis: YAxis) -> None:
    """The input-ignoring baseline's losses dashed, when inside the axis; else in the legend."""
    train, val = baselines.get("train"), baselines.get("val")
    lines = [("train", "tab:blue", train), ("val", "tab:orange", val)]
    if train is not None and val is not None and abs(train - val) <= SAME_BASELINE * abs(val):
        lines = [("train / val", "0.35", val)]
    for name, colour, value in lines:
        if value is not None:
            reference(ax, axis, value, f"baseline {name} loss {value:.3g} (inputs ignored)",
                      color=colour)


def _frame(ax, plot: CurvesPlot, finite: bool) -> None:
    """Every epoch in view (the non-finite last ones included); the note."""
    epochs = plot.epochs + [e for line in plot.extra for e in line.epochs]
    if epochs:
        pad = max(0.5, 0.03 * (max(epochs) - min(epochs)))
        ax.set_xlim(min(epochs) - pad, max(epochs) + pad)
    if not finite:
        ax.set_yticks([])
    note = NO_FINITE_LOSS if plot.note is None and not finite else plot.note
    if note:
        ax.text(0.5, 0.92 if finite else 0.5, note, transform=ax.transAxes, ha="center",
                va="top" if finite else "center", wrap=True, fontsize=10, color="tab:red",
                bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "tab:red",
                      "alpha": 0.9})

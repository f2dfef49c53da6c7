"""Learning curves as PNG bytes (matplotlib's Agg, no display, no pyplot state)."""

from __future__ import annotations

import io
import math

NO_FINITE_LOSS = "no finite loss to draw: every value is NaN or inf"


def learning_curves(history: dict[str, list[float]], epochs: list[int], best_epoch: int,
                    title: str, note: str | None = None, rose: bool = False) -> bytes:
    """The PNG bytes of :func:`curves_figure`."""
    buffer = io.BytesIO()
    curves_figure(history, epochs, best_epoch, title, note, rose).savefig(buffer, format="png")
    return buffer.getvalue()


def curves_figure(history: dict[str, list[float]], epochs: list[int], best_epoch: int,
                  title: str, note: str | None = None, rose: bool = False):
    """Train and val loss per epoch, the best epoch marked; a log scale when they span decades.

    Parameters
    ----------
    history : ``train_loss`` and optionally ``val_loss``, one value per epoch (NaN/inf allowed)
    epochs : the epoch numbers, ``len(epochs)`` values
    best_epoch : marked with a dashed line; 0 for none
    title : chosen by the caller
    rose : shade the epochs after ``best_epoch``: the diagnosis found the val loss
        rose there while the train loss fell (the evidence of overfitting)
    note : text written inside the axes, e.g. why the run stopped
        (``"diverged at epoch 1: the loss became NaN/inf — lower the learning rate"``).
        When it is None and no loss is finite, :data:`NO_FINITE_LOSS` is written instead.

    Non-finite values are left out of the lines and of the scale; a series with at
    most two finite points gets markers so that a single point is visible.
    Returns a matplotlib ``Figure`` (not attached to pyplot).
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(7, 4.2), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    finite = _plot_losses(ax, history, epochs)
    if best_epoch:
        ax.axvline(best_epoch, color="tab:green", linestyle="--", linewidth=1,
                   label=f"best epoch ({best_epoch})")
    if rose and best_epoch and epochs and max(epochs) > best_epoch:
        ax.axvspan(best_epoch, max(epochs), color="tab:red", alpha=0.08,
                   label="val rose, train fell")
    positive = [v for v in finite if v > 0]
    if positive and max(positive) / min(positive) > 100:
        ax.set_yscale("log")
    if epochs:  # every epoch stays in view, the non-finite last ones included
        pad = max(0.5, 0.03 * (max(epochs) - min(epochs)))
        ax.set_xlim(min(epochs) - pad, max(epochs) + pad)
    if not finite:
        ax.set_yticks([])
    if note is None and not finite:
        note = NO_FINITE_LOSS
    if note:
        _write_note(ax, note, bool(finite))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    return fig


def _plot_losses(ax, history: dict[str, list[float]], epochs: list[int]) -> list[float]:
    """The train and val lines (NaN where a value is not finite); their finite values."""
    finite: list[float] = []
    for key, label, color in (("train_loss", "train loss", "tab:blue"),
                              ("val_loss", "val loss", "tab:orange")):
        if key not in history:
            continue
        values = [v if math.isfinite(v) else math.nan for v in map(float, history[key])]
        points = [v for v in values if v == v]
        finite += points
        ax.plot(epochs, values, label=label, color=color, marker="o" if len(points) <= 2 else None)
    return finite


def _write_note(ax, note: str, curves: bool) -> None:
    """The note centred on an empty plot, along the top when there are curves to keep clear."""
    ax.text(0.5, 0.92 if curves else 0.5, note, transform=ax.transAxes, ha="center",
            va="top" if curves else "center", wrap=True, fontsize=10, color="tab:red",
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "tab:red",
                  "alpha": 0.9})

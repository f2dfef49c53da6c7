"""Learning curves over training-set size as PNG bytes (matplotlib's Agg, no pyplot state)."""

from __future__ import annotations

import io

from .scale import apply, reference, y_axis

LOG_X_SPAN = 10  # sizes spanning at least this factor get a log x axis


def size_points(summary: list[dict], key: str) -> tuple[list[int], list[float], list[float]]:
    """``(rows, mean, std)`` of ``key`` (``train_loss`` or ``val_loss``) at each size where
    some repeat gave a finite loss; std 0 where the summary has none (one repeat)."""
    points = [(s["rows"], s[f"{key}_mean"], s.get(f"{key}_std") or 0.0) for s in summary
              if s.get(f"{key}_mean") is not None]
    return [p[0] for p in points], [p[1] for p in points], [p[2] for p in points]


def drawn_values(summary: list[dict]) -> list[float]:
    """Every y value the plot draws: the means and the error bars' ends (a lower end at or
    below zero is left to the axis, not fed to a log scale)."""
    values: list[float] = []
    for key in ("train_loss", "val_loss"):
        _, mean, std = size_points(summary, key)
        for m, s in zip(mean, std, strict=True):
            values += [m, m + s] + ([m - s] if m - s > 0 else [])
    return values


def size_curves(summary: list[dict], baseline_val: float, title: str, loss: str = "loss",
                baseline_train: float | None = None) -> bytes:
    """Train and val loss against training rows, mean with ± std error bars over repeats,
    the baseline's losses as reference lines.

    Parameters
    ----------
    summary : one dict per size, ascending: ``rows`` and ``train_loss_mean``/``_std``,
        ``val_loss_mean``/``_std`` (None where no repeat gave a finite loss)
    baseline_val : the input-ignoring baseline's val loss, dashed
    baseline_train : its train loss, dotted, when given (the verdict measures train against it)
    title : chosen by the caller
    loss : the loss's name, for the y label

    The x axis is logarithmic when the largest size is at least :data:`LOG_X_SPAN`
    times the smallest, ticked at the sizes. The y axis is
    :func:`~nnfit.report.plots.scale.y_axis`'s: log when the curves span decades, else a
    zoom on them that takes in the baselines only if they leave the curves readable; a
    baseline outside it is named in the legend. Returns the PNG file's bytes.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.6), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    for key, label, color in (("train_loss", "train loss", "tab:blue"),
                              ("val_loss", "val loss", "tab:orange")):
        x, mean, std = size_points(summary, key)
        if x:
            ax.errorbar(x, mean, yerr=std, marker="o", color=color, capsize=3,
                        label=f"{label} (mean ± std over repeats)")
    axis = y_axis(drawn_values(summary), [baseline_val, baseline_train])
    apply(ax, axis)
    reference(ax, axis, baseline_val, f"baseline val loss ({baseline_val:.3g})", color="gray")
    if baseline_train is not None:
        reference(ax, axis, baseline_train, f"baseline train loss ({baseline_train:.3g})",
                  color="tab:blue", linestyle=":")
    rows = [s["rows"] for s in summary]
    if rows and max(rows) >= LOG_X_SPAN * min(rows):
        from matplotlib.ticker import NullFormatter, NullLocator

        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(rows, [str(r) for r in rows])
    if not rows:
        ax.text(0.5, 0.5, "no run finished", transform=ax.transAxes, ha="center", va="center",
                color="tab:red")
    ax.set_xlabel("training rows")
    ax.set_ylabel(f"loss ({loss})")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()

"""The learning-rate range test drawn: a PNG (matplotlib's Agg, no pyplot state) and a
small text plot for the terminal."""

from __future__ import annotations

import io
import math

import numpy as np


def view_range(smoothed: np.ndarray, skip: int = 0) -> tuple[float, float] | None:
    """The loss range worth showing: from the smoothed curve's minimum after the first
    ``skip`` steps (the average's warm-up) to its highest value between them.

    Past the minimum the loss only rises, and its last steps can be thousands of
    times higher (that is why the test stopped); a range including them would
    flatten the descent into a line. None when no value after ``skip`` is finite.
    """
    part = np.where(np.isfinite(smoothed), smoothed, np.nan)[skip:]
    if np.isnan(part).all():
        return None
    low = int(np.nanargmin(part))
    return float(part[low]), float(np.nanmax(part[:low + 1]))


def lr_find_plot(lrs: np.ndarray, smoothed: np.ndarray, index: int | None, title: str,
                 skip: int = 0) -> bytes:
    """Smoothed loss against the rate on a log axis, the suggestion marked; returns the
    PNG file's bytes.

    Parameters
    ----------
    lrs, smoothed : (n_steps,) the rate and the smoothed loss of each step
    index : the suggested step's position in ``lrs``, or None
    title : chosen by the caller
    skip : steps at the start that do not set the y range (the moving average's warm-up)

    The y axis spans the smoothed curve from its peak to its minimum
    (:func:`view_range`), so the last steps, which may be far higher, do not flatten
    the descent. (The batch losses are in ``lr_find.csv``; drawn, they mostly fall
    outside that range and hide the curve.)
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    view = view_range(smoothed, skip)
    if view is not None:
        ax.plot(lrs, smoothed, color="tab:blue", linewidth=2, label="smoothed loss")
        low, high = view
        pad = 0.08 * (high - low) or 0.05 * abs(high) or 1.0
        ax.set_ylim(low - pad, high + pad)
        if index is not None:
            suggested = float(lrs[index])
            ax.axvline(suggested, color="tab:green", linestyle="--", linewidth=1)
            ax.plot([suggested], [smoothed[index]], "o", color="tab:green",
                    label=f"suggested lr {suggested:.3g}")
        ax.set_xscale("log")
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no step finished with a finite loss", transform=ax.transAxes,
                ha="center", va="center", color="tab:red")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss (per row)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def text_plot(lrs: np.ndarray, smoothed: np.ndarray, index: int | None = None,
              width: int = 60, height: int = 10, skip: int = 0) -> list[str]:
    """Lines of a character plot of ``smoothed`` against ``log10(lrs)``.

    Each of ``width`` columns shows the median of the steps that fall into it as
    ``*``, or as ``↑``/``↓`` when that is outside the plot's range (:func:`view_range`
    with ``skip``); the column of step ``index`` (the suggestion) shows that step as
    ``o`` and a ``^`` on the axis. The left margin gives the loss of the top and bottom
    rows; the last line labels the decades of the rate (every other one beyond five;
    ``+`` on the axis).
    """
    keep = np.isfinite(smoothed) & (lrs > 0)
    view = view_range(smoothed, skip)
    if keep.sum() < 2 or view is None:
        return ["(too few steps to draw)"]
    x, y = np.log10(lrs[keep]), smoothed[keep]
    low, high = view
    x0, x1 = float(x.min()), float(x.max())
    columns = np.minimum(((x - x0) / (x1 - x0) * (width - 1)).round().astype(int), width - 1)

    def row(value: float) -> int:
        return 0 if high == low else round((high - value) / (high - low) * (height - 1))

    grid = [[" "] * width for _ in range(height)]
    for c in np.unique(columns):
        value = float(np.median(y[columns == c]))
        if value > high:
            grid[0][c] = "↑"
        elif value < low:
            grid[-1][c] = "↓"
        else:
            grid[row(value)][c] = "*"
    axis, ticks = ["-"] * width, [" "] * width
    every = 1 if x1 - x0 <= 5 else 2  # decades between labels
    for decade in range(math.ceil(x0), math.floor(x1) + 1, every):
        c = round((decade - x0) / (x1 - x0) * (width - 1))
        text = f"1e{decade:+03d}"
        at = min(c, width - len(text))  # the last label may end at its tick
        if at == 0 or ticks[at - 1] == " ":
            axis[c] = "+"
            ticks[at:at + len(text)] = text
    if index is not None and keep[index]:
        mark = int(columns[int(np.count_nonzero(keep[:index]))])
        for line in grid:
            line[mark] = " "
        grid[row(min(max(float(smoothed[index]), low), high))][mark] = "o"
        axis[mark] = "^"
    labels = [f"{high:.3g}", f"{low:.3g}"]
    margin = max(map(len, labels))
    lines = [f"{labels[0] if r == 0 else labels[1] if r == height - 1 else '':>{margin}} |"
             f"{''.join(line)}".rstrip() for r, line in enumerate(grid)]
    lines.append(f"{'':>{margin}} +{''.join(axis)}")
    lines.append(f"{'lr':>{margin}}  {''.join(ticks)}".rstrip())
    return lines

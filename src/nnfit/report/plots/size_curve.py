"""Learning curves over training-set size as PNG bytes (matplotlib's Agg, no pyplot state)."""

from __future__ import annotations

import io

LOG_X_SPAN = 10  # sizes spanning at least this factor get a log x axis


def size_curves(summary: list[dict], baseline_val: float, title: str, loss: str = "loss",
                baseline_train: float | None = None) -> bytes:
    """Train and val loss against training rows, mean ± std over repeats, the baseline dashed.

    Parameters
    ----------
    summary : one dict per size, ascending: ``rows`` and ``train_loss_mean``/``_std``,
        ``val_loss_mean``/``_std`` (None where no repeat gave a finite loss)
    baseline_val : the input-ignoring baseline's val loss, drawn as a dashed line
    baseline_train : its train loss, dotted, when given (the verdict measures train against it)
    title : chosen by the caller
    loss : the loss's name, for the y label

    The x axis is logarithmic when the largest size is at least :data:`LOG_X_SPAN`
    times the smallest, ticked at the sizes; the y axis starts at 0, so "high" reads
    as high. Returns the PNG file's bytes.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    for key, label, color in (("train_loss", "train loss", "tab:blue"),
                              ("val_loss", "val loss", "tab:orange")):
        points = [(s["rows"], s[f"{key}_mean"], s[f"{key}_std"] or 0.0) for s in summary
                  if s[f"{key}_mean"] is not None]
        if not points:
            continue
        x, mean, std = (list(v) for v in zip(*points, strict=False))
        ax.plot(x, mean, marker="o", color=color, label=f"{label} (mean ± std)")
        ax.fill_between(x, [m - s for m, s in zip(mean, std, strict=False)],
                        [m + s for m, s in zip(mean, std, strict=False)],
                        color=color, alpha=0.2, linewidth=0)
    ax.axhline(baseline_val, color="gray", linestyle="--", linewidth=1,
               label=f"baseline val loss ({baseline_val:.3g})")
    if baseline_train is not None:
        ax.axhline(baseline_train, color="tab:blue", linestyle=":", linewidth=1,
                   label=f"baseline train loss ({baseline_train:.3g})")
    rows = [s["rows"] for s in summary]
    if rows and max(rows) >= LOG_X_SPAN * min(rows):
        from matplotlib.ticker import NullFormatter, NullLocator

        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(rows, [str(r) for r in rows])
    ax.set_ylim(bottom=0)
    if not rows:
        ax.text(0.5, 0.5, "no run finished", transform=ax.transAxes, ha="center", va="center",
                color="tab:red")
    ax.set_xlabel("training rows")
    ax.set_ylabel(f"loss ({loss})")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()

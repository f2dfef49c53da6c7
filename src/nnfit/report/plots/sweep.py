"""``sweep.png``: best val loss against the rate, and every run's val-loss curve."""

from __future__ import annotations

import io
import math

from .scale import YAxis, apply, reference, y_axis


def _finite(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def usable(rows: list[dict]) -> list[dict]:
    """The runs that finished with a finite val loss (neither diverged nor failed)."""
    return [r for r in rows if r["status"] == "ok" and _finite(r["val_loss"]) is not None]


def error_bar(row: dict) -> float:
    """The run's val-loss standard error (``val_loss_se``), 0 when the row has none."""
    se = _finite(row.get("val_loss_se"))
    return se if se is not None and se > 0 else 0.0


def rate_axis(rows: list[dict], baseline: float | None = None) -> YAxis:
    """The left panel's y axis: the usable runs' val losses with their error bars; the
    failed and diverged runs do not set it (their crosses sit at its top)."""
    values = []
    for r in usable(rows):
        loss, se = float(r["val_loss"]), error_bar(r)
        values += [loss, loss + se] + ([loss - se] if loss - se > 0 else [])
    return y_axis(values, [baseline])


def curves_axis(rows: list[dict], curves: dict[int, list[float]],
                baseline: float | None = None) -> YAxis:
    """The right panel's y axis: the curves of the usable runs only, so that a run that blew
    up (its curve drawn, clipped) cannot flatten the others."""
    good = {r["run"] for r in usable(rows)}
    return y_axis([v for run, losses in curves.items() if run in good for v in losses],
                  [baseline])


def sweep_plot(rows: list[dict], curves: dict[int, list[float]], chosen: dict | None,
               title: str, baseline: float | None = None) -> bytes:
    """Left: val loss per run against ``training.lr`` (log x), ± its standard error where the
    rows give one (``val_loss_se``), the chosen run marked, diverged and failed runs as
    crosses at the top. Right: the val-loss curves of all runs overlaid. Both y axes are
    :func:`~nnfit.report.plots.scale.y_axis`'s, with ``baseline`` (the input-ignoring val
    loss) as a reference line where it leaves the runs readable, else named in the legend."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.4), dpi=110, layout="constrained")
    left, right = fig.subplots(1, 2)
    _rates(left, rows, chosen, title, baseline)
    _curves(right, rows, curves, chosen, baseline)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _values(row: dict | None, swept: list[str]) -> str:
    return ", ".join(f"{k.split('.')[-1]}={row[k]}" for k in swept) if row else "?"


def _rates(ax, rows: list[dict], chosen: dict | None, title: str, baseline: float | None) -> None:
    ok = usable(rows)
    bad = [r for r in rows if r not in ok]
    others = [k for k in (rows[0] if rows else {}) if "." in k and k != "training.lr"]
    groups: dict[tuple, list[dict]] = {}
    for r in sorted(ok, key=lambda r: float(r["training.lr"])):
        groups.setdefault(tuple(r[k] for k in others), []).append(r)
    with_se = any(error_bar(r) for r in ok)
    for key, members in groups.items():
        label = (", ".join(f"{k.split('.')[-1]}={v}" for k, v in zip(others, key, strict=False))
                 or "val loss") + (" (± SE)" if with_se else "")
        ax.errorbar([float(r["training.lr"]) for r in members], [r["val_loss"] for r in members],
                    yerr=[error_bar(r) for r in members] if with_se else None, marker="o",
                    capsize=3, label=label)
    axis = rate_axis(rows, baseline)
    apply(ax, axis)
    if bad:
        top = axis.hi if axis.scale == "linear" else axis.hi / 10 ** 0.02
        ax.scatter([float(r["training.lr"]) for r in bad], [top] * len(bad), marker="x",
                   color="tab:red", label="diverged / failed", zorder=3, clip_on=False)
    if chosen is not None:
        swept = [k for k in (rows[0] if rows else {}) if "." in k]
        ax.axvline(float(chosen["training.lr"]), color="tab:green", linestyle="--",
                   label=f"chosen: {_values(chosen, swept)}")
    reference(ax, axis, baseline, f"baseline val loss ({baseline:.3g})" if baseline is not None else "",
              color="gray")
    rates = {float(r["training.lr"]) for r in rows if _finite(r.get("training.lr")) is not None}
    if len(rates) == 1:  # one rate: the grid is over other settings, side by side at it
        rate = rates.pop()
        ax.set_xlim(rate / 2, rate * 2)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (training.lr)")
    ax.set_ylabel("val loss")
    ax.set_title(f"{title}: val loss by rate", fontsize=10)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)


def _curves(ax, rows: list[dict], curves: dict[int, list[float]], chosen: dict | None,
            baseline: float | None) -> None:
    swept = [k for k in (rows[0] if rows else {}) if "." in k]
    for run, losses in sorted(curves.items()):
        losses = [v if math.isfinite(v) else math.nan for v in losses]
        row = next((r for r in rows if r["run"] == run), None)
        ax.plot(range(1, len(losses) + 1), losses, linewidth=1,
                label=f"run {run} ({_values(row, swept)})",
                alpha=0.9 if chosen and chosen["run"] == run else 0.5)
    axis = curves_axis(rows, curves, baseline)
    apply(ax, axis)
    reference(ax, axis, baseline, f"baseline val loss ({baseline:.3g})" if baseline is not None else "",
              color="gray")
    ax.set_xlabel("epoch")
    ax.set_ylabel("val loss")
    ax.set_title("val loss per epoch, every run", fontsize=10)
    ax.grid(alpha=0.3)
    if len(curves) <= 12 and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)

"""``sweep.png``: best val loss against the rate, and every run's val-loss curve."""

from __future__ import annotations

import io
import math


def sweep_plot(rows: list[dict], curves: dict[int, list[float]], chosen: dict | None,
               title: str) -> bytes:
    """Left: val loss per run against ``training.lr`` (log x), the chosen run marked, diverged
    and failed runs as crosses at the top. Right: the val-loss curves of all runs overlaid."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.2), dpi=110, layout="constrained")
    left, right = fig.subplots(1, 2)
    ok = [r for r in rows if r["status"] == "ok" and math.isfinite(r["val_loss"])]
    bad = [r for r in rows if r not in ok]
    others = [k for k in (rows[0] if rows else {}) if "." in k and k != "training.lr"]
    groups: dict[tuple, list[dict]] = {}
    for r in sorted(ok, key=lambda r: float(r["training.lr"])):
        groups.setdefault(tuple(r[k] for k in others), []).append(r)
    for key, members in groups.items():
        label = (", ".join(f"{k.split('.')[-1]}={v}" for k, v in zip(others, key, strict=False))
                 or "val loss")
        left.plot([float(r["training.lr"]) for r in members], [r["val_loss"] for r in members],
                  marker="o", label=label)
    if bad:
        top = max((r["val_loss"] for r in ok), default=1.0)
        left.scatter([float(r["training.lr"]) for r in bad], [top] * len(bad), marker="x",
                     color="tab:red", label="diverged / failed", zorder=3)
    swept = [k for k in (rows[0] if rows else {}) if "." in k]

    def values(row):
        return ", ".join(f"{k.split('.')[-1]}={row[k]}" for k in swept)

    if chosen is not None:
        left.axvline(float(chosen["training.lr"]), color="tab:green", linestyle="--",
                     label=f"chosen: {values(chosen)}")
    left.set_xscale("log")
    left.set_xlabel("learning rate (training.lr)")
    left.set_ylabel("val loss")
    left.set_title(f"{title}: val loss by rate", fontsize=10)
    left.grid(alpha=0.3)
    if left.get_legend_handles_labels()[0]:
        left.legend(fontsize=8)
    finite = []
    for run, losses in sorted(curves.items()):
        losses = [v if math.isfinite(v) else math.nan for v in losses]
        finite += [v for v in losses if v == v]
        row = next((r for r in rows if r["run"] == run), None)
        right.plot(range(1, len(losses) + 1), losses, linewidth=1,
                   label=f"run {run} ({values(row) if row else '?'})",
                   alpha=0.9 if chosen and chosen["run"] == run else 0.5)
    positive = [v for v in finite if v > 0]
    if positive and max(positive) / min(positive) > 100:
        right.set_yscale("log")
    right.set_xlabel("epoch")
    right.set_ylabel("val loss")
    right.set_title("val loss per epoch, every run", fontsize=10)
    right.grid(alpha=0.3)
    if len(curves) <= 12 and right.get_legend_handles_labels()[0]:
        right.legend(fontsize=7)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()

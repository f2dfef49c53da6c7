"""Learning curves as PNG bytes (matplotlib's Agg, no display, no pyplot state)."""

from __future__ import annotations

import io


def learning_curves(history: dict[str, list[float]], epochs: list[int], best_epoch: int,
                    title: str) -> bytes:
    """Train and val loss per epoch, the best epoch marked; a log scale when they span decades."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    ax.plot(epochs, history["train_loss"], label="train loss", color="tab:blue")
    if "val_loss" in history:
        ax.plot(epochs, history["val_loss"], label="val loss", color="tab:orange")
    if best_epoch:
        ax.axvline(best_epoch, color="tab:green", linestyle="--", linewidth=1,
                   label=f"best epoch ({best_epoch})")
    values = [v for key in ("train_loss", "val_loss") for v in history.get(key, []) if v == v and v > 0]
    if values and max(values) / min(values) > 100:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()

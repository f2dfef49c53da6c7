"""What ``nnfit lr-find`` prints: the text plot of the range test, how it ended, the rate."""

from __future__ import annotations

from ..training.range_test import DIVERGE, warmup_steps
from .plots.lr import text_plot


def print_lr_find(console, result, width: int = 60, height: int = 10) -> None:
    """The text plot of smoothed loss against log rate, how the run ended, the suggestion."""
    for line in text_plot(result.lrs, result.smoothed, result.index, width, height,
                          skip=warmup_steps(result.steps)):
        console.print(line, markup=False, highlight=False)
    console.print(lr_stop_message(result), style="dim", markup=False)
    if result.suggested is None:
        console.print(result.rule, style="yellow", markup=False)
        return
    console.print(f"[bold green]suggested learning rate: {result.suggested:.3g}[/]  "
                  f"(step {result.index + 1}, smoothed loss {result.smoothed[result.index]:.4g})")
    console.print(result.rule, style="dim", markup=False)


def lr_stop_message(result) -> str:
    """How the range test ended, in words."""
    n = result.lrs.size
    last = f"{result.lrs[-1]:.3g}" if n else "—"
    if result.stop_reason == "exploded":
        return (f"stopped at step {n} of {result.steps} (lr {last}): the smoothed loss passed "
                f"{DIVERGE:g}× its minimum")
    if result.stop_reason == "diverged":
        return f"stopped at step {n + 1} of {result.steps}: the loss became NaN/inf"
    return f"ran all {result.steps} steps up to lr {last}"

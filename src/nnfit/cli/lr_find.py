"""``nnfit lr-find``: the learning-rate range test."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import app
from .guard import guarded
from .options import CONFIG, DATA, SEED, SET, finish, overrides


@app.command("lr-find")
@guarded
def lr_find(
    config: Path = CONFIG,
    data: Path = DATA,
    start: float = typer.Option(1e-7, help="The rate of the first mini-batch."),
    end: float = typer.Option(10.0, help="The rate of the last mini-batch."),
    steps: int = typer.Option(100, help="Mini-batches, the rate growing exponentially "
                                        "(epochs repeat as needed)."),
    out: Path | None = typer.Option(None, "--out", "-o", show_default=False,
                                       help="Output directory (default: "
                                            "runs/<config>-lr-find-<time>)."),
    sets: list[str] = SET,
    seed: int | None = SEED,
    as_json: bool = typer.Option(False, "--json", help="Print the suggestion and the curve "
                                                       "as JSON to stdout."),
) -> None:
    """Find a learning rate: one short run with a growing rate, and the rate to train at."""
    from ..report.console import make_console
    from ..report.lr_view import print_lr_find
    from ..workflows.lr_find import lr_find as run_lr_find

    messages = make_console(stderr=True)
    run = run_lr_find(config, data, start=start, end=end, steps=steps, out=out,
                      overrides=overrides(sets, seed=seed), console=messages)
    print_lr_find(messages if as_json else make_console(stderr=False), run.result)
    finish(run.run_dir, run.json() if as_json else None, run.exit_code)

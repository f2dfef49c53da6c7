"""``nnfit sweep``: one config at many learning rates (and any grid of settings)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import typer

from ..errors import NnfitError
from .app import app
from .guard import guarded
from .options import (
    CONFIG,
    DATA,
    EPOCHS,
    SCHEDULER,
    SCHEDULER_TIMEOUT,
    SEED,
    finish,
    overrides,
    where,
)


@app.command()
@guarded
def sweep(
    config: Path = CONFIG,
    data: Path = DATA,
    lr: list[float] = typer.Option([], "--lr", metavar="X", show_default=False,
                                   help="A learning rate to try (repeatable)."),
    lr_range: Optional[str] = typer.Option(None, "--lr-range", metavar="LOW:HIGH:N",
                                           help="N rates spaced evenly on a log scale."),
    sets: list[str] = typer.Option([], "--set", metavar="PATH=VALUE[,VALUE...]",
                                   show_default=False,
                                   help="Override a config value; commas sweep it as a grid "
                                        "(e.g. --set training.batch_size=16,64)."),
    seed: Optional[int] = SEED,
    epochs: Optional[int] = EPOCHS,
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", show_default=False,
                                       help="Worker processes, one BLAS thread each "
                                            "(default: one per usable core)."),
    scheduler: Optional[str] = SCHEDULER,
    scheduler_timeout: Optional[float] = SCHEDULER_TIMEOUT,
    out: Optional[Path] = typer.Option(None, "--out", "-o", show_default=False,
                                       help="Output directory (default: runs/<config>-sweep-<time>)."),
    as_json: bool = typer.Option(False, "--json", help="Print the table as JSON to stdout."),
    lr_find: bool = typer.Option(False, "--lr-find",
                                 help="Rates from the range test: 5 from a decade below to a "
                                      "decade above its suggestion."),
) -> None:
    """Train one config at many learning rates (and any grid of settings) and pick the best."""
    from ..report.console import make_console
    from ..report.sweep_view import SweepView, results_table
    from ..workflows.sweep import exit_code, parse_lr_range
    from ..workflows.sweep import sweep as run_sweep

    rates = [*lr, *(parse_lr_range(lr_range) if lr_range else [])]
    bad = [r for r in rates if not (r > 0 and math.isfinite(r))]
    if bad:
        raise NnfitError(f"--lr: learning rates must be positive and finite (got {bad[0]})")
    if lr_find and rates:
        raise NnfitError("--lr-find chooses the rates: give it without --lr or --lr-range")
    messages = make_console(stderr=True)
    view = SweepView(messages)
    try:
        record = run_sweep(config, data, rates=rates,
                           overrides=overrides(sets, seed=seed, epochs=epochs), view=view,
                           out=out, lr_find=lr_find,
                           **where(jobs, scheduler, scheduler_timeout))
    finally:
        view.close()
    if record["lr_find"]:
        messages.print(f"lr-find suggested {record['lr_find']['suggested']:.3g} "
                       f"({record['lr_find']['rule']})", markup=False, soft_wrap=True)
    report = messages if as_json else make_console(stderr=False)
    report.print(results_table(record["rows"]))
    chosen = record["chosen"]
    if chosen is None:
        messages.print("no run finished without diverging or failing: nothing to choose",
                       markup=False)
    else:
        values = ", ".join(f"{k}={chosen[k]}" for k in record["keys"])
        messages.print(f"chosen: run {chosen['run']} ({values}), val loss "
                       f"{chosen['val_loss']:.4g}; its run directory is "
                       f"{Path(record['run_dir']) / 'best'}", markup=False, soft_wrap=True)
    if record["interrupted"]:
        messages.print("interrupted: the table holds the runs that finished", markup=False)
    finish(record["run_dir"], {k: record[k] for k in ("rows", "chosen", "keys")}
            if as_json else None, exit_code(record))

"""``nnfit curve``: learning curves over training-set size."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import app
from .guard import guarded
from .options import (
    CONFIG,
    DATA,
    EPOCHS,
    LR,
    SCHEDULER,
    SCHEDULER_TIMEOUT,
    SEED,
    SET,
    finish,
    overrides,
    where,
)


@app.command()
@guarded
def curve(
    config: Path = CONFIG,
    data: Path = DATA,
    sizes: str = typer.Option("0.1,0.2,0.4,0.7,1.0", metavar="F,F,...",
                              help="Training-set sizes as fractions of the training part "
                                   "(val and test stay fixed)."),
    repeats: int = typer.Option(3, help="Seeds per size: seed, seed+1, ..."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", show_default=False,
                                       help="Worker processes, one BLAS thread each "
                                            "[default: one per usable core]."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", show_default=False,
                                       help="Output directory (default: runs/<config>-curve-<time>)."),
    sets: list[str] = SET,
    seed: Optional[int] = SEED,
    epochs: Optional[int] = EPOCHS,
    lr: Optional[float] = LR,
    as_json: bool = typer.Option(False, "--json", help="Print curve.json to stdout."),
    scheduler: Optional[str] = SCHEDULER,
    scheduler_timeout: Optional[float] = SCHEDULER_TIMEOUT,
) -> None:
    """Learning curves over training-set size: is it high bias or high variance?"""
    from ..report.console import make_console
    from ..workflows.curve import curve as run_curve
    from ..workflows.curve import exit_code, parse_sizes, print_report, progress_line

    fractions = parse_sizes(sizes)
    messages = make_console(stderr=True)
    record = run_curve(config, data, sizes=fractions, repeats=repeats,
                       **where(jobs, scheduler, scheduler_timeout), out=out,
                       overrides=overrides(sets, seed=seed, epochs=epochs, lr=lr),
                       on_run=lambda run, done, total: messages.print(
                           progress_line(run, done, total), markup=False))
    print_report(messages if as_json else make_console(stderr=False), record)
    done = len(record["runs"])
    if record["interrupted"]:
        messages.print(f"interrupted: {done} of {len(record['sizes']) * record['repeats']} runs "
                       f"had finished; wrote them", markup=False)
    if record["failed"]:
        messages.print(f"{len(record['failed'])} run(s) failed; the first: "
                       f"{record['failed'][0]['error']}", markup=False)
    finish(record["run_dir"], record if as_json else None, exit_code(record))

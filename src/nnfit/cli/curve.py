"""``nnfit curve``: learning curves over training-set size."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import NnfitError
from .app import app
from .guard import guarded
from .options import (
    CONFIG,
    DATA,
    EPOCHS,
    JOBS,
    LR,
    SCHEDULER,
    SCHEDULER_TIMEOUT,
    SEED,
    SET,
    executor_options,
    finish,
    overrides,
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
    jobs: int | None = JOBS,
    out: Path | None = typer.Option(None, "--out", "-o", show_default=False,
                                       help="Output directory (default: "
                                            "runs/<config>-curve-<time>)."),
    sets: list[str] = SET,
    seed: int | None = SEED,
    epochs: int | None = EPOCHS,
    lr: float | None = LR,
    as_json: bool = typer.Option(False, "--json", help="Print curve.json to stdout."),
    scheduler: str | None = SCHEDULER,
    scheduler_timeout: float | None = SCHEDULER_TIMEOUT,
) -> None:
    """Learning curves over training-set size: the fit verdict, and whether more data helps."""
    from ..report.console import make_console
    from ..report.tables import curve_line, print_curve
    from ..workflows.curve import curve as run_curve

    fractions = parse_sizes(sizes)
    messages = make_console(stderr=True)
    result = run_curve(config, data, sizes=fractions, repeats=repeats,
                       **executor_options(jobs, scheduler, scheduler_timeout), out=out,
                       overrides=overrides(sets, seed=seed, epochs=epochs, lr=lr),
                       on_run=lambda run, done, total: messages.print(
                           curve_line(run, done, total), markup=False), alerts=messages)
    record = result.record
    print_curve(messages if as_json else make_console(stderr=False), record)
    done = len(record["runs"])
    if record["interrupted"]:
        messages.print(f"interrupted: {done} of {len(record['sizes']) * record['repeats']} runs "
                       f"had finished; wrote them", markup=False)
    if record["failed"]:
        messages.print(f"{len(record['failed'])} run(s) failed; the first: "
                       f"{record['failed'][0]['error']}", markup=False)
    finish(result.run_dir, result.json() if as_json else None, result.exit_code)


def parse_sizes(text: str) -> list[float]:
    """``"0.1,0.2,1"`` -> ``[0.1, 0.2, 1.0]``: fractions in (0, 1], sorted, each once."""
    parts = [p.strip() for p in str(text).split(",")]
    if not any(parts):
        raise NnfitError("--sizes: empty; give fractions of the training part, e.g. "
                         "--sizes 0.1,0.2,0.4,0.7,1.0")
    sizes = []
    for part in parts:
        if not part:
            raise NnfitError(f"--sizes: an empty entry in {text!r}; separate fractions with "
                             f"single commas, e.g. --sizes 0.1,0.2,0.4,0.7,1.0")
        try:
            value = float(part)
        except ValueError:
            raise NnfitError(f"--sizes: {part!r} is not a number; give fractions of the "
                             f"training part, e.g. --sizes 0.1,0.2,0.4,0.7,1.0") from None
        if not 0 < value <= 1:  # NaN fails too
            raise NnfitError(f"--sizes: {part} is not a fraction in (0, 1] of the training part")
        sizes.append(value)
    return sorted(set(sizes))

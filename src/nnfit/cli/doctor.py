"""``nnfit doctor``: the fit verdict's advice, proven by trying it."""

from __future__ import annotations

from pathlib import Path

import typer

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
def doctor(
    config: Path = CONFIG,
    data: Path = DATA,
    repeats: int | None = typer.Option(
        None, "--repeats", metavar="R", show_default=False,
        help="Seeds per variant: seed, seed+1, ... [default: 1, or 3 when the validation "
             "rows are fewer than 200]."),
    cv: int | None = typer.Option(None, "--cv", metavar="K", show_default=False,
                                  help="Judge the base and the variants on K folds of the "
                                       "non-test rows (every one of them a validation row "
                                       "once)."),
    sets: list[str] = SET,
    seed: int | None = SEED,
    epochs: int | None = EPOCHS,
    lr: float | None = LR,
    jobs: int | None = JOBS,
    scheduler: str | None = SCHEDULER,
    scheduler_timeout: float | None = SCHEDULER_TIMEOUT,
    out: Path | None = typer.Option(None, "--out", "-o", show_default=False,
                                    help="Output directory (default: "
                                         "runs/<config>-doctor-<time>)."),
    as_json: bool = typer.Option(False, "--json", help="Print doctor.json to stdout."),
) -> None:
    """Diagnose the fit, train the variants its advice names, keep what helped beyond the
    noise."""
    from ..report.console import make_console
    from ..report.doctor_view import DoctorView, conclusion, doctor_table
    from ..workflows.doctor import doctor as run_doctor

    messages = make_console(stderr=True)
    result = run_doctor(config, data, overrides=overrides(sets, seed=seed, epochs=epochs, lr=lr),
                        repeats=repeats, cv=cv, out=out, view=DoctorView(messages),
                        **executor_options(jobs, scheduler, scheduler_timeout))
    record = result.record
    if record["diagnosis"] is not None:
        (messages if as_json else make_console(stderr=False)).print(doctor_table(record))
    for line in conclusion(record, result.run_dir):
        messages.print(line, markup=False, soft_wrap=True)
    finish(result.run_dir, result.json() if as_json else None, result.exit_code)

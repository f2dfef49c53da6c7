"""``nnfit sweep``: one config at many learning rates (and any grid of settings)."""

from __future__ import annotations

import math
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
    SCHEDULER,
    SCHEDULER_TIMEOUT,
    SEED,
    executor_options,
    finish,
    overrides,
)

MAX_RATES = 100  # --lr-range: more rates than this are a typo, not a plan


@app.command()
@guarded
def sweep(
    config: Path = CONFIG,
    data: Path = DATA,
    lr: list[float] = typer.Option([], "--lr", metavar="X", show_default=False,
                                   help="A learning rate to try (repeatable)."),
    lr_range: str | None = typer.Option(None, "--lr-range", metavar="LOW:HIGH:N",
                                           help="N rates spaced evenly on a log scale."),
    sets: list[str] = typer.Option([], "--set", metavar="PATH=VALUE[,VALUE...]",
                                   show_default=False,
                                   help="Override a config value; commas sweep it as a grid "
                                        "(e.g. --set training.batch_size=16,64)."),
    seed: int | None = SEED,
    epochs: int | None = EPOCHS,
    jobs: int | None = JOBS,
    scheduler: str | None = SCHEDULER,
    scheduler_timeout: float | None = SCHEDULER_TIMEOUT,
    out: Path | None = typer.Option(None, "--out", "-o", show_default=False,
                                       help="Output directory (default: "
                                            "runs/<config>-sweep-<time>)."),
    as_json: bool = typer.Option(False, "--json", help="Print the table as JSON to stdout."),
    lr_find: bool = typer.Option(False, "--lr-find",
                                 help="Rates from the range test: 5 from a decade below to a "
                                      "decade above its suggestion."),
    repeats: int | None = typer.Option(
        None, "--repeats", metavar="R", show_default=False,
        help="Seeds per grid point, compared as mean ± SE (default: 3 when the validation "
             "split has fewer than 200 rows, else 1)."),
    cv: int | None = typer.Option(None, "--cv", metavar="K", show_default=False,
                                  help="Judge every grid point on K folds; the chosen one is "
                                       "then trained as nnfit train --cv K into best/."),
    resume: bool = typer.Option(False, "--resume",
                                help="Continue the sweep in --out DIR: keep its finished "
                                     "points, run the rest."),
) -> None:
    """Train one config at many learning rates (and any grid of settings) and pick the best."""
    from ..report.console import make_console
    from ..report.sweep_view import SweepView
    from ..workflows.sweep import sweep as run_sweep

    rates = _rates(lr, lr_range, lr_find)
    messages = make_console(stderr=True)
    view = SweepView(messages)
    try:
        result = run_sweep(config, data, rates=rates,
                           overrides=overrides(sets, seed=seed, epochs=epochs), view=view,
                           out=out, lr_find=lr_find, alerts=messages, repeats=repeats,
                           cv=cv, resume=resume,
                           **executor_options(jobs, scheduler, scheduler_timeout))
    finally:
        view.close()
    _report(result, messages, as_json)
    finish(result.run_dir, result.json() if as_json else None, result.exit_code)


def _rates(lr: list[float], lr_range: str | None, lr_find: bool) -> list[float]:
    """The rates of ``--lr`` and ``--lr-range``, checked."""
    rates = [*lr, *(parse_lr_range(lr_range) if lr_range else [])]
    bad = [r for r in rates if not (r > 0 and math.isfinite(r))]
    if bad:
        raise NnfitError(f"--lr: learning rates must be positive and finite (got {bad[0]})")
    if lr_find and rates:
        raise NnfitError("--lr-find chooses the rates: give it without --lr or --lr-range")
    return rates


def _report(result, messages, as_json: bool) -> None:
    """The range test's suggestion, the table, the chosen run."""
    from ..report.console import make_console
    from ..report.tables import results_table

    record = result.record
    if record["lr_find"]:
        messages.print(f"lr-find suggested {record['lr_find']['suggested']:.3g} "
                       f"({record['lr_find']['rule']})", markup=False, soft_wrap=True)
    report = messages if as_json else make_console(stderr=False)
    report.print(results_table(record["rows"]))
    chosen, choice = record["chosen"], record["choice"]
    if record["resumed_seeds"]:
        messages.print(f"resumed: {record['resumed_seeds']} finished seed(s) kept from "
                       f"{result.run_dir}", markup=False, soft_wrap=True)
    if chosen is None:
        messages.print("no point finished without diverging or failing: nothing to choose",
                       markup=False)
    else:
        values = ", ".join(f"{k}={chosen[k]}" for k in record["keys"])
        seeds = f" over {chosen['seeds']} seeds" if chosen["seeds"] > 1 else ""
        judged = f" (pooled over {record['cv']} folds)" if record["cv"] else ""
        messages.print(f"chosen: run {chosen['run']} ({values}), val loss "
                       f"{chosen['val_loss']:.4g} ± {chosen['val_loss_se']:.2g}{seeds}{judged}: "
                       f"{choice['why']}", markup=False, soft_wrap=True)
        if choice["edge"]:
            messages.print(f"warning: {choice['edge']}", style="yellow", markup=False,
                           soft_wrap=True)
        where = Path(result.run_dir) / "best"
        if (where / "model.json").exists():
            messages.print(f"its run directory is {where}; to reproduce: {choice['reproduce']}",
                           markup=False, soft_wrap=True)
    if record["interrupted"]:
        messages.print("interrupted: the table holds the runs that finished", markup=False)


def parse_lr_range(text: str) -> list[float]:
    """``"1e-5:1e-1:9"`` -> 9 rates spaced evenly on a log scale (3 significant digits),
    both ends included."""
    import numpy as np

    parts = text.split(":")
    try:
        low, high, n = float(parts[0]), float(parts[1]), int(parts[2])
        if len(parts) != 3:
            raise ValueError
    except (ValueError, IndexError):
        raise NnfitError(f"--lr-range {text}: expected LOW:HIGH:N, e.g. 1e-5:1e-1:9") from None
    if not (0 < low < high) or n < 2 or not math.isfinite(high):
        raise NnfitError(f"--lr-range {text}: needs 0 < LOW < HIGH and N ≥ 2")
    if n > MAX_RATES:
        raise NnfitError(f"--lr-range {text}: at most {MAX_RATES} rates (got {n}); a few per "
                         f"decade tell the rates apart")
    return [float(f"{v:.3g}") for v in np.geomspace(low, high, n)]  # readable: 0.00464

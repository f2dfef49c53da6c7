"""What the commands share: their arguments and options, and how a command that writes a run
ends."""

from __future__ import annotations

import json

import typer

from ..errors import NnfitError

CONFIG = typer.Argument(..., help="YAML file: data, model and training sections.",
                        show_default=False, metavar="CONFIG")
DATA = typer.Argument(..., help="CSV file with a header row.", show_default=False, metavar="DATA")
CONFIG_OR_DATA = typer.Argument(
    ..., show_default=False, metavar="CONFIG",
    help="YAML file: data, model and training sections. Or the CSV, with --target and no DATA: "
         "train the starter config that nnfit init writes.")
RUN_DIR = typer.Argument(..., help="A run directory written by 'nnfit train'.", show_default=False,
                         metavar="RUN_DIR")
OPTIONAL_DATA = typer.Argument(None, help="CSV file with a header row.", show_default=False,
                               metavar="DATA")
TARGET = typer.Option([], "--target", metavar="COLUMN", show_default=False,
                      help="The column to predict (repeatable: several regression targets).")
SET = typer.Option([], "--set", metavar="PATH=VALUE", show_default=False,
                   help="Override a config value, e.g. --set training.lr=3e-4 or "
                        "--set model.layers[1].units=64 (repeatable; values read as YAML).")
SEED = typer.Option(None, help="Shorthand for --set training.seed=N.")
EPOCHS = typer.Option(None, help="Shorthand for --set training.epochs=N.")
LR = typer.Option(None, help="Shorthand for --set training.lr=X.")
SCHEDULER = typer.Option(
    None, "--scheduler", metavar="ADDRESS", show_default=False,
    help="Run the trainings (sweep runs, curve points, --cv folds, ensemble members) on the "
         "Dask cluster whose scheduler is at ADDRESS, e.g. tcp://host:8786, instead of local "
         "processes (pip install "
         "\"nnfit[distributed]\" here and on the cluster; workers: dask worker ADDRESS "
         "--nworkers N --nthreads 1).")
JOBS = typer.Option(None, "--jobs", "-j", show_default=False,
                    help="Worker processes, one BLAS thread each [default: one per usable core].")
SCHEDULER_TIMEOUT = typer.Option(
    None, "--scheduler-timeout", metavar="SECONDS", show_default=False,
    help="With --scheduler: how long to wait for the scheduler, then for a worker "
         "[default: 10].")


def executor_options(jobs: int | None, scheduler: str | None,
                     scheduler_timeout: float | None) -> dict:
    """The executor's ``n_jobs``, ``scheduler`` and ``scheduler_timeout`` from ``--jobs``,
    ``--scheduler`` and ``--scheduler-timeout``, for every many-run command: local
    processes (default: one per usable core) or a Dask cluster, never both."""
    from ..runtime.cluster import DEFAULT_TIMEOUT
    from ..runtime.executor import default_jobs

    if scheduler is None:
        if scheduler_timeout is not None:
            raise NnfitError("--scheduler-timeout: waits for the Dask scheduler of --scheduler "
                             "ADDRESS; give --scheduler as well")
        return {"n_jobs": default_jobs() if jobs is None else jobs}
    if jobs is not None:
        raise NnfitError(f"--jobs: with --scheduler {scheduler} the cluster's workers run the "
                         f"jobs, one per worker; drop --jobs")
    return {"n_jobs": 1, "scheduler": scheduler,
            "scheduler_timeout": DEFAULT_TIMEOUT if scheduler_timeout is None
            else scheduler_timeout}


def finish(run_dir, payload: dict | None, code: int):
    """How every command that writes a run ends: its directory on stderr, ``--json`` data on
    stdout (when ``payload`` is given), the exit code."""
    from ..store.atomic import json_safe

    typer.echo(f"run directory: {run_dir}", err=True)
    if payload is not None:
        typer.echo(json.dumps(json_safe(payload), indent=2))
    raise typer.Exit(code)


def overrides(sets: list[str], **shorthands) -> list[str]:
    """``--set`` values plus the ``--lr/--epochs/--seed/--threads`` shorthands, in that order."""
    return [*sets, *(f"training.{key}={value}" for key, value in shorthands.items()
                     if value is not None)]

"""``nnfit train``: train a config on a CSV (or the starter config), with ``--cv K`` too."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import NnfitError
from .app import app
from .guard import guarded
from .options import (
    CONFIG_OR_DATA,
    EPOCHS,
    LR,
    OPTIONAL_DATA,
    SCHEDULER,
    SCHEDULER_TIMEOUT,
    SEED,
    SET,
    TARGET,
    executor_options,
    finish,
    overrides,
)

THREADS = typer.Option(None, metavar="N|auto",
                       help="BLAS threads (shorthand for --set training.threads=N; default: auto).")
QUIET = typer.Option(False, "--quiet", "-q", help="No live view, notes or tables: only warnings, "
                                                  "the outcome line and the run directory.")
PROBE = typer.Option(None, "--probe/--no-probe", show_default=False,
                     help="Force or skip the capacity probe (default: run it when the diagnosis "
                          "needs it).")
CV = typer.Option(None, "--cv", metavar="K", show_default=False,
                  help="K-fold cross-validation on the rows outside the test split: a verdict "
                       "from all folds, then the final model trained on all those rows.")
NO_PACK = typer.Option(False, "--no-pack",
                       help="Train training.ensemble's members one run each, not packed "
                            "(shorthand for --set training.pack=false).")
TRAIN_JOBS = typer.Option(None, "--jobs", "-j", metavar="N", show_default=False,
                          help="With --cv or training.ensemble: worker processes for the folds "
                               "or members, one BLAS thread each [default: one per usable "
                               "core].")


@app.command()
@guarded
def train(
    config: Path = CONFIG_OR_DATA,
    data: Path | None = OPTIONAL_DATA,
    targets: list[str] = TARGET,
    out: Path | None = typer.Option(None, "--out", "-o", show_default=False,
                                       help="Run directory (default: runs/<config>-<time>)."),
    sets: list[str] = SET,
    seed: int | None = SEED,
    epochs: int | None = EPOCHS,
    lr: float | None = LR,
    threads: str | None = THREADS,
    quiet: bool = QUIET,
    as_json: bool = typer.Option(False, "--json", help="Print metrics.json to stdout."),
    probe: bool | None = PROBE,
    cv: int | None = CV,
    jobs: int | None = TRAIN_JOBS,
    no_pack: bool = NO_PACK,
    scheduler: str | None = SCHEDULER,
    scheduler_timeout: float | None = SCHEDULER_TIMEOUT,
) -> None:
    """Train a network on a CSV and report train / val / test loss and the fit verdict.

    Without a config, nnfit train DATA.csv --target COLUMN trains the starter config
    that nnfit init would write for that CSV.
    """
    from ..report.console import make_console
    from ..report.plots.renderer import background

    messages = make_console(stderr=True, quiet=quiet)
    config, data, config_text = _config_and_data(config, data, targets, sets, messages)
    options = dict(out=out, overrides=overrides(sets, seed=seed, epochs=epochs, lr=lr,
                                                threads=threads,
                                                pack="false" if no_pack else None),
                   console=messages, alerts=make_console(stderr=True),
                   probe={None: "auto", True: "always", False: "never"}[probe],
                   config_text=config_text)
    placement = (jobs, scheduler, scheduler_timeout)
    with background():  # curves.png drawn by a helper that imports matplotlib meanwhile
        if cv is None:
            outcome = _train(config, data, options, placement)
        else:
            outcome = _cross_validate(config, data, cv, options, placement, messages)
    _report(outcome, cv is not None, quiet, as_json, messages)
    finish(outcome.run_dir, outcome.json() if as_json else None, outcome.exit_code)


def _config_and_data(config: Path, data: Path | None, targets: list[str], sets: list[str],
                     messages):
    """``(config path, data path, config text or None)``: a config and a CSV, or a CSV and
    ``--target`` (the starter config, whose text is made here, reading the CSV with the
    ``--set data.*`` overrides)."""
    if data is None:
        data = config
        config, config_text, init = _starter_run(data, targets, sets)
        messages.print(f"no config: using the starter config (to edit it: {init})",
                       markup=False, soft_wrap=True)
        return config, data, config_text
    if targets:
        value = targets[0] if len(targets) == 1 else f"[{','.join(targets)}]"
        raise NnfitError(f"--target: {config} already names the target (data.target); to change "
                         f"it, use --set data.target={value}")
    if _is_config(data) and not _is_config(config):
        raise NnfitError(f"{data} is a config and {config} is not: the config comes first, "
                         f"nnfit train {data} {config}")
    return config, data, None


def _train(config: Path, data: Path, options: dict, placement: tuple):
    """One run, or ``training.ensemble`` (which alone takes ``--jobs`` without ``--cv``)."""
    from ..workflows.train import train as run_train

    given = placement != (None, None, None)
    return run_train(config, data, **options, **(executor_options(*placement) if given else {}))


def _cross_validate(config: Path, data: Path, k: int, options: dict, placement: tuple,
                    messages):
    """``--cv K``, a line per fold as it finishes."""
    from ..report.tables import fold_line
    from ..workflows.cv import cross_validate

    return cross_validate(config, data, k=k, **options, **executor_options(*placement),
                          on_fold=lambda record, done, k: messages.print(
                              fold_line(record, done, k), markup=False))


def _report(outcome, cv: bool, quiet: bool, as_json: bool, messages) -> None:
    """The tables (or, with ``--quiet``, the outcome line), then the closing messages."""
    from ..report.console import make_console, print_outcome
    from ..report.tables import print_cv, print_ensemble, print_report

    metrics = outcome.metrics.dump()
    if quiet:
        print_outcome(make_console(stderr=True), metrics)
    else:
        report = messages if as_json else make_console(stderr=False)
        if cv:
            print_cv(report, metrics)
        if "ensemble" in metrics:
            print_ensemble(report, metrics)
        print_report(report, metrics, [])
    for line in outcome.messages:
        messages.print(line, markup=False)


def _is_config(path: Path) -> bool:
    """Whether a positional argument is a YAML config rather than a CSV: ``.yaml``/``.yml``,
    or, for a file without a CSV-like suffix, text that reads as a YAML mapping."""
    import yaml

    from ..config.safe_yaml import load

    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return True
    if suffix in (".csv", ".tsv", ".txt", ".dat") or not path.is_file():
        return False
    try:
        return path.stat().st_size < 1 << 20 and isinstance(
            load(path.read_text(encoding="utf-8")), dict)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False


def _starter_run(data: Path, targets: list[str], sets: list[str]) -> tuple[Path, str, str]:
    """For ``nnfit train DATA.csv --target T``: the name, YAML text and ``nnfit init``
    command of the starter config the run trains (the run applies every ``--set`` again)."""
    from ..workflows.init import data_overrides, init_command, starter, starter_yaml

    if _is_config(data):
        raise NnfitError(f"missing DATA: nnfit train {data} DATA.csv")
    if not targets:
        raise NnfitError(f"{data}: no config given; pass --target COLUMN to train the starter "
                         f"config, or a config first: nnfit train CONFIG.yaml {data}")
    config, facts = starter(data, targets[0] if len(targets) == 1 else targets,
                            data_overrides(sets))
    name = Path(f"{data.stem}.yaml")
    return name, starter_yaml(config, data, facts, name), init_command(facts)

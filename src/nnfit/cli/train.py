"""``nnfit init``, ``nnfit train`` and ``nnfit summary``: a config for a CSV, a run, a network."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from ..errors import NnfitError
from .app import app
from .guard import guarded
from .options import (
    CONFIG,
    CONFIG_OR_DATA,
    DATA,
    EPOCHS,
    LR,
    OPTIONAL_DATA,
    SCHEDULER,
    SCHEDULER_TIMEOUT,
    SEED,
    SET,
    TARGET,
    finish,
    overrides,
    where,
)


@app.command()
@guarded
def init(
    data: Path = DATA,
    targets: list[str] = TARGET,
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", show_default=False,
        help="Where to write the config [default: <DATA name>.yaml here]; - for stdout."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a starter config for a CSV: a network sized for the data, every key commented."""
    from ..store.atomic import write_atomic
    from ..store.run_dir import check_output_path
    from ..workflows.init import decisions, starter, starter_yaml, train_command

    if not targets:
        raise NnfitError(f"--target: name the column to predict: nnfit init {data} --target COLUMN")
    to_stdout = output is not None and str(output) == "-"
    path = None if to_stdout else Path(f"{data.stem}.yaml") if output is None else output
    if path is not None:
        check_output_path(path, data, "-o")
        if path.exists() and not force:
            raise NnfitError(f"{path}: already exists; pass --force to overwrite it, or -o "
                             f"another file")
    config, facts = starter(data, targets[0] if len(targets) == 1 else targets)
    text = starter_yaml(config, data, facts, path)
    for line in decisions(config, facts):
        typer.echo(line, err=True)
    if path is None:
        sys.stdout.write(text)
        typer.echo(f"save it, then train it: {train_command(None, data)}", err=True)
    else:
        write_atomic(path, text)
        typer.echo(f"wrote {path}; train it: {train_command(path, data)}", err=True)


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


def _starter_run(data: Path, targets: list[str]) -> tuple[Path, str, str]:
    """For ``nnfit train DATA.csv --target T``: the name, YAML text and ``nnfit init``
    command of the starter config the run trains."""
    from ..workflows.init import init_command, starter, starter_yaml

    if _is_config(data):
        raise NnfitError(f"missing DATA: nnfit train {data} DATA.csv")
    if not targets:
        raise NnfitError(f"{data}: no config given; pass --target COLUMN to train the starter "
                         f"config, or a config first: nnfit train CONFIG.yaml {data}")
    config, facts = starter(data, targets[0] if len(targets) == 1 else targets)
    name = Path(f"{data.stem}.yaml")
    return name, starter_yaml(config, data, facts, name), init_command(facts)


@app.command()
@guarded
def train(
    config: Path = CONFIG_OR_DATA,
    data: Optional[Path] = OPTIONAL_DATA,
    targets: list[str] = TARGET,
    out: Optional[Path] = typer.Option(None, "--out", "-o", show_default=False,
                                       help="Run directory (default: runs/<config>-<time>)."),
    sets: list[str] = SET,
    seed: Optional[int] = SEED,
    epochs: Optional[int] = EPOCHS,
    lr: Optional[float] = LR,
    threads: Optional[str] = typer.Option(
        None, metavar="N|auto",
        help="BLAS threads (shorthand for --set training.threads=N; default: auto)."),
    quiet: bool = typer.Option(False, "--quiet", "-q",
                               help="No live view, notes or tables: only warnings, the outcome "
                                    "line and the run directory."),
    as_json: bool = typer.Option(False, "--json", help="Print metrics.json to stdout."),
    probe: Optional[bool] = typer.Option(
        None, "--probe/--no-probe", show_default=False,
        help="Force or skip the capacity probe (default: run it when the diagnosis needs it)."),
    cv: Optional[int] = typer.Option(
        None, "--cv", metavar="K", show_default=False,
        help="K-fold cross-validation on the rows outside the test split: a verdict from all "
             "folds, then the final model trained on all those rows."),
    jobs: Optional[int] = typer.Option(
        None, "--jobs", "-j", metavar="N", show_default=False,
        help="With --cv or training.ensemble: worker processes for the folds or members, one "
             "BLAS thread each [default: one per usable core]."),
    scheduler: Optional[str] = SCHEDULER,
    scheduler_timeout: Optional[float] = SCHEDULER_TIMEOUT,
) -> None:
    """Train a network on a CSV and report train / val / test loss and the fit verdict.

    Without a config, nnfit train DATA.csv --target COLUMN trains the starter config
    that nnfit init would write for that CSV.
    """
    from ..report.console import make_console, print_cv, print_ensemble, print_outcome, print_report
    from ..workflows.train import exit_code
    from ..workflows.train import train as run_train

    changes = overrides(sets, seed=seed, epochs=epochs, lr=lr, threads=threads)
    messages = make_console(stderr=True, quiet=quiet)
    config_text = None
    if data is None:
        data = config
        config, config_text, init = _starter_run(data, targets)
        messages.print(f"no config: using the starter config (to edit it: {init})",
                       markup=False, soft_wrap=True)
    elif targets:
        value = targets[0] if len(targets) == 1 else f"[{','.join(targets)}]"
        raise NnfitError(f"--target: {config} already names the target (data.target); to change "
                         f"it, use --set data.target={value}")
    elif _is_config(data) and not _is_config(config):
        raise NnfitError(f"{data} is a config and {config} is not: the config comes first, "
                         f"nnfit train {data} {config}")
    options = dict(out=out, overrides=changes, console=messages, alerts=make_console(stderr=True),
                   probe={None: "auto", True: "always", False: "never"}[probe],
                   config_text=config_text)
    if cv is None:  # --jobs/--scheduler: for training.ensemble, which train checks
        given = (jobs, scheduler, scheduler_timeout) != (None, None, None)
        metrics = run_train(config, data, **options,
                            **(where(jobs, scheduler, scheduler_timeout) if given else {}))
    else:
        from ..workflows.cv import cross_validate, exit_code, progress_line  # cv's own codes

        metrics = cross_validate(config, data, k=cv, **options,
                                 **where(jobs, scheduler, scheduler_timeout),
                                 on_fold=lambda record, done, k: messages.print(
                                     progress_line(record, done, k), markup=False))
    if quiet:
        print_outcome(make_console(stderr=True), metrics)
    else:
        report = messages if as_json else make_console(stderr=False)
        if cv is not None:
            print_cv(report, metrics)
        if "ensemble" in metrics:
            print_ensemble(report, metrics)
        print_report(report, metrics, [])
    for line in metrics.pop("messages"):
        messages.print(line, markup=False)
    finish(metrics["run_dir"], metrics if as_json else None, exit_code(metrics))


@app.command()
@guarded
def summary(config: Path = CONFIG, data: Path = DATA, sets: list[str] = SET) -> None:
    """Print the network a config builds on a CSV: layers, output shapes, parameter counts."""
    from ..report.console import make_console, print_layers
    from ..workflows.train import summary as build_summary

    info = build_summary(config, data, sets)
    console = make_console(stderr=False)
    for note in info["notes"]:
        console.print(note, style="dim", markup=False)
    print_layers(console, f"{info['task']} · {info['input']} inputs · loss {info['loss']}",
                 info["layers"], info["n_params"])
    memory = info["memory"]
    if memory["fits"]:
        console.print(memory["line"], style="dim", markup=False, soft_wrap=True)
    else:
        typer.echo(memory["line"], err=True)

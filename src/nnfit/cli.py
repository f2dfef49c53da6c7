"""The command line: thin Typer commands that hand their inputs to a workflow.

Errors: a workflow raises NnfitError for anything the user can fix; the guard
below prints its message as one line on stderr and exits with its code. Any
other exception is one line too, unless ``--debug`` or ``NNFIT_DEBUG=1`` asks
for the traceback. A MemoryError exits 1 (a run that failed): a config whose
training the memory estimate shows will not fit is refused before, with 2. Heavy modules are imported inside the commands, so
``nnfit --help`` stays instant.
"""

from __future__ import annotations

import functools
import json
import math
import os
import sys
from pathlib import Path
from typing import Optional

import typer

from . import __version__
from .errors import FAILED, NnfitError

# Plain click help: typer's rich help shows "<bool>" for every flag and reads "[...]" as markup.
app = typer.Typer(help="Fit and evaluate neural networks on CSV data.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None,
                  context_settings={"help_option_names": ["-h", "--help"]})
_state = {"debug": bool(os.environ.get("NNFIT_DEBUG"))}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nnfit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks for errors."),
) -> None:
    """Fit and evaluate neural networks on CSV data."""
    _state["debug"] = _state["debug"] or debug


def _guarded(command):
    """Turn errors into one line on stderr and an exit code."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except NnfitError as exc:
            if _state["debug"]:
                raise
            typer.echo(exc.message, err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None
        except MemoryError as exc:  # the last resort: train refuses what it can foresee (exit 2)
            if _state["debug"]:
                raise
            typer.echo(f"nnfit: out of memory: {exc or 'an allocation failed'} (a smaller model, "
                       f"training.batch_size or data set needs less)", err=True)
            raise typer.Exit(FAILED) from None
        except Exception as exc:
            if _state["debug"]:
                raise
            typer.echo(f"nnfit: internal error: {exc.__class__.__name__}: {exc} "
                       f"(rerun with --debug for the traceback)", err=True)
            raise typer.Exit(FAILED) from None

    return wrapper


CONFIG = typer.Argument(..., help="YAML file: data, model and training sections.",
                        show_default=False, metavar="CONFIG")
DATA = typer.Argument(..., help="CSV file with a header row.", show_default=False, metavar="DATA")
CONFIG_OR_DATA = typer.Argument(
    ..., show_default=False, metavar="CONFIG",
    help="YAML file: data, model and training sections. Or the CSV, with --target and no DATA: "
         "train the starter config that nnfit init writes.")
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
    help="Run the trainings (sweep runs, curve points, --cv folds, ensemble members) on the Dask cluster whose scheduler "
         "is at ADDRESS, e.g. tcp://host:8786, instead of local processes (pip install "
         "\"nnfit[distributed]\" here and on the cluster; workers: dask worker ADDRESS "
         "--nworkers N --nthreads 1).")
SCHEDULER_TIMEOUT = typer.Option(
    None, "--scheduler-timeout", metavar="SECONDS", show_default=False,
    help="With --scheduler: how long to wait for the scheduler, then for a worker "
         "[default: 10].")


def _where(jobs: int | None, scheduler: str | None, scheduler_timeout: float | None) -> dict:
    """The executor's ``n_jobs``, ``scheduler`` and ``scheduler_timeout`` from ``--jobs``,
    ``--scheduler`` and ``--scheduler-timeout``, for every many-run command: local
    processes (default: one per usable core) or a Dask cluster, never both."""
    from .workflows.cluster import DEFAULT_TIMEOUT
    from .workflows.executor import default_jobs

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


def _finish(run_dir, payload: dict | None, code: int):
    """How every command that writes a run ends: its directory on stderr, ``--json`` data on
    stdout (when ``payload`` is given), the exit code."""
    from .store import json_safe

    typer.echo(f"run directory: {run_dir}", err=True)
    if payload is not None:
        typer.echo(json.dumps(json_safe(payload), indent=2))
    raise typer.Exit(code)


def _overrides(sets: list[str], **shorthands) -> list[str]:
    """``--set`` values plus the ``--lr/--epochs/--seed/--threads`` shorthands, in that order."""
    return [*sets, *(f"training.{key}={value}" for key, value in shorthands.items()
                     if value is not None)]


@app.command()
@_guarded
def init(
    data: Path = DATA,
    targets: list[str] = TARGET,
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", show_default=False,
        help="Where to write the config [default: <DATA name>.yaml here]; - for stdout."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a starter config for a CSV: a network sized for the data, every key commented."""
    from .starter import decisions, starter, starter_yaml, train_command
    from .store import write_atomic
    from .workflows import check_output_path

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

    from .yaml_input import load

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
    from .starter import init_command, starter, starter_yaml

    if _is_config(data):
        raise NnfitError(f"missing DATA: nnfit train {data} DATA.csv")
    if not targets:
        raise NnfitError(f"{data}: no config given; pass --target COLUMN to train the starter "
                         f"config, or a config first: nnfit train CONFIG.yaml {data}")
    config, facts = starter(data, targets[0] if len(targets) == 1 else targets)
    name = Path(f"{data.stem}.yaml")
    return name, starter_yaml(config, data, facts, name), init_command(facts)


@app.command()
@_guarded
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
    from .report.console import (make_console, print_cv, print_ensemble, print_outcome,
                                 print_report)
    from .workflows import exit_code, train as run_train

    overrides = _overrides(sets, seed=seed, epochs=epochs, lr=lr, threads=threads)
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
    options = dict(out=out, overrides=overrides, console=messages, alerts=make_console(stderr=True),
                   probe={None: "auto", True: "always", False: "never"}[probe],
                   config_text=config_text)
    if cv is None:  # --jobs/--scheduler: for training.ensemble, which train checks
        given = (jobs, scheduler, scheduler_timeout) != (None, None, None)
        metrics = run_train(config, data, **options,
                            **(_where(jobs, scheduler, scheduler_timeout) if given else {}))
    else:
        from .workflows.cv import cross_validate, exit_code, progress_line  # cv's own codes

        metrics = cross_validate(config, data, k=cv, **options,
                                 **_where(jobs, scheduler, scheduler_timeout),
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
    _finish(metrics["run_dir"], metrics if as_json else None, exit_code(metrics))


@app.command()
@_guarded
def summary(config: Path = CONFIG, data: Path = DATA, sets: list[str] = SET) -> None:
    """Print the network a config builds on a CSV: layers, output shapes, parameter counts."""
    from .report.console import make_console, print_layers
    from .workflows import summary as build_summary

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


@app.command()
@_guarded
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
    from .report.console import make_console
    from .workflows.curve import curve as run_curve, exit_code, parse_sizes, print_report, \
        progress_line

    fractions = parse_sizes(sizes)
    messages = make_console(stderr=True)
    record = run_curve(config, data, sizes=fractions, repeats=repeats,
                       **_where(jobs, scheduler, scheduler_timeout), out=out,
                       overrides=_overrides(sets, seed=seed, epochs=epochs, lr=lr),
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
    _finish(record["run_dir"], record if as_json else None, exit_code(record))


@app.command()
@_guarded
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
    from .report.console import make_console
    from .report.sweep_view import SweepView, results_table
    from .workflows.sweep import exit_code, parse_lr_range, sweep as run_sweep

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
                           overrides=_overrides(sets, seed=seed, epochs=epochs), view=view,
                           out=out, lr_find=lr_find,
                           **_where(jobs, scheduler, scheduler_timeout))
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
    _finish(record["run_dir"], {k: record[k] for k in ("rows", "chosen", "keys")}
            if as_json else None, exit_code(record))


@app.command("lr-find")
@_guarded
def lr_find(
    config: Path = CONFIG,
    data: Path = DATA,
    start: float = typer.Option(1e-7, help="The rate of the first mini-batch."),
    end: float = typer.Option(10.0, help="The rate of the last mini-batch."),
    steps: int = typer.Option(100, help="Mini-batches, the rate growing exponentially "
                                        "(epochs repeat as needed)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", show_default=False,
                                       help="Output directory (default: "
                                            "runs/<config>-lr-find-<time>)."),
    sets: list[str] = SET,
    seed: Optional[int] = SEED,
    as_json: bool = typer.Option(False, "--json", help="Print the suggestion and the curve "
                                                       "as JSON to stdout."),
) -> None:
    """Find a learning rate: one short run with a growing rate, and the rate to train at."""
    from .report.console import make_console
    from .workflows.lr_find import exit_code, lr_find as run_lr_find, print_report

    messages = make_console(stderr=True)
    result, record = run_lr_find(config, data, start=start, end=end, steps=steps, out=out,
                                 overrides=_overrides(sets, seed=seed), console=messages)
    print_report(messages if as_json else make_console(stderr=False), result)
    _finish(record["run_dir"], record if as_json else None, exit_code(result))


RUN_DIR = typer.Argument(..., help="A run directory written by 'nnfit train'.", show_default=False,
                         metavar="RUN_DIR")


@app.command("eval")
@_guarded
def eval_(
    run_dir: Path = RUN_DIR,
    data: Path = DATA,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object to stdout."),
    confusion: Optional[Path] = typer.Option(
        None, "--confusion", metavar="FILE", show_default=False,
        help="Write the full confusion matrix to this CSV (classification)."),
) -> None:
    """Score a saved model on a CSV that has the target column (extra columns are ignored)."""
    from .report.console import GRID_CLASSES, make_console, print_evaluation
    from .store import json_safe, write_atomic
    from .workflows import check_output_path, evaluate

    if confusion is not None:
        check_output_path(confusion, data, "--confusion", run_dir)
    result = evaluate(run_dir, data)
    for warning in result.pop("warnings"):
        typer.echo(warning, err=True)
    classes = result.get("classes")
    if confusion is not None and classes:
        from .report.tables import confusion_csv

        write_atomic(confusion, confusion_csv(classes, result["confusion_matrix"]))
        typer.echo(f"wrote the {len(classes)}×{len(classes)} confusion matrix to {confusion}",
                   err=True)
    if as_json:
        typer.echo(json.dumps(json_safe(result), indent=2))
    else:
        print_evaluation(make_console(stderr=False), result, str(data), confusion_path=confusion)
        if classes and len(classes) > GRID_CLASSES and confusion is None:
            typer.echo("write the full confusion matrix with --confusion FILE", err=True)


@app.command()
@_guarded
def predict(
    run_dir: Path = RUN_DIR,
    data: Path = DATA,
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="Write the CSV here [default: stdout]."),
    id_column: Optional[str] = typer.Option(None, "--id", help="Copy this column through first."),
) -> None:
    """Write predictions for a CSV: labels and class probabilities, or predicted values."""
    from .store import write_atomic
    from .workflows import check_output_path, predict as run_predict

    if output is not None:
        check_output_path(output, data, run_dir=run_dir)
    frame, warnings = run_predict(run_dir, data, id_column)
    for warning in warnings:
        typer.echo(warning, err=True)
    text = frame.to_csv(index=False)
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomic(output, text)
        typer.echo(f"wrote {len(frame)} predictions to {output}", err=True)


@app.command()
@_guarded
def show(run_dir: Path = RUN_DIR) -> None:
    """Describe a saved model: layers, parameters, training columns, classes and its metrics."""
    from .report.console import make_console, print_show
    from .workflows import show as describe

    print_show(make_console(stderr=False), describe(run_dir))


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())

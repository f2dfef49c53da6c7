"""The command line: thin Typer commands that hand their inputs to a workflow.

Errors: a workflow raises NnfitError for anything the user can fix; the guard
below prints its message as one line on stderr and exits with its code. Any
other exception is one line too, unless ``--debug`` or ``NNFIT_DEBUG=1`` asks
for the traceback. Heavy modules are imported inside the commands, so
``nnfit --help`` stays instant.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer

from . import __version__
from .errors import FAILED, NnfitError

app = typer.Typer(help="Fit and evaluate neural networks on CSV data.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False,
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
        except Exception as exc:
            if _state["debug"]:
                raise
            typer.echo(f"nnfit: internal error: {exc.__class__.__name__}: {exc} "
                       f"(rerun with --debug for the traceback)", err=True)
            raise typer.Exit(FAILED) from None

    return wrapper


CONFIG = typer.Argument(..., help="YAML file: data, model and training sections.",
                        show_default=False)
DATA = typer.Argument(..., help="CSV file with a header row.", show_default=False)


@app.command()
@_guarded
def train(
    config: Path = CONFIG,
    data: Path = DATA,
    out: Optional[Path] = typer.Option(None, "--out", "-o",
                                       help="Run directory [default: runs/<config>-<time>]."),
    seed: Optional[int] = typer.Option(None, help="Override training.seed."),
    epochs: Optional[int] = typer.Option(None, min=1, help="Override training.epochs."),
    lr: Optional[float] = typer.Option(None, help="Override training.lr."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No live view, notes or tables."),
    as_json: bool = typer.Option(False, "--json", help="Print metrics.json to stdout."),
) -> None:
    """Train a network on a CSV and report train / val / test loss and the fit verdict."""
    from .report.console import make_console, print_report
    from .workflows import exit_code, train_run

    overrides = {f"training.{k}": v for k, v in
                 {"seed": seed, "epochs": epochs, "lr": lr}.items() if v is not None}
    messages = make_console(stderr=True, quiet=quiet)
    metrics = train_run(config, data, out=out, overrides=overrides, console=messages)
    report = messages if as_json else make_console(stderr=False, quiet=quiet)
    print_report(report, metrics, [])
    for line in metrics.pop("messages"):
        messages.print(line)
    typer.echo(f"run directory: {metrics['run_dir']}", err=True)
    if as_json:
        from .store import _finite

        typer.echo(json.dumps(_finite(metrics), indent=2))
    raise typer.Exit(exit_code(metrics))


@app.command()
@_guarded
def summary(config: Path = CONFIG, data: Path = DATA) -> None:
    """Print the network a config builds on a CSV: layers, output shapes, parameter counts."""
    from rich.table import Table

    from .report.console import make_console
    from .workflows import summary as build_summary

    info = build_summary(config, data)
    console = make_console(stderr=False)
    for note in info["notes"]:
        console.print(f"[dim]{note}[/]")
    table = Table(title=f"{info['task']} · {info['input']} inputs · loss {info['loss']}",
                  title_justify="left")
    for column, justify in (("#", "right"), ("layer", "left"), ("output shape", "left"),
                            ("params", "right")):
        table.add_column(column, justify=justify)
    for i, row in enumerate(info["layers"]):
        shape = "(" + ", ".join(map(str, row["output_shape"])) + ")"
        table.add_row(str(i), row["layer"], shape, f"{row['params']:,}")
    table.add_section()
    table.add_row("", "total", "", f"{info['n_params']:,}")
    console.print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())

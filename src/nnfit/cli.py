"""The command line: thin Typer commands that hand a validated config to a workflow."""

from __future__ import annotations

import typer

from . import __version__

app = typer.Typer(help="Fit and evaluate neural networks on CSV data.", no_args_is_help=True,
                  add_completion=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nnfit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Fit and evaluate neural networks on CSV data."""


def main() -> None:
    app()

"""The Typer app: its root options (``--version``, ``--debug``) and ``main``.

The commands live one module per command (or a few), registered on :data:`app` when
``nnfit.cli`` is imported. Heavy modules are imported inside the commands, so
``nnfit --help`` stays instant.
"""

from __future__ import annotations

import os

import typer

from .. import __version__
from .guard import STATE

# Plain click help: typer's rich help shows "<bool>" for every flag and reads "[...]" as markup.
app = typer.Typer(help="Fit and evaluate neural networks on CSV data.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None,
                  context_settings={"help_option_names": ["-h", "--help"]})


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
    STATE["debug"] = debug or bool(os.environ.get("NNFIT_DEBUG"))  # per invocation


def main() -> None:
    app()

"""The Typer app: its root options (``--version``, ``--debug``) and ``main``.

The commands live one module per command (or a few), registered on :data:`app` when
``nnfit.cli`` is imported. Heavy modules are imported inside the commands, so
``nnfit --help`` stays instant.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer._click.exceptions import (  # typer carries its own click
    ClickException,
    NoArgsIsHelpError,
    UsageError,
)
from typer.core import TyperGroup

from .. import __version__
from .guard import STATE


class OneLineErrors(TyperGroup):
    """The root command: a usage error (a bad option value, a missing argument, an unknown
    command) is one line on stderr and exit 2, like every other error — Click's own
    four-line block (usage, hint, blank, error) becomes ``nnfit train: <error> (nnfit
    train -h for help)``, its "Did you mean" kept."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args,
                                **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args,
                                **extra)
        except NoArgsIsHelpError as exc:  # bare "nnfit" or "nnfit train": the help, as before
            exc.show()
            sys.exit(exc.exit_code)
        except UsageError as exc:
            path = exc.ctx.command_path.split(" ", 1) if exc.ctx is not None else [""]
            where = " ".join(["nnfit", *path[1:]])  # whatever name it was started by
            typer.echo(f"{where}: {' '.join(exc.format_message().split())} ({where} -h for "
                       f"help)", err=True)
            sys.exit(exc.exit_code)
        except ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("interrupted", err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)

# Plain click help: typer's rich help shows "<bool>" for every flag and reads "[...]" as markup.
app = typer.Typer(cls=OneLineErrors, help="Fit and evaluate neural networks on CSV data.",
                  no_args_is_help=True,
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

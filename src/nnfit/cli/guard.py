"""The one error guard: every failure is one line on stderr and an exit code.

A workflow raises NnfitError for anything the user can fix; the guard prints its
message and exits with its code. Any other exception is one line too, unless
``--debug`` or ``NNFIT_DEBUG=1`` asks for the traceback. A MemoryError exits 1 (a run
that failed): a config whose training the memory estimate shows will not fit is
refused before, with 2. Ctrl-C exits 130, SIGTERM 143, SIGHUP 129 (each stops the run
as Ctrl-C does: ``runtime.signals``).
"""

from __future__ import annotations

import functools
import os

import typer

from ..errors import FAILED, NnfitError
from ..runtime.signals import handled, interrupt_code

STATE = {"debug": bool(os.environ.get("NNFIT_DEBUG"))}  # --debug sets it too


def guarded(command):
    """Turn errors into one line on stderr and an exit code."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            with handled():
                return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except NnfitError as exc:
            if STATE["debug"]:
                raise
            typer.echo(exc.message, err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(interrupt_code()) from None
        except MemoryError as exc:  # the last resort: train refuses what it can foresee (exit 2)
            if STATE["debug"]:
                raise
            typer.echo(f"nnfit: out of memory: {exc or 'an allocation failed'} (a smaller model, "
                       f"training.batch_size or data set needs less)", err=True)
            raise typer.Exit(FAILED) from None
        except Exception as exc:
            if STATE["debug"]:
                raise
            typer.echo(f"nnfit: internal error: {exc.__class__.__name__}: {exc} "
                       f"(rerun with --debug for the traceback)", err=True)
            raise typer.Exit(FAILED) from None

    return wrapper

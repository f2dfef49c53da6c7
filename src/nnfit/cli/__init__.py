"""The command line: thin Typer commands that parse, call a workflow and format its result.

Importing the package registers the commands on :data:`app`; the import order below is
the order ``nnfit --help`` lists them in.
"""

from .app import app, main

# isort: off
from . import init, train, summary, curve, sweep, lr_find, doctor, saved  # noqa: E402,F401  (registers the commands)
# isort: on

__all__ = ["app", "main"]

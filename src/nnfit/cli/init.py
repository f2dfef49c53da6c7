"""``nnfit init``: a starter config for a CSV, every key commented."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import NnfitError
from .app import app
from .guard import guarded
from .options import DATA, SET, TARGET


@app.command()
@guarded
def init(
    data: Path = DATA,
    targets: list[str] = TARGET,
    output: Path | None = typer.Option(
        None, "--output", "-o", show_default=False,
        help="Where to write the config [default: <DATA name>.yaml here]; - for stdout."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    sets: list[str] = SET,
) -> None:
    """Write a starter config for a CSV: a network sized for the data, every key commented."""
    from ..store.output import output_target, write_output
    from ..workflows.init import decisions, starter, starter_yaml, train_command

    if not targets:
        raise NnfitError(f"--target: name the column to predict: nnfit init {data} --target COLUMN")
    target = output_target(f"{data.stem}.yaml" if output is None else output, "-o",
                           csv_path=data, force=force)
    path = Path(target.name) if target.kind == "file" else None  # a file train can read again
    config, facts = starter(data, targets[0] if len(targets) == 1 else targets, sets)
    text = starter_yaml(config, data, facts, path)
    for line in decisions(config, facts):
        typer.echo(line, err=True)
    write_output(target, text)
    if path is None:
        typer.echo(f"save it, then train it: {train_command(None, data)}", err=True)
    else:
        typer.echo(f"wrote {path}; train it: {train_command(path, data)}", err=True)

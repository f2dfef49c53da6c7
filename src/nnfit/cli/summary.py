"""``nnfit summary``: the network a config builds on a CSV, without training it."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import app
from .guard import guarded
from .options import CONFIG, DATA, SET


@app.command()
@guarded
def summary(config: Path = CONFIG, data: Path = DATA, sets: list[str] = SET) -> None:
    """Print the network a config builds on a CSV: layers, output shapes, parameter counts."""
    from ..report.console import make_console
    from ..report.tables import print_layers
    from ..workflows.summary import summary as build_summary

    info = build_summary(config, data, sets)
    console = make_console(stderr=False)
    for note in info.notes:
        console.print(str(note), style="dim", markup=False)
    print_layers(console, f"{info.task} · {info.n_inputs} inputs · loss {info.loss}",
                 info.layers, info.n_params)
    if info.fits:
        console.print(info.memory_line, style="dim", markup=False, soft_wrap=True)
    else:
        typer.echo(info.memory_line, err=True)

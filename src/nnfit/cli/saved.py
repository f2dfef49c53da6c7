"""``nnfit eval``, ``nnfit predict`` and ``nnfit show``: what starts from a saved run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from .app import app
from .guard import guarded
from .options import DATA, RUN_DIR


@app.command("eval")
@guarded
def eval_(
    run_dir: Path = RUN_DIR,
    data: Path = DATA,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object to stdout."),
    confusion: Path | None = typer.Option(
        None, "--confusion", metavar="FILE", show_default=False,
        help="Write the full confusion matrix to this CSV (classification)."),
) -> None:
    """Score a saved model on a CSV that has the target column (extra columns are ignored)."""
    from ..report.console import make_console
    from ..report.tables import GRID_CLASSES, print_evaluation
    from ..store.atomic import json_safe, write_atomic
    from ..store.csv_file import confusion_csv
    from ..store.run_dir import check_output_path
    from ..workflows.inference import evaluate

    if confusion is not None:
        check_output_path(confusion, data, "--confusion", run_dir)
    evaluation = evaluate(run_dir, data)
    for warning in evaluation.warnings:
        typer.echo(str(warning), err=True)
    result = evaluation.scores
    classes = result.get("classes")
    if confusion is not None and classes:
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
@guarded
def predict(
    run_dir: Path = RUN_DIR,
    data: Path = DATA,
    output: Path | None = typer.Option(None, "--output", "-o",
                                          help="Write the CSV here [default: stdout]."),
    id_column: str | None = typer.Option(None, "--id", help="Copy this column through first."),
) -> None:
    """Write predictions for a CSV: labels and class probabilities, or predicted values."""
    from ..store.atomic import write_atomic
    from ..store.csv_file import frame_csv
    from ..store.run_dir import check_output_path
    from ..workflows.inference import predict as run_predict

    if output is not None:
        check_output_path(output, data, run_dir=run_dir)
    predictions = run_predict(run_dir, data, id_column)
    for warning in predictions.warnings:
        typer.echo(str(warning), err=True)
    frame = predictions.frame
    text = frame_csv(frame)
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomic(output, text)
        typer.echo(f"wrote {len(frame)} predictions to {output}", err=True)


@app.command()
@guarded
def show(run_dir: Path = RUN_DIR) -> None:
    """Describe a saved model: layers, parameters, training columns, classes and its metrics."""
    from ..report.console import make_console
    from ..report.tables import print_show
    from ..workflows.inference import show as describe

    print_show(make_console(stderr=False), describe(run_dir))

"""``nnfit eval``, ``nnfit predict`` and ``nnfit show``: what starts from a saved run."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ..errors import NnfitError
from .app import app
from .guard import guarded
from .options import DATA, RUN_DIR

FORCE = typer.Option(False, "--force", help="Overwrite an existing file.")


@app.command("eval")
@guarded
def eval_(
    run_dir: Path = RUN_DIR,
    data: Path = DATA,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object to stdout."),
    confusion: Path | None = typer.Option(
        None, "--confusion", metavar="FILE", show_default=False,
        help="Write the full confusion matrix to this CSV (classification); - for stdout."),
    force: bool = FORCE,
) -> None:
    """Score a saved model on a CSV that has the target column (extra columns are ignored)."""
    from ..report.console import make_console
    from ..report.tables import GRID_CLASSES, print_evaluation
    from ..store.atomic import json_safe
    from ..store.csv_file import confusion_csv
    from ..store.output import output_target, write_output
    from ..workflows.inference import evaluate

    target = None
    if confusion is not None:
        target = output_target(confusion, "--confusion", csv_path=data, force=force,
                               run_dir=run_dir)
        if target.kind == "stdout" and as_json:
            raise NnfitError("--confusion -: stdout carries the --json object; write the "
                             "matrix to a file")
    evaluation = evaluate(run_dir, data)
    for warning in evaluation.warnings:
        typer.echo(str(warning), err=True)
    result = evaluation.scores
    classes = result.get("classes")
    if target is not None and classes:
        write_output(target, confusion_csv(classes, result["confusion_matrix"]))
        typer.echo(f"wrote the {len(classes)}×{len(classes)} confusion matrix to {target}",
                   err=True)
    if as_json:
        typer.echo(json.dumps(json_safe(result), indent=2))
    else:  # the tables go to stderr when stdout holds the matrix
        console = make_console(stderr=target is not None and target.kind == "stdout")
        print_evaluation(console, result, str(data), confusion_path=target)
        if classes and len(classes) > GRID_CLASSES and confusion is None:
            typer.echo("write the full confusion matrix with --confusion FILE", err=True)


@app.command()
@guarded
def predict(
    run_dir: Path = RUN_DIR,
    data: Path = DATA,
    output: Path | None = typer.Option(None, "--output", "-o", show_default=False,
                                       help="Write the CSV here; - for stdout "
                                            "[default: stdout]."),
    id_column: str | None = typer.Option(None, "--id", help="Copy this column through first."),
    force: bool = FORCE,
) -> None:
    """Write predictions for a CSV: labels and class probabilities, or predicted values."""
    from ..store.csv_file import frame_csv
    from ..store.output import output_target, writing
    from ..workflows.inference import predict as run_predict

    target = output_target("-" if output is None else output, "-o", csv_path=data, force=force,
                           run_dir=run_dir)
    predictions = run_predict(run_dir, data, id_column)
    with writing(target) as writer:  # as the rows are predicted: memory stays one chunk's
        for i, table in enumerate(predictions):
            writer.write(frame_csv(table, header=i == 0))
    for warning in predictions.warnings:
        typer.echo(str(warning), err=True)
    if target.kind != "stdout":
        typer.echo(f"wrote {predictions.n_rows} predictions to {target}", err=True)


@app.command()
@guarded
def show(run_dir: Path = RUN_DIR) -> None:
    """Describe a saved model: layers, parameters, training columns, classes and its metrics."""
    from ..report.console import make_console
    from ..report.tables import print_show
    from ..workflows.inference import show as describe

    print_show(make_console(stderr=False), describe(run_dir))

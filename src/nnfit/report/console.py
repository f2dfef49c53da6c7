"""The console: a live training view (an observer) and the tables printed after a run.

Progress goes to stderr. On a terminal it is a rich progress bar with ETA and
the current losses; elsewhere (a pipe, a log file, CI) it is one plain line
every few epochs. Rich honours ``NO_COLOR``.
"""

from __future__ import annotations

import math

from ..training.observers import Observer


def escape(text) -> str:
    """Text from the data (column, class and file names) with rich markup made literal."""
    from rich.markup import escape as rich_escape

    return rich_escape(str(text))


PIPE_WIDTH = 120  # a pipe or a log file has no width: rich's 80 would cut wide tables


def make_console(stderr: bool = True, quiet: bool = False):
    import os

    from rich.console import Console

    console = Console(stderr=stderr, quiet=quiet, highlight=False, soft_wrap=True)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPE_WIDTH
    return console


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _header(key: str) -> str:
    """A metric's column header: ``balanced_accuracy`` -> ``balanced accuracy``, which a
    narrow terminal wraps at the space instead of cutting short."""
    return key.replace("_", " ")


class TrainingView(Observer):
    """Epoch progress with ETA, train loss, val loss, and the best epoch so far.

    Parameters
    ----------
    console : rich Console
    epochs : int
        The planned number of epochs (the bar's total).
    tracker : object with ``best`` (float) and ``best_epoch`` (int, 0 while none), optional
        The one owner of the best epoch: the run's EarlyStopping, placed *before*
        this view in the observer list so it has judged the epoch when the view
        draws it. The view only reads it, so the line names the epoch whose
        weights are kept (``min_delta`` included). Without it no best is shown.

    On a terminal the line is a progress bar that takes the console's full width
    (the bar gives way first, the losses text never); elsewhere plain lines,
    never wrapped, about ``LINES`` per run.
    """

    LINES = 20  # plain mode prints about this many lines per run
    show_lr = False  # set in on_train_begin: the rate is shown when a schedule moves it

    def __init__(self, console, epochs: int, tracker=None):
        self.console, self.epochs, self.tracker = console, epochs, tracker

    def on_train_begin(self, trainer):
        super().on_train_begin(trainer)
        self.progress = None
        self.show_lr = getattr(trainer, "schedule", None) is not None  # a constant rate is in the config
        self.every = max(1, self.epochs // self.LINES)
        self.last_printed = 0
        if self.console.is_terminal and not self.console.quiet:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.table import Column

            # The bar takes what is left of the width; the losses column never wraps, so
            # on a narrow terminal the other columns shrink before the numbers do.
            self.progress = Progress(
                TextColumn("epoch"), MofNCompleteColumn(),
                BarColumn(bar_width=None, table_column=Column(ratio=1)), TimeElapsedColumn(),
                TextColumn("eta"), TimeRemainingColumn(),
                TextColumn("{task.fields[losses]}", table_column=Column(no_wrap=True)),
                console=self.console, expand=True)
            self.task = self.progress.add_task("train", total=self.epochs, losses="")
            self.progress.start()

    def _line(self, logs) -> str:
        text = f"train {_fmt(logs.get('train_loss'))}"
        if "val_loss" in logs:
            text += f"  val {_fmt(logs['val_loss'])}"
        if self.tracker is not None and self.tracker.best_epoch:
            text += f"  best {_fmt(self.tracker.best)} @ {self.tracker.best_epoch}"
        if self.show_lr and "lr" in logs:
            text += f"  lr {logs['lr']:.3g}"
        return text

    def on_epoch_end(self, epoch, logs):
        if self.progress is not None:
            self.progress.update(self.task, completed=epoch, losses=self._line(logs))
        elif epoch == 1 or epoch % self.every == 0:
            self._print(epoch, logs)

    def _print(self, epoch, logs):
        # soft_wrap: a log file or CI gets the whole line, whatever width rich assumes there.
        self.console.print(f"epoch {epoch:>{len(str(self.epochs))}}/{self.epochs}  "
                           f"{self._line(logs)}", soft_wrap=True)
        self.last_printed = epoch

    def on_train_end(self, logs):
        if self.progress is not None:
            self.progress.stop()
        elif logs and logs["epoch"] != self.last_printed:
            self._print(logs["epoch"], logs)


def print_notes(console, alerts, notes: list[str]) -> None:
    """The data notes: dim on ``console``; warnings plain, on ``alerts`` when given, so they
    show even when the notes are quiet."""
    for note in notes:
        warning = note.startswith("warning:")
        (alerts if warning and alerts else console).print(
            note, style=None if warning else "dim", markup=False)


def print_report(console, metrics: dict, notes_after: list[str]) -> None:
    """The results table (splits and baseline), the verdict, dead units, then closing notes."""
    from rich.table import Table

    splits = metrics["splits"]
    names = [k for k in next(iter(splits.values())) if k not in ("loss", "rows")]
    table = Table(title=escape(f"{metrics['task']} · loss {metrics['loss']}"), title_justify="left")
    table.add_column("split")
    table.add_column("rows", justify="right")
    table.add_column("loss", justify="right")
    for name in names:
        table.add_column(escape(_header(name)), justify="right")
    for split, values in splits.items():
        table.add_row(escape(split), str(values.get("rows", "")), _fmt(values["loss"]),
                      *(_fmt(values[n]) for n in names))
    base_split = "val" if "val" in metrics["baseline"] else "train"
    base = metrics["baseline"][base_split]
    table.add_row(f"baseline ({base_split})", str(base.get("rows", "")), _fmt(base["loss"]),
                  *(_fmt(base[n]) for n in names), style="dim")
    console.print(table)
    if metrics.get("class_weight"):
        console.print(class_weight_line(metrics["class_weight"]), style="dim", soft_wrap=True,
                      markup=False)

    print_outcome(console, metrics)
    advice = metrics["diagnosis"].get("advice")
    if advice:
        console.print(f"advice: {advice}", soft_wrap=True, markup=False)
    for check in metrics["diagnosis"].get("evidence", []):
        if check.get("check") == "capacity probe":
            console.print(f"capacity probe: {check['layers']}, {check['epochs']} epochs, "
                          f"{check['seconds']:.2g} s (train loss {check['train_loss']:.4g})",
                          soft_wrap=True, markup=False, style="dim")
    for layer in metrics.get("dead_relu", []):
        console.print(f"dead ReLU units in layer {escape(layer['layer'])} "
                      f"{escape(layer['description'])}: "
                      f"{layer['dead']}/{layer['units']} ({layer['share']:.0%}) never positive on "
                      f"the training rows")
    for note in notes_after:
        console.print(note, markup=False)


def class_weight_line(weights: dict[str, float]) -> str:
    """``class weights: a 0.62, b 2.50`` — the weights the loss (every loss above) used."""
    return "class weights: " + ", ".join(f"{label} {w:.2f}" if w >= 0.01 else f"{label} {w:.2g}"
                                         for label, w in weights.items())


def diverged_message(epoch: int) -> str:
    """What a diverged run says, in the console and on its learning curves."""
    return f"diverged at epoch {epoch}: the loss became NaN/inf — lower the learning rate"


def print_outcome(console, metrics: dict) -> None:
    """One line: the verdict and its reason, or for a diverged run what happened instead.

    ``metrics`` is ``metrics.json``'s content. The one place this line is made:
    :func:`print_report` prints it, and ``--quiet`` runs print it alone.
    """
    if metrics.get("stop_reason") == "diverged":
        best = metrics.get("best_epoch", 0)
        kept = f"kept the weights of epoch {best}" if best else "kept the initial weights"
        console.print(f"[bold red]{diverged_message(metrics['epochs_run'])}[/]; {kept}",
                      soft_wrap=True)
        return
    diagnosis = metrics["diagnosis"]
    colour = {"good fit": "green", "overfitting": "yellow", "underfitting": "yellow",
              "diverged": "red"}
    console.print(f"[bold {colour.get(diagnosis['verdict'], 'white')}]{escape(diagnosis['verdict'])}"
                  f"[/]: {escape(diagnosis['reason'])}", soft_wrap=True)



def print_layers(console, title: str, layers: list[dict], n_params: int) -> None:
    """The layer table of ``nnfit summary`` and ``nnfit show``: layer, output shape, params."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column, justify in (("#", "right"), ("layer", "left"), ("output shape", "left"),
                            ("params", "right")):
        table.add_column(column, justify=justify)
    for i, row in enumerate(layers):
        shape = "(" + ", ".join(map(str, row["output_shape"])) + ")"
        table.add_row(str(i), row["layer"], shape, f"{row['params']:,}")
    table.add_section()
    each = sum(row["params"] for row in layers)
    table.add_row("", "total" if n_params == each else f"total ({n_params // each} × {each:,})",
                  "", f"{n_params:,}")
    console.print(table)


GRID_CLASSES = 12  # more classes than this and the grid is unreadable; show the worst pairs


def print_evaluation(console, result: dict, source: str, confusion_path=None) -> None:
    """``nnfit eval``: loss and metrics; for classes, per-class scores and the confusion matrix.

    Up to ``GRID_CLASSES`` classes the matrix is printed as a grid; beyond that, the
    most-confused pairs instead, and ``confusion_path`` (where the caller wrote
    :func:`~nnfit.report.tables.confusion_csv`), if given, is named for the full matrix.
    """
    from rich.table import Table

    skip = {"n_rows", "warnings", "classes", "per_class", "confusion_matrix"}
    table = Table(title=f"{escape(source)} · {result['n_rows']} rows", title_justify="left")
    names = [k for k in result if k not in skip]
    for name in names:
        table.add_column(_header(name), justify="right")
    table.add_row(*(_fmt(result[n]) for n in names))
    console.print(table)
    if "per_class" not in result:
        return
    per_class = Table(title="per class", title_justify="left")
    for column in ("class", "precision", "recall", "f1", "support"):
        per_class.add_column(column, justify="left" if column == "class" else "right")
    for cls, row in result["per_class"].items():
        per_class.add_row(escape(cls), _fmt(row["precision"]), _fmt(row["recall"]), _fmt(row["f1"]),
                          str(row["support"]))
    console.print(per_class)
    print_confusion(console, result["classes"], result["confusion_matrix"], confusion_path)


def print_confusion(console, classes: list[str], matrix, confusion_path=None) -> None:
    """The confusion matrix as a grid, or its most-confused pairs past ``GRID_CLASSES`` classes."""
    from rich.table import Table

    from .tables import most_confused

    if len(classes) <= GRID_CLASSES:
        confusion = Table(title="confusion matrix (rows: true class, columns: predicted)",
                          title_justify="left")
        confusion.add_column("true \\ predicted")
        for cls in classes:
            confusion.add_column(escape(cls), justify="right")
        for i, (cls, row) in enumerate(zip(classes, matrix)):
            confusion.add_row(escape(cls), *(f"[bold]{v}[/]" if j == i else str(v)
                                     for j, v in enumerate(row)))
        console.print(confusion)
        return
    pairs = most_confused(classes, matrix)
    if pairs:
        table = Table(title=f"most confused pairs ({len(classes)} classes, top {len(pairs)})",
                      title_justify="left")
        for column, justify in (("true", "left"), ("", "left"), ("predicted", "left"),
                                ("rows", "right"), ("share of true class", "right")):
            table.add_column(column, justify=justify)
        for true, predicted, count, share in pairs:
            table.add_row(escape(true), "→", escape(predicted), str(count), f"{share:.1%}")
        console.print(table)
    else:
        console.print(f"no confusions: every row of the {len(classes)} classes was predicted "
                      f"as its true class")
    if confusion_path is not None:
        console.print(f"the full {len(classes)}×{len(classes)} confusion matrix is in "
                      f"{confusion_path}", soft_wrap=True, markup=False)


def print_show(console, info: dict) -> None:
    """``nnfit show``: what the model is, what it was trained on, and how it scored."""
    classes = f" · classes: {escape(', '.join(info['classes']))}" if info["classes"] else ""
    console.print(f"[bold]{escape(info['run_dir'])}[/] · {info['task']} of "
                  f"{escape(', '.join(info['target']))}{classes} · loss {info['loss']} · "
                  f"{info['dtype']} · nnfit {escape(info['nnfit_version'])}")
    console.print(f"features ({len(info['features'])} columns, {len(info['inputs'])} inputs): "
                  f"{', '.join(info['features'])}", markup=False)
    k = info.get("members", 1)
    print_layers(console, f"layers of each of {k} ensemble members (predictions averaged)"
                 if k > 1 else "layers", info["layers"], info["n_params"])
    metrics = info["metrics"]
    if metrics and "ensemble" in metrics:
        print_ensemble(console, metrics)
    if metrics:
        print_report(console, metrics, [f"epochs run: {metrics['epochs_run']}, best epoch: "
                                        f"{metrics['best_epoch']}, stop: "
                                        f"{metrics.get('stop_reason', 'completed')}"])
    elif info.get("metrics_problem"):
        console.print(info["metrics_problem"], markup=False, soft_wrap=True)
    else:
        console.print("no metrics.json in this run directory")


def print_ensemble(console, metrics: dict) -> None:
    """``training.ensemble``: each member's seed, epochs and per-split loss and headline
    metric, then the ensemble's (its averaged predictions) on the same splits."""
    from rich.table import Table

    ens, metric = metrics["ensemble"], metrics["ensemble"]["metric"]
    splits = [s for s in ("val", "test") if s in metrics["splits"]] or ["train"]
    table = Table(title=f"ensemble of {ens['members']} · predictions averaged",
                  title_justify="left")
    for column in ("model", "seed", "best epoch", *(escape(f"{s} {c}") for s in splits
                                                    for c in ("loss", metric))):
        table.add_column(column, justify="right")
    for i, rec in enumerate(ens["records"], 1):
        table.add_row(f"member {i}", str(rec["seed"]), f"{rec['best_epoch']}/{rec['epochs_run']}",
                      *(_fmt(rec["splits"][s][c]) for s in splits for c in ("loss", metric)))
    table.add_section()
    table.add_row("ensemble", "", "", *(_fmt(metrics["splits"][s][c]) for s in splits
                                        for c in ("loss", metric)), style="bold")
    console.print(table)


def print_cv(console, metrics: dict) -> None:
    """``train --cv``: each fold's rows, losses, val metric and best epoch, their mean ± std,
    and what the final model was trained on. ``metrics``: a cross-validated run's ``metrics.json``."""
    from rich.table import Table

    cv, metric = metrics["cv"], metrics["cv"]["metric"]
    keys = ("train_loss", "val_loss", f"val_{metric}", "best_epoch")
    table = Table(title=f"{cv['k']}-fold cross-validation · {cv['rows']} rows outside the test "
                        f"split{' · stratified' if cv['stratified'] else ''}", title_justify="left")
    for column in ("fold", "train / val rows", "train loss", "val loss", f"val {metric}",
                   "best epoch"):
        table.add_column(column, justify="right")
    for fold in cv["folds"]:
        table.add_row(str(fold["fold"]), f"{fold['train_rows']} / {fold['val_rows']}",
                      *(_fmt(fold[key]) for key in keys))
    table.add_section()
    mean, std = cv["mean"], cv["std"]
    cells = [f"{_fmt(mean[key])} ± {std[key]:.2g}" for key in keys[:-1]]
    table.add_row("mean ± std", "", *cells, f"{mean['best_epoch']:.0f} ± {std['best_epoch']:.0f}",
                  style="bold")
    console.print(table)
    probe = f"; capacity probe on fold {cv['probe_fold']}" if cv.get("probe_fold") else ""
    console.print(f"verdict from all {cv['k']} folds together ({cv['rows']} held-out rows){probe}; "
                  f"final model: all {cv['rows']} rows for {cv['final_epochs']} epochs (the "
                  f"median over folds), scored on the test split", style="dim", soft_wrap=True,
                  markup=False)

"""Every table nnfit prints after a run: results, layers, evaluation, confusion, ensembles,
folds, learning curves, sweeps; and the one-line progress of many-run commands."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.table import Table

from ..evaluation.task import HEADLINE_METRIC as METRIC
from ..evaluation.verdicts import Check
from .console import VERDICT_COLOUR, curve_owner, escape, fmt, header, print_outcome

if TYPE_CHECKING:
    from rich.console import JustifyMethod


def print_report(console, metrics: dict, notes_after: list[str]) -> None:
    """The results table (splits and baseline), the verdict, dead units, then closing notes;
    for a refitted run (``training.refit``) the early-stopped run's table first."""
    title = f"{metrics['task']} · loss {metrics['loss']}"
    refit = metrics.get("refit")
    if refit:
        chosen = refit["selection"]
        console.print(splits_table(f"{title} · early-stopped run (best epoch "
                                   f"{chosen['best_epoch']} of {chosen['epochs_run']}; the "
                                   f"verdict reads it)", chosen["splits"], chosen["baseline"]))
        title += (f" · saved model: refit on {refit['rows']} train + val rows for "
                  f"{refit['epochs']} epochs")
    console.print(splits_table(title, metrics["splits"], metrics["baseline"]))
    if metrics.get("class_weight"):
        console.print(class_weight_line(metrics["class_weight"]), style="dim", soft_wrap=True,
                      markup=False)

    print_outcome(console, metrics)
    print_advice(console, metrics["diagnosis"])
    for check in metrics["diagnosis"].get("evidence", []):
        if check.get("check") == Check.PROBE:
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


def splits_table(title: str, splits: dict, baseline: dict) -> Table:
    """Loss and metrics per split, then the input-ignoring baseline's (val, else train)."""
    names = [k for k in next(iter(splits.values())) if k not in ("loss", "rows")]
    table = Table(title=escape(title), title_justify="left")
    for column in ("split", "rows", "loss", *(escape(header(name)) for name in names)):
        table.add_column(column, justify="left" if column == "split" else "right")
    for split, values in splits.items():
        table.add_row(escape(split), str(values.get("rows", "")), fmt(values["loss"]),
                      *(fmt(values[n]) for n in names))
    base_split = "val" if "val" in baseline else "train"
    base = baseline[base_split]
    table.add_row(f"baseline ({base_split})", str(base.get("rows", "")), fmt(base["loss"]),
                  *(fmt(base[n]) for n in names), style="dim")
    return table


def print_advice(console, diagnosis: dict) -> None:
    """The lines under the verdict: how close it was, the advice, and notes on the model."""
    if diagnosis.get("borderline"):
        console.print(diagnosis["borderline"], soft_wrap=True, markup=False, style="yellow")
    if diagnosis.get("advice"):
        console.print(f"advice: {diagnosis['advice']}", soft_wrap=True, markup=False)
    for note in diagnosis.get("notes") or []:
        console.print(f"note: {note}", soft_wrap=True, markup=False, style="yellow")


def class_weight_line(weights: dict[str, float]) -> str:
    """``class weights: a 0.62, b 2.50`` — the weights the loss (every loss above) used."""
    return "class weights: " + ", ".join(f"{label} {w:.2f}" if w >= 0.01 else f"{label} {w:.2g}"
                                         for label, w in weights.items())


def print_layers(console, title: str, layers: list[tuple[str, tuple[int, ...], int]],
                 n_params: int) -> None:
    """The layer table of ``nnfit summary`` and ``nnfit show``: layer, output shape, params.

    ``layers``: ``(description, output shape without the batch axis, parameters)`` each."""
    table = Table(title=title, title_justify="left")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("#", "right"), ("layer", "left"), ("output shape", "left"), ("params", "right"))
    for column, justify in columns:
        table.add_column(column, justify=justify)
    for i, (description, shape, params) in enumerate(layers):
        table.add_row(str(i), description, "(" + ", ".join(map(str, ["batch", *shape])) + ")",
                      f"{params:,}")
    table.add_section()
    each = sum(params for *_, params in layers)
    table.add_row("", "total" if n_params == each else f"total ({n_params // each} × {each:,})",
                  "", f"{n_params:,}")
    console.print(table)


GRID_CLASSES = 12  # more classes than this and the grid is unreadable; show the worst pairs


def print_evaluation(console, result: dict, source: str, confusion_path=None) -> None:
    """``nnfit eval``: loss and metrics; for classes, per-class scores and the confusion matrix.

    Up to ``GRID_CLASSES`` classes the matrix is printed as a grid; beyond that, the
    most-confused pairs instead, and ``confusion_path`` (where the caller wrote
    :func:`~nnfit.store.csv_file.confusion_csv`), if given, is named for the full matrix.
    """
    skip = {"n_rows", "classes", "per_class", "confusion_matrix"}
    table = Table(title=f"{escape(source)} · {result['n_rows']} rows", title_justify="left")
    names = [k for k in result if k not in skip]
    for name in names:
        table.add_column(header(name), justify="right")
    table.add_row(*(fmt(result[n]) for n in names))
    console.print(table)
    if "per_class" not in result:
        return
    per_class = Table(title="per class", title_justify="left")
    for column in ("class", "precision", "recall", "f1", "support"):
        per_class.add_column(column, justify="left" if column == "class" else "right")
    for cls, row in result["per_class"].items():
        per_class.add_row(escape(cls), fmt(row["precision"]), fmt(row["recall"]), fmt(row["f1"]),
                          str(row["support"]))
    console.print(per_class)
    print_confusion(console, result["classes"], result["confusion_matrix"], confusion_path)


def print_confusion(console, classes: list[str], matrix, confusion_path=None) -> None:
    """The confusion matrix as a grid, or its most-confused pairs past ``GRID_CLASSES`` classes."""
    if len(classes) <= GRID_CLASSES:
        confusion = Table(title="confusion matrix (rows: true class, columns: predicted)",
                          title_justify="left")
        confusion.add_column("true \\ predicted")
        for cls in classes:
            confusion.add_column(escape(cls), justify="right")
        for i, (cls, row) in enumerate(zip(classes, matrix, strict=False)):
            confusion.add_row(escape(cls), *(f"[bold]{v}[/]" if j == i else str(v)
                                     for j, v in enumerate(row)))
        console.print(confusion)
        return
    pairs = most_confused(classes, matrix)
    if pairs:
        table = Table(title=f"most confused pairs ({len(classes)} classes, top {len(pairs)})",
                      title_justify="left")
        columns: tuple[tuple[str, JustifyMethod], ...] = (
            ("true", "left"), ("", "left"), ("predicted", "left"), ("rows", "right"),
            ("share of true class", "right"))
        for column, justify in columns:
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


def print_show(console, info) -> None:
    """``nnfit show``: what the model is, what it was trained on, and how it scored.

    ``info``: a :class:`nnfit.workflows.inference.Shown`."""
    classes = f" · classes: {escape(', '.join(info.classes))}" if info.classes else ""
    console.print(f"[bold]{escape(info.run_dir)}[/] · {info.task} of "
                  f"{escape(', '.join(info.targets))}{classes} · loss {info.loss} · "
                  f"{info.dtype} · nnfit {escape(info.nnfit_version)}")
    console.print(f"features ({len(info.features)} columns, {len(info.inputs)} inputs): "
                  f"{', '.join(info.features)}", markup=False)
    k = info.members
    print_layers(console, f"layers of each of {k} ensemble members (predictions averaged)"
                 if k > 1 else "layers", info.layers, info.n_params)
    metrics = info.metrics
    if metrics and "ensemble" in metrics:
        print_ensemble(console, metrics)
    if metrics:
        print_report(console, metrics, [f"epochs run: {metrics['epochs_run']}, best epoch: "
                                        f"{metrics['best_epoch']}, stop: "
                                        f"{metrics.get('stop_reason', 'completed')}"])
    elif info.metrics_problem:
        console.print(info.metrics_problem, markup=False, soft_wrap=True)
    else:
        console.print("no metrics.json in this run directory")


def print_ensemble(console, metrics: dict) -> None:
    """``training.ensemble``: each member's seed, epochs and per-split loss and headline
    metric, then the ensemble's (its averaged predictions) on the same splits; a caption
    names the member whose curve the verdict reads (:func:`~nnfit.report.console.curve_owner`)."""
    ens, metric = metrics["ensemble"], metrics["ensemble"]["metric"]
    splits = [s for s in ("val", "test") if s in metrics["splits"]] or ["train"]
    member = curve_owner(metrics)
    table = Table(title=f"ensemble of {ens['members']} · predictions averaged",
                  title_justify="left", caption_justify="left", caption=(
                      f"curves.png and the verdict's curve evidence (best epoch, the rise "
                      f"after it, the trend at the end) are {member}'s" if member else None))
    for column in ("model", "seed", "best epoch", *(escape(f"{s} {c}") for s in splits
                                                    for c in ("loss", metric))):
        table.add_column(column, justify="right")
    for i, rec in enumerate(ens["records"], 1):
        table.add_row(f"member {i}", str(rec["seed"]), f"{rec['best_epoch']}/{rec['epochs_run']}",
                      *(fmt(rec["splits"][s][c]) for s in splits for c in ("loss", metric)))
    table.add_section()
    table.add_row("ensemble", "", "", *(fmt(metrics["splits"][s][c]) for s in splits
                                        for c in ("loss", metric)), style="bold")
    console.print(table)


def print_cv(console, metrics: dict) -> None:
    """``train --cv``: each fold's rows, losses, val metric and best epoch, their mean ± std,
    and what the final model was trained on. ``metrics``: a cross-validated run's ``metrics.json``."""
    cv, metric = metrics["cv"], metrics["cv"]["metric"]
    keys = ("train_loss", "val_loss", f"val_{metric}", "best_epoch")
    table = Table(title=f"{cv['k']}-fold cross-validation · {cv['rows']} rows outside the test "
                        f"split{' · stratified' if cv['stratified'] else ''}", title_justify="left")
    for column in ("fold", "train / val rows", "train loss", "val loss", f"val {metric}",
                   "best epoch"):
        table.add_column(column, justify="right")
    for fold in cv["folds"]:
        table.add_row(str(fold["fold"]), f"{fold['train_rows']} / {fold['val_rows']}",
                      *(fmt(fold[key]) for key in keys))
    table.add_section()
    mean, std = cv["mean"], cv["std"]
    cells = [f"{fmt(mean[key])} ± {std[key]:.2g}" for key in keys[:-1]]
    table.add_row("mean ± std", "", *cells, f"{mean['best_epoch']:.0f} ± {std['best_epoch']:.0f}",
                  style="bold")
    console.print(table)
    probe = f"; capacity probe on fold {cv['probe_fold']}" if cv.get("probe_fold") else ""
    console.print(f"verdict from all {cv['k']} folds together ({cv['rows']} held-out rows){probe}; "
                  f"final model: all {cv['rows']} rows for {cv['final_epochs']} epochs (the "
                  f"median over folds), scored on the test split", style="dim", soft_wrap=True,
                  markup=False)


def most_confused(classes: list[str], matrix, top: int = 10) -> list[tuple[str, str, int, float]]:
    """The ``top`` off-diagonal cells with rows in them, as ``(true, predicted, count, share)``.

    ``share`` is ``count`` over the rows of that true class. Sorted by count, largest
    first, then by the true and the predicted class names.
    """
    names = [str(c) for c in classes]
    pairs = []
    for i, row in enumerate(matrix):
        total = sum(int(v) for v in row)
        for j, count in enumerate(row):
            if i != j and count > 0:
                pairs.append((names[i], names[j], int(count), int(count) / total))
    pairs.sort(key=lambda p: (-p[2], p[0], p[1]))
    return pairs[:top]


# -- many-run commands: their tables and progress lines ---------------------------------


def results_table(rows: list[dict], title: str = "grid points, best val loss first"):
    """The sweep's points as a rich Table (rows already sorted by val loss): the swept
    values, the seeds, the val loss ± its standard error, the paired difference to the best
    point ± its standard error (``≈``: tied with it, within the noise), the first seed's test
    loss and metric, epochs, seconds and verdict — or ``diverged``, ``failed`` (its error is
    in ``sweep.csv``), ``partial``."""
    table = Table(title=title, title_justify="left")
    if not rows:
        return table
    swept = [k for k in rows[0] if "." in k]
    metric = next((k for k in rows[0] if k.startswith("test_") and k != "test_loss"), None)
    counts = {int(r.get("seeds", 1) or 0) for r in rows if r["status"] != "failed"}
    seeds = len(counts) > 1  # a column only when the points differ (a partial one)
    if len(counts) == 1 and max(counts) > 1:
        table.title = f"grid points ({max(counts)} seeds each), best val loss first"
    head = [("run", "run"), *((k, k.split(".")[-1]) for k in swept)]
    tail = [(key, name) for key, name in [
        ("test_loss", "test loss"), *([(metric, metric.replace("_", " "))] if metric else []),
        ("epochs", "epochs")] if any(_shown(r.get(key)) for r in rows)]  # --cv: no test
    for _, name in head:
        table.add_column(name, justify="right", no_wrap=True)
    if seeds:
        table.add_column("seeds", justify="right", no_wrap=True, min_width=5)
    table.add_column("val loss ± se", justify="right", no_wrap=True)
    table.add_column("vs best ± se", justify="right", no_wrap=True)
    for _, name in tail:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    for row in rows:
        verdict = row["verdict"] if row["status"] == "ok" else row["status"]
        style = {"diverged": "yellow", "failed": "red"}.get(row["status"])
        cells = [fmt_finite(row[key]) for key, _ in head]
        if seeds:
            cells.append(str(row.get("seeds", "")))
        cells += [_plus_minus(row.get("val_loss"), row.get("val_loss_se")), _vs_best(row)]
        cells += [f"{row['epochs']:.0f}" if key == "epochs" and isinstance(row.get(key), float)
                  else fmt_finite(row.get(key)) for key, _ in tail]
        table.add_row(*cells, verdict, style=style)
    return table


def _shown(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _plus_minus(value, se) -> str:
    if value is None or not math.isfinite(float(value)):
        return fmt_finite(value)
    return f"{fmt_finite(value)} ± {float(se):.2g}" if se is not None and math.isfinite(
        float(se)) else fmt_finite(value)


def _vs_best(row: dict) -> str:
    change, se = row.get("vs_best"), row.get("vs_best_se")
    if change is None or not math.isfinite(float(change)):
        return ""
    if change == 0 and se == 0:
        return "best"
    mark = "≈ " if row.get("tied") else ""
    return f"{mark}{change:+.3g} ± {float(se):.2g}" if se is not None and math.isfinite(
        float(se)) else f"{mark}{change:+.3g}"


def print_curve(console, record: dict) -> None:
    """The table (size, rows, train and val loss and the metric, mean ± std), the verdict."""
    def cell(mean, std, places=4):  # fixed point: a memorized 1e-15 reads as 0.0000
        if mean is None:
            return "—"
        spec = ".4g" if max(abs(mean), std) >= 1e4 else f".{places}f"
        return f"{mean:{spec}} ± {std:{spec}}"

    metric = record["metric"]
    table = Table(title=f"{record['task']} · loss {record['loss']} · {record['train_rows']} "
                        f"training rows, {record['val_rows']} val rows · seeds "
                        f"{_seeds(record)}", title_justify="left")
    for column in ("size", "rows", "runs", "train loss", "val loss", f"val {metric}"):
        table.add_column(column, justify="right")
    for s in record["summary"]:
        table.add_row(f"{s['size']:g}", str(s["rows"]), str(s["runs"]),
                      cell(s["train_loss_mean"], s["train_loss_std"]),
                      cell(s["val_loss_mean"], s["val_loss_std"]),
                      cell(s["val_metric_mean"], s["val_metric_std"], places=3))
    base = record["baseline"]
    table.add_row("baseline", str(record["train_rows"]), "", f"{base['train_loss']:.4f}",
                  f"{base['val_loss']:.4f}", "", style="dim")
    console.print(table)
    v = record["verdict"]
    console.print(f"[bold {VERDICT_COLOUR.get(v['verdict'], 'white')}]{escape(v['verdict'])}[/]: "
                  f"{escape(v['reason'])}", soft_wrap=True)
    print_advice(console, v)


def _seeds(record: dict) -> str:
    seeds = record["seeds"]
    return ", ".join(map(str, seeds)) if len(seeds) < 4 else f"{seeds[0]}–{seeds[-1]}"


def curve_line(run: dict, done: int, total: int) -> str:
    """One line per finished job, for the console (runs finish in any order)."""
    head = f"[{done:>{len(str(total))}}/{total}] size {run['size']:g}"
    if "error" in run:
        return f"{head} seed {run['seed']}: failed: {run['error']}"
    return (f"{head} ({run['rows']} rows) seed {run['seed']}: train {run['train_loss']:.4g}  "
            f"val {run['val_loss']:.4g}  best epoch {run['best_epoch']}  ({run['seconds']:.1f} s)")


def fold_line(record: dict, done: int, k: int) -> str:
    """One line per finished fold (folds finish in any order with --jobs)."""
    metric = next(m for m in METRIC.values() if f"val_{m}" in record)
    return (f"[{done}/{k}] fold {record['fold']}: train {record['train_loss']:.4g}  val "
            f"{record['val_loss']:.4g}  val {metric} {record[f'val_{metric}']:.4g}  best epoch "
            f"{record['best_epoch']} of {record['epochs_run']}  ({record['seconds']:.1f} s)")


def member_line(record: dict, done: int, k: int, metric: str) -> str:
    """The progress line printed as a member finishes."""
    held = "val" if "val" in record["splits"] else "train"
    s = record["splits"][held]
    return (f"member {done}/{k} (seed {record['seed']}): {record['epochs_run']} epochs, best "
            f"{record['best_epoch']}, {held} loss {s['loss']:.4g}, {held} {metric} {s[metric]:.4g}")


def fmt_finite(value) -> str:
    """:func:`~nnfit.report.console.fmt` with a dash for infinities too (a failed run)."""
    return fmt(value, finite_only=True)

"""One training run as four typed steps: prepare → fit → score → save; this module holds the
last two.

Every command that trains (``train``, and the many-run commands built on it)
goes through these steps. *prepare* (``workflows.prepared``) reads the data
once; *fit* (``workflows.fit``) can then run many times on it — with overridden
configs, in worker processes — printing and writing nothing; *score* judges a fit
(and may train the capacity probe, ``workflows.probe``); *save* writes a run
directory.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import numpy as np
import yaml

from ..errors import FAILED
from ..evaluation.diagnosis import Evidence, judge
from ..evaluation.pooling import RunRows
from ..evaluation.scoring import Scored, row_losses, score_splits
from ..evaluation.task import HEADLINE_METRIC, Classification
from ..evaluation.verdicts import Kind
from ..report.console import diverged_message, kept_weights
from ..report.plots.learning_curves import CurvesPlot
from ..report.plots.renderer import draw_curves
from ..runtime.signals import interrupt_code
from ..runtime.threads import blas_threads
from ..store.atomic import write_atomic
from ..store.csv_file import confusion_csv
from ..store.history import write_history
from ..store.metrics import EnsembleRecords, MetricsRecord, write_metrics
from ..store.model_file import save_model
from .fit import FitResult
from .prepared import Prepared
from .probe import capacity_probe

if TYPE_CHECKING:
    from ..config.schema import Config


@dataclass
class Scores:
    """Per-split loss and metrics, the input-ignoring baseline's, and the verdict."""

    splits: dict
    baseline: dict
    diagnosis: dict
    dead_relu: list
    confusion: tuple[str, list] | None = None  # classification: (split, matrix), rows = true class


def score(prepared: Prepared, result: FitResult, config: Config | None = None,
          probe: str = "auto") -> Scores:
    """Loss and metrics per split for the fitted network and the baseline; the verdict.

    ``probe``: ``auto`` trains the capacity probe when the diagnosis needs it
    (see ``nnfit.evaluation.diagnosis``), ``always`` forces it, ``never`` skips it.
    """
    ds, task = prepared.data, prepared.task
    with blas_threads(result.threads):  # the run's thread count, for scoring as for training
        scored = score_splits(result.network, task, ds, census=True)
        evidence = evidence_of(prepared, result, scored)
        with np.errstate(over="ignore", invalid="ignore"):
            diagnosis, _ = judge(evidence, probe, lambda full: capacity_probe(
                prepared, config or prepared.config, result.epochs_run,
                result.network.n_params, full=full))
    held_out = next(name for name in ("test", "val", "train") if name in scored.outputs)
    matrix = task.confusion(scored.outputs[held_out], ds.y[held_out])
    return Scores(scored.splits, scored.baseline, diagnosis, scored.dead,
                  None if matrix is None else (held_out, matrix))


def evidence_of(prepared: Prepared, result: FitResult, scored: Scored) -> Evidence:
    """What the diagnosis reads of one run: its scores, per-row losses and curve."""
    ds, task = prepared.data, prepared.task
    splits, baseline = scored.splits, scored.baseline
    has_val = "val" in splits
    return Evidence(
        train_loss=splits["train"]["loss"], base_train=baseline["train"]["loss"],
        train_rows=row_losses(task, scored, ds, "train"), history=result.history,
        best_epoch=result.best_epoch, epochs_run=result.epochs_run,
        stop_reason=result.stop_reason, patience=result.patience,
        val_loss=splits["val"]["loss"] if has_val else None,
        base_val=baseline["val"]["loss"] if has_val else None,
        val_rows=row_losses(task, scored, ds, "val") if has_val else None,
        rise_rows=result.val_rise(task, ds.y["val"]) if has_val else None,
        peak_epoch=result.peak_epoch, restored=result.restored, **audit_columns(prepared),
        **held_classes(task, scored, ds))


def run_rows(prepared: Prepared, result: FitResult, head: dict, started: float) -> RunRows:
    """Score a run of many (a ``--cv`` fold, a learning curve's point) on train and val and
    keep what pooling needs: its record (``head`` first), curve and per-row losses."""
    ds, task = prepared.data, prepared.task
    metric = HEADLINE_METRIC[task.kind]
    with blas_threads(result.threads):
        scored = score_splits(result.network, task, ds, ("train", "val"))
    s, b = scored.splits, scored.baseline
    record = {**head, "train_rows": s["train"]["rows"], "val_rows": s["val"]["rows"],
              "train_loss": float(s["train"]["loss"]), "val_loss": float(s["val"]["loss"]),
              f"train_{metric}": float(s["train"][metric]),
              f"val_{metric}": float(s["val"][metric]),
              "baseline_train_loss": float(b["train"]["loss"]),
              "baseline_val_loss": float(b["val"]["loss"]),
              "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
              "stop_reason": result.stop_reason,
              "seconds": round(time.perf_counter() - started, 3)}
    history = {key: list(result.history.get(key, [])) for key in ("train_loss", "val_loss")}
    scored_epoch = result.best_epoch if result.restored else result.epochs_run
    return RunRows(record, history, scored_epoch, result.patience,
                   row_losses(task, scored, ds, "train"), row_losses(task, scored, ds, "val"),
                   result.val_rise(task, ds.y["val"]), held_classes(task, scored, ds))


def held_classes(task, scored: Scored, data) -> dict:
    """A classifier's true and predicted classes on its held-out rows (val, else train), for
    the collapse check; nothing for regression."""
    if not isinstance(task, Classification):
        return {}
    name = "val" if "val" in scored.outputs else "train"
    return {"classes": list(task.classes), "class_weighted": task.class_weight is not None,
            "held_true": np.asarray(data.y[name], dtype=np.intp).reshape(-1),
            "held_pred": task.decide(scored.outputs[name]),
            "train_true": np.asarray(data.y["train"], dtype=np.intp).reshape(-1),
            "train_pred": task.decide(scored.outputs["train"])}


class AuditColumns(TypedDict):
    """The data checks' columns, as ``Evidence`` and ``pooled_evidence`` take them."""

    identifiers: list[str]
    row_ids: list[str]
    leaks: list[str]


def audit_columns(prepared: Prepared) -> AuditColumns:
    """The columns the data checks flagged, as ``Evidence`` takes them: its ``identifiers``
    (row identifiers and high-cardinality columns), ``row_ids`` (row identifiers alone) and
    ``leaks`` (columns that copy the target; not a range leak, which only warns)."""
    audit = prepared.audit
    return {"identifiers": [*audit.identifier_columns, *audit.high_cardinality_columns],
            "row_ids": list(audit.identifier_columns),
            "leaks": list(dict.fromkeys(leak.column for leak in audit.leaks if leak.copies))}


def metrics_record(prepared: Prepared, result: FitResult, scores: Scores, *,
                   ensemble: EnsembleRecords | None = None, cv: dict | None = None,
                   refit: dict | None = None) -> MetricsRecord:
    """The content of ``metrics.json`` (``nnfit.store.metrics``); ``ensemble``, ``cv`` and
    ``refit``: the sections of a seed ensemble, of ``train --cv`` and of ``training.refit``."""
    task = prepared.task
    weight_by_class = task.weight_by_class if isinstance(task, Classification) else None
    return MetricsRecord.model_validate({
        "task": task.kind, "loss": task.loss_name,
        "splits": scores.splits, "baseline": scores.baseline, "diagnosis": scores.diagnosis,
        "epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
        "seconds": round(result.seconds, 3), "stop_reason": result.stop_reason,
        "restored_best": result.restored, "threads": result.threads,
        "threads_reason": result.threads_reason,
        "dead_relu": scores.dead_relu,
        **({"confusion_split": scores.confusion[0]} if scores.confusion else {}),
        **({"class_weight": weight_by_class} if task.class_weight else {}),
        **({"label_smoothing": task.label_smoothing} if task.label_smoothing else {}),
        "data": {"csv": prepared.source, "rows": prepared.n_rows, "inputs": prepared.prep.n_inputs},
        "data_checks": prepared.audit.record(),
        **({"ensemble": ensemble} if ensemble is not None else {}),
        **({"cv": cv} if cv is not None else {}),
        **({"refit": refit} if refit is not None else {}),
    })


def resolved_config(prepared: Prepared, config=None, overrides: Sequence[str] = ()) -> str:
    """``config.yaml`` of a run: every default filled in, what ``auto`` chose, the overrides noted."""
    config = config or prepared.config
    resolved = config.model_dump(mode="json")
    if resolved.get("sweep") is None:
        resolved.pop("sweep", None)
    resolved["data"]["task"] = prepared.task.kind
    resolved["data"]["split_seed"] = prepared.split_seed  # the split stays when the seed changes
    resolved["training"]["loss"] = prepared.task.loss_name
    head = "".join(f"# --set {o}\n" for o in overrides)
    return (f"# overrides applied to the config file:\n{head}" if head else "") + \
        yaml.safe_dump(resolved, sort_keys=False)


def curves_title(name: str, result: FitResult, scores: Scores) -> str:
    if result.stop_reason == "diverged":
        return f"{name}: diverged at epoch {result.epochs_run}"
    if result.epochs_run == 0:
        return f"{name}: interrupted before the first epoch ended"
    d = scores.diagnosis
    limited = d["kind"] == Kind.GOOD_FIT_DATA_LIMITED
    return f"{name}: {d['verdict']}{' (limited by the data)' if limited else ''}"


def save(run_dir: str | Path, prepared: Prepared, result: FitResult, scores: Scores, *, name: str,
         config=None, overrides: Sequence[str] = (), history_written: bool = False,
         config_written: bool = False, config_header: str = "",
         ensemble: EnsembleRecords | None = None, cv: dict | None = None,
         curves: CurvesPlot | None = None, refit: dict | None = None) -> MetricsRecord:
    """Write the run directory; return its ``metrics.json`` record.

    ``history_written`` / ``config_written``: the caller already wrote that file (a
    live run writes both before training); ``config_header`` goes above the config;
    ``ensemble`` and ``cv``: metrics.json's sections of those runs; ``curves``: what
    ``curves.png`` shows, when not this run's own curves (``--cv``: the folds');
    ``refit``: metrics.json's section of a refitted run (``workflows.refit``).

    The model and metrics are written before the plot, so a plotting failure
    cannot cost the model.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if not config_written:
        write_atomic(run_dir / "config.yaml",
                     config_header + resolved_config(prepared, config, overrides))
    task = prepared.task
    save_model(run_dir, result.network, prepared.prep, task.loss_name, task.class_weight,
               task.label_smoothing)
    metrics = metrics_record(prepared, result, scores, ensemble=ensemble, cv=cv, refit=refit)
    write_metrics(run_dir, metrics)
    if not history_written:
        write_history(run_dir / "history.csv", result.history, result.epochs)
    if scores.confusion is not None:
        task = prepared.task
        assert isinstance(task, Classification)  # the one task with a confusion matrix
        write_atomic(run_dir / "confusion.csv", confusion_csv(task.classes, scores.confusion[1]))
    draw_curves(run_dir / "curves.png", curves or run_curves(name, result, scores, ensemble))
    return metrics


def run_curves(name: str, result: FitResult, scores: Scores,
               ensemble: EnsembleRecords | None = None) -> CurvesPlot:
    """What ``curves.png`` shows of one run (an ensemble's: its first member's curves)."""
    members = ensemble.members if ensemble is not None else 1
    return CurvesPlot(
        result.history, result.epochs, result.best_epoch, curves_title(name, result, scores),
        note=diverged_message(result.epochs_run) if result.stop_reason == "diverged" else None,
        diagnosis=scores.diagnosis,
        scored_epoch=result.best_epoch if result.restored else result.epochs_run,
        scored_by=f"ensemble of {members}" if ensemble else
        "restored weights" if result.restored else "final weights",
        curve_of=f"member 1 of {members}" if ensemble else "")


@dataclass
class RunOutcome:
    """What ``train`` (and ``train --cv``) returns: the run's ``metrics.json`` record, where
    it was written, what happened at the end in words, and the exit code."""

    metrics: MetricsRecord
    run_dir: Path
    messages: list[str]
    exit_code: int = 0

    def json(self) -> dict:
        """What ``--json`` prints: ``metrics.json`` and the run directory."""
        return {**self.metrics.dump(), "run_dir": str(self.run_dir)}


def exit_code(result: FitResult, verdict: str | None = None) -> int:
    """1 for a run that diverged — its loss became NaN, or the verdict says so (a loss that
    blew up without becoming NaN) — 130 for one interrupted (everything saved), else 0."""
    code = {"diverged": FAILED, "interrupted": interrupt_code()}.get(result.stop_reason, 0)
    return code or (FAILED if verdict == "diverged" else 0)


def stop_messages(result: FitResult, lr: float) -> list[str]:
    """What happened at the end of training, in words."""
    reason, epoch, best = result.stop_reason, result.epochs_run, result.best_epoch
    if reason == "diverged":  # the outcome line says it; add the rate that diverged
        return [f"training.lr was {lr:g}"]
    if reason == "interrupted":
        return [f"interrupted at epoch {epoch}; {kept_weights(best)} and saved everything"]
    if reason == "early_stopping":
        return [f"early stopping at epoch {epoch}: no improvement for {result.patience} epochs; "
                f"restored the weights of epoch {best}"]
    if result.restored:
        return [f"restored the weights of epoch {best} (the best of {epoch})"]
    return []

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

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml

from ..evaluation.diagnosis import ADVICE, Evidence, diagnose, needs_probe, outputs_and_dead_units
from ..report.console import diverged_message
from ..report.plots.learning_curves import learning_curves
from ..report.tables import confusion_csv
from ..runtime.threads import blas_threads
from ..store.atomic import write_atomic, write_json
from ..store.history import write_history
from ..store.model_file import save_model
from .fit import FitResult
from .prepared import Prepared
from .probe import capacity_probe

if TYPE_CHECKING:
    from ..config.schema import Config

ADVICE_DATA_LIMITED = ADVICE["good fit (data)"]

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

    with blas_threads(result.threads):  # the run's thread count, for scoring as for training
        return _score(prepared, result, config or prepared.config, probe)


def _score(prepared: Prepared, result: FitResult, config: Config, probe: str) -> Scores:

    ds, task, net = prepared.data, prepared.task, result.network
    splits, baseline, logits = {}, {}, {}
    for name, X in ds.X.items():
        y, rows = ds.y[name], int(X.shape[0])
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged net scores inf; said in words
            if name == "train":  # the dead-unit census rides along on the same pass
                logits[name], dead = outputs_and_dead_units(net, X)
            else:
                logits[name] = net.predict(X)
            splits[name] = {"rows": rows, **task.score(logits[name], y)}
        base = task.baseline_logits(ds.y["train"], rows, net.dtype)
        baseline[name] = {"rows": rows, **task.score(base, y)}
    held_out = next(name for name in ("test", "val", "train") if name in logits)
    matrix = task.confusion(logits[held_out], ds.y[held_out])
    confusion = None if matrix is None else (held_out, matrix)
    has_val = "val" in splits
    with np.errstate(over="ignore", invalid="ignore"):
        evidence = Evidence(
            train_loss=splits["train"]["loss"], base_train=baseline["train"]["loss"],
            train_rows=task.row_losses(logits["train"], ds.y["train"]), history=result.history,
            best_epoch=result.best_epoch, epochs_run=result.epochs_run,
            stop_reason=result.stop_reason, patience=result.patience,
            val_loss=splits["val"]["loss"] if has_val else None,
            base_val=baseline["val"]["loss"] if has_val else None,
            val_rows=task.row_losses(logits["val"], ds.y["val"]) if has_val else None)
        if has_val and result.val_best_outputs is not None and result.val_last_outputs is not None:
            evidence.rise_rows = (task.row_losses(result.val_last_outputs, ds.y["val"])
                                  - task.row_losses(result.val_best_outputs, ds.y["val"]))
        if probe == "always" and result.stop_reason != "diverged" or \
                probe == "auto" and needs_probe(evidence):
            evidence.probe = capacity_probe(prepared, config, result)
            if evidence.probe is None:
                evidence.probe_skipped = "the wider network would not fit in memory"
        elif probe == "never":
            evidence.probe_skipped = "--no-probe"
    return Scores(splits, baseline, diagnose(evidence), dead, confusion)


def metrics_record(prepared: Prepared, result: FitResult, scores: Scores) -> dict:
    """The content of ``metrics.json``."""
    return {
        "task": prepared.task.kind, "loss": prepared.task.loss_name,
        "splits": scores.splits, "baseline": scores.baseline, "diagnosis": scores.diagnosis,
        "epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
        "seconds": round(result.seconds, 3), "stop_reason": result.stop_reason,
        "restored_best": result.restored, "threads": result.threads,
        "threads_reason": result.threads_reason,
        "dead_relu": scores.dead_relu,
        **({"confusion_split": scores.confusion[0]} if scores.confusion else {}),
        **({"class_weight": prepared.task.weight_by_class} if prepared.task.class_weight else {}),
        "data": {"csv": prepared.source, "rows": prepared.n_rows, "inputs": prepared.prep.n_inputs},
    }


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
    limited = d.get("advice") == ADVICE_DATA_LIMITED
    return f"{name}: {d['verdict']}{' (limited by the data)' if limited else ''}"


def save(run_dir: str | Path, prepared: Prepared, result: FitResult, scores: Scores, *, name: str,
         config=None, overrides: Sequence[str] = (), history_written: bool = False,
         config_written: bool = False, config_header: str = "") -> dict:
    """Write the run directory; return the metrics record.

    ``history_written`` / ``config_written``: the caller already wrote that file (a
    live run writes both before training); ``config_header`` goes above the config.

    The model and metrics are written before the plot, so a plotting failure
    cannot cost the model.
    """

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if not config_written:
        write_atomic(run_dir / "config.yaml",
                     config_header + resolved_config(prepared, config, overrides))
    save_model(run_dir, result.network, prepared.prep, prepared.task.loss_name,
               prepared.task.class_weight)
    metrics = metrics_record(prepared, result, scores)
    write_json(run_dir / "metrics.json", metrics)
    if not history_written:
        write_history(run_dir / "history.csv", result.history, result.epochs)
    if scores.confusion is not None:
        write_atomic(run_dir / "confusion.csv", confusion_csv(prepared.task.classes,
                                                              scores.confusion[1]))
    diverged = result.stop_reason == "diverged"
    rose = any(c["check"] == "val rose after its best" and c["result"]
               for c in scores.diagnosis.get("evidence", []))
    write_atomic(run_dir / "curves.png", learning_curves(
        result.history, result.epochs, result.best_epoch, curves_title(name, result, scores),
        note=diverged_message(result.epochs_run) if diverged else None, rose=rose))
    return metrics



"""``training.refit``: after early stopping has chosen how long to train, train again on the
training and validation rows together.

The early-stopped run — the *selection run* — is the one the verdict reads: its curves,
its train and validation losses, its capacity probe. The saved model is then a fresh
network trained on the training rows plus the validation rows, for the selection run's
best epoch count (for an ensemble, the median over its members), with no validation split
and no early stopping: what ``train --cv`` does for its final model, with one split
instead of K folds. The preprocessing stays the one fitted on the training rows, so the
refit costs no second read of the CSV; the learning-rate schedule runs over the refit's
own epochs.

What a small table gains: the validation rows (15–30 % of them at a few hundred rows)
become training rows. What it costs: one more training of ``best epoch`` epochs.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data.dataset import Splits
from ..errors import NnfitError
from ..report.plots.learning_curves import Line
from ..runtime.signals import interrupt_code
from ..store.history import write_history
from ..store.metrics import EnsembleRecords, MetricsRecord
from .ensemble import fit_ensemble
from .fit import FitResult, fit
from .prepared import Prepared
from .run import Scores, run_curves, save, score

if TYPE_CHECKING:
    from ..config.schema import Config


@dataclass
class Refit:
    """What a refit trains: the merged rows, its config and how many epochs."""

    prepared: Prepared  # train = the selection run's train + val rows; no val split
    config: Config  # training.epochs = epochs, no early stopping, data.val_fraction 0
    epochs: int
    val_rows: int  # the validation rows it adds


def scored_epochs(result: FitResult) -> int:
    """The epoch whose weights a run ended with: its best one when restored, else its last."""
    return result.best_epoch if result.restored else result.epochs_run


def plan_refit(prepared: Prepared, results: Sequence[FitResult]) -> Refit | None:
    """The refit of a selection run (``results``: its one network, or its members), or None
    when ``training.refit`` is off, there is no validation split, or a run diverged or was
    interrupted (then the selection run is what gets saved, as without refit)."""
    config = prepared.config
    if not config.training.refit or "val" not in prepared.data.X:
        return None
    if any(r.stop_reason in ("diverged", "interrupted") for r in results):
        return None
    epochs = int(round(statistics.median(scored_epochs(r) for r in results)))
    if epochs < 1:
        return None
    refit_config = refit_training(config, epochs)
    ds = prepared.data
    merged = replace(prepared, config=refit_config, notes=[], data=Splits(
        *(_merged(split) for split in (ds.X, ds.y, ds.rows))))
    return Refit(merged, refit_config, epochs, int(ds.X["val"].shape[0]))


def _merged(splits: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``splits`` with val's rows appended to train's (split order kept: train, test)."""
    if "train" not in splits or "val" not in splits:
        return {name: rows for name, rows in splits.items() if name != "val"}
    return {name: np.concatenate([rows, splits["val"]]) if name == "train" else rows
            for name, rows in splits.items() if name != "val"}


def refit_training(config: Config, epochs: int) -> Config:
    """``config`` for a run on every non-test row: no validation split, no early stopping,
    ``epochs`` epochs (``train --cv``'s final model is trained with it too)."""
    dumped = config.model_dump()
    dumped["data"]["val_fraction"] = 0.0
    dumped["training"].update(early_stopping=None, epochs=epochs, refit=False)
    return type(config).model_validate(dumped)


def refit_section(refit: Refit, selection: FitResult, scores: Scores, seconds: float
                  ) -> dict[str, Any]:
    """``metrics.json``'s ``refit`` section: what the saved model trained on, and the
    selection run's scores (the verdict's numbers)."""
    return {"rows": int(refit.prepared.data.X["train"].shape[0]), "val_rows": refit.val_rows,
            "epochs": refit.epochs, "seconds": round(seconds, 3),
            "selection": {"splits": scores.splits, "baseline": scores.baseline,
                          "best_epoch": selection.best_epoch,
                          "epochs_run": selection.epochs_run,
                          "stop_reason": selection.stop_reason}}


@dataclass
class Saving:
    """Where and how a ``train`` run is saved; :meth:`refitted` saves a refitted one.

    ``ensemble``: the selection run's ensemble section (its curves are its first
    member's, whose history a live view did not write: ``history.csv`` is written here
    then); ``code``: the exit code the refit adds (130 when it was interrupted).
    """

    run_dir: Path
    name: str
    overrides: Sequence[str]
    console: Any
    ensemble: EnsembleRecords | None = None
    code: int = field(default=0, init=False)

    def refitted(self, prepared: Prepared, result: FitResult, scores: Scores,
                 results: Sequence[FitResult],
                 fit_again: Callable[[Refit], tuple[FitResult, EnsembleRecords | None]]
                 ) -> tuple[MetricsRecord | None, list[str]]:
        """Refit and save, returning metrics.json's record and closing lines; ``(None, [])``
        when there is nothing to refit (the caller saves the selection run), and None with
        a line when the refit was interrupted (the selection run is the model to save)."""
        refit = plan_refit(prepared, results)
        if refit is None:
            return None, []
        n = refit.prepared.data.X["train"].shape[0]
        self.console.print(f"refit: a fresh model on all {n} train + val rows for "
                           f"{refit.epochs} epochs (the early-stopped run's best)",
                           style="dim", markup=False)
        try:
            again, members = fit_again(refit)
        except NnfitError as exc:
            if exc.exit_code != interrupt_code():
                raise
            again, members = None, None
        if again is None or again.stop_reason == "interrupted":
            self.code = interrupt_code()
            return None, ["interrupted during the refit: saved the early-stopped model"]
        if self.ensemble is not None:  # the selection run's curves: what the verdict read
            write_history(self.run_dir / "history.csv", result.history, result.epochs)
        refit_scores = replace(score(refit.prepared, again, refit.config, probe="never"),
                               diagnosis=scores.diagnosis)
        section = refit_section(refit, result, scores, again.seconds)
        curves = replace(run_curves(self.name, result, scores, self.ensemble), extra=[Line(
            f"refit's train loss ({n} rows)", again.epochs, again.history.get("train_loss", []))])
        metrics = save(self.run_dir, refit.prepared, again, refit_scores, name=self.name,
                       config=prepared.config, overrides=self.overrides, history_written=True,
                       config_written=True, ensemble=members, refit=section, curves=curves)
        return metrics, [f"refit: the saved model trained on {n} rows for {refit.epochs} epochs"]


def fit_model(prepared: Prepared, *, n_jobs: int = 1) -> tuple[Prepared, FitResult]:
    """The model ``nnfit train`` would save, without its printing or writing: the fit (or
    ``training.ensemble``'s members), then the refit when ``training.refit`` asks for one;
    returned with the Prepared it trained on last (to score the test split with)."""
    def trained(on: Prepared) -> tuple[FitResult, list[FitResult]]:
        if on.config.training.ensemble > 1:
            result, members = fit_ensemble(on, on.config, n_jobs=n_jobs)
            return result, [m.result for m in members]
        result = fit(on)
        return result, [result]

    result, results = trained(prepared)
    refit = plan_refit(prepared, results)
    if refit is None:
        return prepared, result
    return refit.prepared, trained(refit.prepared)[0]

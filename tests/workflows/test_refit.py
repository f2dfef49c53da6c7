"""training.refit: the saved model trains again on train + val for the best epoch count."""

import json
from pathlib import Path

import numpy as np
import pytest

from nnfit.config.schema import Config
from nnfit.store.model_file import load_model
from nnfit.workflows.fit import fit
from nnfit.workflows.prepared import prepare
from nnfit.workflows.refit import fit_model, plan_refit, scored_epochs
from nnfit.workflows.run import score
from nnfit.workflows.train import train

ROOT = Path(__file__).parents[2]
IRIS = ROOT / "sample_data" / "iris.csv"


def config(**training) -> Config:
    return Config.model_validate({
        "data": {"target": "species"},
        "model": {"layers": [{"type": "dense", "units": 8, "activation": "relu"}]},
        "training": {"lr": 0.02, "epochs": 30, "batch_size": 16, "seed": 3,
                     "early_stopping": {"patience": 5}, **training}})


def test_the_plan_merges_val_into_train_and_trains_the_best_epoch_count():
    prepared = prepare(config(refit=True), IRIS)
    result = fit(prepared)
    refit = plan_refit(prepared, [result])
    assert refit is not None
    ds, merged = prepared.data, refit.prepared.data
    assert list(merged.X) == ["train", "test"] and "val" not in merged.y
    np.testing.assert_array_equal(merged.X["train"], np.concatenate([ds.X["train"], ds.X["val"]]))
    np.testing.assert_array_equal(merged.y["train"], np.concatenate([ds.y["train"], ds.y["val"]]))
    np.testing.assert_array_equal(merged.rows["train"],
                                  np.concatenate([ds.rows["train"], ds.rows["val"]]))
    np.testing.assert_array_equal(merged.X["test"], ds.X["test"])
    assert refit.epochs == result.best_epoch == scored_epochs(result) > 0
    t = refit.config.training
    assert (t.epochs, t.early_stopping, t.refit) == (result.best_epoch, None, False)
    assert refit.config.data.val_fraction == 0 and refit.val_rows == ds.X["val"].shape[0]
    assert refit.prepared.prep is prepared.prep  # the preprocessing fitted on train rows


def test_no_refit_when_off_or_when_the_run_diverged():
    prepared = prepare(config(), IRIS)
    result = fit(prepared)
    assert plan_refit(prepared, [result]) is None
    on = prepare(config(refit=True), IRIS)
    diverged = fit(on)
    diverged.stop_reason = "diverged"
    assert plan_refit(on, [diverged]) is None


def test_refit_needs_a_validation_split():
    with pytest.raises(ValueError, match="training.refit trains again on the train and "
                                         "validation rows: set data.val_fraction above 0"):
        Config.model_validate({"data": {"target": "y", "val_fraction": 0},
                               "training": {"refit": True, "early_stopping": False}})


def test_train_saves_the_refit_model_and_the_selection_runs_scores(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(json.dumps(config(refit=True).model_dump(mode="json")))
    outcome = train(cfg, IRIS, out=tmp_path / "run")
    m = outcome.metrics.dump()
    refit, chosen = m["refit"], m["refit"]["selection"]
    assert list(m["splits"]) == ["train", "test"]
    assert m["splits"]["train"]["rows"] == refit["rows"] == (
        chosen["splits"]["train"]["rows"] + chosen["splits"]["val"]["rows"])
    assert refit["epochs"] == chosen["best_epoch"] == m["epochs_run"]
    assert list(chosen["splits"]) == ["train", "val", "test"]
    # the saved weights are the refit's: they score the test split as metrics.json says
    network = load_model(tmp_path / "run")[0]
    prepared = prepare(config(refit=True), IRIS)
    logits = network.predict(prepared.data.X["test"])
    loss = prepared.task.score(logits, prepared.data.y["test"])["loss"]
    assert loss == pytest.approx(m["splits"]["test"]["loss"], rel=1e-5)
    assert loss != pytest.approx(chosen["splits"]["test"]["loss"], rel=1e-5)


def test_an_ensemble_refits_every_member_for_the_median_best_epoch(tmp_path):
    prepared = prepare(config(refit=True, ensemble=3), IRIS)
    scored_on, result = fit_model(prepared)
    assert "val" not in scored_on.data.X
    assert scored_on.config.training.epochs == result.epochs_run
    assert score(scored_on, result, probe="never").splits["test"]["rows"] == 30


def test_an_ensemble_run_keeps_the_selection_runs_history(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(json.dumps(config(refit=True, ensemble=2).model_dump(mode="json")))
    m = train(cfg, IRIS, out=tmp_path / "run").metrics.dump()
    lines = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert len(lines) == 1 + m["refit"]["selection"]["epochs_run"]  # header, then its epochs
    assert m["ensemble"]["members"] == 2 and m["splits"]["train"]["rows"] == m["refit"]["rows"]

"""``train --cv``: folds over the non-test rows, pooled evidence, the final model."""

from pathlib import Path

import numpy as np
import pytest

from nnfit.config.load import load_config
from nnfit.data.dataset import read_dataset
from nnfit.evaluation.pooling import RunRows, pooled_evidence
from nnfit.workflows import fit, prepare
from nnfit.workflows.cv import cross_validate, fold_jobs

IRIS = Path(__file__).parents[2] / "sample_data" / "iris.csv"


@pytest.fixture(scope="module")
def iris_config(tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "iris.yaml"
    path.write_text("data: {target: species, split_seed: 3}\n"
                    "model: {layers: [{type: dense, units: 8, activation: relu}]}\n"
                    "training: {lr: 0.02, epochs: 12, batch_size: 16, early_stopping: {patience: 3}}\n")
    return path


@pytest.fixture(scope="module")
def cv_run(iris_config, tmp_path_factory):
    out = tmp_path_factory.mktemp("cv") / "run"
    return cross_validate(iris_config, IRIS, k=4, n_jobs=1, out=out).json()


def test_folds_hold_out_each_non_test_row_once_stratified_with_their_own_preprocessing(iris_config):
    config = load_config(iris_config)
    dataset = read_dataset(config, IRIS)
    jobs, non_test, test = fold_jobs(dataset, 5, config)
    usual = prepare(config, IRIS).data.rows  # the split plain `train` makes
    assert np.array_equal(test, usual["test"])
    assert np.array_equal(non_test, np.sort(np.concatenate([usual["train"], usual["val"]])))
    held_out = np.concatenate([job.prepared.data.rows["val"] for job in jobs])
    assert np.sort(held_out).tolist() == non_test.tolist()  # every non-test row, once
    labels = dataset.labels
    for job in jobs:
        rows = job.prepared.data.rows
        assert "test" not in rows  # a fold never sees the test split
        assert np.sort(np.concatenate([rows["train"], rows["val"]])).tolist() == non_test.tolist()
        assert [int((labels[rows["val"]] == c).sum()) for c in dataset.classes] == [8, 8, 8]
        center = job.prepared.prep.numeric["sepal_length"][0]  # fitted on this fold's train rows
        assert center == pytest.approx(dataset.frame["sepal_length"].iloc[rows["train"]].mean())
    moved = fold_jobs(dataset, 5, load_config(iris_config, ["training.seed=9"]))[0]
    # the folds follow the split seed, not the seed
    assert all(np.array_equal(a.prepared.data.rows["val"], b.prepared.data.rows["val"])
               for a, b in zip(jobs, moved, strict=False))
    other = fold_jobs(read_dataset(load_config(iris_config, ["data.split_seed=4"]), IRIS), 5, config)[0]
    assert not np.array_equal(other[0].prepared.data.rows["val"], jobs[0].prepared.data.rows["val"])


def _fold(n_epochs, best, rows, rise=True, stop="early_stopping"):
    train = list(np.linspace(1.0, 0.1, n_epochs))
    val = [0.5] * n_epochs
    record = {"fold": 1, "train_loss": 0.2, "val_loss": 0.4, "baseline_train_loss": 1.0,
              "baseline_val_loss": 1.2, "best_epoch": best, "epochs_run": n_epochs,
              "stop_reason": stop}
    return RunRows(record, {"train_loss": train, "val_loss": val}, best, 3,
                      np.full(2 * rows, 0.2), np.full(rows, 0.4),
                      np.full(rows, 0.01) if rise else None, {})


def test_pooled_evidence_joins_the_rows_and_aligns_the_curves_at_their_ends():
    folds = [_fold(10, 7, 3), _fold(25, 22, 4), _fold(14, 11, 5, stop="completed")]
    e = pooled_evidence(folds)
    assert e.val_rows.size == 12 and e.train_rows.size == 24 and e.rise_rows.size == 12
    assert e.epochs_run == 10 and len(e.history["train_loss"]) == 10
    assert e.best_epoch == 7  # each fold's best is 3 epochs before its end
    ends = np.mean([f.history["train_loss"][-1] for f in folds])
    assert e.history["train_loss"][-1] == pytest.approx(ends)  # the end is every fold's end
    assert e.train_loss == pytest.approx(0.2) and e.base_val == pytest.approx(1.2)
    assert e.stop_reason == "completed"
    assert pooled_evidence([*folds, _fold(12, 9, 2, rise=False)]).rise_rows is None
    assert pooled_evidence([*folds, _fold(4, 2, 2, stop="diverged")]).stop_reason == "diverged"


def test_the_final_model_is_what_its_config_yaml_trains(cv_run):
    from nnfit.store.model_file import load_model

    run_dir = Path(cv_run["run_dir"])
    cv = cv_run["cv"]
    assert [f["fold"] for f in cv["folds"]] == [1, 2, 3, 4]
    assert sum(f["val_rows"] for f in cv["folds"]) == cv["rows"] == 120
    assert set(cv_run["splits"]) == {"train", "test"} and cv_run["splits"]["train"]["rows"] == 120
    assert cv_run["diagnosis"]["val_rows"] == 120  # the verdict is judged on every non-test row
    assert cv_run["epochs_run"] == cv["final_epochs"]
    assert (run_dir / "cv.csv").read_text().count("\n") == 5
    config = load_config(run_dir / "config.yaml")
    assert config.data.val_fraction == 0 and config.training.early_stopping is None
    assert config.training.epochs == cv["final_epochs"]
    network, _, _ = load_model(run_dir)
    again = fit(prepare(config, IRIS), config)
    np.testing.assert_array_equal(network.params, again.network.params)


def _without_seconds(value):
    if isinstance(value, dict):
        return {k: _without_seconds(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_without_seconds(v) for v in value]
    return value


def test_two_jobs_give_the_numbers_of_one(cv_run, iris_config, tmp_path):
    two = cross_validate(iris_config, IRIS, k=4, n_jobs=2, out=tmp_path / "two").json()
    assert _without_seconds(two["cv"]["folds"]) == _without_seconds(cv_run["cv"]["folds"])
    assert _without_seconds(two["diagnosis"]) == _without_seconds(cv_run["diagnosis"])
    assert two["splits"] == cv_run["splits"]

"""The reusable run: prepare once, fit many times (no printing, no files), score, save."""

import csv
import pickle
import threading
from pathlib import Path

import numpy as np
import pytest

from nnfit.config.load import load_config
from nnfit.data.seeds import SPLIT_STREAM, TRAIN_STREAM, stream
from nnfit.training.observers import Observer
from nnfit.workflows import fit, prepare, save, score

IRIS = Path(__file__).parents[2] / "sample_data" / "iris.csv"


@pytest.fixture(scope="module")
def iris_config(tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "iris.yaml"
    path.write_text("data: {target: species}\n"
                    "model: {layers: [{type: dense, units: 8, activation: relu}]}\n"
                    "training: {lr: 0.02, epochs: 6, batch_size: 16, early_stopping: {patience: 3}}\n")
    return path


@pytest.fixture(scope="module")
def prepared(iris_config):
    return prepare(load_config(iris_config), IRIS)


class Spy(Observer):
    """Records the optimizer the trainer was built with."""

    def on_train_begin(self, trainer):
        super().on_train_begin(trainer)
        self.optimizer = trainer.optimizer


def test_fit_many_times_on_one_preparation_same_config_same_numbers(prepared, capsys):
    first, again = fit(prepared), fit(prepared)
    np.testing.assert_array_equal(first.network.params, again.network.params)
    assert first.history["train_loss"] == again.history["train_loss"]
    assert capsys.readouterr() == ("", "")  # fit prints nothing


def test_an_override_changes_the_fit_not_the_split(prepared, iris_config):
    rows = {k: v.copy() for k, v in prepared.data.rows.items()}
    faster = load_config(iris_config, ["training.lr=0.2", "training.seed=3"])
    result = fit(prepared, faster)
    assert all(np.array_equal(rows[k], prepared.data.rows[k]) for k in rows)
    assert result.history["train_loss"] != fit(prepared).history["train_loss"]


def test_the_split_and_training_streams_are_independent():
    a = stream(0, SPLIT_STREAM).random(4)
    assert not np.array_equal(a, stream(0, TRAIN_STREAM).random(4))
    np.testing.assert_array_equal(a, stream(0, SPLIT_STREAM).random(4))


def test_a_prepared_run_pickles_for_worker_processes(prepared):
    clone = pickle.loads(pickle.dumps(prepared))
    np.testing.assert_array_equal(fit(clone).network.params, fit(prepared).network.params)


def test_momentum_from_the_config_reaches_the_optimizer(prepared, iris_config):
    spy = Spy()
    fit(prepared, load_config(iris_config, ["training.optimizer=nesterov",
                                            "training.momentum=0.37"]), observers=[spy])
    assert spy.optimizer.name == "nesterov" and spy.optimizer.momentum == 0.37


def test_a_stop_request_ends_the_fit_as_interrupted(prepared):
    stop = threading.Event()

    class StopAtTwo(Observer):
        def on_epoch_end(self, epoch, logs):
            if epoch == 2:
                stop.set()

    result = fit(prepared, observers=[StopAtTwo()], stop=stop)
    assert (result.stop_reason, result.epochs_run) == ("interrupted", 2)


def test_save_writes_a_run_that_history_and_metrics_agree_on(prepared, tmp_path):
    result = fit(prepared)
    scores = score(prepared, result)
    metrics = save(tmp_path, prepared, result, scores, name="iris",
                   overrides=["training.lr=0.02"]).dump()
    with open(tmp_path / "history.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == metrics["epochs_run"] == result.epochs_run
    assert float(rows[-1]["train_loss"]) == result.history["train_loss"][-1]
    assert (tmp_path / "config.yaml").read_text().startswith(
        "# overrides applied to the config file:\n# --set training.lr=0.02\n")
    assert metrics["splits"]["test"] == scores.splits["test"]


def test_a_run_that_diverges_in_its_first_epoch_says_so_in_its_plot_title(tmp_path):
    from nnfit.workflows.run import curves_title

    sine = Path(__file__).parents[2] / "sample_data" / "noisy_sine.csv"
    config = tmp_path / "c.yaml"
    config.write_text("data: {target: y}\n"
                      "model: {layers: [{type: dense, units: 16, activation: tanh}]}\n"
                      "training: {optimizer: sgd, lr: 100000, epochs: 5}\n")
    prepared = prepare(load_config(config), sine)
    result = fit(prepared)
    assert (result.stop_reason, result.epochs_run) == ("diverged", 1)
    scores = score(prepared, result)
    assert curves_title("c", result, scores) == "c: diverged at epoch 1"
    (tmp_path / "run").mkdir()
    save(tmp_path / "run", prepared, result, scores, name="c")
    assert (tmp_path / "run" / "curves.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("threads", [1, 2])
def test_the_thread_count_reaches_blas_during_training_and_is_recorded(prepared, iris_config,
                                                                        threads):
    from threadpoolctl import threadpool_info

    class BlasThreads(Observer):
        def on_epoch_end(self, epoch, logs):
            self.seen = {pool["num_threads"] for pool in threadpool_info()
                         if pool["user_api"] == "blas"}

    spy = BlasThreads()
    before = {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}
    result = fit(prepared, load_config(iris_config, [f"training.threads={threads}"]),
                 observers=[spy])
    assert spy.seen == {threads} and result.threads == threads
    assert result.threads_reason == f"requested: {threads}"
    assert {pool["num_threads"] for pool in threadpool_info()
            if pool["user_api"] == "blas"} == before  # restored afterwards


def test_auto_threads_give_small_networks_one_thread(prepared):
    result = fit(prepared)
    assert result.threads == 1 and "below" in result.threads_reason


def _fit_in_worker(prepared, lr):
    from nnfit.config.schema import Config

    config = Config.model_validate({**prepared.config.model_dump(), "training": {
        **prepared.config.training.model_dump(), "lr": lr}})
    return fit(prepared, config).network.params


def test_fits_in_worker_processes_match_fits_here(prepared):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        remote = list(pool.map(_fit_in_worker, [prepared, prepared], [0.02, 0.05]))
    np.testing.assert_array_equal(remote[0], _fit_in_worker(prepared, 0.02))
    np.testing.assert_array_equal(remote[1], _fit_in_worker(prepared, 0.05))
    assert not np.array_equal(remote[0], remote[1])


def test_fit_refuses_a_config_whose_data_section_differs(prepared, iris_config):
    with pytest.raises(ValueError, match="config.data differs from the prepared data's"):
        fit(prepared, load_config(iris_config, ["data.test_fraction=0.3"]))
    with pytest.raises(ValueError, match="training.loss mse differs from the prepared"):
        fit(prepared, load_config(iris_config, ["training.loss=mse"]))


def test_the_recorded_config_reproduces_a_run_with_another_seed(prepared, iris_config, tmp_path):
    """A seed override changes the weights, not the split: config.yaml says so."""
    import yaml

    from nnfit.workflows.run import resolved_config

    reseeded = load_config(iris_config, ["training.seed=5"])
    recorded = yaml.safe_load(resolved_config(prepared, reseeded))
    assert recorded["data"]["split_seed"] == 0 and recorded["training"]["seed"] == 5
    path = tmp_path / "again.yaml"
    path.write_text(yaml.safe_dump(recorded))
    again = prepare(load_config(path), IRIS)
    assert all(np.array_equal(again.data.rows[k], prepared.data.rows[k]) for k in ("train", "test"))
    np.testing.assert_array_equal(fit(again).network.params, fit(prepared, reseeded).network.params)


def test_a_run_stopped_before_its_first_epoch_ends_gives_no_verdict(prepared, tmp_path):
    from nnfit.workflows.run import curves_title

    stop = threading.Event()
    stop.set()
    result = fit(prepared, stop=stop)
    assert (result.stop_reason, result.epochs_run) == ("interrupted", 0)
    scores = score(prepared, result)
    assert scores.diagnosis["verdict"] == "inconclusive"
    assert scores.diagnosis["reason"] == "no epoch finished: these are the initial weights"
    assert curves_title("iris", result, scores) == "iris: interrupted before the first epoch ended"
    save(tmp_path / "run", prepared, result, scores, name="iris")
    assert (tmp_path / "run" / "history.csv").read_text().splitlines()[0].startswith("epoch")

"""The engine options (issue 26) through every path that builds a network: train, ensembles,
``--cv``, the capacity probe, sweep and lr-find; a saved model predicts as it trained."""

import numpy as np
import pytest
from conftest import ROOT, cli, metrics

from nnfit.config.load import load_config
from nnfit.workflows import fit, prepare
from nnfit.workflows.probe import _recipe, probe_layers

IRIS = ROOT / "sample_data" / "iris.csv"
DIABETES = ROOT / "sample_data" / "diabetes.csv"
OPTIONS = ("model.linear_skip=true", "training.label_smoothing=0.1", "model.init=lecun_uniform",
           "model.init_scale=0.5")


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data: {target: species}\n"
                    "model: {layers: [{type: dense, units: 8, activation: relu}]}\n"
                    "training: {lr: 0.02, epochs: 8, batch_size: 16, early_stopping: {patience: 4}}\n")
    return path


def _sets(*options):
    return [arg for option in options for arg in ("--set", option)]


def test_an_ensemble_with_every_option_trains_saves_and_predicts_as_it_scored(tmp_path, config):
    run = tmp_path / "run"
    done = cli("train", config, IRIS, "-o", run, "--jobs", "1", "-q",
               *_sets(*OPTIONS, "training.ensemble=2"))
    assert done.returncode == 0, done.stderr
    m = metrics(run)
    assert m["label_smoothing"] == 0.1 and m["ensemble"]["members"] == 2
    evaluated = cli("eval", run, IRIS, "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    shown = cli("show", run)
    assert "LinearSkip(4 → 3)" in shown.stdout


def test_cv_sweep_and_lr_find_take_the_options(tmp_path, config):
    cv = cli("train", config, IRIS, "--cv", "2", "--jobs", "1", "-o", tmp_path / "cv", "-q",
             *_sets(*OPTIONS))
    assert cv.returncode == 0, cv.stderr
    sweep = cli("sweep", config, IRIS, "--jobs", "1", "-o", tmp_path / "sweep",
                *_sets("sweep={training.label_smoothing: [0, 0.1], model.linear_skip: [false, true]}"))
    assert sweep.returncode == 0, sweep.stderr
    found = cli("lr-find", config, IRIS, "-o", tmp_path / "lr", *_sets(*OPTIONS))
    assert found.returncode == 0, found.stderr


def test_label_smoothing_on_a_regression_is_one_line_naming_the_key(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("data: {target: progression}\ntraining: {label_smoothing: 0.1}\n")
    done = cli("train", path, DIABETES, "-o", tmp_path / "never")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "training.label_smoothing: 0.1 needs a classification target" in done.stderr


def test_the_probes_wider_network_keeps_the_skip_and_the_init(config):
    loaded = load_config(config, list(OPTIONS))
    prepared = prepare(loaded, IRIS)
    wider = _recipe(loaded, probe_layers(prepared.layers(loaded)), 3)
    assert wider.model.linear_skip and wider.model.init == "lecun_uniform"
    network = fit(prepared, wider).network
    assert network.skip is not None and network.param("skip.W").any()
    assert prepared.n_params(wider) == network.n_params
    assert prepared.memory(wider).n_params == network.n_params


def test_default_options_train_bit_identically_to_explicit_defaults(config):
    loaded = load_config(config)
    explicit = load_config(config, ["model.init=glorot_uniform", "model.init_scale=1.0",
                                    "model.linear_skip=false", "training.label_smoothing=0"])
    prepared = prepare(loaded, IRIS)
    a, b = fit(prepared), fit(prepare(explicit, IRIS), explicit)
    np.testing.assert_array_equal(a.network.params, b.network.params)
    assert a.history["val_loss"] == b.history["val_loss"]

"""``training.ensemble: K``: K seeds on one split, predictions averaged, one run directory
that eval/predict/show read; the same numbers for any --jobs."""

import json

import numpy as np
import pytest
from conftest import ROOT, cli, metrics

IRIS = ROOT / "sample_data" / "iris.csv"
DIABETES = ROOT / "sample_data" / "diabetes.csv"


@pytest.fixture
def ens_config(tmp_path):
    path = tmp_path / "ens.yaml"
    path.write_text("data: {target: species}\n"
                    "model: {layers: [{type: dense, units: 8, activation: relu}]}\n"
                    "training: {lr: 0.02, epochs: 12, batch_size: 16, ensemble: 3,\n"
                    "           early_stopping: {patience: 5}}\n")
    return path


def _params(run):
    with np.load(run / "model.npz", allow_pickle=False) as npz:
        return npz["params"], npz["state"]


def test_an_ensemble_is_one_run_directory_that_eval_predict_and_show_read(tmp_path, ens_config):
    run = tmp_path / "run"
    done = cli("train", ens_config, IRIS, "--out", run, "--jobs", "1")
    assert done.returncode == 0, done.stderr
    assert [line.split(":")[0] for line in done.stderr.splitlines()
            if line.startswith("member ")] == ["member 1/3 (seed 0)", "member 2/3 (seed 1)",
                                               "member 3/3 (seed 2)"]
    assert "ensemble of 3 · predictions averaged" in done.stdout
    params, _ = _params(run)
    assert params.shape[0] == 3 and not np.array_equal(params[0], params[1])
    m = metrics(run)
    assert [r["seed"] for r in m["ensemble"]["records"]] == [0, 1, 2]
    assert json.loads((run / "model.json").read_text())["ensemble"] == {"members": 3}

    # the ensemble's probabilities are the members' mean
    from nnfit.nn.activations import softmax
    from nnfit.store.model_file import load_model
    from nnfit.workflows.inference import load_inputs

    ensemble, prep, meta = load_model(run)
    inputs = load_inputs(run, IRIS, True)
    task, X = inputs.task, inputs.X
    probs = [softmax(net.predict(X), np.empty((len(X), 3), net.dtype), np.empty((len(X), 1), net.dtype))
             for net in ensemble.members]
    np.testing.assert_allclose(task.probabilities(ensemble.predict(X)), np.mean(probs, axis=0),
                               rtol=1e-5, atol=1e-6)

    ev = cli("eval", run, IRIS, "--json")
    assert ev.returncode == 0, ev.stderr
    pred = cli("predict", run, IRIS)
    assert pred.returncode == 0 and pred.stdout.startswith("predicted_species,probability_setosa")
    shown = cli("show", run)
    assert shown.returncode == 0
    assert "layers of each of 3 ensemble members" in shown.stdout
    assert "ensemble of 3" in shown.stdout


def test_same_seeds_same_numbers_and_jobs_2_equals_jobs_1(tmp_path, ens_config):
    runs = []
    for jobs, name in ((1, "a"), (1, "b"), (2, "c")):  # jobs 2: two loky worker processes
        done = cli("train", ens_config, IRIS, "--out", tmp_path / name, "--jobs", jobs, "-q")
        assert done.returncode == 0, done.stderr
        runs.append(tmp_path / name)
    first = _params(runs[0])
    for run in runs[1:]:
        for a, b in zip(first, _params(run), strict=False):
            np.testing.assert_array_equal(a, b)
        assert metrics(run)["splits"] == metrics(runs[0])["splits"]


def test_no_pack_trains_each_member_as_its_own_run_with_the_same_numbers(tmp_path, ens_config):
    packed = cli("train", ens_config, IRIS, "--out", tmp_path / "packed", "--jobs", "1")
    apart = cli("train", ens_config, IRIS, "--out", tmp_path / "apart", "--jobs", "1",
                "--no-pack")
    assert packed.returncode == apart.returncode == 0, apart.stderr
    assert "ensemble: 3 members, seeds 0…2, packed in 1 process" in packed.stderr
    assert "ensemble: 3 members, seeds 0…2, 1 at a time" in apart.stderr
    assert "pack: false" in (tmp_path / "apart" / "config.yaml").read_text()
    for a, b in zip(_params(tmp_path / "packed"), _params(tmp_path / "apart"), strict=True):
        np.testing.assert_array_equal(a, b)


def test_regression_ensemble_averages_values(tmp_path):
    config = tmp_path / "reg.yaml"
    config.write_text("data: {target: progression}\n"
                      "model: {layers: [{type: dense, units: 8, activation: relu}]}\n"
                      "training: {lr: 0.01, epochs: 5, ensemble: 2}\n")
    run = tmp_path / "run"
    done = cli("train", config, DIABETES, "--out", run, "--jobs", "1")
    assert done.returncode == 0, done.stderr
    from nnfit.store.model_file import load_model
    from nnfit.workflows.inference import load_inputs

    ensemble, _, _ = load_model(run)
    X = load_inputs(run, DIABETES, True).X
    np.testing.assert_allclose(ensemble.predict(X),
                               (ensemble.members[0].predict(X) + ensemble.members[1].predict(X)) / 2,
                               rtol=1e-6)


@pytest.mark.parametrize("args,message", [
    (["--jobs", "2"], "--jobs: runs the folds of --cv or the members of training.ensemble in "
                      "parallel; give --cv K or --set training.ensemble=K as well"),
    (["--set", "training.ensemble=0"],
     "--set training.ensemble=0: training.ensemble: must be at least 1 (got 0)"),
])
def test_ensemble_errors(tmp_path, small_config, args, message):
    done = cli("train", small_config, IRIS, "--out", tmp_path / "r", *args)
    assert done.returncode == 2
    assert done.stderr.strip() == message
    assert not (tmp_path / "r").exists()


def test_a_tampered_member_count_is_refused(tmp_path, ens_config):
    run = tmp_path / "run"
    assert cli("train", ens_config, IRIS, "--out", run, "--jobs", "1", "--epochs", "2").returncode == 0
    meta = json.loads((run / "model.json").read_text())
    for bad, says in ((4, "model.npz: params has shape [3, 67]; the architecture in model.json "
                          "needs [4, 67] (4 ensemble members × 67)"),
                      (True, "model.json: ensemble.members: must be an integer (got True)"),
                      (10**9, "model.json: ensemble.members: must be at most 1000 (got 1000000000)"),
                      (1, "model.json: ensemble.members: must be at least 2 (got 1)")):
        meta["ensemble"]["members"] = bad
        (run / "model.json").write_text(json.dumps(meta))
        done = cli("eval", run, IRIS)
        assert done.returncode == 2 and says in done.stderr, done.stderr


def test_cv_judges_single_networks_and_saves_an_ensemble(tmp_path, ens_config):
    run = tmp_path / "cv"
    done = cli("train", ens_config, IRIS, "--cv", "3", "-j", "1", "--no-probe", "--out", run)
    assert done.returncode == 0, done.stderr
    m = metrics(run)
    assert len(m["cv"]["folds"]) == 3 and m["ensemble"]["members"] == 3
    assert _params(run)[0].shape[0] == 3
    assert "ensemble of 3" in done.stdout

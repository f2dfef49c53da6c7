"""numeric_embedding and data.scale: robust through the commands: train (ensembles, --cv),
the saved model read back by eval and predict (whole and streamed), sweep and lr-find."""

import io
import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, cli, metrics

from nnfit.config.load import load_config
from nnfit.store.model_file import load_model
from nnfit.workflows import prepare
from nnfit.workflows.inference import predict

SINE = ROOT / "sample_data" / "noisy_sine.csv"
EMBED = "model.layers=[{type: numeric_embedding}, {type: dense, units: 16, activation: relu}]"
OPTIONS = [EMBED, "data.scale=robust", "training.ensemble=2"]


@pytest.fixture(scope="module")
def embedded_run(tmp_path_factory):
    """A two-member ensemble on noisy_sine: a plr embedding first, robust scaling."""
    tmp = tmp_path_factory.mktemp("embed")
    config = tmp / "sine.yaml"
    config.write_text("data: {target: y}\ntraining: {epochs: 30, batch_size: 16, seed: 2}\n")
    args = [a for s in OPTIONS for a in ("--set", s)]
    result = cli("train", config, SINE, *args, "--jobs", "1", "--out", tmp / "run", "-q")
    assert result.returncode == 0, result.stderr
    return config, tmp / "run"


def test_the_saved_ensemble_predicts_as_trained_whole_and_streamed(embedded_run):
    config, run = embedded_run
    stored = json.loads((run / "model.json").read_text())
    assert stored["preprocessing"]["scale"] == "robust" and stored["ensemble"] == {"members": 2}
    assert stored["architecture"]["layers"][0] == {
        "type": "numeric_embedding", "kind": "plr", "frequencies": 16, "sigma": 0.1, "dim": 16,
        "lite": False, "positions": [0]}  # the one numeric column, filled in by nnfit
    assert metrics(run)["splits"]["test"]["r2"] > 0.5  # the sine is learnt, not its mean

    network, prep, _ = load_model(run)
    assert prep == prepare(load_config(config, OPTIONS), SINE).prep  # train's own transform
    frame = pd.read_csv(SINE)
    expected = network.predict(prep.transform(frame, "sine", dtype=np.float32)[0])[:, 0]
    expected = expected * prep.target_scale[0][1] + prep.target_scale[0][0]
    shown = cli("predict", run, SINE)
    assert shown.returncode == 0, shown.stderr
    whole = pd.read_csv(io.StringIO(shown.stdout))["predicted_y"].to_numpy()
    streamed = pd.concat(list(predict(run, SINE, rows_per_chunk=64)))["predicted_y"].to_numpy()
    np.testing.assert_allclose(whole, expected, rtol=1e-6, atol=1e-6)
    assert np.array_equal(streamed, whole)
    scored = cli("eval", run, SINE, "--json")
    assert scored.returncode == 0, scored.stderr


def test_cv_sweep_and_lr_find_take_both_options(tmp_path):
    config = tmp_path / "sine.yaml"
    config.write_text("data: {target: y}\ntraining: {epochs: 5, batch_size: 16}\n")
    embed = ("--set", EMBED)
    cv = cli("train", config, SINE, *embed, "--set", "data.scale=robust", "--cv", "2",
             "--jobs", "1", "-o", tmp_path / "cv", "--json")
    assert cv.returncode == 0, cv.stderr
    swept = cli("sweep", config, SINE, *embed, "--set", "data.scale=standard,robust",
                "--jobs", "1", "--out", tmp_path / "sweep")
    assert swept.returncode == 0, swept.stderr
    found = cli("lr-find", config, SINE, *embed, "--set", "data.scale=robust", "--json",
                "--steps", "40", "-o", tmp_path / "lr")
    assert found.returncode == 0, found.stderr


def test_an_embedding_on_a_table_without_numbers_is_one_line(tmp_path):
    data = tmp_path / "words.csv"
    data.write_text("colour,size,label\n" + "".join(
        f"{'red' if i % 3 else 'blue'},{'big' if i % 2 else 'small'},{'a' if i % 5 else 'b'}\n"
        for i in range(60)))
    config = tmp_path / "c.yaml"
    config.write_text("data: {target: label}\nmodel: {layers: [{type: numeric_embedding}]}\n")
    result = cli("train", config, data, "--out", tmp_path / "run")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"{config}: model.layers[0]: numeric_embedding embeds numeric columns, and every input "
        f"column here is text; set its inputs: all, or leave the layer out")

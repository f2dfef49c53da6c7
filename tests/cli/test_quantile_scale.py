"""data.scale: quantile end to end: train → model.json → eval / predict, and a tampered file."""

import io
import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, cli, metrics

from nnfit.config.load import load_config
from nnfit.store.model_file import load_model
from nnfit.workflows import fit, prepare

DIABETES = ROOT / "sample_data" / "diabetes.csv"
QUANTILE = ["data.scale=quantile", "training.dtype=float32"]


@pytest.fixture(scope="module")
def quantile_run(tmp_path_factory):
    """A small float32 diabetes run trained by ``nnfit train --set data.scale=quantile``."""
    tmp = tmp_path_factory.mktemp("quantile")
    config = tmp / "small.yaml"
    config.write_text("data: {target: progression, test_fraction: 0.2, val_fraction: 0.2}\n"
                      "model: {layers: [{type: dense, units: 8, activation: relu}]}\n"
                      "training: {lr: 0.01, epochs: 8, batch_size: 32, seed: 1}\n")
    args = [a for s in QUANTILE for a in ("--set", s)]
    result = cli("train", config, DIABETES, *args, "--out", tmp / "run", "-q")
    assert result.returncode == 0, result.stderr
    return config, tmp / "run"


def test_the_saved_model_transforms_and_predicts_bit_identically(quantile_run, tmp_path):
    config, run = quantile_run
    prepared = prepare(load_config(config, QUANTILE), DIABETES)  # the training run, in memory
    result = fit(prepared)
    stored = json.loads((run / "model.json").read_text())["preprocessing"]
    assert stored["scale"] == "quantile" and stored["quantiles"] == prepared.prep.quantiles
    assert len(stored["quantiles"]["bmi"]) == len(prepared.data.rows["train"]) == 266
    assert len(set(stored["quantiles"]["sex"])) == 2  # a binary column: ties at both ends

    network, prep, meta = load_model(run)
    assert np.array_equal(network.params, result.network.params) and network.dtype == np.float32
    frame = pd.read_csv(DIABETES)
    X = prepared.prep.transform(frame, "diabetes")[0]
    assert np.array_equal(prep.transform(frame, "diabetes")[0], X)
    expected = prepared.task.prediction_columns(result.network.predict(X.astype(np.float32)))
    predicted = cli("predict", run, DIABETES)
    assert predicted.returncode == 0, predicted.stderr
    written = pd.read_csv(io.StringIO(predicted.stdout))["predicted_progression"].to_numpy()
    assert np.array_equal(written, expected["predicted_progression"])

    test_csv = tmp_path / "test.csv"
    frame.iloc[prepared.data.rows["test"]].to_csv(test_csv, index=False)
    scored = cli("eval", run, test_csv, "--json")
    assert scored.returncode == 0, scored.stderr
    scored, expected = json.loads(scored.stdout), metrics(run)["splits"]["test"]
    for name in ("loss", "r2", "rmse", "mae"):
        assert scored[name] == expected[name], name  # bit-identical, not approximately


def test_a_tampered_quantile_list_is_one_line_naming_the_file_and_column(quantile_run, tmp_path):
    import shutil

    _, run = quantile_run
    broken = tmp_path / "broken"
    shutil.copytree(run, broken)
    meta = json.loads((run / "model.json").read_text())
    meta["preprocessing"]["quantiles"]["bmi"][3] = 1e6
    (broken / "model.json").write_text(json.dumps(meta))
    for command in ("eval", "predict"):
        result = cli(command, broken, DIABETES)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert result.stderr.strip().splitlines() == [
            f"{broken / 'model.json'}: preprocessing.quantiles.bmi: must be non-decreasing "
            f"([4] = {meta['preprocessing']['quantiles']['bmi'][4]!r} < [3] = 1000000.0)"]

"""The capacity probe is skipped, not crashed into, when its wider network would not fit."""

from pathlib import Path

from nnfit.config.load import load_config
from nnfit.workflows import fit, prepare
from nnfit.workflows.probe import capacity_probe, probe_layers

IRIS = Path(__file__).parents[2] / "sample_data" / "iris.csv"


def test_a_probe_too_large_for_memory_is_skipped_and_the_run_kept(tmp_path, monkeypatch):
    path = tmp_path / "iris.yaml"
    path.write_text("data: {target: species}\n"
                    "model: {layers: [{type: dense, units: 8, activation: relu}]}\n"
                    "training: {epochs: 3, early_stopping: false}\n")
    config = load_config(path)
    prepared = prepare(config, IRIS)
    result = fit(prepared)
    wider = load_config(path, ["model.layers[0].units=64"])  # what the probe trains: 8 → 64
    assert [layer["units"] for layer in probe_layers(prepared.layers(config))] == [64]
    main, probe = prepared.memory(config).total, prepared.memory(wider).total
    assert main < probe
    monkeypatch.setattr("nnfit.runtime.memory.available_memory", lambda: (main + probe) // 2)
    assert capacity_probe(prepared, config, result.epochs_run, result.network.n_params) is None
    monkeypatch.setattr("nnfit.runtime.memory.available_memory", lambda: None)  # unknown: it runs
    ran = capacity_probe(prepared, config, result.epochs_run, result.network.n_params)
    assert ran["layers"] == "64" and ran["epochs"] >= 10

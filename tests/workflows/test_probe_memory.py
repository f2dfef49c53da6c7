"""The capacity probe is skipped, not crashed into, when its wider network would not fit, and
stays within its time budget unless --probe asks for it."""

from pathlib import Path

from nnfit.config.load import load_config
from nnfit.workflows import fit, prepare
from nnfit.workflows.probe import capacity_probe, probe_epochs, probe_layers

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
    assert capacity_probe(prepared, config, result.epochs_run, result.network.n_params,
                          full=True) == "the wider network would not fit in memory"
    monkeypatch.setattr("nnfit.runtime.memory.available_memory", lambda: None)  # unknown: it runs
    ran = capacity_probe(prepared, config, result.epochs_run, result.network.n_params, full=True)
    assert isinstance(ran, dict) and ran["layers"] == "64" and ran["epochs"] >= 10
    # three epochs of the main run cannot buy the probe's ten; a probe this small may run
    ran = capacity_probe(prepared, config, result.epochs_run, result.network.n_params)
    assert isinstance(ran, dict) and ran["epochs"] == 150  # 600 updates of 4 batches (98 rows)


def test_the_probe_gets_half_the_main_runs_cost_in_the_cost_model():
    # 300 epochs of a 1,000-parameter network, 10 steps an epoch, the wider one 7,000:
    # 0.5 · 300 · 5,000 = 750,000 units, less scoring (0.5 · 1.2 · 16,000 = 9,600 units),
    # over 16,000 units a probe epoch (both networks) = 46 epochs ≥ the 10 it needs
    assert probe_epochs(300, 1_000, 7_000, 100, 1.2) == 46
    # 30 epochs buy 4: it needs 60 (600 updates), which cost 60 · 10 · 16,000 ≈ 1e7 ≤ the floor (1e8)
    assert probe_epochs(30, 1_000, 7_000, 10, 1.2) == 60
    # the 60k × 100 run: 5 epochs of 60,000 parameters buy nothing of a 630,000-parameter
    # probe, and its 10 epochs of 375 steps cost far past the floor: not run, unless forced
    assert probe_epochs(5, 60_000, 630_000, 375, 1.0) == 0
    assert probe_epochs(5, 60_000, 630_000, 375, 1.0, full=True) == 10

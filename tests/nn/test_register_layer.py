"""Issue 22: a new layer type is its own module plus ``register_layer``, nothing else.

A toy layer defined here, registered, gets the config, ``nnfit summary``, the memory
estimate (and the refusal naming its size option), the BLAS thread choice and the
capacity probe, from what its class declares, without a line changed elsewhere.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from gradcheck import assert_gradients_match, check_network
from nnfit.cli.app import app
from nnfit.config.load import load_config
from nnfit.config.schema import LAYER_MODELS
from nnfit.errors import NnfitError
from nnfit.nn.base import Layer, Option
from nnfit.nn.build import LAYERS, build_network, plan_layers, register_layer, unregister_layer
from nnfit.runtime import threads
from nnfit.runtime.memory import estimate_bytes
from nnfit.workflows.prepared import prepare
from nnfit.workflows.probe import probe_layers

IRIS = Path(__file__).parents[2] / "sample_data" / "iris.csv"
runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "120"})


class ToyScale(Layer):
    """``copies`` per-feature scalings of the input side by side: ``y_{c,j} = x_j · w_{c,j}``.

    Shapes: ``x (batch, n_features)``, ``w (copies, n_features)``,
    ``y (batch, copies·n_features)``.
    """

    type = "toy_scale"
    options = {"copies": Option(int, default=1, ge=1)}
    size_option = "copies"

    def __init__(self, copies: int = 1):
        super().__init__()
        self.copies = copies

    def build(self, input_shape, dtype):
        super().build(input_shape, dtype)
        if len(self.input_shape) != 1:
            raise ValueError(f"toy_scale takes rows of features, got {self.input_shape}")
        self.output_shape = (self.copies * self.input_shape[0],)
        return self.output_shape

    def param_shapes(self):
        return {"w": ((self.copies, self.input_shape[0]), True)}

    def init_params(self, rng, init):
        self.params["w"][...] = rng.uniform(0.5, 1.5, self.params["w"].shape) * init.scale

    def forward(self, x, training=False, out=None):
        n = x.shape[0]
        y = self._output((n,) + self.output_shape, training, out)
        np.multiply(x[:, None, :], self.params["w"], out=y.reshape(n, self.copies, -1))
        if training:
            self._x = x
        return y

    def backward(self, dy, need_dx=True):
        """``dw_{c,j} = Σ_batch dy_{c,j}·x_j``, ``dx_j = Σ_c dy_{c,j}·w_{c,j}``."""
        dy3 = dy.reshape(dy.shape[0], self.copies, -1)
        prod = self._buffer("prod", dy3.shape)
        np.multiply(dy3, self._x[:, None, :], out=prod)
        np.sum(prod, axis=0, out=self.grads["w"])
        if not need_dx:
            return None
        np.multiply(dy3, self.params["w"], out=prod)
        return np.sum(prod, axis=1, out=self._buffer("dx", self._x.shape))

    def spec(self):
        return {"type": self.type, "copies": self.copies}

    def __repr__(self):
        n = self.input_shape[0] if self.input_shape else "?"
        return f"ToyScale({n} → {self.copies}×{n})"

    # -- the declarations --------------------------------------------------------------
    def buffer_floats(self):
        """Training: ``y``, the products of ``backward`` and ``dx``."""
        return 2 * math.prod(self.output_shape) + math.prod(self.input_shape), 0, 0

    def macs_per_row(self):
        return self.copies * self.input_shape[0]

    @classmethod
    def widen(cls, spec):
        return {**spec, "copies": 2 * spec["copies"]}


@pytest.fixture
def toy():
    register_layer(ToyScale)
    yield ToyScale
    unregister_layer(ToyScale.type)  # the other tests in this worker see the shipped types
    assert ToyScale.type not in LAYERS and ToyScale.type not in LAYER_MODELS


def _config(tmp_path, layers: str, training: str = "{}") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"data: {{target: species}}\nmodel: {{layers: {layers}}}\n"
                    f"training: {training}\n")
    return path


def _error(path) -> str:
    with pytest.raises(NnfitError) as info:
        load_config(path)
    return info.value.message.replace(str(path), "config.yaml")


def test_the_toy_is_a_layer_whose_gradients_check(toy):
    net = build_network([{"type": "toy_scale", "copies": 3}], n_features=4, dtype="float64")
    x = np.random.default_rng(0).standard_normal((5, 4))
    assert_gradients_match(check_network(net, x))


def test_the_config_takes_it_with_the_usual_one_line_errors(toy, tmp_path):
    config = load_config(_config(tmp_path, "[{type: toy_scale, copies: 3}]"))
    assert config.model.layers[0].model_dump() == {"type": "toy_scale", "copies": 3}
    assert _error(_config(tmp_path, "[{type: toy_scale, copies: 0}]")) == (
        "config.yaml: model.layers[0].copies: must be at least 1 (got 0)")
    assert _error(_config(tmp_path, "[{type: toy_scale, units: 3}]")) == (
        "config.yaml: model.layers[0]: unknown key 'units'")
    assert _error(_config(tmp_path, "[{type: toy_scal}]")) == (
        "config.yaml: model.layers[0]: unknown layer type 'toy_scal'; choose from dense, "
        "activation, batchnorm, layernorm, dropout, tokens, pool, attention, numeric_embedding, "
        "toy_scale "
        "(did you mean 'toy_scale'?)")


def test_summary_prints_its_row_and_the_memory_it_needs(toy, tmp_path):
    path = _config(tmp_path, "[{type: toy_scale, copies: 3}]")
    result = runner.invoke(app, ["summary", str(path), str(IRIS)])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if "ToyScale" in line)
    assert "ToyScale(4 → 3×4)" in row and "(batch, 12)" in row and row.split("│")[-2].strip() == "12"
    assert "training needs ~" in result.output


def test_the_memory_estimate_counts_its_declared_buffers(toy, tmp_path):
    estimate = estimate_bytes([{"type": "toy_scale", "copies": 10}, {"type": "dense", "units": 2}],
                              (4,), "float32", 32, 100, "sgd")
    # ToyScale(4 → 10×4): 40 parameters; per row, as declared: y and the products (40 each)
    # and dx (4) = 84. Dense(40 → 2, identity): 82 parameters; y, bias (2 each), dx (40) = 44.
    # Rows with buffers: 32 + 100 % 32 = 36; the trainer: x (4), y and dlogits (2 each) = 8
    # per row; predict over 100 rows: two scratch rows of the widest hidden layer, 2 · 40.
    assert estimate.n_params == 122
    assert estimate.activations == ((84 + 44) * 36 + 2 * 40 * 100 + 8 * 36) * 4
    assert estimate.layer_bytes == ((40 * 4 + 84 * 36) * 4, (82 * 4 + 44 * 36) * 4)
    # ... and a refusal names the option that sizes it
    config = load_config(_config(tmp_path, "[{type: toy_scale, copies: 10}]"))
    prepared = prepare(config, IRIS)
    refusal = prepared.memory_refusal(prepared.memory(), 1)
    assert refusal.startswith("model.layers[0].copies: the network needs ~")


def test_the_thread_choice_counts_its_declared_multiply_adds(toy, tmp_path, monkeypatch):
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    path = _config(tmp_path, "[{type: toy_scale, copies: 100}]",
                   "{batch_size: 1000, epochs: 1, early_stopping: false}")
    result = runner.invoke(app, ["train", str(path), str(IRIS), "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    # per row: the toy's 100 · 4 and the output layer's 400 · 3 (1.2M a batch without the toy's)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["threads_reason"] == ("1.6M multiply-adds per batch, below 10M where a second "
                                         "thread pays")
    # and the saved model of the new type loads back: model.json's schema follows the registry
    evaluated = runner.invoke(app, ["eval", str(tmp_path / "run"), str(IRIS), "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.output)["n_rows"] == 150
    shown = runner.invoke(app, ["show", str(tmp_path / "run")])
    assert shown.exit_code == 0 and "ToyScale(4 → 100×4)" in shown.output, shown.output


def test_a_model_of_an_unregistered_type_is_refused(toy, tmp_path):
    path = _config(tmp_path, "[{type: toy_scale, copies: 2}]", "{epochs: 1}")
    assert runner.invoke(app, ["train", str(path), str(IRIS), "-q", "--no-probe",
                               "--out", str(tmp_path / "run")]).exit_code == 0
    unregister_layer(ToyScale.type)  # model.json's schema follows the removal too
    try:
        refused = runner.invoke(app, ["eval", str(tmp_path / "run"), str(IRIS)])
        assert refused.exit_code == 2
        assert "unknown layer type 'toy_scale'" in refused.output, refused.output
    finally:
        register_layer(ToyScale)  # for the fixture's teardown


def test_the_probe_widens_it_as_it_declares(toy):
    layers = [{"type": "toy_scale", "copies": 3}, {"type": "dense", "units": 3,
                                                   "activation": "identity"}]
    wider = probe_layers(layers)
    assert wider == [{"type": "toy_scale", "copies": 6}]  # not the two-dense fallback
    assert repr(plan_layers([*wider, layers[-1]], (4,))[0]) == "ToyScale(4 → 6×4)"

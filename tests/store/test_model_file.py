"""nnfit.store.model_file and store.safe_read: the pieces behind loading untrusted model files.
(End to end, every tampering through eval/predict/show: tests/cli/test_model_tampering.py.)"""

import io
import json

import numpy as np
import pytest

from nnfit.data.preprocess import Preprocessor
from nnfit.errors import NnfitError
from nnfit.nn.build import build_network
from nnfit.store.model_file import check_memory, load_model, loading_bytes, read_model, save_model
from nnfit.store.model_schema import Layouts, ModelFile, layouts
from nnfit.store.safe_read import read_json

EVERY_LAYER = [{"type": "numeric_embedding", "frequencies": 2, "dim": 3, "lite": True},
               {"type": "tokens", "dim": 8, "cls": True},
               {"type": "attention", "dim": 8, "heads": 2, "dropout": 0.1},
               {"type": "layernorm"}, {"type": "pool"},
               {"type": "dense", "units": 6, "activation": {"name": "leaky_relu", "slope": 0.1}},
               {"type": "batchnorm"}, {"type": "dropout", "rate": 0.2},
               {"type": "activation", "activation": "tanh"}, {"type": "dense", "units": 3}]
PREP = Preprocessor(task="classification", targets=["c"], features=["a", "b", "d"],
                    numeric={"a": [0.0, 1.0], "b": [1.0, 2.0], "d": [0.0, 3.0]},
                    classes=["x", "y", "z"])


def _as_json(slots):
    return [{"name": s.name, "shape": list(s.shape), "offset": s.offset} for s in slots]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_plan_is_the_networks_layout_without_building_it(dtype):
    """layouts() repeats Network's slot order (decaying weights first) from the layers' shapes:
    if Network changes its layout, this fails before a saved model is misread."""
    network = build_network(EVERY_LAYER, n_features=3, dtype=dtype, seed=0)
    planned = layouts(EVERY_LAYER, (3,), dtype)
    assert planned.layout == _as_json(network.layout)
    assert planned.state_layout == _as_json(network.state_layout)
    assert planned.output_shape == network.output_shape == (3,)
    assert (planned.n_params, planned.n_state) == (network.n_params, network.state.size)


def test_a_model_of_every_layer_type_saves_and_loads_bit_identically(tmp_path):
    network = build_network(EVERY_LAYER, n_features=3, seed=2)
    network.state[...] = np.linspace(0.5, 2.0, network.state.size)
    save_model(tmp_path, network, PREP, "cross_entropy", [1.0, 2.0, 0.5])
    loaded, prep, meta = load_model(tmp_path)
    np.testing.assert_array_equal(loaded.params, network.params)
    np.testing.assert_array_equal(loaded.state, network.state)
    x = np.random.default_rng(0).standard_normal((7, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), network.predict(x))
    assert prep == PREP and meta["class_weight"] == [1.0, 2.0, 0.5]


def test_npz_variants_numpy_writes_load_too(tmp_path):
    """Compressed members and Fortran order are valid .npy/.npz: read, not refused."""
    network = build_network([{"type": "dense", "units": 3}], n_features=3, seed=1)
    save_model(tmp_path, network, PREP, "cross_entropy")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, params=network.params, state=network.state)
    (tmp_path / "model.npz").write_bytes(buffer.getvalue())
    np.testing.assert_array_equal(load_model(tmp_path)[0].params, network.params)


def test_memory_is_checked_from_the_plan_before_anything_is_allocated(tmp_path, monkeypatch):
    planned = Layouts([{"name": "0.W", "shape": [1000, 1000], "offset": 0}],
                   [{"name": "1.running_mean", "shape": [10], "offset": 0}], (10,))
    # three copies of the parameters (file, network, gradients), two of the state, per member
    assert loading_bytes(planned, "float32", 0) == 4 * (3 * 10**6 + 2 * 10)
    assert loading_bytes(planned, "float64", 5) == 8 * 5 * (3 * 10**6 + 2 * 10)
    monkeypatch.setattr("nnfit.runtime.memory.available_memory", lambda: 10**6)
    with pytest.raises(NnfitError) as info:
        check_memory(planned, "float32", 5, tmp_path / "model.json")
    assert info.value.message == (f"{tmp_path / 'model.json'}: loading needs 60 MB of memory "
                                  f"(1,000,000 float32 parameters × 5 members), more than the "
                                  f"1 MB available")
    monkeypatch.setattr("nnfit.runtime.memory.available_memory", lambda: None)  # unknown: no check
    check_memory(planned, "float32", 5, tmp_path / "model.json")


def test_json_is_read_strictly_and_refused_before_reading_when_too_large(tmp_path):
    def read(text, limit=1000):
        (tmp_path / "f.json").write_text(text)
        with pytest.raises(NnfitError) as info:
            read_json(tmp_path, "f.json", limit)
        return info.value.message.removeprefix(f"{tmp_path / 'f.json'}: ")

    assert read(" " * 2_000_000 + "{}", limit=2**20) == ("2 MB, larger than the 1 MB a run's "
                                                          "f.json may be; refused without reading it")
    assert read('{"a": Infinity}') == "not valid JSON (Infinity is not a JSON number)"
    assert read('{"a": -1e400}') == "not valid JSON (the number -1e400 is too large for a float)"
    assert read('{"a": 1, "b": {"c": 1, "c": 2}}') == ("not valid JSON (the key 'c' is given "
                                                        "twice in one object)")
    assert read('{"a\\nb": 1, "a\\nb": 2}') == ("not valid JSON (the key 'a\\nb' is given twice "
                                                 "in one object)")  # one line, escaped
    (tmp_path / "ok.json").write_text('{"a": [1.5, null, "x"]}')
    assert read_json(tmp_path, "ok.json") == {"a": [1.5, None, "x"]}


def test_the_schema_takes_the_layers_the_config_takes(tmp_path):
    """Layers are validated by nnfit.config's models: a config's layer list is a model's."""
    from nnfit.config.schema import LAYER_MODELS

    assert set(LAYER_MODELS) == {"dense", "activation", "batchnorm", "layernorm", "dropout",
                                 "tokens", "pool", "attention", "numeric_embedding"}
    network = build_network(EVERY_LAYER, n_features=3, seed=0)
    save_model(tmp_path, network, PREP, "cross_entropy")
    meta = json.loads((tmp_path / "model.json").read_text())
    described = ModelFile.model_validate(meta, strict=True)
    assert [type(layer).__name__ for layer in described.architecture.layers] == [
        LAYER_MODELS[spec["type"]].__name__ for spec in EVERY_LAYER]
    assert read_model(tmp_path).params.shape == (network.n_params,)


def test_a_linear_skip_and_label_smoothing_save_and_load_identically(tmp_path):
    layers = [{"type": "dense", "units": 5, "activation": "relu"}, {"type": "dense", "units": 3}]
    network = build_network(layers, n_features=3, seed=2, linear_skip=True)
    network.param("skip.W")[...] = np.arange(9, dtype=np.float32).reshape(3, 3) / 10
    save_model(tmp_path, network, PREP, "cross_entropy", None, 0.1)
    loaded, _, meta = load_model(tmp_path)
    assert loaded.skip is not None and meta["architecture"]["linear_skip"] is True
    assert meta["label_smoothing"] == 0.1
    np.testing.assert_array_equal(loaded.params, network.params)
    x = np.random.default_rng(0).standard_normal((7, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), network.predict(x))
    planned = layouts(layers, (3,), "float32", linear_skip=True)
    assert planned.layout == _as_json(network.layout) and planned.n_params == network.n_params
    # a default network writes neither key: its model.json is as it ever was
    save_model(tmp_path, build_network(layers, n_features=3), PREP, "cross_entropy")
    meta = read_json(tmp_path, "model.json")
    assert "linear_skip" not in meta["architecture"] and "label_smoothing" not in meta


def _tampered(tmp_path, change):
    layers = [{"type": "dense", "units": 3}]
    save_model(tmp_path, build_network(layers, n_features=3, linear_skip=True), PREP,
               "cross_entropy", None, 0.1)
    meta = json.loads((tmp_path / "model.json").read_text())
    change(meta)
    (tmp_path / "model.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("change,message", [
    (lambda m: m["layout"][1].update(shape=[3, 4]),
     r"layout\[1\]: skip.W \[3, 4\] at 9 does not match the layers, which put skip.W \[3, 3\] at 9"),
    (lambda m: m["architecture"].pop("linear_skip"),
     r"architecture.n_params: 21 does not match its layers, which have 12"),
    (lambda m: m.update(label_smoothing=1.0), r"label_smoothing: must be less than 1 \(got 1.0\)"),
    (lambda m: m["architecture"].update(linear_skip="yes"), r"architecture.linear_skip: "),
])
def test_a_tampered_skip_or_smoothing_is_refused_in_one_line(tmp_path, change, message):
    _tampered(tmp_path, change)
    with pytest.raises(NnfitError, match=message) as caught:
        load_model(tmp_path)
    assert "\n" not in str(caught.value)

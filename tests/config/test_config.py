import typing

import pytest

from nnfit.config.load import load_config
from nnfit.config.schema import LAYER_MODELS, InitName, LossName, OptimizerName
from nnfit.errors import NnfitError
from nnfit.nn.activations import ACTIVATIONS
from nnfit.nn.build import LAYERS
from nnfit.nn.init import INITIALIZERS
from nnfit.nn.losses import LOSSES
from nnfit.nn.optimizers import OPTIMIZERS


def test_config_names_are_the_engine_tables():
    dense = LAYER_MODELS["dense"]
    for name in ACTIVATIONS:  # every engine activation is a config activation, and only those
        assert dense.model_validate({"type": "dense", "units": 1, "activation": name})
    with pytest.raises(ValueError, match="unknown activation 'swish'; choose from "
                                         + ", ".join(ACTIVATIONS)):
        dense.model_validate({"type": "dense", "units": 1, "activation": "swish"})
    assert set(typing.get_args(LossName)) == {"auto", *LOSSES}
    assert set(typing.get_args(OptimizerName)) == set(OPTIMIZERS)
    assert set(LAYER_MODELS) == set(LAYERS)
    assert typing.get_args(InitName) == ("auto", *INITIALIZERS)


@pytest.mark.parametrize("text,error", [
    ("model: {init: he_norml}", "config.yaml: model.init: must be one of auto, he_normal, he_uniform, "
                          "glorot_normal, glorot_uniform, lecun_normal, lecun_uniform (got 'he_norml') "
                          "(did you mean 'he_normal'?)"),
    ("model: {init_scale: 0}", "config.yaml: model.init_scale: must be positive (got 0)"),
    ("model: {init_scale: .inf}", "config.yaml: model.init_scale: must be a finite number (got inf)"),
    ("model: {linear_skip: 2}", "config.yaml: model.linear_skip: must be true or false (got 2)"),
    ("training: {label_smoothing: 1}",
     "config.yaml: training.label_smoothing: must be less than 1 (got 1)"),
    ("training: {label_smoothing: -0.1}",
     "config.yaml: training.label_smoothing: must be at least 0 (got -0.1)"),
])
def test_the_engine_options_are_checked_in_one_line(tmp_path, text, error):
    assert _errors(tmp_path, f"data: {{target: y}}\n{text}\n") == [error]


def _errors(tmp_path, text, name="config.yaml"):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(NnfitError) as info:
        load_config(path)
    assert info.value.exit_code == 2
    return [line.replace(str(path), name) for line in info.value.message.splitlines()]


ISSUE_EXAMPLE = """
data:
  target: species
  features: [a, b]
  task: auto
  test_fraction: 0.2
  val_fraction: 0.1
  scale: standard
  missing: error
model:
  layers:
    - {type: dense, units: 32, activation: relu}
    - {type: dense, units: 16, activation: {name: leaky_relu, slope: 0.05}}
training:
  loss: auto
  optimizer: adam
  lr: 0.001
  batch_size: 32
  epochs: 200
  weight_decay: 0.0
  early_stopping: {patience: 20, min_delta: 0.0, restore_best: true}
  seed: 0
  dtype: float32
"""


def test_the_documented_shape_loads(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(ISSUE_EXAMPLE)
    config = load_config(path)
    assert config.data.targets == ["species"]
    assert config.model.layers[1].activation == {"name": "leaky_relu", "slope": 0.05}
    assert config.training.early_stopping.patience == 20


def test_defaults_and_early_stopping_false(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data: {target: y}\ntraining: {early_stopping: false}\n")
    config = load_config(path)
    assert config.training.early_stopping is None
    assert config.model.layers == []
    training = config.training
    assert (training.optimizer, training.lr, training.dtype) == ("adamw", 0.003, "float32")
    assert (config.training.weight_decay, config.training.schedule.name) == (0.01, "cosine")


def test_overrides_apply_before_validation(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data: {target: y}\n")
    assert load_config(path, ["training.lr=0.5", "training.epochs=3"]).training.lr == 0.5
    with pytest.raises(NnfitError, match=r"training.lr: must be positive \(got -1.0\)$"):
        load_config(path, ["training.lr=-1.0"])


@pytest.mark.parametrize("text,expected", [
    ("data: {target: y}\nmodel:\n  layers:\n"
     "    - {type: dense, units: 8}\n    - {type: dense, units: -3}\n",
     ["config.yaml: model.layers[1].units: must be a positive integer (got -3)"]),
    ("data: {target: y, tset_fraction: 0.3}\n",
     ["config.yaml: data: unknown key 'tset_fraction' (did you mean 'test_fraction'?)"]),
    ("data: {target: y}\ntraining: {learning_rate: 0.1}\n",
     ["config.yaml: training: unknown key 'learning_rate' (did you mean 'lr'?)"]),
    ("data: {target: y}\ntraining: {optimizer: adma}\n",
     ["config.yaml: training.optimizer: must be one of sgd, momentum, nesterov, adam, adamw "
      "(got 'adma') (did you mean 'adam'?)"]),
    ("data: {target: y}\nmodel: {layers: [{type: conv}]}\n",
     ["config.yaml: model.layers[0]: unknown layer type 'conv'; choose from "
      "dense, activation, batchnorm, layernorm, dropout, tokens, pool, attention, "
      "numeric_embedding"]),
    ("data: {target: y}\nmodel: {layers: [{type: dense, units: 4, activation: swish}]}\n",
     ["config.yaml: model.layers[0].activation: unknown activation 'swish'; choose from identity, "
      "linear, relu, leaky_relu, sigmoid, tanh, gelu, softmax"]),
    ("data: {target: y}\n"
     "model: {layers: [{type: dense, units: 4, activation: {name: leaky_relu, slope: 2}}]}\n",
     ["config.yaml: model.layers[0].activation: leaky_relu slope must be a number in (0, 1) (got 2)"]),
    ("data: {target: y}\nmodel: {layers: [{type: dense, units: 4, activaton: relu}]}\n",
     ["config.yaml: model.layers[0]: unknown key 'activaton' (did you mean 'activation'?)"]),
    ("data: {target: y}\ntraining: {early_stopping: {patince: 3}}\n",
     ["config.yaml: training.early_stopping: unknown key 'patince' (did you mean 'patience'?)"]),
    ("data: {target: y, test_fraction: 0.6, val_fraction: 0.5}\n",
     ["config.yaml: data: test_fraction + val_fraction must be below 1 (got 0.6 + 0.5)"]),
    ("model: {}\n", ["config.yaml: data: required key is missing"]),
    ("data: {target: y}\ntraining: {epochs: ten, batch_size: 0}\n",
     ["config.yaml: training.batch_size: must be a positive integer (got 0)",
      "config.yaml: training.epochs: must be an integer (got 'ten')"]),
    ("data: {target: y, val_fraction: 0}\n",
     ["config.yaml: training.early_stopping needs a validation split: set data.val_fraction "
      "above 0, or early_stopping: false"]),
    ("data: {target: y}\nmodle: {}\n", ["config.yaml: unknown key 'modle' (did you mean 'model'?)"]),
])
def test_each_problem_is_one_line_naming_its_path(tmp_path, text, expected):
    assert sorted(_errors(tmp_path, text)) == sorted(expected)


@pytest.mark.parametrize("text,expected", [
    ("", "config.yaml: a config must be a mapping with sections data, model, training (got empty)"),
    ("- a\n- b\n",
     "config.yaml: a config must be a mapping with sections data, model, training (got a list)"),
    ("data: {target: y\n",
     "config.yaml: invalid YAML at line 2, column 1: expected ',' or '}', but got '<stream end>'"),
    ("!!python/object/apply:os.system ['echo hi']\n", "config.yaml: invalid YAML at line 1, column 1: "),
])
def test_unreadable_documents(tmp_path, text, expected):
    (message,) = _errors(tmp_path, text)
    assert message.startswith(expected)


def test_missing_config_file(tmp_path):
    with pytest.raises(NnfitError, match="no such config file"):
        load_config(tmp_path / "nope.yaml")


# -- --set overrides ----------------------------------------------------------------------
LAYERED = "data: {target: y}\nmodel:\n  layers:\n    - {type: dense, units: 8, activation: relu}\n"


def _with_sets(tmp_path, *sets, text=LAYERED):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return load_config(path, list(sets))


def _set_error(tmp_path, *sets, text=LAYERED):
    with pytest.raises(NnfitError) as info:
        _with_sets(tmp_path, *sets, text=text)
    assert info.value.exit_code == 2 and "\n" not in info.value.message
    return info.value.message.replace(str(tmp_path / "config.yaml"), "config.yaml")


def test_set_reaches_any_depth_and_reads_values_as_yaml(tmp_path):
    config = _with_sets(tmp_path, "model.layers[0].units=7", "training.lr=3e-4",
                        "training.early_stopping.patience=3", "data.features=[a, b]",
                        "model.layers[0].activation={name: leaky_relu, slope: 0.1}")
    assert config.model.layers[0].units == 7
    assert config.training.lr == 3e-4 and isinstance(config.training.lr, float)
    assert config.training.early_stopping.patience == 3
    assert config.data.features == ["a", "b"]
    assert config.model.layers[0].activation == {"name": "leaky_relu", "slope": 0.1}


def test_set_applies_in_order_so_the_last_one_wins(tmp_path):
    assert _with_sets(tmp_path, "training.lr=0.1", "training.lr=0.2").training.lr == 0.2


@pytest.mark.parametrize("sets,expected", [
    (["model.layers[3].units=7"],
     "--set model.layers[3].units=7: model.layers has 1 entry (index 3 is out of range)"),
    (["training.lrr=0.1"],
     "--set training.lrr=0.1: training: unknown key 'lrr' (did you mean 'lr'?)"),
    (["training.lr=-1"], "--set training.lr=-1: training.lr: must be positive (got -1)"),
    (["model.layers[0].units=many"],
     "--set model.layers[0].units=many: model.layers[0].units: must be an integer (got 'many')"),
    (["model.layers[0]={type: dense, units: 0}"],
     "--set model.layers[0]={type: dense, units: 0}: model.layers[0].units: must be a positive "
     "integer (got 0)"),
    (["lr"], "--set lr: expected PATH=VALUE, e.g. --set training.lr=0.01"),
    (["training..lr=1"], "--set training..lr=1: 'training..lr' is not a key path like "
                         "model.layers[0].units"),
    (["data.target.name=y"], "--set data.target.name=y: data.target is not a mapping"),
    (["training[0]=1"], "--set training[0]=1: training is not a list in this config"),
    (["training.threads=0"],
     "--set training.threads=0: training.threads: must be auto or a positive integer (got 0)"),
    (["training.seed=-1"], "--set training.seed=-1: training.seed: must be at least 0 (got -1)"),
], ids=["index out of range", "unknown key", "invalid value", "wrong type", "whole layer", "no equals",
        "bad path", "into a scalar", "index into a mapping", "threads", "negative seed"])
def test_set_errors_name_the_path(tmp_path, sets, expected):
    assert _set_error(tmp_path, *sets) == expected


def test_an_error_in_the_file_is_blamed_on_the_file_even_with_overrides(tmp_path):
    text = LAYERED + "training: {epochs: 0}\n"
    assert _set_error(tmp_path, "training.lr=0.1", text=text) == (
        "config.yaml: training.epochs: must be a positive integer (got 0)")


@pytest.mark.parametrize("text,value", [
    ("3e-4", 3e-4), ("64", 64), ("[a, b]", ["a", "b"]), ("{name: relu}", {"name": "relu"}),
    ("true", True), ("null", None), ("|", "|"), ("#", "#"), ("yes", "yes"), ("off", "off"),
    (";", ";"), ("a: b: c", "a: b: c"),
])
def test_set_values_are_yaml_except_where_yaml_would_change_plain_text(text, value):
    from nnfit.config.overrides import parse_value

    assert parse_value(text) == value


def test_set_a_delimiter_that_is_yaml_syntax(tmp_path):
    assert _with_sets(tmp_path, "data.delimiter=|").data.delimiter == "|"


def test_set_a_misspelt_list_gets_a_hint(tmp_path):
    assert _set_error(tmp_path, "model.layer[0].units=7") == (
        "--set model.layer[0].units=7: model.layer is not a list in this config (did you mean "
        "'layers'?)")


def test_a_registered_layer_class_is_a_yaml_layer_type_with_its_options():
    """One place: the class's ``options`` make the config's model; config.py is not touched."""
    import numpy as np
    from pydantic import ValidationError

    from nnfit.config.schema import Config, ModelConfig
    from nnfit.nn.activations import Activation, make_activation
    from nnfit.nn.base import Layer, Option
    from nnfit.nn.build import build_network, register_layer, unregister_layer

    class Scale(Layer):
        type = "scale"
        options = {"factor": Option(float, required=True, gt=0),
                   "activation": Option(Activation, default="identity"),
                   "mode": Option(str, default=None, choices=("a", "b"))}

        def __init__(self, factor, activation="identity", mode=None):
            super().__init__()
            self.factor, self.activation, self.mode = factor, make_activation(activation), mode

        def forward(self, x, training=False, out=None):
            y = self._output(x.shape, training, out)
            np.multiply(x, self.factor, out=y)
            return self.activation.forward(y, out=y)

    assert "scale" not in LAYER_MODELS
    before = dict(LAYER_MODELS)
    register_layer(Scale)
    try:
        assert list(LAYER_MODELS) == [*before, "scale"]
        for name, model in before.items():  # the generated models of today's types are kept
            assert LAYER_MODELS[name] is model
        got = ModelConfig.model_validate({"layers": [
            {"type": "scale", "factor": 2, "activation": "relu"},
            {"type": "scale", "factor": 0.5, "activation": {"name": "leaky_relu", "slope": 0.1}},
            {"type": "dense", "units": 1}]}).layers
        assert got[0].model_dump() == {"type": "scale", "factor": 2.0, "activation": "relu",
                                       "mode": None}
        assert got[1].activation == {"name": "leaky_relu", "slope": 0.1}
        config = Config.model_validate({"data": {"target": "y"},
                                        "model": {"layers": [{"type": "scale", "factor": 3}]}})
        assert config.model.layers[0].factor == 3.0
        net = build_network([layer.model_dump() for layer in got], n_features=3, dtype="float64")
        assert [layer.type for layer in net.layers] == ["scale", "scale", "dense"]
        assert net.predict(np.ones((2, 3))).shape == (2, 1)

        for bad, kind in [({"type": "scale"}, "missing"),
                          ({"type": "scale", "factor": -1}, "greater_than"),
                          ({"type": "scale", "factor": 1, "mode": "c"}, "literal_error"),
                          ({"type": "scale", "factor": 1, "units": 3}, "extra_forbidden"),
                          ({"type": "scale", "factor": 1, "activation": "swish"}, "value_error")]:
            with pytest.raises(ValidationError) as info:
                ModelConfig.model_validate({"layers": [bad]})
            assert [e["type"] for e in info.value.errors()] == [kind], bad
        with pytest.raises(ValidationError, match="leaky_relu slope must be a number in"):
            ModelConfig.model_validate({"layers": [{
                "type": "scale", "factor": 1, "activation": {"name": "leaky_relu", "slope": 2}}]})
    finally:
        unregister_layer("scale")
    assert LAYER_MODELS == before
    with pytest.raises(ValidationError) as info:  # and the config refuses it again
        Config.model_validate({"data": {"target": "y"}, "model": {"layers": [{"type": "scale"}]}})
    assert [e["type"] for e in info.value.errors()] == ["union_tag_invalid"]


def test_generated_layer_models_pickle_for_worker_processes():
    import pickle

    for name, model in LAYER_MODELS.items():
        assert pickle.loads(pickle.dumps(model)) is model, name


# -- training.class_weight --------------------------------------------------------------------

def test_class_weight_is_balanced_or_a_mapping_with_labels_as_text(tmp_path):
    assert _with_sets(tmp_path).training.class_weight is None
    assert _with_sets(tmp_path, "training.class_weight=balanced").training.class_weight == \
        "balanced"
    # YAML reads numbers and booleans as keys; the CSV's labels are text ("1", "true")
    weights = _with_sets(tmp_path, "training.class_weight={1: 2, 0.0: 0.5, b: 1.5}")
    assert weights.training.class_weight == {"1": 2.0, "0": 0.5, "b": 1.5}
    assert _with_sets(tmp_path, "training.class_weight={true: 3, false: 1}").training \
        .class_weight == {"true": 3.0, "false": 1.0}
    text = LAYERED + "training:\n  class_weight:\n    malignant: 2\n    benign: 1\n"
    assert _with_sets(tmp_path, text=text).training.class_weight == {"malignant": 2.0,
                                                                     "benign": 1.0}


@pytest.mark.parametrize("value,expected", [
    ("balancd", "must be balanced, none or a mapping of class label to weight, e.g. {malignant: 2.0} "
                "(got 'balancd') (did you mean 'balanced'?)"),
    ("[1, 2]", "must be balanced, none or a mapping of class label to weight, e.g. {malignant: 2.0} "
               "(got [1, 2])"),
    ("{a: 0}", "the weight of class 'a' must be a positive number (got 0)"),
    ("{a: -1.5}", "the weight of class 'a' must be a positive number (got -1.5)"),
    ("{a: .inf}", "the weight of class 'a' must be a positive number (got inf)"),
    ("{a: heavy}", "the weight of class 'a' must be a positive number (got 'heavy')"),
    ("{1: 2, '1': 3}", "class '1' is given twice (as '1' too)"),
    ("{}", "an empty mapping: give a weight per class label, or leave class_weight out"),
], ids=["misspelt", "list", "zero", "negative", "infinite", "text", "twice", "empty"])
def test_bad_class_weights_are_one_line_each(tmp_path, value, expected):
    assert _set_error(tmp_path, f"training.class_weight={value}") == (
        f"--set training.class_weight={value}: training.class_weight: {expected}")

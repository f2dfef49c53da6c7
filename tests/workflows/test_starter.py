"""The starter config: network sizing, data-dependent choices, comments and the YAML round trip."""

import re
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from nnfit.config.commented import COMMENTS
from nnfit.config.schema import LAYER_MODELS, Config, DataConfig, EarlyStoppingConfig, TrainingConfig
from nnfit.errors import NnfitError
from nnfit.workflows.init import starter, starter_config, starter_yaml
from nnfit.workflows.prepared import prepare
from nnfit.workflows.sizing import EMBEDDING, SIZES, hidden_layers, hidden_weights, starter_layers

ROOT = Path(__file__).parents[2]
SAMPLES = {"iris": "species", "wine": "cultivar", "breast_cancer": "diagnosis",
           "diabetes": "progression", "noisy_sine": "y"}


def _csv(name):
    return ROOT / "sample_data" / f"{name}.csv"


# -- network sizing -----------------------------------------------------------------------------


@pytest.mark.parametrize("n_rows, n_inputs, layers, units", [
    (105, 4, 1, 32),       # iris's training split: the first row of the table
    (300, 4, 1, 32),       # a row's bound is inclusive
    (301, 4, 1, 64),
    (1_000, 30, 1, 64),    # 31 * 64 = 1,984 weights, within 10 per training row
    (1_001, 40, 2, 64),    # 2 x 128: 41 * 128 + 129 * 128 = 21,760 > 10,010 weights, so
                           # halved: 41 * 64 + 65 * 64 = 6,784
    (10_000, 20, 2, 128),  # 21 * 128 + 129 * 128 = 19,200
    (10_001, 20, 2, 256),  # 21 * 256 + 257 * 256 = 71,168
    (200_000, 20, 3, 256),
])
def test_hidden_layers_follow_the_table(n_rows, n_inputs, layers, units):
    assert hidden_layers(n_rows, n_inputs, "classification") == [
        {"type": "dense", "units": units, "activation": "relu"}] * layers


def test_hidden_weights_counts_weights_and_biases():
    assert hidden_weights(4, 1, 32) == 4 * 32 + 32
    assert hidden_weights(10, 2, 128) == 10 * 128 + 128 + 128 * 128 + 128


@pytest.mark.parametrize("n_rows, n_inputs, units", [
    (200, 100, 16),  # 101 * 32 = 3,232 > 2,000 weights -> 16: 1,616
    (200, 500, 8),   # 501 * 16 = 8,016 > 2,000 -> 8 (4,008, over, but the floor)
    (1_500, 10, 64),  # 11 * 128 + 129 * 128 = 17,920 > 15,000 -> 64: 4,864
    (2_000, 10, 128),  # 17,920 <= 20,000
])
def test_a_wide_table_with_few_rows_gets_narrower_layers(n_rows, n_inputs, units):
    assert {layer["units"] for layer in hidden_layers(n_rows, n_inputs, "regression")} == {units}


def test_the_table_grows_with_the_rows():
    bounds = [bound for bound, _, _ in SIZES]
    assert bounds == sorted(bounds) and bounds[-1] == float("inf")
    sizes = [(n, u) for _, n, u in SIZES]
    assert sizes == sorted(sizes)


def test_hidden_layers_checks_its_arguments():
    with pytest.raises(ValueError, match="kind must be classification or regression"):
        hidden_layers(100, 4, "clustering")
    with pytest.raises(ValueError, match="at least one row and one input"):
        hidden_layers(0, 4, "regression")


# -- choices on the shipped data ---------------------------------------------------------------


@pytest.mark.parametrize("name, layers, loss, val_fraction", [
    ("iris", [32], "cross_entropy", 0.15),
    ("wine", [32], "cross_entropy", 0.15),
    ("breast_cancer", [64], "binary_cross_entropy", 0.1),
    ("diabetes", [64], "mse", 0.1),
    ("noisy_sine", [32], "mse", 0.1),
])
def test_the_starter_of_each_shipped_csv(name, layers, loss, val_fraction):
    config, facts = starter(_csv(name), SAMPLES[name])
    first, *hidden = config["model"]["layers"]
    everything = facts.n_inputs <= 10  # every input embedded, else the numeric columns
    assert first == LAYER_MODELS["numeric_embedding"](
        type="numeric_embedding", inputs="all" if everything else "numeric").model_dump()
    assert [layer["units"] for layer in hidden] == layers
    assert facts.loss == loss
    assert config["data"]["target"] == SAMPLES[name]
    assert config["data"]["val_fraction"] == val_fraction
    assert config["data"]["missing"] == "error" and config["data"]["exclude"] == []


def test_training_and_the_rest_are_config_py_defaults():
    config = starter_config(_csv("iris"), "species")
    # config.py's defaults, and five seeds averaged for a file this small
    assert config["training"] == {**TrainingConfig().model_dump(mode="json"), "ensemble": 5}
    defaults = DataConfig(target="species").model_dump(mode="json")
    assert config["data"] == {**defaults, "val_fraction": 0.15}
    assert set(config) == {"data", "model", "training"}


def test_val_fraction_stays_when_no_choice_gives_enough_rows(tmp_path):
    path = tmp_path / "small.csv"  # 40 rows: even 0.3 leaves 12 validation rows
    path.write_text("x,y\n" + "".join(f"{i * 0.37 % 5:.2f},{i % 7 * 1.5}\n" for i in range(40)))
    config, facts = starter(path, "y")
    assert config["data"]["val_fraction"] == 0.1
    text = starter_yaml(config, path, facts)
    assert ("# only 4 validation rows, fewer than the 20 the fit verdict needs: nnfit train --cv 5 "
            "judges on all rows\n  val_fraction: 0.1 ") in text


def test_empty_cells_choose_mean_and_say_why(tmp_path):
    path = tmp_path / "holes.csv"
    rows = [f"{i},{'' if i % 10 == 3 else i * 2},{'a' if i % 2 else 'b'},{i % 3}" for i in range(60)]
    rows[5] = "5,10,a,"  # an empty target: train drops the row
    path.write_text("u,v,w,label\n" + "\n".join(rows) + "\n")
    config, facts = starter(path, "label")
    assert config["data"]["missing"] == "mean"
    assert facts.empty_cells == 7 and facts.n_rows == 59
    text = starter_yaml(config, path, facts)
    assert ("  # 7 empty cells in the used columns → mean: features filled with the training mean "
            "(text: most frequent value); 1 row with an empty target dropped\n"
            "  missing: mean ") in text


def test_an_exported_index_and_an_empty_column_are_excluded(tmp_path):
    path = tmp_path / "exported.csv"
    path.write_text("Unnamed: 0,a,notes,y\n" + "".join(
        f"{i},{(i * 7) % 11},,{'yes' if (i * 7) % 11 > 5 else 'no'}\n" for i in range(50)))
    config, facts = starter(path, "y")
    assert config["data"]["exclude"] == ["Unnamed: 0", "notes"]
    assert facts.features == ["a"]
    text = starter_yaml(config, path, facts)
    assert ("  # 'Unnamed: 0' looks like a row identifier (distinct integers filling 0..49, in "
            "file order)\n  # 'notes' is entirely empty\n  exclude: ['Unnamed: 0', notes]") in text


def test_several_targets_are_a_regression_on_a_list(tmp_path):
    config, facts = starter(_csv("diabetes"), ["progression", "bmi"])
    assert config["data"]["target"] == ["progression", "bmi"]
    assert (facts.kind, facts.loss) == ("regression", "mse")
    assert Config.model_validate(yaml.safe_load(starter_yaml(config, "d.csv", facts))).data.targets \
        == ["progression", "bmi"]


def test_an_unknown_target_names_the_columns_and_a_close_match():
    with pytest.raises(NnfitError) as err:
        starter_config(_csv("iris"), "specie")
    assert err.value.message == (f"{_csv('iris')}: target column not found: specie (did you "
                                 f"mean 'species'?); the CSV has: sepal_length, sepal_width, "
                                 f"petal_length, petal_width, species")


def test_reading_options_go_into_the_config(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("a;b;y\n" + "".join(f"{i};{i % 4};{'?' if i == 3 else i * 3 % 7}\n"
                                        for i in range(60)))
    config, facts = starter(path, "y", na_values=["?"])
    assert config["data"]["na_values"] == ["?"] and config["data"]["missing"] == "mean"
    assert facts.delimiter == ";" and config["data"]["delimiter"] is None  # sniffed, as train does
    with pytest.raises(TypeError, match="unknown reading options: scale"):
        starter_config(path, "y", scale="minmax")


# -- comments and the YAML ----------------------------------------------------------------------


def _submodels(annotation):
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _submodels(arg)]


def _config_keys(model=Config, prefix=""):
    """Every dotted key of the config: nested sections, and the dense layer's options."""
    keys = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        keys.append(path)
        if path == "model.layers":  # the starter's layers: dense, and the embedding before them
            keys += [f"model.layers[].{option}" for option in LAYER_MODELS["dense"].model_fields]
            keys += [f"model.layers[numeric_embedding].{option}"
                     for option in LAYER_MODELS["numeric_embedding"].model_fields]
            continue
        for sub in _submodels(info.annotation):
            keys += _config_keys(sub, f"{path}.")
    return keys


def test_every_config_key_has_a_comment():
    keys = _config_keys()
    assert {"training.early_stopping.patience", "data.missing", "model.layers[].units",
            "model.layers[].activation"} <= set(keys)  # the walk reaches every level
    missing = [key for key in keys if not COMMENTS.get(key)]
    assert not missing, (f"config keys without a comment in nnfit.config.commented.COMMENTS: "
                         f"{', '.join(missing)}")


def test_no_comment_is_left_for_a_key_that_is_gone():
    stale = sorted(set(COMMENTS) - set(_config_keys()))
    assert not stale, f"COMMENTS names keys the config does not have: {', '.join(stale)}"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_yaml_round_trips_and_comments_every_key(name):
    config, facts = starter(_csv(name), SAMPLES[name])
    text = starter_yaml(config, _csv(name), facts, f"{name}.yaml")
    loaded = yaml.safe_load(text)
    assert loaded == config
    resolved = Config.model_validate(loaded).model_dump(mode="json")
    resolved.pop("sweep")
    assert resolved == config
    key_lines = [line for line in text.splitlines() if re.match(r"\s*(- )?\w+:", line)]
    assert len(key_lines) == _count_keys(config)
    uncommented = [line for line in key_lines if "  # " not in line]
    assert not uncommented


def _count_keys(values) -> int:
    """Keys in a config dict at every depth, layer options included."""
    if isinstance(values, list):
        return sum(_count_keys(v) for v in values if isinstance(v, dict))
    if not isinstance(values, dict):
        return 0
    return sum(1 + _count_keys(v) for v in values.values())


def test_comments_give_allowed_values_from_config_py_and_reasons_from_the_data():
    config, facts = starter(_csv("iris"), "species")
    text = starter_yaml(config, "sample_data/iris.csv", facts, "iris.yaml")
    lines = text.splitlines()
    assert lines[:2] == ["# nnfit starter config for sample_data/iris.csv, from: nnfit init "
                         f"{_csv('iris')} --target species",
                         "# Train it: nnfit train iris.yaml sample_data/iris.csv"]
    assert ("  # auto decides classification here: 'species' holds text\n"
            "  task: auto                    # auto decides from the target column "
            "[auto | classification | regression]\n") in text
    assert ("  # auto picks cross_entropy here: 3 classes\n  loss: auto") in text
    assert ("  # 98 training rows (of 150), 4 inputs → a periodic embedding of each number, then "
            "one hidden layer of 32 ReLU units\n"
            "  # then the output layer: dense, 3 units for 3 classes with cross_entropy\n"
            "  layers:") in text
    assert ("  # the default 0.1 leaves 15 validation rows, fewer than the 20 the fit verdict "
            "needs; 0.15 leaves 22\n  val_fraction: 0.15") in text
    scale = DataConfig.model_fields["scale"].annotation
    assert f"[{' | '.join(typing.get_args(scale))}]" in next(
        line for line in lines if line.startswith("  scale:"))
    assert lines[-1].startswith("# sweep: {training.lr: [")


def test_early_stopping_comments_reach_the_nested_keys():
    config, facts = starter(_csv("noisy_sine"), "y")
    text = starter_yaml(config, "noisy_sine.csv", facts)
    for key in EarlyStoppingConfig.model_fields:
        line = next(line for line in text.splitlines() if line.startswith(f"    {key}:"))
        assert f"# {COMMENTS[f'training.early_stopping.{key}']}" in line


@pytest.mark.parametrize("n_inputs, n_numeric, embedded", [
    (10, 0, "all"), (10, 3, "all"), (11, 0, None), (11, 1, "numeric"), (40, 32, "numeric"),
    (40, 33, None)])
def test_small_tables_embed_every_input_and_others_their_1_to_32_numbers(n_inputs, n_numeric,
                                                                         embedded):
    layers = starter_layers(500, n_inputs, n_numeric, "regression")
    first = layers[0] if layers[0]["type"] == EMBEDDING["type"] else None
    assert (first and first.get("inputs", "numeric")) == embedded
    assert layers[bool(first):] == hidden_layers(500, n_inputs, "regression")


def test_text_columns_pass_through_the_embedding_of_a_wider_table():
    config, facts = starter(_csv("hitters"), "salary")  # 22 inputs: league, division… are text
    prepared = prepare(Config.model_validate(config), _csv("hitters"))
    first = prepared.layers()[0]
    assert first["type"] == "numeric_embedding" and first["inputs"] == "numeric"
    embedded = [prepared.prep.input_names[i] for i in first["positions"]]
    assert embedded == [name for name in prepared.prep.input_names if "=" not in name]
    assert len(embedded) == 16 and facts.n_inputs == 22
    narrow, _ = starter(_csv("titanic"), "survived")  # 6 inputs: every one embedded
    assert narrow["model"]["layers"][0]["inputs"] == "all"
    titanic = prepare(Config.model_validate(narrow), _csv("titanic"))
    assert titanic.layers()[0]["positions"] == list(range(6))

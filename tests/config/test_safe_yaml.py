"""Untrusted YAML: duplicate keys, bad tagged values, recursive and exploding aliases are
one-line config errors naming the line; nothing else escapes."""

import pytest

from nnfit.config.load import load_config
from nnfit.errors import NnfitError

LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))


@pytest.mark.parametrize("body,message", [
    ("training: {seed: !!int abc}",
     "invalid YAML at line 2, column 18: cannot read int value 'abc' (ValueError)"),
    ("training: {lr: !!float xyz}",
     "invalid YAML at line 2, column 16: cannot read float value 'xyz' (ValueError)"),
    ("training: {epochs: !!timestamp 2020-13-45}",
     "invalid YAML at line 2, column 20: cannot read timestamp value '2020-13-45' (ValueError)"),
    ("training: {epochs: !!timestamp foo}",
     "invalid YAML at line 2, column 20: cannot read timestamp value 'foo' (AttributeError)"),
    ("training: {early_stopping: !!bool maybe}",
     "invalid YAML at line 2, column 28: cannot read bool value 'maybe' (KeyError)"),
    ("training: {lr: 0.1, lr: 0.2}",
     "invalid YAML at line 2, column 21: duplicate key 'lr' (first at line 2)"),
    ("data: {target: y}", "invalid YAML at line 2, column 1: duplicate key 'data' (first at line 1)"),
    ("training: &r {lr: *r}", "invalid YAML: a recursive alias (a value that contains itself)"),
    (LAUGHS + "model: {layers: *i}",
     "invalid YAML: the document expands to more than 100,000 values (aliases repeating aliases)"),
    ("training: {lr: !!python/object:os.system ls}", "could not determine a constructor for the tag"),
    ("training: {lr: " + "[" * 5000 + "]" * 5000 + "}", "invalid YAML"),
])
def test_bad_yaml_is_one_line_naming_the_place(tmp_path, body, message):
    path = tmp_path / "c.yaml"
    path.write_text("data: {target: species}\n" + body + "\n")
    with pytest.raises(NnfitError) as info:
        load_config(path)
    text = info.value.message
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text, text


def test_a_long_value_is_shortened_in_the_message(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data: {target: species}\ntraining: {lr: [" + ", ".join(["1"] * 5000) + "]}\n")
    with pytest.raises(NnfitError) as info:
        load_config(path)
    assert len(info.value.message) < 200 and info.value.message.endswith("…)")


def test_aliases_that_stay_small_are_fine(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("dense: &d {type: dense, units: 8, activation: relu}\n"
                    "data: {target: species}\nmodel: {layers: [*d, *d]}\n")
    with pytest.raises(NnfitError, match="unknown key 'dense'"):  # shared anchors still validate
        load_config(path)

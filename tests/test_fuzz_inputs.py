"""Property-based tests: generated and mutated configs, ``--set`` overrides and CSVs either
work or raise nnfit's own error; nothing else escapes.

CI runs a bounded number of examples (the ``ci`` profile); ``NNFIT_FUZZ=long`` runs the
long profile (2,000 examples each)::

    NNFIT_FUZZ=long python -m pytest tests/test_fuzz_inputs.py -p no:xdist
"""

from __future__ import annotations

import os
import string

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnfit.config.load import load_config
from nnfit.errors import NnfitError

settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
settings.register_profile("long", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
settings.load_profile("long" if os.environ.get("NNFIT_FUZZ") == "long" else "ci")

KEYS = ["data", "model", "training", "target", "features", "task", "layers", "type", "units",
        "activation", "lr", "epochs", "batch_size", "optimizer", "schedule", "name", "warmup",
        "seed", "early_stopping", "patience", "ensemble", "class_weight", "scale", "missing",
        "test_fraction", "val_fraction", "dtype", "threads", "l2", "weight_decay", "clip_norm",
        "sweep", "exclude", "delimiter", "na_values", "encoding", "split_seed", "heads", "dim"]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**30, 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(string.printable + "éß€\u200b\U0001f600", max_size=20),
    st.sampled_from(["relu", "dense", "adam", "adamw", "cosine", "species", "auto", "mean",
                     "float32", "balanced", "!!int x", "1e400", "-0", ".inf", "NaN"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)),
    max_leaves=25)


def _valid_base() -> dict:
    return {"data": {"target": "species"},
            "model": {"layers": [{"type": "dense", "units": 8, "activation": "relu"}]},
            "training": {"epochs": 2}}


@given(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=5))
def test_generated_configs_load_or_raise_nnfit_errors(tmp_path, raw):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    try:
        load_config(path)
    except NnfitError as exc:
        assert exc.message and "\n" not in exc.message.strip() or exc.message.count("\n") < 20


@given(section=st.sampled_from(["data", "model", "training"]), key=st.sampled_from(KEYS),
       value=VALUES)
def test_mutated_configs_load_or_raise_nnfit_errors(tmp_path, section, key, value):
    raw = _valid_base()
    raw[section] = dict(raw[section]) if isinstance(raw[section], dict) else {}
    raw[section][key] = value
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    try:
        load_config(path)
    except NnfitError:
        pass


@given(st.text(string.printable + "éß€", max_size=200))
def test_arbitrary_text_as_a_config_loads_or_raises_nnfit_errors(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_config(path)
    except NnfitError:
        pass


PATHS = st.sampled_from(["training.lr", "training.epochs", "model.layers[0].units",
                         "model.layers[0]", "model.layers[3].units", "data.target",
                         "training.schedule", "training.schedule.warmup", "data.features",
                         "training.early_stopping.patience", "model", "training", "x.y.z",
                         "model.layers[0].activation.slope", "training.class_weight"])


@given(path=PATHS, value=st.text(string.printable + "é", max_size=30))
def test_generated_set_overrides_work_or_raise_nnfit_errors(tmp_path, path, value):
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(_valid_base()))
    try:
        load_config(config, [f"{path}={value}"])
    except NnfitError:
        pass


# -- CSVs: read through the whole data side (read, select, missing, task, split, preprocess) --

CELLS = st.one_of(
    st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "NA", "nan", "inf", "-inf", "1e308", "-1e308", "1e-320", "a", "b", "c",
                     '"x,y"', "'", '"', "\\", " ", "0x1F", "1,5", "TRUE", "yes", "\u00e9", "\x00"]),
    st.text(string.printable, max_size=6))


@st.composite
def csv_texts(draw):
    n_cols = draw(st.integers(1, 6))
    header = draw(st.lists(st.sampled_from(["x", "y", "z", "target", "a b", "", "x", "é"]),
                           min_size=n_cols, max_size=n_cols))
    rows = draw(st.lists(st.lists(CELLS, min_size=max(1, n_cols - 1), max_size=n_cols + 1),
                         max_size=40))
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return bom + "\n".join(sep.join(r) for r in [header, *rows]) + draw(st.sampled_from(["", "\n"]))


def _prepare(tmp_path, text: str, target: str, missing: str = "error", encoding="utf-8"):
    from nnfit.config.schema import Config
    from nnfit.workflows.prepared import prepare

    path = tmp_path / "d.csv"
    path.write_bytes(text.encode(encoding, errors="replace") if isinstance(text, str) else text)
    config = Config.model_validate({"data": {"target": target, "missing": missing},
                                    "training": {"epochs": 1}})
    try:
        prepared = prepare(config, path)
    except NnfitError:
        return None
    for X in prepared.data.X.values():
        assert np.isfinite(X).all()  # whatever was accepted is finite
    return prepared


@given(text=csv_texts(), target=st.sampled_from(["target", "x", "y"]),
       missing=st.sampled_from(["error", "drop", "mean"]))
def test_generated_csvs_prepare_or_raise_nnfit_errors(tmp_path, text, target, missing):
    _prepare(tmp_path, text, target, missing)


@given(st.binary(max_size=300))
def test_binary_bytes_as_a_csv_raise_nnfit_errors(tmp_path, data):
    from nnfit.config.schema import Config
    from nnfit.workflows.prepared import prepare

    path = tmp_path / "d.csv"
    path.write_bytes(b"x,target\n" + data)
    try:
        prepare(Config.model_validate({"data": {"target": "target"}}), path)
    except NnfitError:
        pass


def test_a_very_wide_csv(tmp_path):
    n = 10_000 if os.environ.get("NNFIT_FUZZ") == "long" else 1_000  # the long profile: 10,000
    header = ",".join(f"c{i}" for i in range(n)) + ",target"
    row = ",".join("1" for _ in range(n))
    text = "\n".join([header] + [f"{row},{i % 2}" for i in range(30)])
    _prepare(tmp_path, text, "target")

"""What a Prepared holds: the design matrix once, in the run's dtype, and no DataFrame."""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from nnfit.config.schema import Config
from nnfit.workflows import prepare

TITANIC = Path(__file__).parents[2] / "sample_data" / "titanic.csv"  # text and numbers


def _reachable(obj, seen=None):
    """Every object reachable from ``obj`` through dataclass fields, containers and attributes."""
    seen = set() if seen is None else seen
    if id(obj) in seen or isinstance(obj, (str, bytes, int, float, type(None))):
        return
    seen.add(id(obj))
    yield obj
    if isinstance(obj, np.ndarray):
        return
    if dataclasses.is_dataclass(obj):
        children = [getattr(obj, f.name) for f in dataclasses.fields(obj)]
    elif isinstance(obj, dict):
        children = list(obj.values())
    elif isinstance(obj, (list, tuple, set)):
        children = list(obj)
    else:
        children = list(getattr(obj, "__dict__", {}).values())
    for child in children:
        yield from _reachable(child, seen)


def _prepared(dtype):
    return prepare(Config(data={"target": "survived", "missing": "mean"}, training={"dtype": dtype}),
                   TITANIC)


def test_a_float32_run_holds_its_inputs_as_float32_only_and_no_frame():
    prepared = _prepared("float32")
    X = prepared.data.X
    assert {name: x.dtype for name, x in X.items()} == {
        "train": np.float32, "val": np.float32, "test": np.float32}
    assert all(x.flags.c_contiguous and x.base is None for x in X.values())  # no views of a bigger one
    n_rows = sum(x.shape[0] for x in X.values())
    assert n_rows == prepared.n_rows and X["train"].shape[1] == prepared.prep.n_inputs
    found = list(_reachable(prepared))
    big64 = [a.shape for a in found if isinstance(a, np.ndarray) and a.dtype == np.float64
             and a.size >= X["test"].size]
    assert big64 == []  # no float64 copy of any split's inputs
    assert not any(isinstance(o, (pd.DataFrame, pd.Series)) for o in found)  # the frame was let go


def test_a_float64_run_gets_the_same_inputs_unrounded():
    x32, x64 = _prepared("float32").data.X, _prepared("float64").data.X
    for name in x32:
        assert x64[name].dtype == np.float64
        np.testing.assert_array_equal(x32[name], x64[name].astype(np.float32))

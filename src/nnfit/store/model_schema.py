"""``model.json``'s schema (pydantic, strict) and the checks that span its fields.

:class:`ModelFile` is the whole file; :func:`check_consistency` checks what the schema
cannot see one field at a time and returns the layers' :class:`Layouts` (their layouts,
computed without allocating). :mod:`nnfit.store.model_file` reads a run's files through
both. ``FORMAT_VERSION`` is the version written and read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Literal, TypeAlias, get_args

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from ..config.schema import (
    LAYER_LISTS,
    DataConfig,
    DTypeName,
    LayerConfig,
    MissingPolicy,
    ScaleName,
    separators_differ,
)
from ..data.quantile import non_decreasing
from ..evaluation.task import REGRESSION_LOSSES, check_class_weight
from ..nn.build import LayerError, plan_layers
from ..nn.losses import LOSSES
from ..nn.network import make_skip, slot_dicts, slot_layouts

FormatVersion: TypeAlias = Literal[1]  # a new key in model.json: a new version
FORMAT_VERSION: int = get_args(FormatVersion)[0]  # (a Literal cannot take a variable's value)
MAX_MEMBERS = 1000  # training.ensemble's bound


# -- the schema: types and ranges, one field at a time ---------------------------------------
def _unique(names: list[str]) -> list[str]:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{name!r} is listed twice")
        seen.add(name)
    return names


def _positive_scale(pair: list[float]) -> list[float]:
    if not pair[1] > 0:
        raise ValueError(f"must be [center, scale] with a positive scale (got {pair!r})")
    return pair


Count = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(gt=0)]
Name = Annotated[str, Field(min_length=1)]
Names = Annotated[list[Name], AfterValidator(_unique)]
CenterScale = Annotated[list[float], Field(min_length=2, max_length=2),
                        AfterValidator(_positive_scale)]
Quantiles = Annotated[list[float], Field(min_length=1), AfterValidator(non_decreasing)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class Slot(Strict):
    """One entry of ``layout`` or ``state_layout``: where a named array lives in the flat vector."""

    name: Name
    shape: list[Count]
    offset: Count


class Architecture(Strict):
    input_shape: Annotated[list[Positive], Field(min_length=1)]
    layers: Annotated[list[LayerConfig], Field(min_length=1)]  # the config's layer models
    dtype: DTypeName  # the config's own choices: a model file and a config accept the same
    n_params: Count
    linear_skip: bool = False  # absent from older files, and written only when true


class Reading(Strict):
    """How eval and predict read a CSV (``nnfit.data.table.READING_DEFAULTS``), checked
    with the config's own validators."""

    delimiter: str | None = None
    na_values: list[str] | None = None
    keep_default_na: bool = True
    encoding: str = "utf-8"
    decimal: str = "."  # absent from older model files: what they were read with
    thousands: str | None = None

    _delimiter = field_validator("delimiter")(lambda cls, v: DataConfig._one_character(v))
    _encoding = field_validator("encoding")(lambda cls, v: DataConfig._known_encoding(v))
    _separator = field_validator("decimal", "thousands")(lambda cls, v: DataConfig._separator(v))

    _separators_differ = model_validator(mode="after")(lambda self: separators_differ(self))


class Preprocessing(Strict):
    """``Preprocessor.to_dict()``: the fitted transformation."""

    task: Literal["classification", "regression"]
    targets: Annotated[Names, Field(min_length=1)]
    features: Names
    numeric: dict[str, CenterScale] = {}
    quantiles: dict[str, Quantiles] = {}
    categorical: dict[str, Names] = {}
    fill: dict[str, float | str] = {}
    classes: Names | None = None
    target_scale: list[CenterScale] | None = None
    scale: ScaleName = "standard"
    missing: MissingPolicy = "error"
    reading: Reading = Reading()


class Ensemble(Strict):
    members: Annotated[int, Field(ge=2, le=MAX_MEMBERS)]


class ModelFile(Strict):
    """The whole of ``model.json`` (written by :func:`nnfit.store.model_file.save_model`)."""

    format_version: FormatVersion
    nnfit_version: str
    architecture: Architecture
    layout: list[Slot]
    state_layout: list[Slot] = []
    loss: Literal[tuple(LOSSES)]  # type: ignore[valid-type]  # built from the engine's table
    class_weight: list[Annotated[float, Field(gt=0)]] | None = None
    label_smoothing: Annotated[float, Field(ge=0, lt=1)] = 0.0
    preprocessing: Preprocessing
    ensemble: Ensemble | None = None

    @property
    def members(self) -> int:
        """The ensemble's member count; 0 for a single network."""
        return self.ensemble.members if self.ensemble else 0


# model.json's layers follow the layer registry as a config's do, so a model of a layer type
# registered after import loads back
LAYER_LISTS.append((Architecture, "layers", (ModelFile,)))


# -- the checks that span fields --------------------------------------------------------------
class Invalid(ValueError):
    """A consistency problem: ``where`` (a key path in model.json) and what is wrong."""

    def __init__(self, where: str, what: str):
        super().__init__(f"{where}: {what}")


@dataclass(frozen=True)
class Layouts:
    """What the layers would allocate, computed without allocating it.

    ``layout`` and ``state_layout`` are in model.json's form (``name``, ``shape``,
    ``offset``), in the order and at the offsets :class:`nnfit.nn.network.Network` uses.
    """

    layout: list[dict]
    state_layout: list[dict]
    output_shape: tuple[int, ...]

    @property
    def n_params(self) -> int:
        return sum(math.prod(slot["shape"]) for slot in self.layout)

    @property
    def n_state(self) -> int:
        return sum(math.prod(slot["shape"]) for slot in self.state_layout)


def layouts(layers: list[dict], input_shape: tuple[int, ...], dtype: str,
            linear_skip: bool = False) -> Layouts:
    """The layouts and output shape of ``build_network(layers, input_shape=...)``, without
    building it: :func:`nnfit.nn.build.plan_layers` gives the layers their shapes, which
    allocates no array, and the slots are laid out as ``Network`` lays them out.

    Raises :class:`nnfit.nn.build.LayerError` naming the layer that does not fit (or
    OverflowError for an absurd option).
    """
    built = plan_layers(layers, tuple(input_shape), dtype)
    output_shape = built[-1].output_shape
    skip = make_skip(tuple(input_shape), output_shape, np.dtype(dtype)) if linear_skip else None
    params, states = slot_layouts(built, skip)
    assert output_shape is not None  # plan_layers built it
    return Layouts(slot_dicts(params), slot_dicts(states), tuple(output_shape))


def n_inputs(prep: Preprocessing) -> int:
    """The model's input width: one per numeric feature, one per category of a text one."""
    return sum(len(prep.categorical[col]) if col in prep.categorical else 1
               for col in prep.features)


def n_outputs(prep: Preprocessing, loss: str) -> int:
    """The output width the task needs (as :class:`nnfit.evaluation.task.Task`'s ``n_outputs``)."""
    if prep.task == "regression":
        return len(prep.targets)
    assert prep.classes is not None  # a classification's (check_consistency checked)
    return 1 if loss == "binary_cross_entropy" else len(prep.classes)


def check_consistency(model: ModelFile) -> Layouts:
    """Check what the schema cannot see field by field; return the layers' :class:`Layouts`.

    Raises :class:`Invalid` naming the key.
    """
    _check_preprocessing(model.preprocessing)
    prep, loss = model.preprocessing, model.loss
    if prep.task == "regression" and loss not in REGRESSION_LOSSES:
        raise Invalid("loss", f"{loss} is a classification loss, but the task is regression "
                              f"(use {', '.join(REGRESSION_LOSSES)})")
    if prep.task == "classification" and loss in REGRESSION_LOSSES:
        raise Invalid("loss", f"{loss} is a regression loss, but the task is classification")
    if loss == "binary_cross_entropy":
        assert prep.classes is not None  # a classification loss: _check_preprocessing checked
        if len(prep.classes) != 2:
            raise Invalid("loss", f"binary_cross_entropy needs exactly 2 classes, the "
                                  f"preprocessing has {len(prep.classes)}")
    if model.label_smoothing and prep.task == "regression":
        raise Invalid("label_smoothing", "is for a classification, but the task is regression")
    if model.class_weight is not None:
        try:
            check_class_weight(model.class_weight, prep.classes)
        except ValueError as exc:
            raise Invalid("class_weight", str(exc)) from None

    arch = model.architecture
    width = n_inputs(prep)
    if arch.input_shape != [width]:
        raise Invalid("architecture.input_shape", f"{arch.input_shape} does not match the "
                      f"preprocessing, which makes {width} inputs per row")
    layers = [layer.model_dump() for layer in arch.layers]
    try:
        laid_out = layouts(layers, tuple(arch.input_shape), arch.dtype, arch.linear_skip)
    except LayerError as exc:  # the engine's word on a layer that does not fit its input
        raise Invalid(f"architecture.layers[{exc.index}]", exc.reason) from None
    except (ValueError, OverflowError) as exc:  # e.g. an attention ffn of 1e308
        raise Invalid("architecture.layers", str(exc)) from None
    needed = (n_outputs(prep, loss),)
    if laid_out.output_shape != needed:
        raise Invalid("architecture.layers", f"the network outputs {list(laid_out.output_shape)} "
                      f"per row; a {prep.task} with {loss} and this preprocessing needs "
                      f"{list(needed)}")
    if arch.n_params != laid_out.n_params:
        raise Invalid("architecture.n_params", f"{arch.n_params} does not match its layers, "
                      f"which have {laid_out.n_params}")
    for key, stored, wanted in (("layout", model.layout, laid_out.layout),
                                ("state_layout", model.state_layout, laid_out.state_layout)):
        _check_layout(key, [slot.model_dump() for slot in stored], wanted)
    return laid_out


def _check_preprocessing(prep: Preprocessing) -> None:
    where = "preprocessing"
    features = set(prep.features)
    both = set(prep.targets) & features
    if both:
        raise Invalid(f"{where}.features", f"{sorted(both)[0]!r} is also a target")
    for key, columns in (("numeric", prep.numeric), ("categorical", prep.categorical),
                         ("fill", prep.fill), ("quantiles", prep.quantiles)):
        stray = [col for col in columns if col not in features]
        if stray:
            raise Invalid(f"{where}.{key}", f"{stray[0]!r} is not a feature")
    for col in prep.features:
        if (col in prep.numeric) == (col in prep.categorical):
            raise Invalid(f"{where}.features", f"{col!r} needs scaling statistics (numeric) or "
                          f"categories (categorical), one of the two")
        kind = str if col in prep.categorical else float
        if col in prep.fill and not isinstance(prep.fill[col], kind):
            raise Invalid(f"{where}.fill.{col}", f"must be {'text' if kind is str else 'a number'}"
                          f" for a {'categorical' if kind is str else 'numeric'} feature (got "
                          f"{prep.fill[col]!r})")
    for col in prep.quantiles:
        if col in prep.categorical:
            raise Invalid(f"{where}.quantiles", f"{col!r} is not a numeric feature")
    if prep.quantiles and prep.scale != "quantile":  # else applied before the affine step
        raise Invalid(f"{where}.quantiles", f"given with scale: {prep.scale}; only scale: "
                                            f"quantile uses them")
    if prep.scale == "quantile":
        lacking = [col for col in prep.numeric if col not in prep.quantiles]
        if lacking:
            raise Invalid(f"{where}.quantiles", f"none for column {lacking[0]!r} (scale: quantile)")
    if prep.task == "classification":
        if len(prep.targets) != 1:
            raise Invalid(f"{where}.targets", f"a classification has one target (got "
                          f"{len(prep.targets)})")
        if prep.classes is None or len(prep.classes) < 2:
            raise Invalid(f"{where}.classes", f"a classification needs at least 2 classes (got "
                          f"{prep.classes!r})")
        if prep.target_scale is not None:
            raise Invalid(f"{where}.target_scale", "must be null for a classification")
    else:
        if prep.classes is not None:
            raise Invalid(f"{where}.classes", "must be null for a regression")
        if prep.target_scale is None or len(prep.target_scale) != len(prep.targets):
            raise Invalid(f"{where}.target_scale", f"must hold one [center, scale] per target "
                          f"({len(prep.targets)}) (got {prep.target_scale!r})")


def _check_layout(key: str, stored: list[dict], expected: list[dict]) -> None:
    for i, (got, want) in enumerate(zip(stored, expected, strict=False)):
        if got != want:
            raise Invalid(f"{key}[{i}]", f"{_slot(got)} does not match the layers, which put "
                          f"{_slot(want)} there")
    if len(stored) != len(expected):
        raise Invalid(key, f"{len(stored)} entries; the layers have {len(expected)}")


def _slot(slot: dict) -> str:
    return f"{slot['name']} {slot['shape']} at {slot['offset']}"

"""``model.json`` and ``model.npz`` as untrusted input: one schema, checked before building.

``eval``, ``predict`` and ``show`` load model files that may come from anywhere, so
:func:`read_model` checks everything they will use, in this order, and the first
problem is one line naming the file and the key (exit code 2):

1. the files: regular files of the run directory, not symbolic links; ``model.json`` at
   most 50 MB, strict JSON (:mod:`nnfit.run_files`);
2. ``format_version``: a newer one says which nnfit wrote it;
3. the schema (:class:`ModelFile`, pydantic, strict: ``"3"`` is not 3, ``true`` is not 1):
   types, ranges, finite numbers, unique names. The layer list is validated by the
   config's own layer models (``nnfit.config.LAYER_MODELS``), so a bad layer reads as it
   would in a config;
4. consistency (:func:`check_consistency`): the preprocessing's columns and statistics
   agree with each other, the loss suits the task, class weights suit the classes, the
   network's input width is the preprocessing's and its output width the task's;
5. sizes (:func:`plan`): the parameter and state layouts are computed from the layers
   without allocating anything and must equal ``layout``, ``state_layout`` and
   ``n_params``; loading must fit in the memory available (:mod:`nnfit.resources`);
6. ``model.npz`` (:mod:`nnfit.model_npz`): exactly the members ``params`` and ``state``,
   whose ``.npy`` headers are read from the zip and checked (dtype, shape, byte count, no
   object arrays: nothing is ever unpickled) before their data; then the data must be
   finite and pass the zip's CRC check.

Unknown keys are refused. nnfit adds a key to ``model.json`` only together with a new
``FORMAT_VERSION``, so a file written by a newer nnfit stops at step 2 ("format version
2 is newer") instead of at its first new key; a format-1 file with a key no nnfit wrote
has been edited. Keys added within format 1 (``state_layout``, ``class_weight``,
``ensemble``, and the preprocessing's ``quantiles``, ``missing``, ``reading``) are
optional, so older files still load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from . import __version__
from .config import DataConfig, LayerConfig, TrainingConfig, format_errors
from .data.quantile import non_decreasing
from .errors import NnfitError
from .model_npz import read_arrays
from .nn.build import LayerError
from .nn.losses import LOSSES
from .run_files import one_line, open_run_file, read_json
from .store import FORMAT_VERSION
from .task import REGRESSION_LOSSES, check_class_weight

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
    dtype: TrainingConfig.model_fields["dtype"].annotation  # float32 or float64, as the config
    n_params: Count


class Reading(Strict):
    """How eval and predict read a CSV (``nnfit.data.table.READING_DEFAULTS``), checked
    with the config's own validators."""

    delimiter: str | None = None
    na_values: list[str] | None = None
    keep_default_na: bool = True
    encoding: str = "utf-8"

    _delimiter = field_validator("delimiter")(lambda cls, v: DataConfig._one_character(v))
    _encoding = field_validator("encoding")(lambda cls, v: DataConfig._known_encoding(v))


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
    scale: DataConfig.model_fields["scale"].annotation = "standard"  # the config's choices
    missing: DataConfig.model_fields["missing"].annotation = "error"
    reading: Reading = Reading()


class Ensemble(Strict):
    members: Annotated[int, Field(ge=2, le=MAX_MEMBERS)]


class ModelFile(Strict):
    """The whole of ``model.json`` (written by :func:`nnfit.store.save_model`)."""

    format_version: Literal[FORMAT_VERSION]
    nnfit_version: str
    architecture: Architecture
    layout: list[Slot]
    state_layout: list[Slot] = []
    loss: Literal[tuple(LOSSES)]
    class_weight: list[Annotated[float, Field(gt=0)]] | None = None
    preprocessing: Preprocessing
    ensemble: Ensemble | None = None

    @property
    def members(self) -> int:
        """The ensemble's member count; 0 for a single network."""
        return self.ensemble.members if self.ensemble else 0


# -- the checks that span fields --------------------------------------------------------------
class Invalid(ValueError):
    """A consistency problem: ``where`` (a key path in model.json) and what is wrong."""

    def __init__(self, where: str, what: str):
        super().__init__(f"{where}: {what}")


@dataclass(frozen=True)
class Plan:
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


def plan(layers: list[dict], input_shape: tuple[int, ...], dtype: str) -> Plan:
    """The layouts and output shape of ``build_network(layers, input_shape=...)``, without
    building it: :func:`nnfit.nn.build.plan_layers` gives the layers their shapes, which
    allocates no array, and the slots are laid out as ``Network`` lays them out.

    Raises :class:`nnfit.nn.build.LayerError` naming the layer that does not fit (or
    OverflowError for an absurd option).
    """
    from .nn.build import plan_layers
    from .nn.network import slot_dicts, slot_layouts

    built = plan_layers(layers, tuple(input_shape), dtype)
    params, states = slot_layouts(built)
    return Plan(slot_dicts(params), slot_dicts(states), tuple(built[-1].output_shape))


def n_inputs(prep: Preprocessing) -> int:
    """The model's input width: one per numeric feature, one per category of a text one."""
    return sum(len(prep.categorical[col]) if col in prep.categorical else 1
               for col in prep.features)


def n_outputs(prep: Preprocessing, loss: str) -> int:
    """The output width the task needs (as :class:`nnfit.task.Task`'s ``n_outputs``)."""
    if prep.task == "regression":
        return len(prep.targets)
    return 1 if loss == "binary_cross_entropy" else len(prep.classes)


def check_consistency(model: ModelFile) -> Plan:
    """Check what the schema cannot see field by field; return the layers' :class:`Plan`.

    Raises :class:`Invalid` naming the key.
    """
    _check_preprocessing(model.preprocessing)
    prep, loss = model.preprocessing, model.loss
    if prep.task == "regression" and loss not in REGRESSION_LOSSES:
        raise Invalid("loss", f"{loss} is a classification loss, but the task is regression "
                              f"(use {', '.join(REGRESSION_LOSSES)})")
    if prep.task == "classification" and loss in REGRESSION_LOSSES:
        raise Invalid("loss", f"{loss} is a regression loss, but the task is classification")
    if loss == "binary_cross_entropy" and len(prep.classes) != 2:
        raise Invalid("loss", f"binary_cross_entropy needs exactly 2 classes, the "
                              f"preprocessing has {len(prep.classes)}")
    if model.class_weight is not None:
        try:
            check_class_weight(model.class_weight, prep.classes)
        except ValueError as exc:  # its message starts with "class_weight: "
            raise Invalid("class_weight", str(exc).split(": ", 1)[1]) from None

    arch = model.architecture
    width = n_inputs(prep)
    if arch.input_shape != [width]:
        raise Invalid("architecture.input_shape", f"{arch.input_shape} does not match the "
                      f"preprocessing, which makes {width} inputs per row")
    layers = [layer.model_dump() for layer in arch.layers]
    try:
        planned = plan(layers, tuple(arch.input_shape), arch.dtype)
    except LayerError as exc:  # the engine's word on a layer that does not fit its input
        raise Invalid(f"architecture.layers[{exc.index}]", exc.reason) from None
    except (ValueError, OverflowError) as exc:  # e.g. an attention ffn of 1e308
        raise Invalid("architecture.layers", str(exc)) from None
    needed = (n_outputs(prep, loss),)
    if planned.output_shape != needed:
        raise Invalid("architecture.layers", f"the network outputs {list(planned.output_shape)} "
                      f"per row; a {prep.task} with {loss} and this preprocessing needs "
                      f"{list(needed)}")
    if arch.n_params != planned.n_params:
        raise Invalid("architecture.n_params", f"{arch.n_params} does not match its layers, "
                      f"which have {planned.n_params}")
    for key, stored, expected in (("layout", model.layout, planned.layout),
                                  ("state_layout", model.state_layout, planned.state_layout)):
        _check_layout(key, [slot.model_dump() for slot in stored], expected)
    return planned


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
    for i, (got, want) in enumerate(zip(stored, expected)):
        if got != want:
            raise Invalid(f"{key}[{i}]", f"{_slot(got)} does not match the layers, which put "
                          f"{_slot(want)} there")
    if len(stored) != len(expected):
        raise Invalid(key, f"{len(stored)} entries; the layers have {len(expected)}")


def _slot(slot: dict) -> str:
    return f"{slot['name']} {slot['shape']} at {slot['offset']}"


# -- sizes and the arrays ---------------------------------------------------------------------
def loading_bytes(planned: Plan, dtype: str, members: int) -> int:
    """Memory that loading takes: the arrays read from model.npz, and per network its
    parameters, their gradients and its state (``Network`` allocates all three)."""
    return np.dtype(dtype).itemsize * max(members, 1) * (3 * planned.n_params
                                                         + 2 * planned.n_state)


def check_memory(planned: Plan, dtype: str, members: int, path: Path) -> None:
    """Refuse a model that needs more memory than is available (an absurd or hostile size)."""
    from . import resources

    need, available = loading_bytes(planned, dtype, members), resources.available_memory()
    if available is not None and need > available:
        each = f" × {members} members" if members else ""
        raise NnfitError(f"{path}: loading needs {resources.format_bytes(need)} of memory "
                         f"({planned.n_params:,} {dtype} parameters{each}), more than the "
                         f"{resources.format_bytes(available)} available")


# -- the whole read ---------------------------------------------------------------------------
@dataclass
class LoadedModel:
    """Everything in a run's model files, checked; nothing built yet.

    ``meta`` is model.json as parsed; ``params`` ``(n_params,)`` or, for an ensemble,
    ``(members, n_params)``; ``state`` likewise (``(…, 0)`` when the layers have none).
    """

    meta: dict
    description: ModelFile
    params: np.ndarray
    state: np.ndarray

    @property
    def members(self) -> int:
        return self.description.members


def read_model(run_dir: str | Path) -> LoadedModel:
    """Read and check a run's ``model.json`` and ``model.npz`` (see the module's docstring).

    Raises NnfitError (exit 2) with one line naming the file at the first problem.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise NnfitError(f"{run_dir}: no such run directory")
    json_path = run_dir / "model.json"
    with open_run_file(run_dir, "model.npz"):
        pass  # both files are there before either is read: the likelier mistake first
    meta = read_json(run_dir, "model.json")
    _check_format_version(meta, json_path)
    try:
        description = ModelFile.model_validate(meta, strict=True)
    except ValidationError as exc:
        errors = sorted(format_errors(exc, ModelFile), key=lambda e: "(did you mean" not in e[1])
        more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" \
            if len(errors) > 1 else ""
        raise NnfitError(f"{json_path}: {one_line(errors[0][1], 300)}{more}") from None
    try:
        planned = check_consistency(description)
    except Invalid as exc:
        raise NnfitError(f"{json_path}: {one_line(str(exc), 300)}") from None
    dtype, members = description.architecture.dtype, description.members
    check_memory(planned, dtype, members, json_path)
    lead = (members,) if members else ()
    arrays = read_arrays(run_dir, {"params": lead + (planned.n_params,),
                                   "state": lead + (planned.n_state,)}, dtype,
                         optional=("state",) if planned.n_state == 0 else ())
    state = arrays.get("state", np.zeros(lead + (0,), dtype=dtype))
    return LoadedModel(meta, description, arrays["params"], state)


def _check_format_version(meta: Any, path: Path) -> None:
    if not isinstance(meta, dict):
        raise NnfitError(f"{path}: must be a JSON object with format_version, architecture, "
                         f"layout, loss and preprocessing (got a {type(meta).__name__})")
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        got = "missing" if "format_version" not in meta \
            else f"not an integer ({one_line(repr(version), 40)})"
        raise NnfitError(f"{path}: format_version is {got}; is this a model.json written by "
                         f"'nnfit train'?")
    if version > FORMAT_VERSION:
        writer = meta.get("nnfit_version")
        writer = one_line(writer, 40) if isinstance(writer, str) else "an unknown version"
        raise NnfitError(f"{path}: model format version {version} is newer than this nnfit "
                         f"reads: written by nnfit {writer}, this nnfit {__version__} reads "
                         f"format {FORMAT_VERSION}; upgrade nnfit to load it")
    if version != FORMAT_VERSION:
        raise NnfitError(f"{path}: model format version {version} is not one this nnfit "
                         f"{__version__} reads (it reads {FORMAT_VERSION})")

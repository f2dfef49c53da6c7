"""The YAML config's pydantic models (loading: ``config.load``; its messages: ``config.messages``).

The names users may write (activations, losses, optimizers, layer types) are
built from the engine's own tables, so the config and the engine cannot drift;
each layer type's options come from its engine class's ``options`` (``layer_models``).
The layer models follow the engine's registry (``nnfit.nn.build.LAYERS``): a layer
type registered after this module is imported is a config layer type from then on.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from ..errors import did_you_mean, shown
from ..nn.activations import ACTIVATIONS, Activation
from ..nn.base import Layer, Option
from ..nn.build import LAYERS, watch_layers
from ..nn.init import INIT_NAMES
from ..nn.losses import LOSSES
from ..nn.optimizers import OPTIMIZERS
from ..training.schedules import SCHEDULES, Schedule
from .labels import label_text


def _literal(names) -> Any:
    return Literal[tuple(names)]


# Literals built from the engine's tables at run time, which mypy cannot evaluate: to it
# these aliases are Any (hence the ignores); pydantic checks the values.
LossName: TypeAlias = _literal(["auto", *LOSSES])  # type: ignore[valid-type]
OptimizerName: TypeAlias = _literal(OPTIMIZERS)  # type: ignore[valid-type]
InitName: TypeAlias = _literal(INIT_NAMES)  # type: ignore[valid-type]
DTypeName: TypeAlias = Literal["float32", "float64"]  # also model.json's (store.model_schema)
ScaleName: TypeAlias = Literal["standard", "minmax", "robust", "quantile", "none"]
MissingPolicy: TypeAlias = Literal["error", "drop", "mean"]
ACTIVATION_OPTIONS = {"leaky_relu": {"slope"}}  # options other activations take: none

MAX_THREADS = 1024  # training.threads: a bound no machine nnfit runs on reaches


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


def _activation(value: Any) -> str | dict:
    """Normalize an activation: a name, or ``{name: ..., **options}`` with known options."""
    if isinstance(value, str):
        name, options = value, {}
    elif isinstance(value, dict):
        options = dict(value)
        if "name" not in options:
            raise ValueError("an activation mapping needs a 'name' key")
        name = options.pop("name")
    else:
        raise ValueError(f"must be an activation name or a mapping with 'name' "
                         f"(got {shown(value)})")
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}"
                         f"{did_you_mean(name, ACTIVATIONS)}")
    allowed = ACTIVATION_OPTIONS.get(name, set())
    for key in options:
        if key not in allowed:
            takes = f"takes only {', '.join(sorted(allowed))}" if allowed else "takes no options"
            raise ValueError(f"{name} {takes} (got {key!r}){did_you_mean(key, allowed)}")
    if "slope" in options:
        slope = options["slope"]
        if isinstance(slope, bool) or not isinstance(slope, (int, float)) or not 0 < slope < 1:
            raise ValueError(f"leaky_relu slope must be a number in (0, 1) (got {slope!r})")
    return {"name": name, **options} if options else name


def _field(option: Option) -> tuple[Any, Any]:
    """``(annotation, FieldInfo)`` for ``create_model`` from an engine :class:`Option`."""
    if option.type is Activation:
        annotation: Any = str | dict  # normalized by _activation
    elif option.choices is not None:
        annotation = _literal(option.choices)
    else:
        annotation = option.type
    if not option.required and option.default is None:
        annotation = annotation | None
    default = ... if option.required else option.default
    bounds: dict[str, Any] = option.bounds  # Field's keyword arguments gt, ge, lt, le
    return annotation, Field(default, **bounds)


def option_models(registry: Mapping[str, type[Layer] | type[Schedule]], key: str,
                  suffix: str) -> dict[str, type[BaseModel]]:
    """One strict pydantic model per entry of ``registry`` (name -> engine class), its fields
    generated from the class's ``options`` and ``key`` holding the name (the discriminator)."""
    models: dict[str, type[BaseModel]] = {}
    for name, cls in registry.items():
        fields: dict[str, Any] = {key: (Literal[name], ...)}
        fields.update({k: _field(option) for k, option in cls.options.items()})
        activations = [k for k, option in cls.options.items() if option.type is Activation]
        validators = {"_check_activation": field_validator(*activations, mode="before")(
            lambda cls, v: _activation(v))} if activations else {}
        title = "".join(part.title() for part in name.split("_")) + suffix
        models[name] = create_model(title, __base__=Strict, __module__=__name__,
                                    __validators__=validators, **fields)
    return models


def layer_models(layers: Mapping[str, type[Layer]] | None = None) -> dict[str, type[BaseModel]]:
    """One strict pydantic model per layer type, generated from each class's ``options``.

    ``layers`` is ``nn.build.LAYERS`` by default: the config declares no layer of its own.
    """
    return option_models(LAYERS if layers is None else layers, "type", "Layer")


def tagged_union(models: dict[str, type[BaseModel]], key: str = "type") -> Any:
    """The discriminated union of ``models`` on their ``key`` key (layers: ``type``,
    schedules: ``name``)."""
    union = functools.reduce(operator.or_, models.values())  # A | B | ...
    return Annotated[union, Field(discriminator=key)]


LAYER_MODELS = layer_models()  # kept in step with nn.build.LAYERS, in place (_follow_layers)
_MADE_FROM = dict(LAYERS)  # the engine class each of LAYER_MODELS was generated from
# Unions of models generated at run time (create_model): to mypy these aliases are Any
LayerConfig: TypeAlias = tagged_union(LAYER_MODELS)  # type: ignore[valid-type]
SCHEDULE_MODELS = option_models(SCHEDULES, "name", "Schedule")
ScheduleConfig: TypeAlias = tagged_union(SCHEDULE_MODELS, "name")  # type: ignore[valid-type]
TAGGED = {"layers": LAYER_MODELS, "schedule": SCHEDULE_MODELS}  # lists/fields of tagged models
globals().update({model.__name__: model for models in TAGGED.values()  # for pickle: a
                  for model in models.values()})  # sweep's workers find DenseLayer etc. by name


def _unique(columns: list[str]) -> list[str]:
    twice = [c for i, c in enumerate(columns) if c in columns[:i]]
    if twice:
        raise ValueError(f"{twice[0]!r} is listed twice")
    return columns


class DataConfig(Strict):
    target: str | list[str]
    features: list[str] | None = None
    task: Literal["auto", "classification", "regression"] = "auto"
    test_fraction: Annotated[float, Field(ge=0, lt=1)] = 0.2
    val_fraction: Annotated[float, Field(ge=0, lt=1)] = 0.1
    scale: ScaleName = "standard"
    missing: MissingPolicy = "error"
    scale_target: bool = True
    exclude: list[str] = []  # columns to leave out (an exported index, an ID)
    delimiter: str | None = None  # None: sniffed among , ; tab |
    na_values: list[str] | None = None  # more strings that mean "missing"
    keep_default_na: bool = True  # pandas' own list: NA, N/A, null, NaN, ...
    encoding: str = "utf-8"
    decimal: str = "."  # the decimal mark: "," reads 1,5 as 1.5
    thousands: str | None = None  # a thousands separator to drop: "," reads 1,344.5 as 1344.5
    split_seed: Annotated[int, Field(ge=0)] | None = None  # None: training.seed

    @field_validator("target", mode="before")
    @classmethod
    def _column_or_columns(cls, value):
        if isinstance(value, str) and value:
            return value
        if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
            return _unique(value)
        if isinstance(value, list) and not value:
            raise ValueError("must name at least one column")
        raise ValueError(f"must be a column name or a list of column names (got {shown(value)})")

    @field_validator("features", mode="before")
    @classmethod
    def _columns(cls, value):
        if value is None:
            return value
        if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
            return _unique(value)
        raise ValueError(f"must be a list of column names (got {shown(value)})")

    @field_validator("exclude")
    @classmethod
    def _exclude_is_unique_and_not_used(cls, value, info):
        value = _unique(value)
        target = info.data.get("target")
        used = {"target": [target] if isinstance(target, str) else target or [],
                "features": info.data.get("features") or []}
        for key, columns in used.items():
            clash = [c for c in value if c in columns]
            if clash:
                raise ValueError(f"{clash[0]!r} is also in data.{key}; a column cannot be both")
        return value

    @field_validator("na_values", mode="before")
    @classmethod
    def _numbers_as_text(cls, value):
        # YAML reads a marker such as -999 as a number; pandas matches it as text or number
        if isinstance(value, list):
            return [str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
                    for v in value]
        return value

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value):
        if value is not None and (len(value) != 1 or value in '"\r\n'):
            raise ValueError(f"must be one character, not a quote or line break "
                             f"(got {shown(value)})")
        return value

    @field_validator("decimal", "thousands")
    @classmethod
    def _separator(cls, value):
        if value is not None and (len(value) != 1 or value in '"\r\n' or value.isdigit()):
            raise ValueError(f"must be one character, not a digit, quote or line break "
                             f"(got {shown(value)})")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value):
        try:
            b"a".decode(value)  # not b"": that skips the lookup; LookupError also for 'hex'
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}; try utf-8, latin-1 or cp1252") from None
        except UnicodeError:
            pass  # a text encoding all the same (utf-16 wants two bytes)
        return value

    _separators_differ = model_validator(mode="after")(lambda self: separators_differ(self))

    @model_validator(mode="after")
    def _fractions_leave_training_rows(self):
        if self.test_fraction + self.val_fraction >= 1:
            raise ValueError(f"test_fraction + val_fraction must be below 1 "
                             f"(got {self.test_fraction} + {self.val_fraction})")
        return self

    @property
    def targets(self) -> list[str]:
        return [self.target] if isinstance(self.target, str) else list(self.target)


def separators_differ(reading):
    """``reading`` (a data section, or a model file's reading options), refused when its
    ``decimal`` and ``thousands`` cannot go together."""
    clash = separator_clash(reading.decimal, reading.thousands)
    if clash:
        raise ValueError(clash)
    return reading


def separator_clash(decimal: str, thousands: str | None) -> str | None:
    """Why ``data.decimal`` and ``data.thousands`` cannot go together, or None. (Either may
    be the delimiter too: a CSV quotes such numbers, ``"1,343.6"``.)"""
    if decimal == thousands:
        return f"decimal and thousands are both {decimal!r}; set one of them apart"
    return None


class ModelConfig(Strict):
    layers: list[LayerConfig] = []
    init: InitName = "glorot_uniform"  # bench/accuracy.py; auto: He for ReLU, Glorot otherwise
    init_scale: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0  # × every std / limit
    linear_skip: bool = False  # add x·W_skip, a linear model of the inputs, to the output


class EarlyStoppingConfig(Strict):
    patience: Annotated[int, Field(ge=1)] = 50
    min_delta: Annotated[float, Field(ge=0)] = 0.0
    restore_best: bool = True


class TrainingConfig(Strict):
    loss: LossName = "auto"
    optimizer: OptimizerName = "adamw"  # defaults from bench/accuracy.py (docs/accuracy.md)
    lr: Annotated[float, Field(gt=0)] = 0.003
    momentum: Annotated[float, Field(ge=0, lt=1)] = 0.9
    batch_size: Annotated[int, Field(gt=0)] = 32
    epochs: Annotated[int, Field(gt=0)] = 300
    schedule: ScheduleConfig = "cosine"  # a name or {name: cosine, warmup: 5}
    weight_decay: Annotated[float, Field(ge=0)] | None = None  # decoupled (adamw); None: its default
    l2: Annotated[float, Field(ge=0)] = 0.0  # the coupled penalty (λ/2)·‖W‖², any optimizer
    clip_norm: Annotated[float, Field(gt=0)] | None = None  # the gradients' global L2 norm
    ensemble: Annotated[int, Field(ge=1, le=1000)] = 1  # K networks from seeds seed…seed+K−1
    pack: bool = True  # the members trained packed when that pays: the same numbers, faster
    early_stopping: EarlyStoppingConfig | None = EarlyStoppingConfig()
    refit: bool = False  # after early stopping, train again on train + val for the best epochs
    seed: Annotated[int, Field(ge=0)] = 0
    dtype: DTypeName = "float32"
    threads: int | str = "auto"  # BLAS threads: "auto" or a count
    # None, "balanced" (n / (n_classes · n_k) on the training rows), or {class label: weight}
    class_weight: Literal["balanced"] | dict[str, float] | None = None
    label_smoothing: Annotated[float, Field(ge=0, lt=1)] = 0.0  # classification: soft targets

    @field_validator("class_weight", mode="before")
    @classmethod
    def _balanced_or_weights(cls, value):
        if value is None or value == "balanced":
            return value
        if value == "none":  # as in a sweep's --set training.class_weight=none,balanced
            return None
        if not isinstance(value, dict):
            hint = did_you_mean(value, ["balanced", "none"]) if isinstance(value, str) else ""
            raise ValueError(f"must be balanced, none or a mapping of class label to weight, e.g. "
                             f"{{malignant: 2.0}} (got {shown(value)}){hint}")
        if not value:
            raise ValueError("an empty mapping: give a weight per class label, or leave "
                             "class_weight out")
        weights: dict[str, float] = {}
        for label, weight in value.items():
            key = label_text(label)  # YAML reads 1: 2.0 with a number as the key; CSVs as text
            if key in weights:
                raise ValueError(f"class {key!r} is given twice (as {label!r} too)")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) \
                    or not math.isfinite(weight) or weight <= 0:
                raise ValueError(f"the weight of class {key!r} must be a positive number "
                                 f"(got {weight!r})")
            weights[key] = float(weight)
        return weights

    @field_validator("threads", mode="before")
    @classmethod
    def _auto_or_count(cls, value):
        count = isinstance(value, int) and not isinstance(value, bool)
        if value == "auto" or (count and 0 < value <= MAX_THREADS):
            return value
        if count and value > MAX_THREADS:
            raise ValueError(f"at most {MAX_THREADS} BLAS threads (got {value}); more threads "
                             f"than cores only wait on each other")
        raise ValueError(f"must be auto or a positive integer (got {shown(value)})")

    @field_validator("schedule", mode="before")
    @classmethod
    def _name_alone(cls, value):
        return {"name": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _decay_and_schedule_fit(self):
        if self.weight_decay is None:
            self.weight_decay = OPTIMIZERS[self.optimizer].default_weight_decay
        if self.weight_decay and self.optimizer != "adamw":
            raise ValueError(f"weight_decay is decoupled weight decay, which needs optimizer: "
                             f"adamw (got {self.optimizer}); for the coupled penalty "
                             f"(λ/2)·‖W‖² use l2: {self.weight_decay:g}")
        warmup = getattr(self.schedule, "warmup", 0)
        if warmup >= self.epochs:
            raise ValueError(f"schedule.warmup ({warmup}) must be below epochs ({self.epochs})")
        return self

    @field_validator("early_stopping", mode="before")
    @classmethod
    def _bool_means_default_or_off(cls, value):
        if value is True:
            return {}
        if value is False:
            return None
        return value


class Config(Strict):
    data: DataConfig
    model: ModelConfig = ModelConfig()
    training: TrainingConfig = TrainingConfig()
    sweep: dict[str, list[Any]] | None = None  # nnfit sweep's grid: {dotted path: [values]}

    @model_validator(mode="after")
    def _early_stopping_needs_validation(self):
        if self.training.early_stopping is not None and self.data.val_fraction == 0:
            raise ValueError("training.early_stopping needs a validation split: set "
                             "data.val_fraction above 0, or early_stopping: false")
        if self.training.refit and self.data.val_fraction == 0:
            raise ValueError("training.refit trains again on the train and validation rows: set "
                             "data.val_fraction above 0, or refit: false")
        return self


# Models with a list of layers, each with the models that embed it (rebuilt after it):
# ``_follow_layers`` keeps them all in step with the registry. ``nnfit.store.model_schema``
# adds model.json's architecture here.
LAYER_LISTS: list[tuple[type[BaseModel], str, tuple[type[BaseModel], ...]]] = []


def _follow_layers() -> None:
    """Bring ``LAYER_MODELS`` (in place: other modules hold the dict), ``LayerConfig`` and
    the validators of the models in ``LAYER_LISTS`` in step with ``nn.build.LAYERS`` after a
    layer type was registered or removed; the models of unchanged types are kept as they
    are."""
    global LayerConfig
    made = layer_models({name: cls for name, cls in LAYERS.items()
                         if _MADE_FROM.get(name) is not cls})
    for name in set(LAYER_MODELS) - set(LAYERS):
        globals().pop(LAYER_MODELS[name].__name__, None)
    models = {name: made.get(name) or LAYER_MODELS[name] for name in LAYERS}
    LAYER_MODELS.clear()
    LAYER_MODELS.update(models)
    _MADE_FROM.clear()
    _MADE_FROM.update(LAYERS)
    globals().update({model.__name__: model for model in made.values()})  # for pickle, as above
    LayerConfig = tagged_union(LAYER_MODELS)
    for model, field, embedding in LAYER_LISTS:
        model.model_fields[field].annotation = list[LayerConfig]
        for rebuilt in (model, *embedding):  # an embedding model holds the validator it had
            rebuilt.model_rebuild(force=True)


LAYER_LISTS.append((ModelConfig, "layers", (Config,)))
watch_layers(_follow_layers)

"""What the verdict's advice names, as concrete variants of the config: the doctor's remedies.

``nnfit doctor`` (:mod:`nnfit.workflows.doctor`) trains each variant beside the base
config on the same split and keeps what helped beyond the noise. A variant is a name and
a list of ``--set`` overrides, so it can be printed and reproduced
(``nnfit train CONFIG DATA --set ... --set ...``). By the verdict's kind
(``nnfit.evaluation.diagnosis.Kind``):

=========================================  ===============================================
kind                                       variants
=========================================  ===============================================
``overfitting``                            penalty ×10, dropout 0.2, half width
``overfitting_rose``                       the same, and patience ÷4 (with early stopping)
``overfitting_identifier``, ``_leak``     the identifier or leaking columns left out
``underfitting_epochs``, ``_capacity``     width ×2, width ×4, epochs ×2, lr ×3
``underfitting_failed``                    lr ÷3, lr ÷10
``underfitting_rate``                      lr ÷10, lr ÷3
``underfitting_collapse``                  balanced class weights
``diverged``                               lr ÷10, lr ÷3
good fit, inconclusive, any other          penalty ×10, dropout 0.2, width ×2, epochs ×2
=========================================  ===============================================

- **penalty ×10**: ``training.weight_decay`` ×10 when the optimizer is adamw (unless it
  has none and uses ``l2``), else ``training.l2`` ×10; from 0, ``START_PENALTY``.
- **dropout 0.2**: a ``dropout`` layer (rate 0.2) after each hidden dense layer (after the
  ``activation`` layer that follows it, if one does); where the model has dropout layers
  already, their rates raised to 0.2 instead (no variant when all are at 0.2 or more).
- **width ×f**: every hidden dense layer's units times ``f`` (halved: at least 1). A model
  with no hidden dense layer gets one instead: ``hidden 32`` (32 ReLU units) for ×2 and
  ``hidden 64→64`` (two of 64, the capacity probe's choice) for ×4; halving and dropout
  have nothing to act on there and are left out.
- **patience ÷4**: ``training.early_stopping.patience`` ÷4 (at least 1).
- **the columns left out** (the verdict's ``columns``): ``data.exclude`` extended with them (or, when the
  config lists ``data.features``, taken out of that list).
- A variant that would change nothing (class weights already balanced, no new column to
  leave out) is not tried.

A hidden layer is any layer but the declared output layer (a last dense layer the
prepared data reads as the output: ``Prepared.layers``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..evaluation.verdicts import EXCLUDES, Kind
from .run import audit_columns

if TYPE_CHECKING:
    from ..config.schema import Config

START_PENALTY = 1e-3  # weight_decay or l2 to try when the config has none
DROPOUT = 0.2
PATIENCE_DIVISOR = 4


@dataclass(frozen=True)
class Variant:
    """One remedy: a short name (``dropout 0.2``) and its ``--set`` overrides."""

    name: str
    overrides: tuple[str, ...]


@dataclass(frozen=True)
class Shape:
    """What the remedies read of a config besides its settings: which layers are hidden."""

    config: Config
    hidden: tuple[int, ...]  # indices into config.model.layers, the declared output left out

    @property
    def dense(self) -> list[int]:
        return [i for i in self.hidden if self.config.model.layers[i].type == "dense"]


def shape_of(config: Config, output_declared: bool) -> Shape:
    """``config``'s hidden layers: all of them, or all but the last when it is the declared
    output layer."""
    n = len(config.model.layers)
    return Shape(config, tuple(range(n - 1 if output_declared else n)))


def _number(value: float) -> str:
    return f"{value:.4g}"


def _penalty(s: Shape) -> Variant:
    t = s.config.training
    decay = t.optimizer == "adamw" and bool(t.weight_decay or not t.l2)
    key, now = ("weight_decay", t.weight_decay or 0.0) if decay else ("l2", t.l2)
    new, name = (now * 10, f"{key} ×10") if now > 0 else (START_PENALTY, f"{key} {START_PENALTY:g}")
    return Variant(name, (f"training.{key}={_number(new)}",))


def _layers_override(layers: list[dict]) -> str:
    """``model.layers=[...]`` as one override: JSON, which YAML reads as it is."""
    return "model.layers=" + json.dumps(layers)


def _dumped(s: Shape) -> list[dict]:
    return [layer.model_dump(mode="json", exclude_defaults=True) for layer in s.config.model.layers]


def _dropout(s: Shape) -> Variant | None:
    layers = s.config.model.layers
    existing = [i for i, layer in enumerate(layers) if layer.type == "dropout"]
    if existing:
        low = [i for i in existing if layers[i].rate < DROPOUT]
        return Variant(f"dropout {DROPOUT:g}", tuple(f"model.layers[{i}].rate={DROPOUT:g}"
                                                      for i in low)) if low else None
    if not s.dense:
        return None
    out: list[dict] = []
    pending = False
    for i, spec in enumerate(_dumped(s)):
        if pending and spec["type"] != "activation":
            out.append({"type": "dropout", "rate": DROPOUT})
            pending = False
        out.append(spec)
        pending = pending or i in s.dense
    if pending:  # the last layer is hidden: no declared output layer follows
        out.append({"type": "dropout", "rate": DROPOUT})
    return Variant(f"dropout {DROPOUT:g}", (_layers_override(out),))


def _width(factor: float) -> Callable[[Shape], Variant | None]:
    def scaled(s: Shape) -> Variant | None:
        if not s.dense:
            return None if factor < 1 else _added_layers(s, factor)
        units = {i: max(1, int(s.config.model.layers[i].units * factor)) for i in s.dense}
        name = "half width" if factor == 0.5 else f"width ×{factor:g}"
        return Variant(name, tuple(f"model.layers[{i}].units={u}" for i, u in units.items()))
    return scaled


def _added_layers(s: Shape, factor: float) -> Variant:
    """A model with no hidden dense layer: one of 32 ReLU units (×2), or two of 64 (×4)."""
    new = ([{"type": "dense", "units": 32, "activation": "relu"}] if factor <= 2 else
           [{"type": "dense", "units": 64, "activation": "relu"}] * 2)
    layers = _dumped(s)
    at = s.hidden[-1] + 1 if s.hidden else 0
    name = "hidden " + "→".join(str(layer["units"]) for layer in new)
    return Variant(name, (_layers_override([*layers[:at], *new, *layers[at:]]),))


def _epochs(s: Shape) -> Variant:
    return Variant("epochs ×2", (f"training.epochs={2 * s.config.training.epochs}",))


def _lr(factor: float) -> Callable[[Shape], Variant]:
    def scaled(s: Shape) -> Variant:
        name = f"lr ×{factor:g}" if factor > 1 else f"lr ÷{1 / factor:g}"
        return Variant(name, (f"training.lr={_number(s.config.training.lr * factor)}",))
    return scaled


def _patience(s: Shape) -> Variant | None:
    es = s.config.training.early_stopping
    if es is None:
        return None
    return Variant(f"patience ÷{PATIENCE_DIVISOR}", (
        f"training.early_stopping.patience={max(1, es.patience // PATIENCE_DIVISOR)}",))


def _balanced(s: Shape) -> Variant | None:
    if s.config.training.class_weight == "balanced":
        return None
    return Variant("balanced classes", ("training.class_weight=balanced",))


def excluded(config: Config, columns: Sequence[str]) -> Variant | None:
    """The variant that leaves ``columns`` out, or None when none of them is in use."""
    data = config.data
    used = data.features if data.features is not None else None
    new = [c for c in dict.fromkeys(columns) if c not in data.exclude and c not in data.targets
           and (used is None or c in used)]
    if not new:
        return None
    name = "exclude " + ", ".join(new)
    if used is not None:
        return Variant(name, ("data.features=" + json.dumps([c for c in used if c not in new]),))
    return Variant(name, ("data.exclude=" + json.dumps([*data.exclude, *new]),))


BUILDERS: dict[str, Callable[[Shape], Variant | None]] = {
    "penalty": _penalty, "dropout": _dropout, "half_width": _width(0.5),
    "width_2": _width(2), "width_4": _width(4), "epochs_2": _epochs, "lr_3": _lr(3),
    "lr_div_3": _lr(1 / 3), "lr_div_10": _lr(1 / 10), "patience": _patience,
    "balanced": _balanced,
}
REGULARIZE = ("penalty", "dropout", "half_width")
MORE = ("width_2", "width_4", "epochs_2", "lr_3")
BOTH_SIDES = ("penalty", "dropout", "width_2", "epochs_2")
REMEDIES: dict[str, tuple[str, ...]] = {
    Kind.OVERFITTING: REGULARIZE,
    Kind.OVERFITTING_ROSE: (*REGULARIZE, "patience"),
    Kind.OVERFITTING_IDENTIFIER: (),  # the columns: see remedies()
    Kind.OVERFITTING_LEAK: (),
    Kind.UNDERFITTING_EPOCHS: MORE,
    Kind.UNDERFITTING_CAPACITY: MORE,
    Kind.UNDERFITTING_FAILED: ("lr_div_3", "lr_div_10"),
    Kind.UNDERFITTING_RATE: ("lr_div_10", "lr_div_3"),
    Kind.UNDERFITTING_COLLAPSE: ("balanced",),
    Kind.DIVERGED: ("lr_div_10", "lr_div_3"),
}


def remedies(kind: Any, config: Config, *, output_declared: bool,
             columns: Sequence[str] = ()) -> list[Variant]:
    """The variants to try for a verdict of ``kind`` on ``config`` (module docstring).

    ``output_declared``: the config's last layer is its output layer; ``columns``: the
    identifier columns of ``overfitting_identifier``. Each variant once, in the table's
    order; a kind not in the table (good fit, inconclusive, one added later) gets the
    small set from both sides.
    """
    shape = shape_of(config, output_declared)
    names = REMEDIES.get(str(kind), BOTH_SIDES)
    found = [BUILDERS[name](shape) for name in names]
    if str(kind) in EXCLUDES:
        found.append(excluded(config, columns))
    unique: dict[tuple[str, ...], Variant] = {}
    for variant in found:
        if variant is not None and variant.overrides and variant.overrides not in unique:
            unique[variant.overrides] = variant
    return list(unique.values())


def identifier_columns(diagnosis: dict, prepared: Any) -> list[str]:
    """The identifier columns of an ``overfitting_identifier`` verdict: its ``columns``, or
    the columns the data checks flagged (``workflows.run.audit_columns``)."""
    if diagnosis.get("columns"):
        return list(diagnosis["columns"])
    return audit_columns(prepared)["identifiers"]

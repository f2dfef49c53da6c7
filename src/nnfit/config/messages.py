"""Pydantic's validation errors as one line each: where (a dotted key path), what, the value."""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ..errors import did_you_mean, shown
from .overrides import location, parse_override
from .schema import LAYER_MODELS, SCHEDULE_MODELS, TAGGED, Config, ModelConfig

SYNONYMS = {"learning_rate": "lr", "n_epochs": "epochs", "max_iter": "epochs",
            "random_state": "seed", "alpha": "l2", "lr_scheduler": "schedule",
            "max_grad_norm": "clip_norm", "gradient_clip_val": "clip_norm",
            "target_scaling": "scale_target", "n_estimators": "ensemble",
            "optimiser": "optimizer", "label": "target", "y": "target", "hidden_layers": "layers"}


def format_errors(exc: ValidationError, root: Any = None) -> list[tuple[list, str]]:
    """One ``(location, "where: what (got value)")`` per pydantic error.

    ``root``: the model validated (``Config`` by default; ``nnfit.store.model_file`` passes its
    own, whose layer lists are the config's).
    """
    lines = []
    for err in exc.errors():
        loc, kind, value = list(err["loc"]), err["type"], err.get("input")
        model, owner = _strip_tags(loc, Config if root is None else root)
        where = location(loc)
        if kind == "extra_forbidden":
            key, known = loc[-1], _fields(model)
            synonym = SYNONYMS.get(key) if isinstance(key, str) else None  # a key is text
            hint = did_you_mean(key, known) or (
                f" (did you mean {synonym!r}?)" if synonym in known else "")
            parent = location(loc[:-1])
            lines.append((loc, f"{parent + ': ' if parent else ''}unknown key {key!r}{hint}"))
            continue
        integer = owner is not None and owner.model_fields[loc[-1]].annotation is int
        lines.append((loc, f"{where + ': ' if where else ''}{_problem(err, kind, value, integer)}"))
    return lines


def blame(loc: list, path: Path, overrides: Sequence[str],
          labels: Mapping[str, str] | None = None) -> str:
    """What an error line starts with: the last override that wrote at or above ``loc``
    (``--set PATH=VALUE``, or its entry in ``labels``), else the config file."""
    for override in reversed(overrides):
        target = parse_override(override)[0]
        n = min(len(loc), len(target))  # at or below the key it set, or the key it created
        if loc[:n] == target[:n] and (len(loc) >= len(target) or loc[-1:] == target[n - 1:n]):
            return (labels or {}).get(override, f"--set {override}")
    return str(path)


def _problem(err: ErrorDetails, kind: str, value: Any, integer: bool) -> str:
    ctx = err.get("ctx") or {}
    got = f" (got {shown(value)})"
    if kind == "missing":
        return "required key is missing"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = next(iter(ctx.values()))
        if kind == "greater_than" and bound == 0:
            return f"must be {'a positive integer' if integer else 'positive'}{got}"
        words = {"greater_than": "greater than", "greater_than_equal": "at least",
                 "less_than": "less than", "less_than_equal": "at most"}[kind]
        return f"must be {words} {bound:g}{got}"
    if kind == "literal_error":
        choices = [c.strip().strip("'") for c in ctx["expected"].replace(" or ", ", ").split(",")]
        return f"must be one of {', '.join(choices)}{got}{did_you_mean(value, choices)}"
    if kind == "union_tag_invalid":
        what, tags = _tagged(ctx)
        return (f"unknown {what} {ctx['tag']!r}; choose from {', '.join(tags)}"
                f"{did_you_mean(ctx['tag'], tags)}")
    if kind == "union_tag_not_found":
        what, tags = _tagged(ctx)
        key = ctx["discriminator"].strip("'")
        return f"a {what.split()[0]} needs a {key!r} key (one of {', '.join(tags)}){got}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"must be an integer{got}"
    if kind in ("float_parsing", "float_type"):
        return f"must be a number{got}"
    if kind == "finite_number":
        return f"must be a finite number{got}"
    if kind in ("bool_parsing", "bool_type"):
        return f"must be true or false{got}"
    if kind in ("string_type",):
        return f"must be text{got}"
    if kind in ("list_type",):
        return f"must be a list{got}"
    if kind in ("model_attributes_type", "model_type", "dict_type"):
        return f"must be a mapping of keys{got}"
    if kind in ("too_short", "too_long"):
        n = ctx["min_length" if kind == "too_short" else "max_length"]
        return f"must have {'at least' if kind == 'too_short' else 'at most'} {n} " \
               f"item{'s' if n != 1 else ''}{got}"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return f"{err['msg']}{got}"


def _tagged(ctx: dict) -> tuple[str, list[str]]:
    """What a discriminated union's tag names, and the tags it takes."""
    if ctx.get("discriminator", "").strip("'") == "name":
        return "schedule", list(SCHEDULE_MODELS)
    return "layer type", list(LAYER_MODELS)


def _strip_tags(loc: list, root: Any) -> tuple[Any, Any]:
    """Drop discriminator tags pydantic puts in ``loc``; return the model the error sits in
    and the model that owns the last key of ``loc`` as a field (or None)."""
    model: Any = root
    owner = None
    i = 0
    while i < len(loc):
        part = loc[i]
        tagged = TAGGED.get(loc[i - 1] if isinstance(part, int) and i else part, {})
        if i + 1 < len(loc) and loc[i + 1] in tagged:  # layers[3].<tag>, schedule.<tag>
            model, owner = tagged[loc.pop(i + 1)], None
        elif isinstance(part, int):
            pass
        elif model is not None and part in _fields(model):
            owner = model if i == len(loc) - 1 else None
            model = _submodel(model.model_fields[part].annotation)
        else:
            model = None if i < len(loc) - 1 else model
        i += 1
    return model, owner


def _fields(model) -> list[str]:
    return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


def _submodel(annotation) -> Any:
    """The config model inside an annotation (``X | None``, ``list[X]``), or the list's owner."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _submodel(arg)
        if found is not None:
            return ModelConfig if found in LAYER_MODELS.values() else found
    return None



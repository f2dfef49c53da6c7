"""YAML with every key commented: what ``nnfit init`` writes.

:func:`commented_yaml` writes a config dict as YAML, each key with its :data:`COMMENTS`
entry and, where the key's type is a fixed set, its allowed values (read from the
schema, so a new choice shows by itself); a key with a reason (``why``) gets it on the
line above. ``yaml.safe_load`` of the text gives the dict back.
"""

from __future__ import annotations

import typing
from typing import Literal

import yaml
from pydantic import BaseModel

from ..nn.activations import ACTIVATIONS
from .schema import LAYER_MODELS, SCHEDULE_MODELS, Config

# ``model.layers[].X`` is option X of a layer. Allowed values of a key whose type is a fixed
# set (a Literal, or true/false) are appended from the schema.
COMMENTS = {
    "data": "where the rows come from; how they are read, split and scaled",
    "data.target": "the column to predict (a list: several regression targets)",
    "data.features": "the input columns; null: all but the target and data.exclude",
    "data.task": "auto decides from the target column",
    "data.test_fraction": "share of rows held out for the test score, never trained on (0: none)",
    "data.val_fraction": "share held out to watch training: early stopping, verdict (0: none)",
    "data.scale": "numeric inputs, scaled with training-row statistics",
    "data.missing": "empty cells: stop; drop their rows; fill with training means",
    "data.scale_target": "regression: train on the standardized target",
    "data.exclude": "columns to leave out, e.g. an exported index or an ID",
    "data.delimiter": "one character; null: sniffed among , ; tab |",
    "data.na_values": "more strings meaning an empty cell, e.g. ['?', '-999']",
    "data.keep_default_na": "pandas' NA, N/A, null, NaN ... mean an empty cell",
    "data.encoding": "the file's text encoding, e.g. utf-8, latin-1, cp1252",
    "data.decimal": "the decimal mark; ',' reads 1,5 as 1.5",
    "data.thousands": "a thousands separator to drop, e.g. ',' in 1,344.5; null: none",
    "data.split_seed": "seeds which rows go to train / val / test; null: training.seed",
    "model": "the network",
    "model.layers": "hidden layers, first to last; nnfit adds the output layer",
    "model.layers[].type": "dense: fully connected",
    "model.layers[].units": "the layer's width: how many neurons",
    "model.layers[].activation": "or {name: leaky_relu, slope: 0.05}",
    "model.layers[numeric_embedding].type": "periodic features of each input, then a dense",
    "model.layers[numeric_embedding].kind": "plr: cos/sin → linear → ReLU; periodic: cos/sin",
    "model.layers[numeric_embedding].frequencies": "trainable frequencies per input",
    "model.layers[numeric_embedding].sigma": "their starting spread; larger: faster wiggles",
    "model.layers[numeric_embedding].dim": "values per input after the linear map (plr)",
    "model.layers[numeric_embedding].lite": "one linear map shared by the inputs",
    "model.layers[numeric_embedding].positions": "the inputs to embed; null: as inputs says",
    "model.layers[numeric_embedding].inputs": "numeric: numeric columns; all: one-hots too",
    "model.init": "weight initializer; auto: He normal for ReLU-like, Glorot uniform otherwise",
    "model.init_scale": "multiplies every initial weight's std and limit",
    "model.linear_skip": "add a linear model of the inputs, x·W_skip, to the output",
    "training": "how the weights are fitted",
    "training.loss": "what training minimizes; auto: from the task",
    "training.optimizer": "the update rule",
    "training.lr": "learning rate, the step size; nnfit lr-find suggests one",
    "training.momentum": "for momentum and nesterov; 0 to 1",
    "training.batch_size": "rows per gradient step",
    "training.epochs": "passes over the training rows, at most",
    "training.schedule": "how the rate moves from lr: a name, or {name: cosine, warmup: 5}",
    "training.schedule.name": "the schedule; each takes its own options below it",
    "training.schedule.warmup": "cosine: epochs of linear warm-up before the cosine decay",
    "training.schedule.pct_start": "onecycle: share of the updates spent rising to lr",
    "training.schedule.div_factor": "onecycle: starts at lr / div_factor",
    "training.schedule.final_div_factor": "onecycle: ends at lr / div_factor / final_div_factor",
    "training.schedule.step_size": "step: epochs between cuts",
    "training.schedule.gamma": "step: factor of each cut",
    "training.schedule.factor": "plateau: factor of each cut",
    "training.schedule.patience": "plateau: epochs without a better val loss before a cut",
    "training.schedule.min_lr": "plateau: the rate never goes below this",
    "training.weight_decay": "decoupled decay W ← W·(1 − lr·λ), adamw only; never biases",
    "training.l2": "coupled L2 penalty (λ/2)·‖W‖² on the loss, any optimizer; never biases",
    "training.clip_norm": "rescale the gradient to this global norm when longer; null: off",
    "training.ensemble": "train this many seeds and average their predictions",
    "training.class_weight": "classes: weight the loss per class; balanced, or {label: weight}",
    "training.label_smoothing": "classes: fit soft targets (1 − ε)·onehot + ε/K; 0: off",
    "training.early_stopping": "stop when val loss stops improving, keep the best; false: off",
    "training.refit": "then train a fresh model on train + val for the best epoch count",
    "training.early_stopping.patience": "epochs without improvement before stopping",
    "training.early_stopping.min_delta": "how far val loss must fall to count as better",
    "training.early_stopping.restore_best": "end with the weights of the best epoch",
    "training.seed": "seeds the split (unless data.split_seed) and, apart, init and shuffling",
    "training.dtype": "floating-point precision of the network",
    "training.threads": "BLAS threads: auto, or a count",
    "training.pack": "train the ensemble's members packed when that pays (the same numbers)",
    "sweep": "nnfit sweep's grid: {dotted key: [values]}",
}
COMMENT_COLUMN = 32  # where inline comments start, when the line leaves room


def commented_yaml(config: dict, why: dict[str, str], header: list[str]) -> str:
    """``config`` as YAML text after the ``header`` comment lines, every key commented and
    the keys in ``why`` (dotted paths) given their reason on the line above."""
    lines = [*(f"# {line}" for line in header), ""]
    _emit(lines, config, Config, "", why)
    lines += ["", f"# sweep: {{training.lr: [0.0003, 0.001, 0.003]}}   # {_comment('sweep', None)}"]
    return "\n".join(lines) + "\n"


def _emit(lines: list[str], values: dict, model, prefix: str, why: dict[str, str],
          indent: str = "") -> None:
    fields = getattr(model, "model_fields", {})
    for key, value in values.items():
        path = f"{prefix}{key}"
        info = fields.get(key)
        sub = _submodel(info.annotation) if info is not None else None
        lines += [f"{indent}# {line}" for line in why.get(path, "").splitlines()]
        if path == "model.layers" and value:
            lines.append(_line(f"{indent}{key}:", _comment(path, info)))
            for layer in value:
                _emit_layer(lines, layer, indent + "  ")
        elif isinstance(value, dict) and value and sub is not None:
            lines.append(_line(f"{indent}{key}:", _comment(path, info)))
            _emit(lines, value, sub, f"{path}.", why, indent + "  ")
            if not prefix and key != list(values)[-1]:
                lines.append("")
        else:
            lines.append(_line(f"{indent}{key}: {flow(value)}", _comment(path, info)))


def _emit_layer(lines: list[str], layer: dict, indent: str) -> None:
    fields = getattr(LAYER_MODELS.get(layer.get("type", "")), "model_fields", {})
    for i, (key, value) in enumerate(layer.items()):
        lead = "- " if i == 0 else "  "
        own = f"model.layers[{layer.get('type')}].{key}"  # a comment for this layer type's key
        path = own if own in COMMENTS else f"model.layers[].{key}"
        lines.append(_line(f"{indent}{lead}{key}: {flow(value)}", _comment(path, fields.get(key))))


def _line(text: str, comment: str) -> str:
    if not comment:
        return text
    return f"{text.ljust(COMMENT_COLUMN - 2)}  # {comment}"


def _comment(path: str, info) -> str:
    """The comment of a key: what it does, then its allowed values when they are a fixed set."""
    text = COMMENTS.get(path, "")
    choices: list[str] | None
    if path.startswith("model.layers[") and path.endswith("].type"):
        choices = list(LAYER_MODELS)
    elif path == "training.schedule.name":
        choices = list(SCHEDULE_MODELS)
    elif path == "model.layers[].activation":
        choices = list(ACTIVATIONS)
    else:
        choices = _choices(info.annotation) if info is not None else None
    if choices:
        text = f"{text} [{' | '.join(choices)}]" if text else " | ".join(choices)
    return text


def _choices(annotation) -> list[str] | None:
    """The allowed values of a fixed-set type (a Literal, or true/false), else None."""
    if annotation is bool:
        return ["true", "false"]
    if typing.get_origin(annotation) is Literal:
        return [str(a) for a in typing.get_args(annotation)]
    for arg in typing.get_args(annotation):
        found = _choices(arg)
        if found:
            return found
    return None


def _submodel(annotation):
    """The pydantic model inside an annotation (``X | None``), or None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _submodel(arg)
        if found is not None:
            return found
    return None


def flow(value) -> str:
    """One value as single-line YAML: ``species``, ``0.001``, ``null``, ``[a, b]``, ``'yes'``."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1 << 30)
    return text.removesuffix("\n...\n").strip()

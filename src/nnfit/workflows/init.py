"""The starter config for a CSV: what ``nnfit init`` writes, and ``nnfit train DATA.csv
--target T`` trains.

:func:`starter` reads the CSV as ``train`` does (the same reader, the same task
decision, the same split and preprocessing, through ``workflows.prepared.prepare``),
makes the few choices that depend on the data — columns to leave out, the
missing-cell policy, the validation share, the hidden layers — and returns a plain
config dict with every other key at ``nnfit.config``'s own default, read from its
pydantic models.
:func:`starter_yaml` writes that dict as YAML with every key commented: what it does,
its allowed values and, for the choices made here, why.

The network's size comes from one table, :data:`SIZES`, below.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..config.commented import commented_yaml, flow
from ..config.messages import blame, format_errors
from ..config.overrides import apply_override, location, parse_override
from ..config.schema import Config
from ..data.audit import find_identifiers
from ..data.dataset import select_columns
from ..data.split import split_sizes
from ..data.table import READING_DEFAULTS, exclude_columns, read_table
from ..errors import NnfitError
from ..evaluation.diagnosis import MIN_VAL_ROWS
from .prepared import prepare
from .sizing import (
    ENSEMBLE,
    ENSEMBLE_UP_TO,
    WEIGHTS_PER_ROW,
    layers_phrase,
    sizing,
    starter_layers,
)

# When data.val_fraction's default leaves fewer validation rows than the fit verdict needs
# (diagnosis.MIN_VAL_ROWS), the first of these that gives enough is used instead.
VAL_FRACTIONS = (0.15, 0.2, 0.25, 0.3)


@dataclass
class Facts:
    """What :func:`starter` found in the CSV: the reasons its YAML comments give."""

    csv: str
    targets: list[str]
    delimiter: str
    n_read: int  # data rows in the file
    n_rows: int  # rows used (rows with an empty target dropped)
    n_train: int  # rows in the training split
    n_val: int  # rows in the validation split
    val_default: float  # config/schema.py's data.val_fraction
    features: list[str]
    n_inputs: int  # network inputs after one-hot encoding
    kind: str
    loss: str
    task_reason: str  # decide_task's reason, e.g. "'species' holds text"
    classes: list[str] | None
    empty_cells: int  # in the used columns
    excluded: dict[str, str] = field(default_factory=dict)  # column -> why
    output_layer: str = ""  # prepare's note on the output layer it adds
    warnings: list[str] = field(default_factory=list)  # prepare's warnings on this data
    overrides: list[str] = field(default_factory=list)  # --set PATH=VALUE, applied on top


def starter_config(csv_path: str | Path, target: str | list[str], **reading) -> dict:
    """The starter config for ``csv_path``: a plain dict that ``Config.model_validate`` takes.

    ``reading``: the CSV's reading options (``delimiter``, ``na_values``,
    ``keep_default_na``, ``encoding``, ``decimal``, ``thousands``), written into ``data``
    as given. Raises NnfitError for an unknown target (with a close match) or data
    ``train`` refuses.
    """
    return starter(csv_path, target, **reading)[0]


def starter(csv_path: str | Path, target: str | list[str], overrides: Sequence[str] = (),
            **reading) -> tuple[dict, Facts]:
    """:func:`starter_config`'s dict and the :class:`Facts` behind its choices.

    Every key is present: the data-dependent choices (``data.exclude``,
    ``data.missing``, ``data.val_fraction``, ``model.layers``) and, for the rest, the
    defaults of ``nnfit.config``'s models (``sweep`` left out). ``overrides``
    (``--set PATH=VALUE``) apply on top: the ``data`` ones before the CSV is read (how
    it is read, which columns; a data key set so is not chosen here), the others to the
    config returned.
    """
    unknown = sorted(set(reading) - set(READING_DEFAULTS))
    if unknown:
        raise TypeError(f"starter_config got unknown reading options: {', '.join(unknown)}")
    source = str(csv_path)
    given = data_overrides(overrides)
    raw: dict[str, Any] = {"data": {"target": target, **reading}}
    for override in given:
        apply_override(raw, override)
    data, found = _data_choices(csv_path, raw["data"], given, source)
    prepared = prepare(_validated({"data": data}, source, given), csv_path, source)
    task, splits = prepared.task, prepared.data.X
    n_train = int(splits["train"].shape[0])
    prep = prepared.prep
    layers = starter_layers(n_train, prep.n_inputs, len(prep.numeric_inputs), task.kind)
    raw = {"data": data, "model": {"layers": layers},
           "training": {"ensemble": ENSEMBLE} if n_train <= ENSEMBLE_UP_TO else {}}
    for override in overrides:
        if override not in given:
            apply_override(raw, override)
    config = _validated(raw, source, overrides).model_dump(mode="json")
    config.pop("sweep", None)
    facts = Facts(
        **found, n_rows=prepared.n_rows, n_train=n_train,
        n_val=int(splits["val"].shape[0]) if "val" in splits else 0,
        n_inputs=prepared.prep.n_inputs, kind=task.kind, loss=task.loss_name,
        task_reason=prepared.task_reason or "", classes=getattr(task, "classes", None),
        output_layer=next((n.text for n in prepared.notes if n.key == "output_layer"), ""),
        warnings=[str(n) for n in prepared.notes if n.warning], overrides=list(overrides))
    return config, facts


def data_overrides(overrides: Sequence[str]) -> list[str]:
    """The ``--set`` overrides of ``data`` keys: those the starter reads the CSV with."""
    return [o for o in overrides if parse_override(o)[0][:1] == ["data"]]


def _data_choices(csv_path: str | Path, data: dict, given: Sequence[str],
                  source: str) -> tuple[dict, dict]:
    """``data`` with the starter's choices for the keys ``given`` leaves open, and what the
    CSV showed (:class:`Facts`' fields)."""
    default = _validated({"data": data}, source, given).data  # the defaults around the target
    chosen = {str(path[1]) for path in (parse_override(o)[0] for o in given) if len(path) > 1}
    frame = exclude_columns(read_table(csv_path, default), default.exclude, source)
    n_read, delimiter = len(frame), frame.attrs["delimiter"]
    frame, features = select_columns(frame, default, source)  # an unknown target: did you mean
    excluded = {} if "features" in chosen else _excluded(frame, features)
    empty_cells = int(frame.drop(columns=list(excluded)).isna().sum().sum())
    data = dict(data)
    if excluded:
        data["exclude"] = [*default.exclude, *excluded]
    if empty_cells and "missing" not in chosen:
        data["missing"] = "mean"
    n_labelled = int(frame[default.targets].notna().all(axis=1).sum())  # the rows train keeps
    val_fraction = _val_fraction(n_labelled, default.test_fraction, default.val_fraction)
    if val_fraction != default.val_fraction and "val_fraction" not in chosen:
        data["val_fraction"] = val_fraction
    given_out = {c: "left out by --set" for c in default.exclude}
    return data, dict(csv=source, targets=default.targets, delimiter=delimiter, n_read=n_read,
                      val_default=default.val_fraction, empty_cells=empty_cells,
                      features=[f for f in features if f not in excluded],
                      excluded={**given_out, **excluded})


def _excluded(frame, features: list[str]) -> dict[str, str]:
    """``{column: why}`` for the features to leave out, in file order: entirely empty
    columns (``train`` refuses them) and the columns ``train``'s data checks call row
    identifiers (``nnfit.data.audit.find_identifiers``), so the network is sized without them."""
    why = {c: "is entirely empty" for c in features if frame[c].isna().all()}
    for found in find_identifiers(frame, features):
        why[found.column] = f"looks like a row identifier ({found.reason})"
    return {c: why[c] for c in frame.columns if c in why}


def _val_fraction(n_rows: int, test_fraction: float, default: float) -> float:
    """``default``, or the first of :data:`VAL_FRACTIONS` whose split of ``n_rows`` has the
    validation rows the fit verdict needs and twice as many training rows (``default``
    when none has)."""

    def n_val(fraction: float) -> int:
        try:
            n_train, n_val, _ = split_sizes(n_rows, test_fraction, fraction)
        except NnfitError:
            return 0
        return n_val if n_train >= 2 * n_val else 0

    if default == 0 or n_val(default) >= MIN_VAL_ROWS:
        return default
    return next((f for f in VAL_FRACTIONS if f > default and n_val(f) >= MIN_VAL_ROWS), default)


def _validated(raw: dict, source: str, overrides: Sequence[str] = ()):
    """``raw`` as a Config; each problem one line, naming the ``--set`` that caused it."""
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        where = Path(f"starter config for {source}")
        raise NnfitError("\n".join(f"{blame(loc, where, overrides)}: {line}"
                                   for loc, line in format_errors(exc))) from None


# -- the decisions, in words -------------------------------------------------------------------


def _classes_phrase(facts: Facts) -> str:
    classes = facts.classes or []
    shown = ", ".join(classes[:8]) + (", ..." if len(classes) > 8 else "")
    return f"{len(classes)} classes in {facts.targets[0]!r}: {shown}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def reasons(config: dict, facts: Facts) -> dict[str, str]:
    """Why the data-dependent keys hold what they hold, by dotted path."""
    why = {}
    inputs = _plural(len(facts.features), "feature column") + (
        f" → {_plural(facts.n_inputs, 'input')} (one per category of a text column)"
        if facts.n_inputs != len(facts.features) else "")
    why["data.features"] = f"{inputs}: every column but the target" + (
        " and data.exclude" if facts.excluded else "")
    if facts.kind == "classification":
        why["data.target"] = _classes_phrase(facts)
    why["data.task"] = f"auto decides {facts.kind} here: {facts.task_reason}"
    what = (f"{len(facts.classes or [])} classes" if facts.kind == "classification"
            else f"regression on {_plural(len(facts.targets), 'numeric target')}")
    why["training.loss"] = f"auto picks {facts.loss} here: {what}"
    if facts.excluded:
        why["data.exclude"] = "\n".join(f"{c!r} {r}" for c, r in facts.excluded.items())
    if facts.empty_cells:
        dropped = facts.n_read - facts.n_rows
        why["data.missing"] = (f"{_plural(facts.empty_cells, 'empty cell')} in the used columns "
                               f"→ mean: features filled with the training mean (text: most "
                               f"frequent value)" + (f"; {_plural(dropped, 'row')} with an "
                                                     f"empty target dropped" if dropped else ""))
    fraction = config["data"]["val_fraction"]
    if fraction != facts.val_default:
        n_val = split_sizes(facts.n_rows, config["data"]["test_fraction"], facts.val_default)[1]
        why["data.val_fraction"] = (f"the default {facts.val_default} leaves {n_val} validation "
                                    f"rows, fewer than the {MIN_VAL_ROWS} the fit verdict needs; "
                                    f"{fraction} leaves {facts.n_val}")
    elif 0 < facts.n_val < MIN_VAL_ROWS:
        why["data.val_fraction"] = (f"only {_plural(facts.n_val, 'validation row')}, fewer than "
                                    f"the {MIN_VAL_ROWS} the fit verdict needs: nnfit train "
                                    f"--cv 5 judges on all rows")
    layers = config["model"]["layers"]
    n_layers, units, table_units = sizing(facts.n_train, facts.n_inputs)
    narrowed = (f", narrowed from {table_units} to keep at most {WEIGHTS_PER_ROW} weights per "
                f"training row" if units != table_units else "")
    why["model.layers"] = (f"{facts.n_train:,} training rows (of {facts.n_rows:,}), "
                           f"{_plural(facts.n_inputs, 'input')} → {layers_phrase(layers)}"
                           f"{narrowed}" + (f"\nthen the {facts.output_layer}"
                                            if facts.output_layer else ""))
    if config["training"]["ensemble"] > 1:
        why["training.ensemble"] = (f"{facts.n_train:,} training rows, at most "
                                    f"{ENSEMBLE_UP_TO:,} → {config['training']['ensemble']} "
                                    f"seeds averaged: small data gains the most from it")
    return _set_by_hand(why, facts.overrides)


def _set_by_hand(why: dict[str, str], overrides: Sequence[str]) -> dict[str, str]:
    """``why`` with each key an override set saying so (below a key, after the reason)."""
    for override in overrides:
        path = parse_override(override)[0]
        key = location(path[:2])
        if len(path) < 2 or key == "data.exclude" and key in why:  # its columns say which
            continue
        said = f"--set {override}"
        why[key] = f"{why[key]}; then {said}" if key in why and len(path) > 2 else said
    return why


def decisions(config: dict, facts: Facts) -> list[str]:
    """What the starter decided, one line each (``nnfit init`` prints them on stderr)."""
    lines = [f"{facts.csv}: {_plural(facts.n_read, 'row')}, "
             f"{_plural(len(facts.features), 'feature column')} → "
             f"{_plural(facts.n_inputs, 'input')}"]
    what = _classes_phrase(facts) if facts.kind == "classification" else facts.task_reason
    lines.append(f"task: {facts.kind}, {what} → loss {facts.loss}")
    lines.append(f"model: {layers_phrase(config['model']['layers'])} "
                 f"({facts.n_train:,} training rows)")
    lines.append(ensemble_line(config["training"]["ensemble"]))
    why = reasons(config, facts)
    for path in ("data.exclude", "data.missing", "data.val_fraction"):
        if path in why:
            value, reason = config["data"][path.split(".")[1]], why[path].replace("\n", "; ")
            lines.append(f"{path}: {flow(value)} ({reason})")
    return [*lines, *facts.warnings]


def ensemble_line(members: int) -> str:
    """The ensemble choice and its rule (:data:`ENSEMBLE`, :data:`ENSEMBLE_UP_TO`), one line."""
    if members > 1:
        return (f"ensemble: {members} networks averaged (up to {ENSEMBLE_UP_TO:,} training rows, "
                f"an ensemble is cheap and steadies a small table's fit; set "
                f"training.ensemble: 1 for one network)")
    return (f"ensemble: 1 network (above {ENSEMBLE_UP_TO:,} training rows, an ensemble costs "
            f"{ENSEMBLE}× the training time; set training.ensemble: {ENSEMBLE} to average "
            f"{ENSEMBLE} networks)")


def train_command(config_path: str | Path | None, csv_path: str | Path) -> str:
    """``nnfit train CONFIG DATA`` for these paths (``CONFIG.yaml`` when not known)."""
    config = "CONFIG.yaml" if config_path in (None, "-") else shlex.quote(str(config_path))
    return f"nnfit train {config} {shlex.quote(str(csv_path))}"


def init_command(facts: Facts) -> str:
    """The ``nnfit init`` command that writes this starter config."""
    targets = " ".join(f"--target {shlex.quote(t)}" for t in facts.targets)
    sets = "".join(f" --set {shlex.quote(o)}" for o in facts.overrides)
    return f"nnfit init {shlex.quote(facts.csv)} {targets}{sets}"


# -- the YAML ----------------------------------------------------------------------------------


def starter_yaml(config: dict, csv_path: str | Path, facts: Facts | None = None,
                 config_path: str | Path | None = None) -> str:
    """``config`` as YAML text with every key commented.

    Each key gets its ``config.commented.COMMENTS`` entry and allowed values inline; a key whose
    value was chosen for this data (``facts``) gets the reason on the line above.
    ``config_path``, where the text is going, completes the train command in the
    header. ``yaml.safe_load`` of the text gives ``config`` back.
    """
    why = reasons(config, facts) if facts is not None else {}
    return commented_yaml(config, why, [
        f"nnfit starter config for {csv_path}" + (f", from: {init_command(facts)}"
                                                  if facts is not None else ""),
        f"Train it: {train_command(config_path, csv_path)}",
        "Every key is written out. The values not chosen for this CSV are nnfit's defaults; "
        "edit any of them."])



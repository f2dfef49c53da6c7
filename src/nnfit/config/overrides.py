"""``--set PATH=VALUE``: one config value changed from the command line, at any depth.

``PATH`` is dotted keys with list indices (``model.layers[1].units``); ``VALUE`` is
read as YAML (``3e-4`` a number, ``[a, b]`` a list, ``{name: relu}`` a mapping),
except where YAML would turn plain text into something else (``|`` or ``#`` into
nothing, ``yes``/``off`` into booleans): that stays the text the user typed.
Overrides edit the raw mapping before validation, so they are checked like the file.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..errors import NnfitError, did_you_mean
from .safe_yaml import load

_EXPONENT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")
_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


def location(path: list) -> str:
    """``["model", "layers", 1, "units"]`` -> ``model.layers[1].units``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_value(text: str) -> Any:
    """The YAML value of ``text``, or ``text`` itself where YAML would change plain text."""
    stripped = text.strip()
    if not stripped:
        return None

    try:
        value = load(stripped)
    except yaml.YAMLError:
        return text  # not YAML: validation says what is wrong with it
    if value is None and stripped.lower() not in ("null", "~") or value == "" and stripped not in (
            '""', "''"):
        return text  # "#", "|", ">" are YAML syntax, not values
    if isinstance(value, bool) and stripped.lower() not in ("true", "false"):
        return text  # YAML 1.1 reads yes/no/on/off as booleans; true/false mean it
    if isinstance(value, str) and _EXPONENT.fullmatch(stripped):
        return float(stripped)  # YAML 1.1 wants 3.0e-4; 3e-4 is a number to everyone else
    return value


def parse_override(text: str, label: str | None = None) -> tuple[list[str | int], Any]:
    """``"model.layers[1].units=64"`` -> ``(["model", "layers", 1, "units"], 64)``.

    ``label`` names the override in an error (default ``--set PATH=VALUE``)."""
    label = label or f"--set {text}"
    where, sep, value = text.partition("=")
    where = where.strip()
    if not sep or not where:
        raise NnfitError(f"{label}: expected PATH=VALUE, e.g. --set training.lr=0.01")
    path: list[str | int] = []
    for part in where.split("."):
        match = _STEP.fullmatch(part)
        if not match:
            raise NnfitError(f"{label}: {where!r} is not a key path like "
                             f"model.layers[0].units")
        path.append(match.group(1))
        path += [int(i) for i in re.findall(r"\d+", match.group(2))]
    return path, parse_value(value)


def apply_override(raw: dict, text: str, label: str | None = None) -> None:
    """Set one ``PATH=VALUE`` in the raw config mapping, creating missing sections.

    ``label`` names the override in an error (default ``--set PATH=VALUE``)."""
    label = label or f"--set {text}"
    path, value = parse_override(text, label)
    node: Any = raw
    for depth, (step, following) in enumerate(zip(path, path[1:] + [None], strict=False)):
        here = location(path[:depth + 1])
        if isinstance(step, int):
            if not isinstance(node, list):
                raise NnfitError(f"{label}: {location(path[:depth])} is not a list")
            if step >= len(node):
                raise NnfitError(f"{label}: {location(path[:depth])} has {len(node)} "
                                 f"entr{'y' if len(node) == 1 else 'ies'} (index {step} is out "
                                 f"of range)")
        elif not isinstance(node, dict):
            raise NnfitError(f"{label}: {location(path[:depth]) or 'the config'} is not "
                             f"a mapping")
        if following is None:
            node[step] = value
            return
        child = node[step] if isinstance(step, int) else node.get(step)
        if child is None or child is True:  # an absent section, or `early_stopping: true`
            if isinstance(following, int):
                hint = did_you_mean(step, [k for k in node if isinstance(k, str)]) \
                    if isinstance(node, dict) else ""
                raise NnfitError(f"{label}: {here} is not a list in this config{hint}")
            child = node[step] = {}
        node = child

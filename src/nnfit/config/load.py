"""Loading a config: the YAML file (or text), ``--set`` overrides, validation, one line per problem."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..errors import NnfitError
from .messages import blame, format_errors
from .overrides import apply_override
from .safe_yaml import load as load_yaml
from .schema import Config


def load_config(path: str | Path, overrides: Sequence[str] = (), text: str | None = None,
                labels: Mapping[str, str] | None = None) -> Config:
    """Read and validate a YAML config; ``overrides`` (``"training.lr=0.1"``) apply first.

    ``text``, when given, is the YAML itself and ``path`` only names it (the starter
    config that ``nnfit train DATA.csv --target T`` trains without a file).
    ``labels`` names overrides that did not come from ``--set`` in errors (e.g. a
    sweep's grid point: ``config.yaml: sweep: training.lr=0.1``).
    Raises NnfitError with one line per problem, each naming the exact key.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8") if text is None else text
    except FileNotFoundError:
        raise NnfitError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NnfitError(f"{path}: cannot read config ({exc.__class__.__name__}: {exc})") from None
    try:
        raw = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise NnfitError(f"{path}: invalid YAML{where}: {problem}") from None
    if not isinstance(raw, dict):
        kind = "empty" if raw is None else f"a {type(raw).__name__}"
        raise NnfitError(f"{path}: a config must be a mapping with sections data, model, "
                         f"training (got {kind})")
    labels = labels or {}
    for override in overrides:
        apply_override(raw, override, labels.get(override))
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise NnfitError("\n".join(f"{blame(loc, path, overrides, labels)}: {line}"
                                   for loc, line in format_errors(exc))) from None



"""The YAML config: schema, loading, one-line messages, ``--set`` overrides, safe YAML, and the
commented YAML that ``nnfit init`` writes.

``Config`` and ``load_config`` are the public names (``from nnfit.config import
load_config``), imported when first asked for: a worker process that only unpickles a
Config loads the schema, not the loader, its messages and YAML.
"""

import importlib

_EXPORTS = {"Config": "nnfit.config.schema", "load_config": "nnfit.config.load"}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'nnfit.config' has no attribute {name!r}")

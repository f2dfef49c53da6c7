"""The YAML config: schema, loading, one-line messages, ``--set`` overrides, safe YAML, and the
commented YAML that ``nnfit init`` writes."""

from .load import load_config
from .schema import Config

__all__ = ["Config", "load_config"]

"""Reading YAML that a user (or anyone) wrote: ``safe_load``, and nothing it can be made to do.

PyYAML's ``SafeLoader`` never runs code, but on its own it still lets through what a
config must not be: duplicate keys (the last silently wins), tagged values whose
constructor raises a plain ``ValueError`` (``!!int abc``, ``!!timestamp 2020-13-45``,
``!!timestamp foo``),
recursive aliases, and alias "billion laughs" documents that are small on disk and
huge once expanded (validation then walks the expansion). :func:`load` refuses each
as a :class:`yaml.YAMLError`, with the line where it is.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..errors import shown

MAX_NODES = 100_000  # values in the expanded document: a config has hundreds


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and reports constructor failures with a mark."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})",
                        key_node.start_mark)
                seen[key] = key_node.start_mark.line
            except TypeError:  # an unhashable key: SafeLoader says so below
                pass
        return super().construct_mapping(node, deep=deep)

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, KeyError, OverflowError, AttributeError) as exc:
            # AttributeError: PyYAML's timestamp constructor on a value its pattern rejects
            raise yaml.constructor.ConstructorError(
                None, None,
                f"cannot read {node.tag.rsplit(':', 1)[-1]} value {shown(node.value)} "
                f"({exc.__class__.__name__})", node.start_mark) from None


def load(text: str) -> Any:
    """The YAML document in ``text``; :class:`yaml.YAMLError` for anything a config must not be."""
    try:
        value = yaml.load(text, Loader=_Loader)  # noqa: S506 — _Loader is a SafeLoader
    except RecursionError:
        raise yaml.YAMLError("nested too deeply") from None
    _check_size(value)
    return value


def _check_size(value: Any) -> None:
    """Refuse a document whose expansion has more than :data:`MAX_NODES` values, or a cycle.

    Aliases share objects, so the expansion is counted on the shared graph (each
    object's size once, memoized by identity) without ever expanding it.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(obj) -> int:
        if not isinstance(obj, (dict, list)):
            return 1
        key = id(obj)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise yaml.YAMLError("a recursive alias (a value that contains itself)")
        active.add(key)
        items = list(obj.keys()) + list(obj.values()) if isinstance(obj, dict) else obj
        total = 1 + sum(size(item) for item in items)
        active.discard(key)
        if total > MAX_NODES:
            raise yaml.YAMLError(f"the document expands to more than {MAX_NODES:,} values "
                                 f"(aliases repeating aliases)")
        sizes[key] = total
        return total

    try:
        size(value)
    except RecursionError:
        raise yaml.YAMLError("nested too deeply") from None

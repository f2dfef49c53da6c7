"""What nnfit tells the user: :class:`NnfitError` for what stops a command (a message and an
exit code), :class:`Note` for what does not, and the helpers their messages share."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

USAGE = 2  # bad usage, config or data
FAILED = 1  # a run that could not finish


class NnfitError(Exception):
    """An error in what the user gave us, shown as one line without a traceback."""

    def __init__(self, message: str, exit_code: int = USAGE):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


@dataclass(frozen=True)
class Note:
    """Something a run noticed and went on with: shown dim, or as a warning.

    ``key`` names a note another step looks for (e.g. ``"output_layer"``), so nothing
    finds a note by its wording.
    """

    text: str
    level: Literal["info", "warning"] = "info"
    key: str = ""

    @property
    def warning(self) -> bool:
        return self.level == "warning"

    def __str__(self) -> str:
        return f"warning: {self.text}" if self.warning else self.text


def warning(text: str, key: str = "") -> Note:
    """A :class:`Note` at the warning level."""
    return Note(text, "warning", key)


def did_you_mean(word: object, choices: Iterable[object], cutoff: float = 0.75) -> str:
    """`` (did you mean 'x'?)`` for a close match, or an empty string (compared as text:
    a key path's step may be an index)."""
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=cutoff)
    return f" (did you mean {match[0]!r}?)" if match else ""


def shorten(text: str, limit: int = 200) -> str:
    """``text`` on one line (unprintable characters escaped) and at most ``limit`` characters,
    the last an ellipsis when it was cut: text from a file or a value can hold anything."""
    if not text.isprintable():
        text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def shown(value: Any, limit: int = 60) -> str:
    """A value as a message quotes it (``got 'abc'``): its ``repr``, :func:`shorten`-ed to
    ``limit`` characters and the ellipsis."""
    return shorten(repr(value), limit + 1)

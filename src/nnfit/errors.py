"""NnfitError: the one user-facing error type (a message and an exit code)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

USAGE = 2  # bad usage, config or data
FAILED = 1  # a run that could not finish


class NnfitError(Exception):
    """An error in what the user gave us, shown as one line without a traceback."""

    def __init__(self, message: str, exit_code: int = USAGE):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def did_you_mean(word: str, choices: Iterable[str], cutoff: float = 0.75) -> str:
    """`` (did you mean 'x'?)`` for a close match, or an empty string."""
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=cutoff)
    return f" (did you mean {match[0]!r}?)" if match else ""

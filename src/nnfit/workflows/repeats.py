"""How many seeds (or folds) each config of a comparison trains: ``--repeats`` and ``--cv``.

``nnfit doctor`` and ``nnfit sweep`` judge configs against each other on the same rows;
on a small validation split one seed's luck would decide, so they train more seeds by
default there.
"""

from __future__ import annotations

from ..errors import NnfitError

FEW_VAL_ROWS = 200  # fewer validation rows than this: more seeds by default
SMALL_REPEATS = 3


def check_counts(repeats, cv) -> None:
    """NnfitError (one line) for a ``--repeats`` or ``--cv`` that is not a count."""
    if repeats is not None and (isinstance(repeats, bool) or not isinstance(repeats, int)
                                or repeats < 1):
        raise NnfitError(f"--repeats must be a positive integer (got {repeats!r})")
    if cv is not None and (isinstance(cv, bool) or not isinstance(cv, int) or cv < 2):
        raise NnfitError(f"--cv must be a number of folds of at least 2 (got {cv!r})")


def default_repeats(repeats: int | None, n_val: int, what: str = "variant"
                    ) -> tuple[int, str | None]:
    """``(seeds per arm, why when chosen here)``: ``repeats``, else 1, or ``SMALL_REPEATS``
    when the validation rows are few."""
    if repeats is not None:
        return repeats, None
    if n_val < FEW_VAL_ROWS:
        return SMALL_REPEATS, (f"{n_val} validation rows (fewer than {FEW_VAL_ROWS}): "
                               f"{SMALL_REPEATS} seeds per {what} (--repeats to choose)")
    return 1, None

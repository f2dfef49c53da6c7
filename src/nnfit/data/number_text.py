"""Numbers written as text: a text column whose cells read as numbers once a percent sign,
a currency sign or separators come off (``13%``, ``$1,344``, ``1,5`` with a decimal comma,
``1,343.6`` with a thousands comma).

Such a column is one-hot encoded as text, and such a target becomes classes. nnfit does
not guess what the file meant: :func:`numbers_as_text` says what it found, and
:meth:`NumberText.remedy` the ``data.decimal`` / ``data.thousands`` that read the cells
as numbers, or the signs to take out of the file (no reading option strips them). The
data checks warn with it; a target whose task ``auto`` would make classes of it is an
error (``nnfit.data.dataset.decide_task``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

PLAIN = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
COMMA_GROUPS = re.compile(r"[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d*)?")  # 1,343.6 (1,344: AMBIGUOUS)
DOT_GROUPS = re.compile(r"[+-]?[1-9]\d{0,2}(\.\d{3})+(,\d*)?")  # 1.343,6 or 1.344.000
COMMA_DECIMAL = re.compile(r"[+-]?\d*,\d+")  # 1,5 or 0,125
AMBIGUOUS = re.compile(r"[+-]?[1-9]\d{0,2},\d{3}")  # 1,344: a decimal or a thousands comma
DECISIVE = ("dot_groups", "comma_decimal", "comma_groups", "ambiguous")  # the example's kind
MOSTLY = 0.5  # the share of filled cells that makes a column numbers (as data.preprocess's)
CANDIDATE = r"[\d\s.,+\-eE%$€£¥₹₽₩¢]+"  # cells worth a closer look (a quick, vectorized pass)


@dataclass(frozen=True)
class NumberText:
    """A text column that holds numbers: ``example`` as the file writes one, the reading
    options that read them (``decimal``, ``thousands``: None when not needed), the signs
    to take out of the file (``%``, ``$``, ...) and whether ``1,344``-like cells leave
    the comma's role open."""

    column: str
    example: str
    decimal: str | None = None
    thousands: str | None = None
    signs: str = ""
    ambiguous: bool = False

    def remedy(self) -> str:
        """What reads the cells as numbers, e.g. ``set data.decimal: ',' (--set data.decimal=,)``."""
        steps = []
        if self.signs:
            quoted = ", ".join(repr(sign) for sign in self.signs)
            quoted = " and ".join(quoted.rsplit(", ", 1))
            steps.append(f"take the {quoted} sign{'s' if len(self.signs) > 1 else ''} out of "
                         f"the file (no data key does)")
        keys = [(key, value) for key, value in (("decimal", self.decimal),
                                                ("thousands", self.thousands)) if value]
        if keys:
            sets = " ".join(f"--set data.{key}={value}" for key, value in keys)
            steps.append(f"set {' and '.join(f'data.{key}: {value!r}' for key, value in keys)} "
                         f"({sets})")
        if self.ambiguous:
            steps[-1] += " or, if ',' separates thousands there, data.thousands: ',' instead"
        return "; ".join(steps)


def numbers_as_text(frame, columns: list[str]) -> list[NumberText]:
    """The text columns among ``columns`` of ``frame`` whose cells, at least half of those
    filled, read as numbers once signs or separators come off (but not as they are)."""
    import pandas as pd  # local: workers' jobs get arrays, not tables

    found = []
    for col in columns:
        series = frame[col]
        if not isinstance(series.dtype, pd.CategoricalDtype):  # text_as_categories made text so
            continue
        counts = np.bincount(series.cat.codes.to_numpy() + 1,
                             minlength=len(series.cat.categories) + 1)[1:]
        texts = pd.Index(series.cat.categories.astype(str)).str.strip()
        look = np.flatnonzero(np.asarray(texts.str.fullmatch(CANDIDATE), dtype=bool))
        if counts[look].sum() < MOSTLY * counts.sum() or counts.sum() == 0:
            continue
        shapes = {int(i): shape for i in look if (shape := _shape(texts[i])) is not None}
        plain = [i for i, shape in shapes.items() if shape == ("plain", "")]
        if counts[list(shapes)].sum() < MOSTLY * counts.sum() or \
                counts[plain].sum() >= MOSTLY * counts.sum():  # text, or numbers already
            continue
        found.append(_finding(str(col), [(str(texts[i]), shape) for i, shape in shapes.items()
                                         if i not in plain]))
    return found


def _shape(text: str) -> tuple[str, str] | None:
    """``(how the number is written, the signs around it)``, or None for text that is no number."""
    signs = ""
    while text and (text[-1] == "%" or unicodedata.category(text[-1]) == "Sc"):
        signs, text = text[-1] + signs, text[:-1].rstrip()
    while text and unicodedata.category(text[0]) == "Sc":
        signs, text = signs + text[0], text[1:].lstrip()
    if text[:1] in "+-" and text[1:2] and unicodedata.category(text[1]) == "Sc":  # -$5
        signs, text = signs + text[1], text[0] + text[2:].lstrip()
    for kind, pattern in (("plain", PLAIN), ("ambiguous", AMBIGUOUS),
                          ("comma_groups", COMMA_GROUPS), ("dot_groups", DOT_GROUPS),
                          ("comma_decimal", COMMA_DECIMAL)):
        if pattern.fullmatch(text):
            return kind, signs
    return None


def _finding(column: str, written: list[tuple[str, tuple[str, str]]]) -> NumberText:
    """What reads these cells (``(text, shape)`` of those not plain numbers) as numbers."""
    kinds = {kind for _, (kind, _) in written}
    signs = "".join(dict.fromkeys(sign for _, (_, found) in written for sign in found))
    decimal = thousands = None
    if kinds & {"dot_groups", "comma_decimal"}:
        decimal = ","
        thousands = "." if "dot_groups" in kinds else None
    elif "comma_groups" in kinds:
        thousands = ","
    elif "ambiguous" in kinds:
        decimal = ","
    shown = next((kind for kind in DECISIVE if kind in kinds), "plain")
    example = next(text for text, (kind, _) in written if kind == shown)
    ambiguous = "ambiguous" in kinds and not kinds & {"dot_groups", "comma_decimal",
                                                       "comma_groups"}
    return NumberText(column, example, decimal, thousands, signs, ambiguous)

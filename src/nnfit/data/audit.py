"""Data checks before any fit: what in a table makes a fit look better than it is.

``workflows.prepared.prepare_split`` runs :func:`audit` on every split it prepares, so
``train``, ``init``, ``summary``, ``curve``, ``sweep`` and ``train --cv`` all see the same
:class:`DataAudit`: its :meth:`~DataAudit.notes` join the run's notes (warnings, each
with the ``--set`` that acts on it) and its :meth:`~DataAudit.record` is ``metrics.json``'s
``data_checks``. nnfit changes nothing by itself: the user's config stays as written.

- **identifiers** (every row, in file order; :func:`find_identifiers`): integers, all
  distinct, that fill most of their range (``max − min + 1 ≤ 1.2·n``), shuffled or not; or
  that rise in file order from near zero (the row numbers of a file with rows left out);
  or, under a row-name header (``rownames``, ``Unnamed: 0``, ``id``, ``X``, ``...1``), are
  distinct in every row; and text with a distinct value in at least 95 % of the rows.
- **high cardinality**: a text column whose one-hot inputs outnumber a tenth of the
  training rows.
- **leaks** (training rows; ``nnfit.data.leaks``): one feature that gives the target
  almost exactly.
- **duplicates**: validation and test rows identical to a training row (features and
  target), by pandas' row hashes.
- **class shares** (classification): each class's share of the training rows; a class
  under 10 % (and under half of an even share: 5 % of ten classes) is worth a warning.
- **numbers written as text** (``nnfit.data.number_text``): a text feature (or class
  target) whose cells read as numbers once a ``%``, a currency sign or separators come
  off; the warning names the ``data.decimal`` / ``data.thousands`` that reads them. Such
  a column is not also called an identifier or of high cardinality.

No loop runs over rows. Loops run over columns, cheapest test first: most columns are
ruled out by their min and max, or by one value.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import asdict, dataclass, field

import numpy as np

from ..config.overrides import parse_value
from ..errors import Note, warning
from .leaks import Leak, class_leaks, correlations
from .number_text import NumberText, numbers_as_text

DATA_CHECK = "data_check"  # the key of every note an audit gives (cv prints a fold's only once)
MIN_ROWS = 10  # fewer rows: any column could look like a row identifier by chance
DENSE = 1.2  # distinct integers whose range is at most DENSE × the rows fill it: row numbers
MIN_RISING_ROWS = 20  # rising integers that start near zero: row numbers with rows left out
ORIGIN_STEPS = 5  # "near zero": the first value within this many average steps of zero
TEXT_DISTINCT = 0.95  # text distinct in at least this share of the rows names them
ROW_NAMES = re.compile(r"rownames|row\.names|row_names|Unnamed: \d+(\.\d+)?|index|level_0|"
                       r"id|ID|Id|X(\.\d+)?|\.\.\.\d+")  # R, pandas, readr index headers
MANY_INPUTS, MIN_MANY_INPUTS = 0.1, 10  # one-hot inputs above a tenth of the training rows
DUPLICATE_SHARE, MIN_COPIES = 0.01, 3  # copies of training rows worth a warning
HASH_STEP = np.uint64(0x100000001B3)  # combines the column hashes of a row (FNV's prime)
RARE_CLASS = 0.1  # a class under this share of the training rows (and half an even share)


@dataclass(frozen=True)
class Identifier:
    column: str
    reason: str  # "distinct integers filling 1..1000, in file order"


@dataclass(frozen=True)
class ManyInputs:
    column: str
    inputs: int  # one-hot inputs (categories in the training rows)


@dataclass(frozen=True)
class Copies:
    split: str  # val or test
    rows: int
    copies: int  # rows identical to a training row


@dataclass
class DataAudit:
    """What the checks found on one split (empty: nothing checked, or nothing found)."""

    identifiers: list[Identifier] = field(default_factory=list)
    high_cardinality: list[ManyInputs] = field(default_factory=list)
    leaks: list[Leak] = field(default_factory=list)
    duplicates: list[Copies] = field(default_factory=list)
    class_shares: dict[str, float] = field(default_factory=dict)  # classification only
    train_rows: int = 0
    class_weight: bool = False  # training.class_weight is set: no advice on rare classes
    exclude: list[str] = field(default_factory=list)  # data.exclude as configured
    features: list[str] | None = None  # data.features as configured (None: all but targets)
    number_text: list[NumberText] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)  # data.target, for the words

    @property
    def identifier_columns(self) -> list[str]:
        return [i.column for i in self.identifiers]

    @property
    def high_cardinality_columns(self) -> list[str]:
        return [h.column for h in self.high_cardinality]

    def fix(self, column: str) -> str:
        """The ``--set`` that leaves out ``column`` and every identifier, keeping what
        ``data.exclude`` lists (or, when ``data.features`` names the inputs, the rest of them)."""
        drop = [*self.identifier_columns, column]
        if self.features is not None:
            return set_list("data.features", [f for f in self.features if f not in drop])
        return set_list("data.exclude", list(dict.fromkeys([*self.exclude, *drop])))

    def notes(self) -> list[Note]:
        """One warning per finding, each saying what to do."""
        found = [warning(f"column {i.column!r} looks like a row identifier ({i.reason}); leave "
                         f"it out: {self.fix(i.column)}", DATA_CHECK) for i in self.identifiers]
        found += [warning(f"text column {h.column!r} becomes {h.inputs:,} one-hot inputs, more "
                          f"than a tenth of the {self.train_rows:,} training rows: the network "
                          f"can memorize rows through it; if it names individual records, "
                          f"leave it out: {self.fix(h.column)}", DATA_CHECK)
                  for h in self.high_cardinality]
        found += [warning(f"feature {leak.column!r} predicts {leak.target!r} almost perfectly "
                          f"({_evidence(leak)}); if it is computed from the target or known "
                          f"only after it, leave it out: {self.fix(leak.column)}", DATA_CHECK)
                  for leak in self.leaks]
        found += [warning(f"{'target' if n.column in self.targets else 'column'} {n.column!r} "
                          f"holds numbers written as text (e.g. {n.example!r}), read as "
                          f"{'classes' if n.column in self.targets else 'categories (one-hot)'}; "
                          f"to read them as numbers, {n.remedy()}", DATA_CHECK)
                  for n in self.number_text]
        return found + self._copies_notes() + self._class_notes()

    def _copies_notes(self) -> list[Note]:
        many = [c for c in self.duplicates
                if c.copies > DUPLICATE_SHARE * c.rows and c.copies >= MIN_COPIES]
        if not many:
            return []
        what = " and ".join(f"{c.copies:,} of {c.rows:,} {SPLIT_NAMES[c.split]} rows "
                            f"({c.copies / c.rows:.1%})" for c in many)
        return [warning(f"{what} {'are' if len(many) > 1 or many[0].copies > 1 else 'is'} "
                        f"identical to a training row (every feature and the target): their "
                        f"scores repeat training scores; if the file repeats records, remove "
                        f"the copies before training", DATA_CHECK)]

    def _class_notes(self) -> list[Note]:
        even = 1 / max(len(self.class_shares), 1)  # ten balanced classes hold 10 % each
        rare = {c: s for c, s in self.class_shares.items() if s < min(RARE_CLASS, even / 2)}
        if not rare or self.class_weight:
            return []
        many = len(rare) > 1
        names = ", ".join(map(repr, rare))
        shares = ", ".join(f"{s:.1%}" for s in rare.values())
        return [warning(f"class{'es' if many else ''} {names} {'are' if many else 'is'} only "
                        f"{shares} of the training rows: the fit may neglect "
                        f"{'them' if many else 'it'}; to weigh the classes equally: "
                        f"--set training.class_weight=balanced", DATA_CHECK)]

    def record(self) -> dict:
        """``metrics.json``'s ``data_checks``."""
        return {"identifiers": [asdict(i) for i in self.identifiers],
                "high_cardinality": [asdict(h) for h in self.high_cardinality],
                "leaks": [{**asdict(leak), "score": round(leak.score, 6)} for leak in self.leaks],
                "duplicates": {c.split: {"rows": c.rows, "copies": c.copies}
                               for c in self.duplicates},
                **({"class_shares": {c: round(s, 6) for c, s in self.class_shares.items()}}
                   if self.class_shares else {}),
                **({"number_text": [asdict(n) for n in self.number_text]}
                   if self.number_text else {})}


SPLIT_NAMES = {"val": "validation", "test": "test"}


def _evidence(leak: Leak) -> str:
    if leak.rule == "correlation":
        return f"Pearson r = {leak.score:.4f} on the training rows"
    how = {"copy": "its values, one per class, give", "categories": "its values give"}.get(
        leak.rule, "one range of it per class gives")
    return f"{how} the class of {leak.score:.1%} of the training rows"


def set_list(key: str, names: list[str]) -> str:
    """``--set 'KEY=[a, "b: c"]'``: pastes into a POSIX shell, and nnfit's ``--set`` reads it
    back as ``names``."""
    return "--set " + shlex.quote(f"{key}=[{', '.join(map(_flow_item, names))}]")


def _flow_item(name: str) -> str:
    """``name`` as an item of a YAML flow list: plain when it reads back as itself, else
    double-quoted (JSON's escapes are YAML's)."""
    for item in (name, json.dumps(name, ensure_ascii=False), json.dumps(name)):
        if parse_value(f"[{item}]") == [name]:
            return item
    return json.dumps(name)


# -- the checks --------------------------------------------------------------------------------


def audit(frame, rows: dict[str, np.ndarray], features: list[str], config, prep,
          y_train: np.ndarray | None) -> DataAudit:
    """The checks on one split.

    Parameters
    ----------
    frame : the dataset's rows in file order (features and targets, text as categoricals)
    rows : ``train``, ``val``, ``test`` -> positions into ``frame`` (empty: no such split)
    features : the feature columns
    config : the run's config (``data.targets``, ``data.exclude``, ``data.features``,
        ``training.class_weight``)
    prep : the Preprocessor fitted on the training rows (its classes and categories)
    y_train : the training rows' encoded targets (class indices for classification)
    """
    data, train = config.data, rows["train"]
    written = numbers_as_text(frame, features + (data.targets if prep.classes else []))
    identifiers = find_identifiers(frame, features)
    flagged = {i.column for i in identifiers}
    kept = [c for c in features if c not in flagged]
    classes, shares = prep.classes, {}
    with np.errstate(over="ignore", invalid="ignore"):  # huge numbers: NaN, and no leak
        if classes is not None and y_train is not None:
            y = np.asarray(y_train, dtype=np.intp).reshape(-1)
            leaks = class_leaks(frame, train, kept, data.targets[0], y, len(classes))
            shares = dict(zip(classes, (np.bincount(y, minlength=len(classes)) / y.size).tolist(),
                              strict=True))
        else:
            leaks = correlations(frame, train, kept, data.targets)
    numbers = {n.column for n in written}  # their warning says what to do
    many = [ManyInputs(c, len(cats)) for c, cats in prep.categorical.items()
            if c not in flagged | numbers
            and len(cats) > max(MANY_INPUTS * train.size, MIN_MANY_INPUTS)]
    return DataAudit(identifiers, many, leaks, copies(frame, rows, kept + list(data.targets)),
                     shares, int(train.size), config.training.class_weight is not None,
                     list(data.exclude), None if data.features is None else list(data.features),
                     written, list(data.targets))


def find_identifiers(frame, columns: list[str]) -> list[Identifier]:
    """The columns among ``columns`` that name the rows rather than describe them.

    ``frame`` holds the rows in file order (a subset keeps its order); text may be plain
    text or categoricals, as read or as prepared.
    """
    n = len(frame)
    if n < MIN_ROWS:
        return []
    found = []
    for col in columns:
        series = frame[col]
        named = bool(ROW_NAMES.fullmatch(str(col)))
        kind = series.dtype.kind
        reason = (_integer_reason(series.to_numpy(), n, named) if kind in "iuf" else
                  None if kind == "b" else _text_reason(series, n))
        if reason:
            found.append(Identifier(str(col), reason))
    return found


def _integer_reason(values: np.ndarray, n: int, named: bool) -> str | None:
    """Why these values look like row numbers, or None; the cheapest tests first."""
    if values.dtype.kind == "f" and not float(values[0]).is_integer():
        return None  # a measurement, or an empty first cell
    lo, hi = values.min(), values.max()  # NaN when a cell is empty
    span = float(hi) - float(lo) + 1
    if not span >= n:  # some value repeats (or a cell is empty)
        return None
    dense = span <= DENSE * n
    from_zero = n >= MIN_RISING_ROWS and 0 <= float(lo) <= ORIGIN_STEPS * (span - 1) / (n - 1)
    if not (dense or from_zero or named):
        return None
    if values.dtype.kind == "f" and not np.array_equal(values, np.floor(values)):
        return None
    rising = bool((values[1:] > values[:-1]).all())
    lo, hi = int(lo), int(hi)
    if dense and (rising or np.bincount((values - lo).astype(np.intp)).max() == 1):
        filled = f"{lo}..{hi}" if span == n else f"{n / span:.0%} of {lo}..{hi}"
        return f"distinct integers filling {filled}" + (", in file order" if rising else "")
    if rising and from_zero:
        return f"integers rising in file order from {lo} to {hi}, like row numbers with rows left out"
    if named and np.unique(values).size == n:
        return f"an index header, with a distinct integer in every row ({lo}..{hi})"
    return None


def _text_reason(series, n: int) -> str | None:
    """Why this text column names the rows, or None: a distinct value in nearly every row
    (numbers written as text are measurements, not names)."""
    if hasattr(series, "cat"):
        if len(series.cat.categories) < TEXT_DISTINCT * n:  # categories in use are fewer
            return None
        codes = series.cat.codes.to_numpy()
        distinct = int(np.unique(codes[codes >= 0]).size)
    else:
        distinct = int(series.nunique())
    if distinct < TEXT_DISTINCT * n or numbers_as_text(series.to_frame(), [series.name]):
        return None
    return f"text with a distinct value in {distinct:,} of {n:,} rows"


def copies(frame, rows: dict[str, np.ndarray], columns: list[str]) -> list[Copies]:
    """How many validation and test rows equal a training row on ``columns``.

    Row hashes (pandas') are built a column at a time, the columns with the most distinct
    values (in a sample) first, and after each column only the rows whose hash so far
    still matches a row of the other side go on: past one continuous column that is
    nearly none, so a million rows cost about one column.
    """
    import pandas as pd  # local: workers' jobs get arrays, not tables

    held = [s for s in ("val", "test") if rows[s].size]
    if not held or rows["train"].size == 0:
        return []
    train, other = rows["train"], np.concatenate([rows[s] for s in held])
    mine = np.repeat(np.arange(len(held)), [rows[s].size for s in held])  # other's split
    h_train, h_other = np.zeros(train.size, np.uint64), np.zeros(other.size, np.uint64)
    arrays = {c: (frame[c].cat.codes if hasattr(frame[c], "cat") else frame[c]).to_numpy()
              for c in columns}
    sample = train[::max(1, train.size // 2000)]
    for col in sorted(columns, key=lambda c: -len(pd.unique(arrays[c][sample]))):
        values = arrays[col]
        h_train = h_train * HASH_STEP ^ pd.util.hash_array(values[train])
        h_other = h_other * HASH_STEP ^ pd.util.hash_array(values[other])
        still = _member(h_other, h_train)
        other, h_other, mine = other[still], h_other[still], mine[still]
        if other.size == 0:
            break
        kept = _member(h_train, h_other)
        train, h_train = train[kept], h_train[kept]
    found = np.bincount(mine, minlength=len(held))
    return [Copies(s, int(rows[s].size), int(k)) for s, k in zip(held, found, strict=True)]


def _member(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.isin(a, b)`` by sorting both sides (on a million hashes, ten times numpy's speed)."""
    b, order = np.sort(b), np.argsort(a)
    a = a[order]
    found = np.empty(a.size, dtype=bool)
    found[order] = b[np.minimum(np.searchsorted(b, a), b.size - 1)] == a
    return found

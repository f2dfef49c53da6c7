"""Read a CSV into a DataFrame, with one-line errors for what users get wrong.

How a file is read (delimiter, missing-value strings, encoding, decimal and thousands
separators) is a small dict of *reading options*: built from the ``data:`` config by
:func:`reading_options`, stored with a trained model, and handed back to
:func:`read_table` by ``eval`` and ``predict``. A first line ``sep=;`` (Excel's
delimiter hint) names the delimiter and is skipped.

Errors name the file's own lines (:func:`file_line`), also after quoted line breaks,
blank lines or a ``sep=`` line.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
import warnings
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import NnfitError, did_you_mean, shorten, shown

READING_DEFAULTS = {"delimiter": None, "na_values": None, "keep_default_na": True,
                    "encoding": "utf-8", "decimal": ".", "thousands": None}
DELIMITERS = ",;\t|"  # what sniffing chooses among
SNIFF_BYTES = 64 * 1024
SEP_HINT = re.compile(r"\ufeff?sep=(.)\r?\n?")  # Excel's first line: the delimiter
NAME_CHARS, MAX_NAMES = 40, 20  # how much of the CSV's columns an error lists
FIELD_LIMIT = 1 << 30  # characters in a cell the csv module reads (its default: 131,072)


def reading_options(data_config) -> dict:
    """A ``DataConfig``'s reading options as a JSON-safe dict (the keys of ``READING_DEFAULTS``)."""
    options = {key: getattr(data_config, key) for key in READING_DEFAULTS}
    if options["na_values"] is not None:
        options["na_values"] = list(options["na_values"])
    return options


def read_table(path: str | Path, options=None):
    """The CSV as a DataFrame; missing cells become NaN, text stays text.

    Parameters
    ----------
    path : the CSV file.
    options : a ``DataConfig``, a reading-options dict (keys of ``READING_DEFAULTS``;
        absent keys take their defaults), or None for the defaults.

    The delimiter used is in ``frame.attrs["delimiter"]``; where the file's parts are
    (for :func:`file_line`) in ``frame.attrs["csv"]``.
    """
    return next(read_table_chunks(path, options))


def read_table_chunks(path: str | Path, options=None, chunk_rows: int | None = None):
    """:func:`read_table` as an iterator of DataFrames of ``chunk_rows`` rows each (None: one,
    the whole file), for a file too big to hold at once (``nnfit predict``).

    Each chunk is read by the same reader and passes the same checks, with the same
    messages; the header's are made on the first. A chunk's index continues the file's
    data rows, so an error names the same line as in a whole read. Each chunk's column
    types are inferred from its own cells, as pandas' ``low_memory`` reading does.
    """
    path = Path(path)
    opts = _resolve(options)
    encoding = opts["encoding"]
    if path.is_dir():
        raise NnfitError(f"{path}: is a directory, not a CSV file")
    na_values = list(opts["na_values"] or [])
    if not opts["keep_default_na"]:
        na_values.append("")  # without pandas' list, empty cells are still missing
    with _reading_errors(path, encoding):
        hint = sep_hint(path, encoding)
        layout = Layout(str(path), encoding, opts["delimiter"] or hint or sniff_delimiter(
            path, encoding), int(bool(hint)))
        frames = _read_csv(layout, dict(
            na_values=na_values or None, keep_default_na=opts["keep_default_na"],
            decimal=opts["decimal"], thousands=opts["thousands"]), chunk_rows)
    for at in itertools.count():
        with _reading_errors(path, encoding):
            frame = next(frames, None)
        if frame is None:
            return
        frame.columns = [str(c).strip() for c in frame.columns]
        if at == 0:
            _check_header(frame, layout)
        frame.attrs["delimiter"] = layout.delimiter
        frame.attrs["csv"] = asdict(layout)
        yield frame


@dataclass(frozen=True)
class Layout:
    """Where a CSV's parts are: how to split and decode it, and the lines before its header
    (``skip``: 1 after Excel's ``sep=`` line)."""

    path: str
    encoding: str
    delimiter: str
    skip: int = 0

    def records(self):
        """``(line, fields)`` per record as pandas reads them, the header first: ``line`` is
        where the record starts in the file; blank lines are passed over."""
        csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))  # pandas has no limit
        with open(self.path, encoding=self.encoding, newline="") as fh:
            rows = csv.reader(fh, delimiter=self.delimiter)
            end = 0
            for row in rows:
                start, end = end + 1, rows.line_num
                if start > self.skip and (len(row) > 1 or row and row[0].strip()):
                    yield start, row


def file_line(data, row) -> int:
    """The file's line (1-based) where data row ``row`` of ``data`` starts (a frame or
    column from :func:`read_table`; ``row``: its index, the 0-based data row).

    ``row + 2`` (line 1 is the header) unless quoted line breaks, blank lines or a
    ``sep=`` line moved it: then the file is read again, up to that row.
    """
    where = data.attrs.get("csv")
    if where:
        try:
            for i, (line, _) in enumerate(Layout(**where).records()):
                if i == row + 1:
                    return line
        except (OSError, UnicodeError, LookupError, csv.Error):
            pass
    return int(row) + 2


def sep_hint(path: str | Path, encoding: str = "utf-8") -> str | None:
    """The delimiter a first line ``sep=;`` names (Excel writes it), or None."""
    with open(path, encoding=encoding, newline="") as fh:
        first = fh.readline(16)
    match = SEP_HINT.fullmatch(first)
    return match.group(1) if match and match.group(1) not in '"\r\n' else None


def _check_header(frame, layout: Layout) -> None:
    """The checks of a CSV's first chunk: one column split on the wrong delimiter, no rows,
    a column name twice, columns without a name."""
    path = layout.path
    if frame.shape[1] == 1:
        _check_single_column(frame.columns[0], layout.delimiter, path)
    if frame.empty:
        raise NnfitError(f"{path}: the CSV has a header but no rows")
    names = [name.strip() for name in next(layout.records(), (0, []))[1]]
    names[:1] = [names[0].lstrip("\ufeff")] if names else []
    twice = sorted({name for i, name in enumerate(names) if name and name in names[:i]})
    if twice:  # pandas renames the second a to a.1
        raise NnfitError(f"{path}: duplicate column names: {column_list(twice)}")
    unnamed = [str(i + 1) for i, name in enumerate(names) if not name]
    if len(unnamed) > 1:  # pandas names them Unnamed: 3, Unnamed: 4
        raise NnfitError(f"{path}: columns {', '.join(unnamed[:-1])} and {unnamed[-1]} have no "
                         f"name in the header (a trailing delimiter?); name them, or remove the "
                         f"delimiters that make them")


@contextmanager
def _reading_errors(path: Path, encoding: str):
    """What reading a CSV raises, as one line naming the file."""
    import pandas as pd  # local: workers' jobs get arrays, not tables

    try:
        yield
    except FileNotFoundError:
        raise NnfitError(f"{path}: no such data file") from None
    except pd.errors.EmptyDataError:
        raise NnfitError(f"{path}: the CSV is empty") from None
    except pd.errors.ParserError as exc:  # a row wider than the header: _no_wider_row's
        raise NnfitError(f"{path}: not a readable CSV ({str(exc).strip().splitlines()[-1]})") from None
    except UnicodeDecodeError:
        raise NnfitError(_decode_error(path, encoding)) from None
    except UnicodeError as exc:  # e.g. utf-16 without a byte-order mark
        raise NnfitError(f"{path}: cannot decode it as {encoding} ({exc}); set data.encoding") from None
    except LookupError:  # only from stored options: the config checks its encoding
        raise NnfitError(f"{path}: unknown encoding {encoding!r}; set data.encoding") from None
    except OSError as exc:
        raise NnfitError(f"{path}: cannot read ({exc.strerror or exc})") from None


WIDER = "a stray delimiter, or a header that lacks a name"


def _read_csv(layout: Layout, options: dict, chunk_rows: int | None = None):
    """pandas' ``read_csv`` with ``options``, as an iterator of frames (one, or ``chunk_rows``
    rows each); a data row wider than the header is an error naming it, never a column
    silently turned into the index (``index_col=False`` makes pandas warn instead, or fail
    in a chunk)."""
    import pandas as pd  # local: workers' jobs get arrays, not tables

    options = dict(options, sep=layout.delimiter, encoding=layout.encoding, index_col=False,
                   skiprows=layout.skip or None)
    if chunk_rows is None:
        return iter([_no_wider_row(lambda: pd.read_csv(layout.path, **options), layout)])
    reader = pd.read_csv(layout.path, chunksize=chunk_rows, **options)
    return _chunks(reader, layout)


def _chunks(reader, layout: Layout):
    with reader:
        while (frame := _no_wider_row(lambda: next(reader, None), layout)) is not None:
            yield frame


def _no_wider_row(read, layout: Layout):
    """``read()``, or the error naming the first data row wider than the header."""
    import pandas as pd  # local: workers' jobs get arrays, not tables

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        try:
            frame = read()
        except pd.errors.ParserError as exc:
            if "Expected" not in str(exc) or "fields in line" not in str(exc):
                raise
            raise NnfitError(_wider_row(layout)) from None
    if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
        raise NnfitError(_wider_row(layout))
    return frame


def _wider_row(layout: Layout) -> str:
    """The message for a CSV with a data row wider than its header, naming the first one."""
    records = layout.records()
    width = len(next(records, (0, []))[1])
    for line, row in records:
        if len(row) > width:
            return (f"{layout.path}: line {line} has {len(row)} fields but the header has "
                    f"{width}; {WIDER}")
    return f"{layout.path}: a row has more fields than the header ({width})"


def sniff_delimiter(path: str | Path, encoding: str = "utf-8") -> str:
    """The delimiter among ``, ; tab |`` that the first 64 KiB suggest; ``,`` when unsure.

    Raises UnicodeDecodeError when those bytes do not decode (``read_table`` words it).
    """
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    text = codecs.getincrementaldecoder(encoding)().decode(head, final=False).lstrip("\ufeff")
    if len(head) == SNIFF_BYTES and "\n" in text:
        text = text[:text.rfind("\n") + 1]  # a cut last line would look inconsistent
    try:
        return csv.Sniffer().sniff(text, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def exclude_columns(frame, exclude: list[str], path: str | Path):
    """``frame`` without the ``data.exclude`` columns; a name not in the CSV is an error."""
    require_columns(frame, exclude, path, "excluded")
    return frame.drop(columns=exclude) if exclude else frame


def require_columns(frame, columns: list[str], path: str | Path, role: str) -> None:
    """Fail naming every missing column (with a close match where there is one)."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        hints = "".join(did_you_mean(shorten(c, NAME_CHARS), column_names(frame.columns))
                        for c in missing[:1])
        raise NnfitError(f"{path}: {role} column{'s' if len(missing) > 1 else ''} not found: "
                         f"{column_list(missing)}{hints}; the CSV has: "
                         f"{column_list(frame.columns)}")


def column_names(names) -> list[str]:
    """Column names as a message shows them: each on one line, at most ``NAME_CHARS`` long."""
    return [shorten(str(name), NAME_CHARS) for name in names]


def column_list(names) -> str:
    """``a, b, c``: the first ``MAX_NAMES`` names (:func:`column_names`), then how many more."""
    names = list(names)
    more = f", … ({len(names) - MAX_NAMES:,} more)" if len(names) > MAX_NAMES else ""
    return ", ".join(column_names(names[:MAX_NAMES])) + more


def _resolve(options) -> dict:
    if options is None:
        return dict(READING_DEFAULTS)
    if isinstance(options, dict):
        return {key: options.get(key, default) for key, default in READING_DEFAULTS.items()}
    return reading_options(options)


def _check_single_column(header: str, delimiter: str, path: str) -> None:
    """A lone column whose name holds another candidate delimiter was split on the wrong one."""
    counts = {d: header.count(d) for d in DELIMITERS if d != delimiter}
    likely = max(counts, key=counts.__getitem__)
    if counts[likely]:
        raise NnfitError(f"{path}: parsed as a single column {shown(header)}; is the "
                         f"delimiter {likely!r}? set data.delimiter")


def _decode_error(path: Path, encoding: str) -> str:
    """The decode error, placed by decoding the file in chunks (pandas' offset is per chunk)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset, lines = 0, 1  # bytes given to the decoder so far, and the line they end on
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(1 << 20)
            pending = decoder.getstate()[0]  # the undecoded tail of the previous chunk
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                data = pending + chunk
                where = offset - len(pending) + exc.start
                line = lines + data[:exc.start].count(b"\n") - pending.count(b"\n")
                return (f"{path}: cannot decode it as {encoding} (byte 0x{data[exc.start]:02x} "
                        f"at position {where}, line {line}); set data.encoding")
            if not chunk:
                break
            offset += len(chunk)
            lines += chunk.count(b"\n")
    return f"{path}: cannot decode it as {encoding}; set data.encoding"

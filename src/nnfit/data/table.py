"""Read a CSV into a DataFrame, with one-line errors for what users get wrong.

How a file is read (delimiter, missing-value strings, encoding) is a small dict of
*reading options*: built from the ``data:`` config by :func:`reading_options`, stored
with a trained model, and handed back to :func:`read_table` by ``eval`` and ``predict``.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
import warnings
from contextlib import contextmanager
from pathlib import Path

from ..errors import NnfitError, did_you_mean

READING_DEFAULTS = {"delimiter": None, "na_values": None, "keep_default_na": True,
                    "encoding": "utf-8"}
DELIMITERS = ",;\t|"  # what sniffing chooses among
SNIFF_BYTES = 64 * 1024


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

    The delimiter used is in ``frame.attrs["delimiter"]``.
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
        delimiter = opts["delimiter"] or sniff_delimiter(path, encoding)
        frames = _read_csv(path, delimiter, encoding, na_values, opts["keep_default_na"],
                           chunk_rows)
    for at in itertools.count():
        with _reading_errors(path, encoding):
            frame = next(frames, None)
        if frame is None:
            return
        frame.columns = [str(c).strip() for c in frame.columns]
        if at == 0:
            _check_header(frame, path, encoding, delimiter)
        frame.attrs["delimiter"] = delimiter
        yield frame


def _check_header(frame, path: Path, encoding: str, delimiter: str) -> None:
    """The checks of a CSV's first chunk: one column split on the wrong delimiter, no rows,
    a column name twice."""
    if frame.shape[1] == 1:
        _check_single_column(frame.columns[0], delimiter, path)
    if frame.empty:
        raise NnfitError(f"{path}: the CSV has a header but no rows")
    duplicated = _duplicated_header(path, encoding, delimiter)
    if duplicated:
        raise NnfitError(f"{path}: duplicate column names: {', '.join(duplicated)}")


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
    except pd.errors.ParserError as exc:
        wider = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if wider:
            width, line, n = wider.groups()
            raise NnfitError(f"{path}: line {line} has {n} fields but the header has {width}; "
                             f"{WIDER}") from None
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


def _read_csv(path: Path, delimiter: str, encoding: str, na_values: list[str],
              keep_default_na: bool, chunk_rows: int | None = None):
    """pandas' ``read_csv``, as an iterator of frames (one, or ``chunk_rows`` rows each); a
    data row wider than the header is an error naming it, never a column silently turned
    into the index (``index_col=False`` makes pandas warn instead, or fail in a chunk)."""
    import pandas as pd  # local: workers' jobs get arrays, not tables

    if chunk_rows is None:
        return iter([_no_wider_row(lambda: pd.read_csv(
            path, sep=delimiter, encoding=encoding, index_col=False, na_values=na_values or None,
            keep_default_na=keep_default_na), path, encoding, delimiter)])
    reader = pd.read_csv(path, sep=delimiter, encoding=encoding, index_col=False,
                         na_values=na_values or None, keep_default_na=keep_default_na,
                         chunksize=chunk_rows)
    return _chunks(reader, path, encoding, delimiter)


def _chunks(reader, path: Path, encoding: str, delimiter: str):
    with reader:
        while (frame := _no_wider_row(lambda: next(reader, None), path, encoding,
                                      delimiter)) is not None:
            yield frame


def _no_wider_row(read, path: Path, encoding: str, delimiter: str):
    """``read()``, or the error naming the first data row wider than the header."""
    import pandas as pd  # local: workers' jobs get arrays, not tables

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        try:
            frame = read()
        except pd.errors.ParserError as exc:
            if "Expected" not in str(exc) or "fields in line" not in str(exc):
                raise
            raise NnfitError(_wider_row(path, encoding, delimiter)) from None
    if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
        raise NnfitError(_wider_row(path, encoding, delimiter))
    return frame


def _wider_row(path: Path, encoding: str, delimiter: str) -> str:
    """The message for a CSV with a data row wider than its header, naming the first one."""
    with open(path, encoding=encoding, newline="") as fh:
        rows = csv.reader(fh, delimiter=delimiter)
        width = len(next(rows, []))
        for row in rows:
            if len(row) > width:
                return (f"{path}: line {rows.line_num} has {len(row)} fields but the header has "
                        f"{width}; {WIDER}")
    return f"{path}: a row has more fields than the header ({width})"


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
        hints = "".join(did_you_mean(c, frame.columns) for c in missing[:1])
        raise NnfitError(f"{path}: {role} column{'s' if len(missing) > 1 else ''} not found: "
                         f"{', '.join(missing)}{hints}; the CSV has: {', '.join(frame.columns)}")


def _resolve(options) -> dict:
    if options is None:
        return dict(READING_DEFAULTS)
    if isinstance(options, dict):
        return {key: options.get(key, default) for key, default in READING_DEFAULTS.items()}
    return reading_options(options)


def _check_single_column(header: str, delimiter: str, path: Path) -> None:
    """A lone column whose name holds another candidate delimiter was split on the wrong one."""
    counts = {d: header.count(d) for d in DELIMITERS if d != delimiter}
    likely = max(counts, key=counts.__getitem__)
    if counts[likely]:
        raise NnfitError(f"{path}: parsed as a single column {header!r}; is the delimiter "
                         f"{likely!r}? set data.delimiter")


def _duplicated_header(path: Path, encoding: str, delimiter: str) -> list[str]:
    """Names that appear twice in the header row (pandas renames the second ``a`` to ``a.1``)."""
    with open(path, encoding=encoding, newline="") as fh:
        names = [name.strip() for name in next(csv.reader(fh, delimiter=delimiter), [])]
    names[:1] = [names[0].lstrip("\ufeff")] if names else []
    return sorted({name for i, name in enumerate(names) if name in names[:i]})


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

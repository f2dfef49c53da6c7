"""Read a CSV into a DataFrame, with one-line errors for what users get wrong."""

from __future__ import annotations

from pathlib import Path

from ..errors import NnfitError, did_you_mean


def read_table(path: str | Path):
    """The CSV as a DataFrame; empty cells become NaN, text stays text."""
    import pandas as pd

    path = Path(path)
    if path.is_dir():
        raise NnfitError(f"{path}: is a directory, not a CSV file")
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise NnfitError(f"{path}: no such data file") from None
    except pd.errors.EmptyDataError:
        raise NnfitError(f"{path}: the CSV is empty") from None
    except pd.errors.ParserError as exc:
        raise NnfitError(f"{path}: not a readable CSV ({str(exc).strip().splitlines()[-1]})") from None
    except UnicodeDecodeError:
        raise NnfitError(f"{path}: not a text CSV file (cannot decode it as UTF-8)") from None
    except OSError as exc:
        raise NnfitError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if frame.empty:
        raise NnfitError(f"{path}: the CSV has a header but no rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    duplicated = frame.columns[frame.columns.duplicated()].tolist()
    if duplicated:
        raise NnfitError(f"{path}: duplicate column names: {', '.join(duplicated)}")
    return frame


def require_columns(frame, columns: list[str], path: str | Path, role: str) -> None:
    """Fail naming every missing column (with a close match where there is one)."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        hints = "".join(did_you_mean(c, frame.columns) for c in missing[:1])
        raise NnfitError(f"{path}: {role} column{'s' if len(missing) > 1 else ''} not found: "
                         f"{', '.join(missing)}{hints}; the CSV has: {', '.join(frame.columns)}")

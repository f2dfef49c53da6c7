"""``model.npz`` as untrusted input: each member's ``.npy`` header is checked before its data.

:func:`read_arrays` reads the arrays :mod:`nnfit.store.model_file` expects from a run's
``model.npz`` (a zip of ``.npy`` members, as ``numpy.savez`` writes it) without
``numpy.load``: the zip's member list must be exactly the expected names; each member's
header (numpy's own reader, header only) must give the expected dtype and shape, no
object dtype (that would need pickle), and a byte count equal to the member's size;
only then is the data read, exactly that many bytes, to the end of the member so the
zip's CRC is checked; and every number must be finite.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from ..errors import NnfitError, shorten
from ..nn.checks import all_finite
from .safe_read import open_run_file


@dataclass(frozen=True)
class Header:
    """One ``.npy`` member's header: what its data will be, before it is read."""

    name: str
    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype
    offset: int  # bytes of magic and header before the data


def read_arrays(run_dir: Path, expected: dict[str, tuple[int, ...]], dtype: str,
                optional: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """The arrays of ``model.npz``, each of ``expected`` shape and ``dtype``, checked.

    ``expected``: name -> shape; names in ``optional`` may be absent (an older file) and are
    then left out of the result. Every header is checked before any data is read.
    """
    path = run_dir / "model.npz"
    want = np.dtype(dtype)
    with open_run_file(run_dir, "model.npz") as fh:
        try:
            with zipfile.ZipFile(fh) as archive:
                headers = _headers(archive, path, expected, optional, want)
                arrays = {h.name: _data(archive, h, path) for h in headers}
        except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
                ValueError, NotImplementedError, RuntimeError) as exc:
            raise NnfitError(f"{path}: unreadable or corrupted ({exc.__class__.__name__}: "
                             f"{shorten(str(exc))})") from None
    for name, array in arrays.items():
        if all_finite(array):  # no mask on the path every good file takes
            continue
        bad = array.size - int(np.count_nonzero(np.isfinite(array)))
        if bad:
            raise NnfitError(f"{path}: {name} holds {bad} NaN or infinite value"
                             f"{'s' if bad > 1 else ''}; a trained model's are all finite")
    return arrays


def _headers(archive: zipfile.ZipFile, path: Path, expected: dict, optional: tuple,
             want: np.dtype) -> list[Header]:
    names = [info.filename for info in archive.infolist()]
    for name in names:
        if names.count(name) > 1:
            raise NnfitError(f"{path}: the member {shorten(name, 80)!r} appears twice")
        if name.removesuffix(".npy") not in expected or not name.endswith(".npy"):
            raise NnfitError(f"{path}: unexpected member {shorten(name, 80)!r}; a model file "
                             f"holds {' and '.join(expected)} only")
    headers = []
    for name, shape in expected.items():
        if f"{name}.npy" not in names:
            if name in optional:
                continue
            raise NnfitError(f"{path}: no {name} array; it was not written by 'nnfit train'")
        info = archive.getinfo(f"{name}.npy")
        with archive.open(info) as member:
            header = _header(member, name, path)
        if header.dtype.hasobject:
            raise NnfitError(f"{path}: refused: {name} is an object array, which only pickle "
                             f"can load (nnfit never unpickles)")
        if header.dtype != want:
            raise NnfitError(f"{path}: {name} holds {header.dtype.str} numbers; the architecture "
                             f"in model.json is {want.name}")
        if header.shape != shape:
            each = f" ({shape[0]} ensemble members × {shape[1]})" if len(shape) == 2 else ""
            raise NnfitError(f"{path}: {name} has shape {list(header.shape)}; the architecture "
                             f"in model.json needs {list(shape)}{each}")
        nbytes = math.prod(shape) * want.itemsize
        if info.file_size != header.offset + nbytes:
            held = info.file_size - header.offset
            raise NnfitError(f"{path}: {name} is truncated or padded ({held} bytes of data for "
                             f"{nbytes})")
        headers.append(header)
    return headers


def _header(member, name: str, path: Path) -> Header:
    """The ``.npy`` header at the start of ``member`` (numpy's reader, header only)."""
    fmt = np.lib.format
    version = fmt.read_magic(member)
    if version == (1, 0):
        shape, fortran, dtype = fmt.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, fortran, dtype = fmt.read_array_header_2_0(member)
    else:
        raise NnfitError(f"{path}: {name} is in .npy format {version[0]}.{version[1]}, which "
                         f"nnfit does not write")
    return Header(name, tuple(shape), bool(fortran), np.dtype(dtype), member.tell())


def _data(archive: zipfile.ZipFile, header: Header, path: Path) -> np.ndarray:
    nbytes = math.prod(header.shape) * header.dtype.itemsize
    with archive.open(f"{header.name}.npy") as member:
        member.read(header.offset)
        data = member.read(nbytes)
        if len(data) != nbytes or member.read(1):  # reading to the end checks the CRC
            raise NnfitError(f"{path}: {header.name} is truncated")
    order: Literal["C", "F"] = "F" if header.fortran_order else "C"
    return np.frombuffer(data, dtype=header.dtype).reshape(header.shape, order=order)

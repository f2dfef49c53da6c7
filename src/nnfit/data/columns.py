"""The column writers of :meth:`nnfit.data.preprocess.Preprocessor.transform`: each fills its
columns of a block of rows of ``X``, the one-hot block of a text column or one scaled number."""

from __future__ import annotations

import numpy as np

from .quantile import to_normal


class OneHot:
    """A text column's one-hot block: ``where (n_rows,)`` is each row's category, -1 none."""

    def __init__(self, at: int, where: np.ndarray):
        self.at, self.where = at, where

    def write(self, block: np.ndarray, frame_rows, chunk: slice) -> None:
        where = self.where[chunk]
        known = where >= 0
        block[np.flatnonzero(known), self.at + where[known]] = 1.0


class Numbers:
    """A numeric column: ``values`` over the frame's rows (``by_frame_row``) or the chunk's.

    Written as ``squash((q(x) − center) / scale)``: ``q`` the quantile map when the column
    has quantiles, ``squash`` the scale's map after the affine step when it has one
    (:data:`nnfit.data.scaling.SQUASH`); each the identity otherwise.
    """

    def __init__(self, at, values, by_frame_row, fill, quantiles, center, scale, squash=None):
        self.at, self.values, self.by_frame_row = at, values, by_frame_row
        self.fill, self.center, self.scale, self.squash = fill, center, scale, squash
        self.quantiles = None if quantiles is None else np.asarray(quantiles, dtype=np.float64)

    def write(self, block: np.ndarray, frame_rows, chunk: slice) -> None:
        values = self.values[frame_rows if self.by_frame_row else chunk].astype(np.float64,
                                                                                 copy=False)
        if self.fill is not None and self.by_frame_row:
            values = np.where(np.isnan(values), self.fill, values)
        if self.quantiles is not None:  # then center, scale = 0, 1
            values = to_normal(values, self.quantiles)
        # (values − center) / scale (and the squash) in float64, rounded once into X's dtype
        if self.squash is None:
            np.divide(values - self.center, self.scale, out=block[:, self.at])
        else:
            with np.errstate(over="ignore"):  # an overflow is ±inf, which squash bounds
                z = np.divide(values - self.center, self.scale)
            block[:, self.at] = self.squash(z)

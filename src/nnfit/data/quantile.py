"""Quantile transform to a normal distribution (``data.scale: quantile``), NumPy only.

Fit: ``n_q = min(1000, n_rows)`` quantiles of a training column at the evenly spaced
probabilities ``r = linspace(0, 1, n_q)`` (``np.percentile``, linear interpolation).
Transform: ``p = ½·(interp(x, q, r) − interp(−x, −q[::−1], −r[::−1]))``, clipped to
``[1e-7, 1 − 1e-7]``, then the normal inverse CDF: ``z = Φ⁻¹(p)``. Averaging the forward
and the reversed interpolation sends a run of tied quantiles (a binary or discrete
column) to the middle of its probability range; values beyond the training range
become the end values ``±5.1993375822`` (= Φ⁻¹(1 − 1e-7)).

This is scikit-learn's ``QuantileTransformer(output_distribution="normal", subsample=None)``
(same quantiles, same interpolation in probability space) except that

- a value within 1e-7 (absolute, in the column's units) of the training minimum or
  maximum is sent by scikit-learn to the end value; here only what the interpolation
  gives is. So a *tie* at the ends differs: a binary column's two values become
  ``±5.2`` in scikit-learn and the middles of their probability ranges here
  (e.g. Φ⁻¹(0.25) and Φ⁻¹(0.875) for 0/1 with 60 % zeros);
- a column constant in training maps to 0 (scikit-learn: −5.2), whatever the value;
- scikit-learn subsamples 10 000 rows by default; here every training row counts;
- Φ⁻¹ is Wichura's AS241 (the algorithm of ``statistics.NormalDist.inv_cdf``), not
  SciPy's ``ndtri``: they agree to ~1e-15.

A column's quantiles are plain floats (``list``), stored in ``model.json``; a constant
column stores one. :func:`check_quantiles` validates a list read from an untrusted file.
"""

from __future__ import annotations

import math

import numpy as np

N_QUANTILES = 1000  # at most: fewer when the training split has fewer rows
BOUND = 1e-7  # probabilities are clipped to [BOUND, 1 - BOUND]: z stays finite (±5.2)


def fit_quantiles(values: np.ndarray) -> list[float]:
    """The quantiles of one training column.

    Parameters
    ----------
    values : ndarray (n_rows,), no NaN

    Returns
    -------
    list of ``min(1000, n_rows)`` non-decreasing floats, or ``[value]`` for a
    constant column.
    """
    n_quantiles = min(N_QUANTILES, values.size)
    # Percentiles at r·100, as scikit-learn; the running maximum undoes any
    # non-monotone rounding between neighbouring interpolated quantiles.
    quantiles = np.maximum.accumulate(np.percentile(values, np.linspace(0, 1, n_quantiles) * 100))
    if quantiles[0] == quantiles[-1]:
        return [float(quantiles[0])]
    return quantiles.tolist()


def to_normal(values: np.ndarray, quantiles) -> np.ndarray:
    """Map a column onto a standard normal through its training quantiles.

    Parameters
    ----------
    values : ndarray (n_rows,), float64, no NaN
    quantiles : sequence of floats (n_q,), non-decreasing (see :func:`check_quantiles`)

    Returns
    -------
    ndarray (n_rows,) float64 in ``[Φ⁻¹(1e-7), Φ⁻¹(1 − 1e-7)]``; all zeros when the
    quantiles are all equal (a column constant in training carries nothing).
    """
    quantiles = np.asarray(quantiles, dtype=np.float64)
    if quantiles[0] == quantiles[-1]:
        return np.zeros(values.shape)
    references = np.linspace(0.0, 1.0, quantiles.size)
    p = 0.5 * (np.interp(values, quantiles, references)
               - np.interp(-values, -quantiles[::-1], -references[::-1]))
    np.clip(p, BOUND, 1.0 - BOUND, out=p)
    return normal_ppf(p)


def check_quantiles(quantiles, where: str) -> list[float]:
    """``quantiles`` as floats if they can be used, else ``ValueError`` naming ``where``.

    They must be a non-empty list of finite numbers in non-decreasing order; one
    number (or all equal) is a column that was constant in training.
    """
    if not isinstance(quantiles, list) or not quantiles:
        raise ValueError(f"{where}: must be a non-empty list of numbers")
    for i, value in enumerate(quantiles):
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            raise ValueError(f"{where}[{i}]: {value!r} is not a finite number")
    try:
        non_decreasing(quantiles)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return [float(value) for value in quantiles]


def non_decreasing(values: list[float]) -> list[float]:
    """``values``, or ``ValueError`` naming the first pair out of order (one vectorized pass)."""
    array = np.asarray(values, dtype=np.float64)
    bad = np.flatnonzero(array[1:] < array[:-1])
    if bad.size:
        i = int(bad[0]) + 1
        raise ValueError(f"must be non-decreasing ([{i}] = {values[i]!r} < [{i - 1}] = "
                         f"{values[i - 1]!r})")
    return values


# Wichura (1988), Algorithm AS241 PPND16, as in CPython's statistics.NormalDist.inv_cdf:
# highest power first (np.polyval's order), so Horner's steps are the same as CPython's.
_CENTRAL = ([2.5090809287301226727e+3, 3.3430575583588128105e+4, 6.7265770927008700853e+4,
             4.5921953931549871457e+4, 1.3731693765509461125e+4, 1.9715909503065514427e+3,
             1.3314166789178437745e+2, 3.3871328727963666080e+0],
            [5.2264952788528545610e+3, 2.8729085735721942674e+4, 3.9307895800092710610e+4,
             2.1213794301586595867e+4, 5.3941960214247511077e+3, 6.8718700749205790830e+2,
             4.2313330701600911252e+1, 1.0])
_NEAR = ([7.74545014278341407640e-4, 2.27238449892691845833e-2, 2.41780725177450611770e-1,
          1.27045825245236838258e+0, 3.64784832476320460504e+0, 5.76949722146069140550e+0,
          4.63033784615654529590e+0, 1.42343711074968357734e+0],
         [1.05075007164441684324e-9, 5.47593808499534494600e-4, 1.51986665636164571966e-2,
          1.48103976427480074590e-1, 6.89767334985100004550e-1, 1.67638483018380384940e+0,
          2.05319162663775882187e+0, 1.0])
_FAR = ([2.01033439929228813265e-7, 2.71155556874348757815e-5, 1.24266094738807843860e-3,
         2.65321895265761230930e-2, 2.96560571828504891230e-1, 1.78482653991729133580e+0,
         5.46378491116411436990e+0, 6.65790464350110377720e+0],
        [2.04426310338993978564e-15, 1.42151175831644588870e-7, 1.84631831751005468180e-5,
         7.86869131145613259100e-4, 1.48753612908506148525e-2, 1.36929880922735805310e-1,
         5.99832206555887937690e-1, 1.0])


def normal_ppf(p: np.ndarray) -> np.ndarray:
    """Φ⁻¹(p), the standard normal's inverse CDF, elementwise (AS241, relative error ~1e-16).

    Parameters
    ----------
    p : ndarray (n,), float64, each in the open interval (0, 1)

    Returns
    -------
    ndarray (n,) float64
    """
    p = np.asarray(p, dtype=np.float64)
    q = p - 0.5
    z = np.empty_like(q)
    central = np.abs(q) <= 0.425
    qc = q[central]
    r = 0.180625 - qc * qc
    z[central] = qc * np.polyval(_CENTRAL[0], r) / np.polyval(_CENTRAL[1], r)
    tail = ~central
    qt = q[tail]
    r = np.sqrt(-np.log(np.where(qt <= 0.0, p[tail], 1.0 - p[tail])))
    near, far = r - 1.6, r - 5.0
    x = np.where(r <= 5.0, np.polyval(_NEAR[0], near) / np.polyval(_NEAR[1], near),
                 np.polyval(_FAR[0], far) / np.polyval(_FAR[1], far))
    z[tail] = np.where(qt < 0.0, -x, x)
    return z

"""The calibrated anomaly score: a tail probability that means the same on every series.

What the score means
--------------------
For step ``t`` of a series, let ``a_t = |y_t - baseline_t| / scale_t`` be its
standardised absolute residual. The score is ::

    score_t = 1 - p_t,   p_t = estimated P(a >= a_t) for a normal step of this series,

where the probability is estimated from the series' *own past* residuals
``a_j, j < t`` (from the end of the initial fit on), never from a distributional
assumption. So ``score >= 0.99`` means "at least as unusual as only about 1% of
this series' normal steps", whatever the series' noise law (Gaussian, heavy
tailed, counts) or size; one threshold serves a whole fleet, and the share of
normal steps that cross threshold ``q`` is about ``1 - q`` on every series.

Estimation
----------
The empirical survival function of the past residuals is kept at fixed levels
``u_k = (k / 4)^2``, k = 1..16 (0.06 to 16 scales), with one pseudo-observation
(``G_k = (N_k + 1) / (n + 1)`` where ``N_k`` of the ``n`` past residuals exceed
``u_k``, the conformal p-value's smoothing); ``log p`` is interpolated linearly
in ``sqrt(a)`` between levels. Beyond the last level
``p_t`` stays at ``G_K``; scores there tie near ``1 - 1 / (n + 1)``, so rank
extreme anomalies by the standardised residual itself. The state a stream needs
is the ``K + 1`` counters per series.

Steps scored beyond ``1 - EXCLUDE_BELOW`` (0.999) are not counted, so a lasting
anomaly keeps its high scores instead of teaching the distribution that it is
normal; the price is a slightly optimistic estimate beyond the 0.999 level (the
calibration of thresholds up to about 0.999 is unaffected).

References
----------
.. [1] Vovk, Gammerman and Shafer, "Algorithmic Learning in a Random World",
   Springer, 2005 (conformal p-values from past nonconformity scores).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["EXCLUDE_BELOW", "LEVELS", "calibrated_scores"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# The levels are ``(h * k)^2``: equally spaced in sqrt(a), so a residual's bracket
# is arithmetic (no search), finer where the body is and about 0.8 scales apart
# around the 1% tail of a Gaussian.
_H = 0.25
_K = 16
#: Steps whose p is below this are scored but not counted in the past distribution.
EXCLUDE_BELOW = 1e-3
#: The levels (in scales) at which each series' survival function is counted.
LEVELS: FloatArray = np.square(_H * np.arange(1, _K + 1, dtype=np.float64))
# Row r: the counters (level 0 = every residual, levels 1..K, a spare) that a
# residual in bracket r - 1 increments; row 0 increments nothing.
_EXCEEDS = np.tri(_K + 2, _K + 2, -1, dtype=np.int64)


def calibrated_scores(a: FloatArray, counted: BoolArray) -> FloatArray:
    """Score every step by its series' own past distribution of residuals.

    Time-major: each step reads and updates contiguous counters of every series,
    exactly what a stream would do tick by tick. The kernel assumes valid input.

    Parameters
    ----------
    a : ndarray of float64, shape (n_steps, n_series)
        Standardised absolute residuals, NaN where missing.
    counted : ndarray of bool, shape (n_steps,)
        Which steps' residuals enter the past distribution (e.g. not those of the
        initial fit, which are in-sample and too small).

    Returns
    -------
    ndarray of float64, shape (n_steps, n_series)
        ``1 - p`` in [0, 1), from the steps strictly before each one; NaN where
        ``a`` is NaN. A step with no counted past gets ``p = 1`` (score 0).

    Examples
    --------
    >>> a = np.array([[0.2, 0.7, 0.4, 1.2, 0.1, 0.9, 9.0]]).T
    >>> calibrated_scores(a, np.ones(7, dtype=bool)).T.round(3)
    array([[0.   , 0.5  , 0.333, 0.75 , 0.057, 0.638, 0.857]])
    """
    n_steps, n_series = a.shape
    width = _K + 2
    counts = np.zeros((n_series, width), dtype=np.int64)
    flat = counts.reshape(-1)
    past = counts[:, 0]  # level 0: every counted residual
    cols = np.arange(n_series) * width
    # log(count + 1) by table look-up: counts are integers up to n_steps.
    log_n = np.log(np.arange(1, n_steps + 2, dtype=np.float64))
    missing = np.isnan(a)
    any_missing = np.asarray(missing.any(axis=1), dtype=bool)
    out = np.empty((n_steps, n_series))
    x = np.empty(n_series)
    lower = np.empty(n_series)
    frac = np.empty(n_series)
    idx = np.empty(n_series, dtype=np.intp)
    log_lo = np.empty(n_series)
    log_hi = np.empty(n_series)
    for t in range(n_steps):
        # Position in level units: bracket floor(x), fraction x - floor(x); x = K
        # (beyond the last level) reads the last level's survival with fraction 0.
        np.sqrt(a[t], out=x)
        x *= 1.0 / _H
        if any_missing[t]:
            np.copyto(x, 0.0, where=missing[t])
        np.minimum(x, _K, out=x)
        np.floor(x, out=lower)
        np.subtract(x, lower, out=frac)
        np.copyto(idx, lower, casting="unsafe")
        idx += cols
        np.take(log_n, np.take(flat, idx), out=log_lo)
        idx += 1
        np.take(log_n, np.take(flat, idx), out=log_hi)
        # log p = log G_lo + frac (log G_hi - log G_lo), G = (N + 1) / (n + 1)
        log_hi -= log_lo
        log_hi *= frac
        log_hi += log_lo
        log_hi -= np.take(log_n, past)
        np.minimum(log_hi, 0.0, out=log_hi)
        np.exp(log_hi, out=log_hi)
        np.subtract(1.0, log_hi, out=out[t])
        if counted[t]:
            idx -= cols  # bracket + 1: the row of counters this residual exceeds
            if any_missing[t]:
                np.copyto(idx, 0, where=missing[t])
            # An extreme step (p < 0.001) is not counted: an anomaly that lasts would
            # otherwise teach the distribution that it is normal within a few steps.
            np.copyto(idx, 0, where=log_hi < EXCLUDE_BELOW)
            counts += np.take(_EXCEEDS, idx, axis=0)
    out[missing] = np.nan
    return out

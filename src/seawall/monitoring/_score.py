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
in ``sqrt(a)`` between levels. Beyond the last level that at least
:data:`TAIL_COUNT` past residuals exceeded, the counts are too few to read, so
``log p`` is also extended along the slope of the unit of ``sqrt(a)`` below that
level (an extreme-value tail fitted per series, as SPOT fits one [2]_), and the
smaller of the two estimates holds: within the data the conformal p-value keeps
its calibration, and beyond it an unprecedented residual still ranks above a
merely rare one instead of tying at ``1 / (n + 1)``. The state a stream needs
is the ``K + 1`` counters per series (:func:`score_step` is one tick, shared by
the batch and the streaming form). Every :data:`MEMORY` counted
steps the counters are halved (a right shift), so the distribution is that of the
last ``MEMORY`` to ``2 * MEMORY`` residuals, older ones weighing less: residuals
from a baseline still converging after the warm-up, or from a regime the series
has since left, fade out instead of setting its sensitivity for ever. The residuals
are already standardised by an adaptive scale, so a few hundred of them read the
tail up to about the 0.997 level, and :data:`TAIL_COUNT` extends it beyond.

Steps scored beyond ``1 - EXCLUDE_BELOW`` (0.999) are not counted when the step
before was extreme too, so a lasting anomaly keeps its high scores instead of
teaching the distribution that it is normal; the first extreme step of a run is
counted, so extremes that keep recurring one at a time (spikes, bursts) become
part of the series' normal tail instead of scoring as unprecedented for ever.
The price is a slightly optimistic estimate beyond the 0.999 level (the
calibration of thresholds up to about 0.999 is unaffected).

References
----------
.. [1] Vovk, Gammerman and Shafer, "Algorithmic Learning in a Random World",
   Springer, 2005 (conformal p-values from past nonconformity scores).
.. [2] Siffer, Fouque, Termier and Largouet, "Anomaly Detection in Streams with
   Extreme Value Theory", KDD 2017.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "EXCLUDE_BELOW",
    "LEVELS",
    "MEMORY",
    "N_COUNTERS",
    "TAIL_COUNT",
    "log_table",
    "score_step",
]

FloatArray = npt.NDArray[np.float64]
Int32Array = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]

# The levels are ``(h * k)^2``: equally spaced in sqrt(a), so a residual's bracket
# is arithmetic (no search), finer where the body is and about 0.8 scales apart
# around the 1% tail of a Gaussian.
_H = 0.25
_K = 16
_WIDTH = _K + 2
#: Counters per series: every counted residual, one per level, a spare of zeros.
N_COUNTERS = _WIDTH
#: Steps whose p is below this are scored but not counted in the past distribution.
EXCLUDE_BELOW = 1e-3
#: Counted steps after which each series' counters are halved.
MEMORY = 250
#: Past residuals a level needs above it to be read directly; beyond, the tail is fitted.
TAIL_COUNT = 5
# The tail's slope is read over this many levels (one unit of sqrt(a)).
_TAIL_SPAN = 4
#: The levels (in scales) at which each series' survival function is counted.
LEVELS: FloatArray = np.square(_H * np.arange(1, _K + 1, dtype=np.float64))
# Row r: the counters (level 0 = every residual, levels 1..K, a spare) that a
# residual in bracket r - 1 increments; row 0 increments nothing.
_EXCEEDS = np.tri(_K + 2, _K + 2, -1, dtype=np.int32)


def log_table(n: int) -> FloatArray:
    """``log(1), ..., log(n)``: the logs of ``count + 1`` for counts up to ``n - 1``.

    Parameters
    ----------
    n : int
        The length of the table.

    Returns
    -------
    ndarray of float64, shape (n,)
        The table (entry ``i`` is ``log(i + 1)``, whatever ``n`` is).

    Examples
    --------
    >>> log_table(3).round(3)
    array([0.   , 0.693, 1.099])
    """
    return np.log(np.arange(1, n + 1, dtype=np.float64))


def score_step(
    a: FloatArray,
    missing: BoolArray | None,
    counts: Int32Array,
    counted: bool,
    log_n: FloatArray,
    out: FloatArray,
    extreme: BoolArray | None = None,
) -> None:
    """Score one step of every series by its own past residuals, then count it.

    The one tick that :func:`seawall.monitoring.detect` loops over and a streaming
    detector calls once per arriving step; the kernel assumes valid input.

    Parameters
    ----------
    a : ndarray of float64, shape (n_series,)
        Standardised absolute residuals, NaN where missing.
    missing : ndarray of bool, shape (n_series,), or None
        Where ``a`` is NaN; ``None`` when nothing is missing.
    counts : ndarray of int32, shape (n_series, 18)
        Per series: the number of counted residuals (column 0), how many exceeded
        each level (columns 1..16) and a spare column of zeros (updated in place).
    counted : bool
        Whether this step's residuals enter the past distribution (not those of
        the initial fit, which are in-sample and too small).
    log_n : ndarray of float64
        :func:`log_table` with more entries than any count (at least the number
        of counted steps + 1).
    out : ndarray of float64, shape (n_series,)
        Output: ``1 - p`` in [0, 1] (1 only where p underflows), from the counted
        steps before this one; NaN where missing. A series with no counted past
        gets ``p = 1`` (score 0).
    extreme : ndarray of bool, shape (n_series,), or None
        Per series, whether the last counted step was extreme (``p <
        EXCLUDE_BELOW``); updated in place. An extreme step is left out of the
        counts only when the one before was extreme too. ``None`` leaves every
        extreme step out.

    Examples
    --------
    >>> counts, out = np.zeros((1, 18), dtype=np.int32), np.empty(1)
    >>> scores = []
    >>> for v in [0.2, 0.7, 0.4, 1.2, 0.1, 0.9, 9.0]:
    ...     score_step(np.array([v]), None, counts, True, log_table(9), out)
    ...     scores.append(round(float(out[0]), 3))
    >>> scores
    [0.0, 0.5, 0.333, 0.75, 0.057, 0.638, 0.857]
    """
    n_series = a.shape[0]
    cols = np.arange(0, n_series * _WIDTH, _WIDTH)
    flat = counts.reshape(-1)
    # Position in level units: bracket floor(x), fraction x - floor(x); x = K
    # (beyond the last level) reads the last level's survival with fraction 0.
    x = np.sqrt(a)
    x *= 1.0 / _H
    if missing is not None:
        np.copyto(x, 0.0, where=missing)
    np.minimum(x, _K, out=x)
    lower = np.floor(x)
    x -= lower  # the fraction
    idx = lower.astype(np.intp)
    idx += cols
    log_lo = log_n.take(flat.take(idx))
    idx += 1
    n_hi = flat.take(idx)
    log_hi = log_n.take(n_hi)
    # log p = log G_lo + frac (log G_hi - log G_lo), G = (N + 1) / (n + 1)
    log_hi -= log_lo
    log_hi *= x
    log_hi += log_lo
    # Beyond the last level that TAIL_COUNT past residuals exceeded, the counts are
    # too few to read: extend log p linearly in sqrt(a) along the slope of the
    # last unit of sqrt(a) below that level (an extreme-value tail, fitted per
    # series), so an unprecedented residual keeps ranking above a merely rare one.
    # The counts fall with the level, so a residual can lie beyond that level only
    # when the upper end of its bracket has fewer than TAIL_COUNT (past the last
    # level it reads the spare zero column): only those few rows need the level.
    candidates = np.flatnonzero(n_hi < TAIL_COUNT)
    if candidates.size:
        anchor = np.count_nonzero(counts[candidates, 1 : _K + 1] >= TAIL_COUNT, axis=1)
        # The uncapped position, for these rows only (NaN where missing: never kept).
        x_full = np.sqrt(a[candidates])
        x_full *= 1.0 / _H
        keep = (x_full > anchor) & (anchor > 0)
        rows, anchor, x_full = candidates[keep], anchor[keep], x_full[keep]
        base = np.maximum(anchor - _TAIL_SPAN, 0)
        log_anchor = log_n.take(flat.take(cols[rows] + anchor))
        log_base = log_n.take(flat.take(cols[rows] + base))
        slope = (log_anchor - log_base) / (anchor - base)
        extrapolated = log_anchor + slope * (x_full - anchor)
        # Where the counts still speak (p above its floor 1 / (n + 1)) the smaller
        # of the two holds: the empirical p keeps its conformal calibration.
        log_hi[rows] = np.minimum(log_hi[rows], extrapolated)
    log_hi -= log_n.take(counts[:, 0])
    np.minimum(log_hi, 0.0, out=log_hi)
    np.exp(log_hi, out=log_hi)
    np.subtract(1.0, log_hi, out=out)
    if missing is not None:
        np.copyto(out, np.nan, where=missing)
    if counted:
        idx -= cols  # bracket + 1: the row of counters this residual exceeds
        if missing is not None:
            np.copyto(idx, 0, where=missing)
        # An extreme step (p < 0.001) that follows another is not counted: an
        # anomaly that lasts would otherwise teach the distribution that it is
        # normal within a few steps. The first of a run is counted, so isolated
        # extremes that recur are learned as the series' tail.
        now = log_hi < EXCLUDE_BELOW
        if extreme is None:
            np.copyto(idx, 0, where=now)
        else:
            np.copyto(idx, 0, where=now & extreme)
            extreme[...] = now
        counts += _EXCEEDS.take(idx, axis=0)

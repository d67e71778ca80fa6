"""Realised performance per window, where labels have arrived: accuracy, AUC, ECE, Brier.

Each is read off a window's mergeable state: accuracy off its confusion counts
(Wilson interval, as :func:`seawall.metrics._estimates.accuracy_estimate`), ROC
AUC and DeLong's variance off its score sketch (exact while the sketch keeps
every distinct score), and the calibration error and Brier score off its
per-bin score moments with the kernels of :mod:`seawall.metrics._scores`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from seawall.metrics._scores import brier_standard_error, calibration_error, histogram_metrics
from seawall.monitoring._points import PointsBuilder, masked
from seawall.monitoring._score_sketch import ScoreSketch
from seawall.monitoring._window_state import WindowState

__all__ = ["accuracy_points", "auc_delong", "score_performance_points"]

FloatArray = npt.NDArray[np.float64]
IdxArray = npt.NDArray[np.intp]


def accuracy_points(
    builder: PointsBuilder, states: list[WindowState], z: float, min_rows: int
) -> None:
    """Add each window's accuracy over its labelled rows, with its Wilson interval.

    Parameters
    ----------
    builder : PointsBuilder
        Where the points go.
    states : list of WindowState
        The windows, in the builder's order.
    z : float
        The interval's normal quantile.
    min_rows : int
        Windows with fewer labelled rows get NaN.
    """
    confusion = np.stack([s.confusion for s in states]).astype(np.float64)
    n = confusion.sum(axis=1).astype(np.int64)
    correct = confusion[:, 0] + confusion[:, 3]
    builder.add_rate("accuracy", "", np.arange(len(states), dtype=np.intp), correct, n, z, min_rows)


def auc_delong(
    sketches: list[ScoreSketch],
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """ROC AUC and DeLong's variance of each sketch's labelled scores (ties count one half).

    Every positive's placement is the share of negatives below it (plus half
    the tied ones), every negative's the share of positives above it; the AUC
    is the mean placement of the positives and its variance is
    ``var(V10) / n1 + var(V01) / n0``. Tied scores share a placement, so the
    sketch's counts give exactly what the rows give.

    Parameters
    ----------
    sketches : list of ScoreSketch
        One per window.

    Returns
    -------
    auc, variance, n_neg, n_pos : ndarray of float64, shape (k,)
        NaN AUC without both classes; NaN variance with fewer than two of
        either.

    References
    ----------
    .. [1] E. R. DeLong, D. M. DeLong, D. L. Clarke-Pearson, "Comparing the areas
       under two or more correlated receiver operating characteristic curves: a
       nonparametric approach", Biometrics 44 (1988) 837-845.

    Examples
    --------
    >>> s = ScoreSketch.from_scores(np.array([0.1, 0.4, 0.35, 0.8]),
    ...                             np.array([0.0, 0.0, 1.0, 1.0]), 100)
    >>> auc, var, n0, n1 = auc_delong([s])
    >>> auc.tolist(), var.round(6).tolist()
    ([0.75], [0.125])
    """
    k = len(sketches)
    sizes = np.array([s.values.size for s in sketches], dtype=np.intp)
    g = np.repeat(np.arange(k, dtype=np.intp), sizes)
    counts = (
        np.concatenate([s.counts for s in sketches]).astype(np.float64)
        if sizes.sum()
        else np.zeros((0, 3))
    )
    neg, pos = counts[:, 0], counts[:, 1]
    n0 = np.bincount(g, weights=neg, minlength=k)
    n1 = np.bincount(g, weights=pos, minlength=k)
    start = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.intp)

    def below(c: FloatArray) -> FloatArray:
        # Counts strictly below each entry within its window.
        run = np.cumsum(c) - c
        base = run[np.minimum(start, max(run.size - 1, 0))] if run.size else run
        out: FloatArray = run - base[g]
        return out

    with np.errstate(divide="ignore", invalid="ignore"):
        v10 = (below(neg) + 0.5 * neg) / n0[g]
        pos_above = n1[g] - below(pos) - pos
        v01 = (pos_above + 0.5 * pos) / n1[g]
        auc = np.bincount(g, weights=pos * v10, minlength=k) / n1
        s10 = np.bincount(g, weights=pos * (v10 - auc[g]) ** 2, minlength=k) / (n1 - 1.0)
        s01 = np.bincount(g, weights=neg * (v01 - auc[g]) ** 2, minlength=k) / (n0 - 1.0)
        var = s10 / n1 + s01 / n0
    both = (n0 > 0) & (n1 > 0)
    return (
        np.where(both, auc, np.nan),
        np.where((n0 > 1) & (n1 > 1), var, np.nan),
        n0.astype(np.float64),
        n1.astype(np.float64),
    )


def score_performance_points(
    builder: PointsBuilder, states: list[WindowState], z: float, alpha: float, min_rows: int
) -> None:
    """Add each window's AUC (DeLong), calibration error and Brier score, labelled rows only.

    The calibration error is :mod:`seawall.metrics`' debiased ECE,
    ``sqrt(max(T, 0))`` with ``T`` the unbiased estimate of the squared gap
    between mean label and mean score over equal-width bins; its interval is
    ``T +- z se`` square-rooted, with the lower bound above 0 only where the
    calibration test rejects at ``alpha / 2`` (as ``group_metrics`` gates its
    bootstrap interval). The Brier score gets ``+- z se``; the AUC ``+- z
    sqrt(DeLong variance)``, all clipped to [0, 1].

    Parameters
    ----------
    builder : PointsBuilder
        Where the points go.
    states : list of WindowState
        The windows (with scores), in the builder's order.
    z : float
        The intervals' normal quantile.
    alpha : float
        ``1 -`` their level.
    min_rows : int
        Windows with fewer labelled scored rows get NaN.
    """
    idx = np.arange(len(states), dtype=np.intp)
    sketches = [s.scores for s in states if s.scores is not None]
    auc, var, n0, n1 = auc_delong(sketches)
    half = z * np.sqrt(var)
    n_lab = (n0 + n1).astype(np.int64)
    lo, hi = np.clip(auc - half, 0.0, 1.0), np.clip(auc + half, 0.0, 1.0)
    builder.add("auc", "", idx, *masked(n_lab >= min_rows, auc, lo, hi), n_lab)

    moments = np.stack([s.calibration for s in states if s.calibration is not None])
    rows, s1, s2, s3, s4 = (moments[:, i] for i in range(5))
    n_bins = rows.shape[-1]
    n = rows.sum(axis=(1, 2)).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ce = calibration_error(rows, s1, s2, (rows, s1, s2), np.arange(n_bins), n_bins)
        t_lo = ce.squared - z * ce.standard_error
        t_hi = ce.squared + z * ce.standard_error
    rejected = ce.null_pvalue < alpha / 2.0
    t_lo = np.where(rejected, t_lo, np.minimum(t_lo, 0.0))
    ece_lo, ece_hi = np.sqrt(np.maximum(t_lo, 0.0)), np.sqrt(np.maximum(t_hi, 0.0))
    builder.add("ece", "", idx, *masked(n >= min_rows, ce.value, ece_lo, ece_hi), n)

    _, brier = histogram_metrics(rows, s1, s2)
    se = brier_standard_error(rows, rows, s1, s2, s3, s4)
    b_lo, b_hi = np.clip(brier - z * se, 0.0, 1.0), np.clip(brier + z * se, 0.0, 1.0)
    builder.add("brier", "", idx, *masked(n >= min_rows, brier, b_lo, b_hi), n)

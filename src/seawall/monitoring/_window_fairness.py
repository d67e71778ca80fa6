"""Fairness per window and sensitive attribute: disparate impact and the TPR gap.

Disparate impact is the lowest group's positive-decision rate over the highest
one's; the TPR gap the highest group's true-positive rate minus the lowest
one's (labelled rows only). Only groups with at least ``min_rows`` rows (for
the TPR, labelled positives) are judged. Their intervals are built as
:func:`seawall.metrics.group_metrics` builds its summary rows: from the
intervals of every pair of judged groups (Koopman or Katz for ratios, Newcombe
for differences), with the bound that a data-chosen pair could break
Bonferroni-corrected over the ``K`` pairs (the lower bound of the gap, the
upper bound of the ratio) and the other at the nominal level.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

from seawall.metrics import newcombe_interval, ratio_interval
from seawall.metrics._spread import abs_interval, symmetric_ratio_interval
from seawall.monitoring._points import PointsBuilder
from seawall.monitoring._sketch_merge import label_index
from seawall.monitoring._window_state import GroupCounts

__all__ = ["dense_counts", "fairness_points", "spread_and_ratio"]

FloatArray = npt.NDArray[np.float64]
IdxArray = npt.NDArray[np.intp]


def dense_counts(tables: list[GroupCounts]) -> FloatArray:
    """Stack every window's group counts on the union of their groups.

    Parameters
    ----------
    tables : list of GroupCounts
        One per window, for one attribute.

    Returns
    -------
    ndarray of float64, shape (k, n_groups, 4)
        Zero where a window lacks a group.

    Examples
    --------
    >>> a = GroupCounts(("F",), np.array([[4, 1, 2, 1]]))
    >>> b = GroupCounts(("M",), np.array([[3, 3, 1, 1]]))
    >>> dense_counts([a, b])[:, :, 0].tolist()
    [[4.0, 0.0], [0.0, 3.0]]
    """
    index = label_index(t.groups for t in tables)
    out = np.zeros((len(tables), max(len(index), 1), 4))
    for i, t in enumerate(tables):
        out[i, [index[g] for g in t.groups]] = t.counts
    return out


def spread_and_ratio(
    x: FloatArray, n: FloatArray, judged: npt.NDArray[np.bool_], alpha: float, *, ratio: bool
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per window, the ratio (lowest over highest) or the gap (highest minus lowest) of rates.

    Parameters
    ----------
    x, n : ndarray of float64, shape (k, n_groups)
        Successes and trials per group.
    judged : ndarray of bool, shape (k, n_groups)
        Which groups count.
    alpha : float
        ``1 -`` the level.
    ratio : bool
        The ratio (disparate impact) or the gap.

    Returns
    -------
    value, lower, upper : ndarray of float64, shape (k,)
        NaN with fewer than two judged groups (or, for the ratio, a highest
        rate of 0).

    Examples
    --------
    >>> x, n = np.array([[10.0, 20.0]]), np.array([[100.0, 100.0]])
    >>> v, lo, hi = spread_and_ratio(x, n, n > 0, 0.05, ratio=True)
    >>> v.tolist()
    [0.5]
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(judged, x / n, np.nan)
    low, high = np.fmin.reduce(rate, axis=1), np.fmax.reduce(rate, axis=1)
    n_judged = judged.sum(axis=1)
    n_pairs = np.maximum(n_judged * (n_judged - 1) // 2, 1)
    z_nominal = float(special.ndtri(1.0 - alpha / 2.0))
    z_corrected = special.ndtri(1.0 - alpha / (2.0 * n_pairs))[:, None]
    i, j = np.triu_indices(x.shape[1], k=1)
    pair_ok = judged[:, i] & judged[:, j]
    # Groups that are not judged get harmless counts; their pairs are masked below.
    xs, ns = np.where(judged, x, 0.0), np.where(judged, n, 1.0)
    a = (xs[:, i], ns[:, i], xs[:, j], ns[:, j])
    if ratio:
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(high > 0, low / high, np.nan)
        lo_nom, _ = symmetric_ratio_interval(*ratio_interval(*a, z_nominal))
        _, hi_cor = symmetric_ratio_interval(*ratio_interval(*a, z_corrected))
        # The smallest ratio: its upper bound is what a data-chosen pair could break.
        lower = np.fmin.reduce(np.where(pair_ok, lo_nom, np.nan), axis=1)
        upper = np.fmin.reduce(np.where(pair_ok, hi_cor, np.nan), axis=1)
    else:
        value = high - low
        lo_cor, _ = abs_interval(*newcombe_interval(*a, z_corrected))
        _, hi_nom = abs_interval(*newcombe_interval(*a, z_nominal))
        # The largest gap: its lower bound is what a data-chosen pair could break.
        lower = np.fmax.reduce(np.where(pair_ok, lo_cor, np.nan), axis=1)
        upper = np.fmax.reduce(np.where(pair_ok, hi_nom, np.nan), axis=1)
    enough = n_judged >= 2
    return (
        np.where(enough, value, np.nan),
        np.where(enough, lower, np.nan),
        np.where(enough, upper, np.nan),
    )


def fairness_points(
    builder: PointsBuilder,
    tables: list[GroupCounts],
    attribute: str,
    alpha: float,
    min_rows: int,
    has_labels: bool,
) -> None:
    """Add each window's disparate impact and (with labels) TPR gap for one sensitive attribute.

    Parameters
    ----------
    builder : PointsBuilder
        Where the points go.
    tables : list of GroupCounts
        The attribute's counts per window, in the builder's order.
    attribute : str
        The attribute (the points' qualifier).
    alpha : float
        ``1 -`` the intervals' level.
    min_rows : int
        The fewest rows (labelled positives for the TPR) a group needs to be judged.
    has_labels : bool
        Whether the logs have a label column (the TPR gap needs one).
    """
    idx = np.arange(len(tables), dtype=np.intp)
    counts = dense_counts(tables)
    rows, positive, labelled_pos, true_pos = (counts[:, :, c] for c in range(4))
    # (metric, successes, trials, ratio): positive rate over rows, TPR over labelled positives.
    metrics = [("disparate_impact", positive, rows, True)]
    if has_labels:
        metrics.append(("tpr_gap", true_pos, labelled_pos, False))
    for metric, x, n, ratio in metrics:
        judged = n >= max(min_rows, 1)
        value = spread_and_ratio(x, n, judged, alpha, ratio=ratio)
        builder.add(
            metric, attribute, idx, *value, np.where(judged, n, 0).sum(axis=1).astype(np.int64)
        )

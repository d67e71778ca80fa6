"""The best plain (non-randomised) thresholds, one per group: an exact search.

Pure kernels over numpy arrays for :class:`~seawall.mitigation.ThresholdPostprocessor`
with ``randomized=False``. They assume valid input.

Every threshold strictly inside a group's scores is a candidate point with its
constrained rate(s) (``coef`` as in ``_derived_lp.py``) and its contribution to
the objective. :func:`best_plain_thresholds` chooses one point per group, all
rates within the tolerance, with the largest total; :func:`smallest_plain_gap`
is the smallest tolerance any choice meets. :func:`plain_rules` and
:func:`plain_gap` apply them to the groups' ROC curves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from seawall.mitigation._roc import RATE_EPS, GroupRoc, RuleArrays

__all__ = [
    "best_plain_thresholds",
    "plain_gap",
    "plain_rules",
    "smallest_plain_gap",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

# Pairs of (TPR, FPR) windows examined at once by the equalized-odds search.
_PAIR_CHUNK = 1 << 20


# --------------------------------------------------------------------------- #
# the search
# --------------------------------------------------------------------------- #


def _argmax_table(v: FloatArray) -> list[IntArray]:
    """Sparse table: ``table[k][i]`` is an argmax of ``v[i : i + 2**k]``."""
    table = [np.arange(v.size, dtype=np.intp)]
    k = 1
    while (1 << k) <= v.size:
        prev, half, m = table[-1], 1 << (k - 1), v.size - (1 << k) + 1
        left, right = prev[:m], prev[half : half + m]
        table.append(np.where(v[right] > v[left], right, left))
        k += 1
    return table


def _range_argmax(table: list[IntArray], v: FloatArray, lo: IntArray, hi: IntArray) -> IntArray:
    """An argmax of ``v[lo[i] : hi[i]]`` for every i (each range non-empty)."""
    k = np.frexp((hi - lo).astype(np.float64))[1] - 1  # floor(log2(length)), exact
    out = np.empty(lo.size, dtype=np.intp)
    for level in np.unique(k).tolist():
        sel = np.flatnonzero(k == level)
        left = table[level][lo[sel]]
        right = table[level][hi[sel] - (1 << level)]
        out[sel] = np.where(v[right] > v[left], right, left)
    return out


def best_plain_thresholds(
    rates: Sequence[FloatArray], values: Sequence[FloatArray], tol: float
) -> tuple[IntArray, float] | None:
    """One point per group, all rates within ``tol``, with the largest total value.

    Each group's candidate points are sorted so that every rate is non-decreasing
    (thresholds from high to low). The search slides a window of width ``tol``
    over the first rate: anchored at every candidate value, each group's points
    inside form an index range, whose best point a sparse table finds in O(1).
    With a second rate (equalized odds), for every first-rate anchor the second
    window is anchored at every second-rate value of the points inside the first
    window, and each group's range is the intersection of its two ranges.

    Cost: one rate, O(G A log P) for G groups, A distinct rates and P points per
    group; two rates, O(G W log P) where W, the number of (anchor, point) pairs,
    is at most A times the points of a group within a first-rate window of width
    ``tol`` -- up to quadratic in the points for a wide tolerance.

    Parameters
    ----------
    rates : sequence of ndarray of float64, shape (n_rates, n_points_g)
        Per group, the constrained rate(s) of each candidate point.
    values : sequence of ndarray of float64, shape (n_points_g,)
        Per group, each point's contribution to the objective.
    tol : float
        The largest allowed gap of each rate between groups.

    Returns
    -------
    (choice, value) or None
        The chosen point of each group (shape (n_groups,)) and the total value;
        ``None`` when no choice meets the tolerance.

    Examples
    --------
    >>> rates = [np.array([[0.2, 0.5, 0.9]]), np.array([[0.45, 0.8]])]
    >>> values = [np.array([1.0, 2.0, 3.0]), np.array([1.0, 5.0])]
    >>> best_plain_thresholds(rates, values, 0.1)
    (array([2, 1]), 8.0)
    """
    first = [r[0] for r in rates]
    anchors = np.unique(np.concatenate(first))
    lo = np.stack([np.searchsorted(r, anchors, side="left") for r in first])
    hi = np.stack([np.searchsorted(r, anchors + tol + RATE_EPS, side="right") for r in first])
    ok = np.all(lo < hi, axis=0)
    lo, hi = lo[:, ok], hi[:, ok]
    if lo.shape[1] == 0:
        return None
    tables = [_argmax_table(v) for v in values]
    if rates[0].shape[0] == 1:
        return _best_of(tables, values, lo, hi)
    return _best_two_rates(rates, tables, values, lo, hi, tol)


def _best_of(
    tables: list[list[IntArray]], values: Sequence[FloatArray], lo: IntArray, hi: IntArray
) -> tuple[IntArray, float] | None:
    """The best window among candidate ranges ``[lo[g, i], hi[g, i])`` (-inf when empty)."""
    ok = np.all(lo < hi, axis=0)
    if not ok.any():
        return None
    lo, hi = lo[:, ok], hi[:, ok]
    picks = np.stack(
        [_range_argmax(t, v, a, b) for t, v, a, b in zip(tables, values, lo, hi, strict=True)]
    )
    total = np.sum([v[p] for v, p in zip(values, picks, strict=True)], axis=0)
    best = int(np.argmax(total))
    return picks[:, best].astype(np.intp), float(total[best])


def _best_two_rates(
    rates: Sequence[FloatArray],
    tables: list[list[IntArray]],
    values: Sequence[FloatArray],
    lo: IntArray,
    hi: IntArray,
    tol: float,
) -> tuple[IntArray, float] | None:
    """Equalized odds: every first-rate window, crossed with the second-rate windows."""
    second = [r[1] for r in rates]
    best: tuple[IntArray, float] | None = None
    # Every point inside a first-rate window may set the second window's lower edge.
    counts = hi - lo  # (n_groups, n_anchors)
    per_anchor = counts.sum(axis=0)
    ends = np.cumsum(per_anchor)
    begin = 0
    while begin < per_anchor.size:
        stop = int(np.searchsorted(ends, (ends[begin - 1] if begin else 0) + _PAIR_CHUNK))
        stop = max(stop, begin + 1)
        anchor_ids, second_lo = [], []
        for g in range(len(rates)):
            n = counts[g, begin:stop]
            ids = np.repeat(np.arange(begin, stop), n)
            offset = np.arange(ids.size) - np.repeat(np.cumsum(n) - n, n)
            anchor_ids.append(ids)
            second_lo.append(second[g][lo[g, ids] + offset])
        ids, edge = np.concatenate(anchor_ids), np.concatenate(second_lo)
        a = np.stack(
            [
                np.maximum(lo[g, ids], np.searchsorted(s, edge, side="left"))
                for g, s in enumerate(second)
            ]
        )
        b = np.stack(
            [
                np.minimum(hi[g, ids], np.searchsorted(s, edge + tol + RATE_EPS, side="right"))
                for g, s in enumerate(second)
            ]
        )
        found = _best_of(tables, values, a, b)
        if found is not None and (best is None or found[1] > best[1]):
            best = found
        begin = stop
    return best


def smallest_plain_gap(rates: Sequence[FloatArray], *, resolution: float = 1e-4) -> float:
    """The smallest tolerance that some choice of one point per group meets.

    With one rate, exact: over every anchor value, the largest of each group's
    next value at or above it, minus the anchor. With two rates (equalized odds),
    bisection on the tolerance to within ``resolution`` (an upper bound).

    Parameters
    ----------
    rates : sequence of ndarray of float64, shape (n_rates, n_points_g)
        Per group, the constrained rate(s) of each candidate point, non-decreasing.
    resolution : float, default=1e-4
        Precision of the bisection (two rates).

    Returns
    -------
    float
        The smallest gap.

    Examples
    --------
    >>> smallest_plain_gap([np.array([[0.2, 0.5, 0.9]]), np.array([[0.45, 0.8]])])
    0.04999999999999999
    """
    if rates[0].shape[0] == 1:
        first = [r[0] for r in rates]
        anchors = np.unique(np.concatenate(first))
        nxt = np.stack(
            [np.append(r, np.inf)[np.searchsorted(r, anchors, side="left")] for r in first]
        )
        return float(np.min(nxt.max(axis=0) - anchors))
    zeros = [np.zeros(r.shape[1]) for r in rates]
    low, high = 0.0, 1.0
    while high - low > resolution:
        mid = (low + high) / 2
        if best_plain_thresholds(rates, zeros, mid) is None:
            low = mid
        else:
            high = mid
    return high


# --------------------------------------------------------------------------- #
# from ROC curves to thresholds
# --------------------------------------------------------------------------- #


def _plain_candidates(
    rocs: Sequence[GroupRoc], coef: FloatArray, gain: FloatArray, cost: FloatArray
) -> tuple[list[FloatArray], list[FloatArray]]:
    """Rates and values of every threshold strictly inside each group's scores."""
    rates, values = [], []
    for g, roc in enumerate(rocs):
        inner = slice(1, roc.tp.size - 1)  # neither "nobody" nor "everybody"
        tpr, fpr = roc.tpr[inner], roc.fpr[inner]
        rates.append(np.stack([coef[k, g] @ np.stack([tpr, fpr]) for k in range(coef.shape[0])]))
        values.append(gain[g] * tpr - cost[g] * fpr)
    return rates, values


def plain_rules(
    rocs: Sequence[GroupRoc], coef: FloatArray, gain: FloatArray, cost: FloatArray, tol: float
) -> RuleArrays | None:
    """The best plain thresholds, one per group, strictly inside its range of scores.

    Parameters
    ----------
    rocs : sequence of GroupRoc
        Every group's ROC points (both classes and two distinct scores present).
    coef : ndarray of float64, shape (n_rates, n_groups, 2)
        The constrained rates as combinations of (TPR, FPR), from
        :func:`~seawall.mitigation._derived_lp.rate_coefficients`.
    gain, cost : ndarray of float64, shape (n_groups,)
        The objective's weights of each group's TPR and FPR, from
        :func:`~seawall.mitigation._derived_lp.objective_weights`.
    tol : float
        The largest allowed gap of each rate between groups.

    Returns
    -------
    RuleArrays or None
        One threshold per group (``t_low == t_high``); ``None`` when no choice
        meets the tolerance.
    """
    found = best_plain_thresholds(*_plain_candidates(rocs, coef, gain, cost), tol)
    if found is None:
        return None
    rules = []
    for roc, j in zip(rocs, found[0].tolist(), strict=True):
        t = float(roc.thresholds[j + 1])
        rules.append((t, t, 0.0, 0.0, 1.0))
    return RuleArrays.from_rules(rules)


def plain_gap(rocs: Sequence[GroupRoc], coef: FloatArray) -> float:
    """The smallest gap between groups that plain thresholds reach (see :func:`plain_rules`).

    Parameters
    ----------
    rocs : sequence of GroupRoc
        Every group's ROC points.
    coef : ndarray of float64, shape (n_rates, n_groups, 2)
        From :func:`~seawall.mitigation._derived_lp.rate_coefficients`.

    Returns
    -------
    float
        The smallest tolerance that some plain thresholds meet.
    """
    zero = np.zeros(len(rocs))
    return smallest_plain_gap(_plain_candidates(rocs, coef, zero, zero)[0])

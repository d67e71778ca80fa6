"""ROC points of a score within each group, their upper hull, and randomised threshold rules.

Pure kernels over numpy arrays for :class:`~seawall.mitigation.ThresholdPostprocessor`.
They assume valid input (finite float scores, 0/1 labels, non-negative weights,
group codes in ``range(n_groups)``); the estimator checks it first.

A threshold rule "predict 1 when score >= t" has, on a group's data, a false
positive rate and a true positive rate: a point of the group's ROC curve. Every
distinct score gives one point, from (0, 0) (``t = +inf``) to (1, 1)
(``t = -inf``). Randomising between rules reaches every point of the convex hull
of these points (Hardt, Price & Srebro 2016, section 4); for objectives that
reward true positives and penalise false positives only the *upper* hull matters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "RATE_EPS",
    "GroupRoc",
    "RuleArrays",
    "group_rocs",
    "point_rule",
    "rule_probability",
    "upper_hull",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

# Hull pruning: vectorised passes while they remove at least this share of points,
# then Andrew's monotone chain (a Python loop) over what is left.
_MIN_PRUNED_SHARE = 0.125
#: Two rates closer than this are equal (rounding of sums of weights).
RATE_EPS = 1e-12


@dataclass(frozen=True, slots=True)
class GroupRoc:
    """The ROC points of one group's scores, at every distinct threshold.

    Point ``j`` is the rule "predict 1 when score >= ``thresholds[j]``": point 0
    predicts nothing (``+inf``), the last predicts everything (``-inf``); a finite
    threshold lies midway between two consecutive distinct scores.

    Attributes
    ----------
    fp, tp : ndarray of float64, shape (n_points,)
        (Weighted) false and true positives of each rule, non-decreasing.
    thresholds : ndarray of float64, shape (n_points,)
        Decreasing thresholds, ``+inf`` first and ``-inf`` last.
    positives, negatives : float
        (Weighted) rows with label 1 and 0.
    n : int
        Rows in the group.
    """

    fp: FloatArray
    tp: FloatArray
    thresholds: FloatArray
    positives: float
    negatives: float
    n: int

    @property
    def fpr(self) -> FloatArray:
        """False positive rate of each rule (NaN without negatives)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            out: FloatArray = self.fp / self.negatives
        return out

    @property
    def tpr(self) -> FloatArray:
        """True positive rate of each rule (NaN without positives)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            out: FloatArray = self.tp / self.positives
        return out


def _midpoints(high: FloatArray, low: FloatArray) -> FloatArray:
    """A cut ``t`` with ``low < t <= high`` between consecutive distinct scores."""
    mid = high / 2 + low / 2  # halves first: no overflow near the float maximum
    # Adjacent floats: the midpoint can round onto ``low``; ``high`` itself is a valid cut.
    return np.where(mid > low, mid, high)


def group_rocs(
    scores: FloatArray,
    y: npt.NDArray[np.int8],
    codes: IntArray,
    n_groups: int,
    weights: FloatArray | None = None,
) -> list[GroupRoc]:
    """The ROC points of every group, from one sort of the rows.

    Parameters
    ----------
    scores : ndarray of float64, shape (n,)
        Finite scores; higher means more likely positive.
    y : ndarray of int8, shape (n,)
        Labels 0/1.
    codes : ndarray of intp, shape (n,)
        Each row's group in ``range(n_groups)``.
    n_groups : int
        The number of groups.
    weights : ndarray of float64, shape (n,), optional
        Non-negative row weights; ``None`` counts rows.

    Returns
    -------
    list of GroupRoc
        One per group, in code order (a group without rows has the two trivial
        points only).

    Examples
    --------
    >>> [roc] = group_rocs(np.array([0.9, 0.2, 0.6, 0.6]), np.array([1, 0, 1, 0], np.int8),
    ...                    np.zeros(4, np.intp), 1)
    >>> roc.tp.tolist(), roc.fp.tolist(), roc.thresholds.tolist()
    ([0.0, 1.0, 2.0, 2.0], [0.0, 0.0, 1.0, 2.0], [inf, 0.75, 0.4, -inf])
    """
    # Rows by group (a stable radix sort of small-integer codes), then by
    # decreasing score within each group.
    small = codes.astype(np.int16 if n_groups <= np.iinfo(np.int16).max else np.int32)
    by_group = np.argsort(small, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=n_groups))])
    order = np.concatenate(
        [
            by_group[lo:hi][np.argsort(scores[by_group[lo:hi]])[::-1]]
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
        ]
        or [by_group]
    )
    s_all = scores[order]
    y_ord = y[order]
    pos_all = y_ord.astype(np.float64) if weights is None else weights[order] * y_ord
    neg_all = (1.0 - y_ord) if weights is None else weights[order] * (1 - y_ord)
    out = []
    for g in range(n_groups):
        lo, hi = int(bounds[g]), int(bounds[g + 1])
        s, pos, neg = s_all[lo:hi], pos_all[lo:hi], neg_all[lo:hi]
        tp_c, fp_c = np.cumsum(pos), np.cumsum(neg)
        # The last row of every block of equal scores closes one rule.
        ends = np.flatnonzero(np.append(s[1:] != s[:-1], True)) if s.size else s.astype(np.intp)
        cuts = _midpoints(s[ends[:-1]], s[ends[:-1] + 1])
        thresholds = np.concatenate([[np.inf], cuts, [-np.inf]])
        tp = np.concatenate([[0.0], tp_c[ends]])
        fp = np.concatenate([[0.0], fp_c[ends]])
        if s.size == 0:
            thresholds = np.array([np.inf, -np.inf])
            tp, fp = np.zeros(2), np.zeros(2)
        total_pos = float(tp_c[-1]) if s.size else 0.0
        total_neg = float(fp_c[-1]) if s.size else 0.0
        out.append(GroupRoc(fp, tp, thresholds, total_pos, total_neg, hi - lo))
    return out


def _above_chord(
    x: FloatArray, y: FloatArray, a: IntArray, i: IntArray, b: IntArray
) -> npt.NDArray[np.bool_]:
    """Whether point ``i`` lies strictly above the segment from ``a`` to ``b``."""
    return (y[i] - y[a]) * (x[b] - x[a]) > (y[b] - y[a]) * (x[i] - x[a])


def upper_hull(x: FloatArray, y: FloatArray) -> IntArray:
    """The vertices of the upper convex hull of points sorted by ``x`` then ``y``.

    Collinear points are dropped, so the hull is strictly concave. The first and
    last points are always kept.

    Parameters
    ----------
    x, y : ndarray of float64, shape (n,)
        The points, ``x`` non-decreasing and ``y`` non-decreasing among equal ``x``
        (as the false and true positives of a ROC curve are).

    Returns
    -------
    ndarray of intp
        Indices of the hull's vertices, increasing.

    Notes
    -----
    A point on or below the chord of its two neighbours is no vertex of the hull
    of the whole set, so every such point can be dropped in the same vectorised
    pass; passes repeat while they remove many points, and Andrew's monotone chain
    finishes on the few that are left. A pass that removes nothing leaves a locally
    concave chain, which is the upper hull.

    Examples
    --------
    >>> upper_hull(np.array([0.0, 0.0, 0.2, 0.3, 0.6, 1.0]),
    ...            np.array([0.0, 0.4, 0.8, 0.82, 0.95, 1.0]))
    array([0, 1, 2, 4, 5])
    """
    idx = np.arange(x.size, dtype=np.intp)
    while idx.size > 2:
        keep = _above_chord(x, y, idx[:-2], idx[1:-1], idx[2:])
        n_drop = keep.size - int(np.count_nonzero(keep))
        if n_drop:
            idx = np.concatenate([idx[:1], idx[1:-1][keep], idx[-1:]])
        if n_drop < _MIN_PRUNED_SHARE * idx.size:
            break
    if idx.size <= 2:
        return idx
    xs, ys = x[idx].tolist(), y[idx].tolist()
    chain: list[int] = []
    for k in range(len(xs)):
        while len(chain) >= 2:
            a, i = chain[-2], chain[-1]
            if (ys[i] - ys[a]) * (xs[k] - xs[a]) > (ys[k] - ys[a]) * (xs[i] - xs[a]):
                break
            chain.pop()
        chain.append(k)
    return idx[np.asarray(chain, dtype=np.intp)]


@dataclass(frozen=True, slots=True)
class RuleArrays:
    """One randomised threshold rule per group, as arrays of shape (n_groups,).

    A row of group ``g`` with score ``s`` is predicted 1 with probability
    ``p_above[g]`` when ``s >= t_high[g]``, ``p_between[g]`` when
    ``t_low[g] <= s < t_high[g]`` and ``p_below[g]`` when ``s < t_low[g]``.
    """

    t_low: FloatArray
    t_high: FloatArray
    p_below: FloatArray
    p_between: FloatArray
    p_above: FloatArray

    @classmethod
    def from_rules(cls, rules: Sequence[tuple[float, float, float, float, float]]) -> RuleArrays:
        """Stack one ``(t_low, t_high, p_below, p_between, p_above)`` tuple per group.

        Parameters
        ----------
        rules : sequence of tuple of float
            One rule per group, in group order (as :func:`point_rule` returns them).

        Returns
        -------
        RuleArrays
            The rules as arrays.

        Examples
        --------
        >>> RuleArrays.from_rules([(0.5, 0.5, 0.0, 0.0, 1.0), (0.2, 0.6, 0.0, 0.5, 1.0)]).p_between
        array([0. , 0.5])
        """
        cols = [np.array(c, dtype=np.float64) for c in zip(*rules, strict=True)]
        return cls(cols[0], cols[1], cols[2], cols[3], cols[4])


def rule_probability(scores: FloatArray, codes: IntArray, rules: RuleArrays) -> FloatArray:
    """The probability that each row is predicted 1.

    Parameters
    ----------
    scores : ndarray of float64, shape (n,)
        The scores.
    codes : ndarray of intp, shape (n,)
        Each row's group.
    rules : RuleArrays
        One rule per group.

    Returns
    -------
    ndarray of float64, shape (n,)
        P(prediction = 1) for every row.

    Examples
    --------
    >>> r = RuleArrays(np.array([0.3]), np.array([0.7]), np.array([0.0]),
    ...                np.array([0.25]), np.array([1.0]))
    >>> rule_probability(np.array([0.1, 0.3, 0.5, 0.7]), np.zeros(4, np.intp), r)
    array([0.  , 0.25, 0.25, 1.  ])
    """
    high = scores >= rules.t_high[codes]
    low = scores < rules.t_low[codes]
    out: FloatArray = rules.p_between[codes]
    out = np.where(high, rules.p_above[codes], np.where(low, rules.p_below[codes], out))
    return out


def point_rule(
    roc: GroupRoc, hull: IntArray, fpr: float, tpr: float
) -> tuple[float, float, float, float, float]:
    """A rule that reaches the ROC point (``fpr``, ``tpr``) of a group in expectation.

    The point must lie between the group's upper hull and the diagonal. It is
    written as a mix of the hull point C at the same false positive rate (itself
    a mix of the two hull vertices around it, thresholds ``t_high > t_low``) and
    the diagonal point D = (fpr, fpr) (predict 1 with probability ``fpr``,
    ignoring the score)::

        (fpr, tpr) = (1 - q) C + q D,  q = (C_tpr - tpr) / (C_tpr - fpr).

    On the hull (the usual case) ``q = 0``; a single vertex gives
    ``t_low = t_high`` (no randomisation between thresholds).

    Parameters
    ----------
    roc : GroupRoc
        The group's ROC points (with both classes present).
    hull : ndarray of intp
        Indices of the upper-hull vertices of ``roc``.
    fpr, tpr : float
        The target point.

    Returns
    -------
    (t_low, t_high, p_below, p_between, p_above) : tuple of float
        The rule (see :class:`RuleArrays`).

    Examples
    --------
    >>> roc = GroupRoc(np.array([0.0, 0.0, 1.0, 2.0]), np.array([0.0, 1.0, 2.0, 2.0]),
    ...                np.array([np.inf, 0.75, 0.4, -np.inf]), 2.0, 2.0, 4)
    >>> point_rule(roc, np.array([0, 1, 2, 3]), 0.25, 0.75)
    (0.4, 0.75, 0.0, 0.5, 1.0)
    """
    hx, hy, ht = roc.fpr[hull], roc.tpr[hull], roc.thresholds[hull]
    x = min(max(fpr, 0.0), 1.0)
    # The last vertex at or left of x (the highest one on a vertical first edge).
    a = int(np.searchsorted(hx, x + RATE_EPS, side="right")) - 1
    a = min(max(a, 0), hx.size - 1)
    if a == hx.size - 1 or hx[a] >= x - RATE_EPS:
        b, lam, c_y = a, 0.0, float(hy[a])
    else:
        b = a + 1
        lam = float((x - hx[a]) / (hx[b] - hx[a]))
        c_y = float(hy[a] + lam * (hy[b] - hy[a]))
        if lam >= 1.0 - RATE_EPS:
            a, lam = b, 0.0
    y = min(max(tpr, x), c_y)
    q = (c_y - y) / (c_y - x) if c_y - x > RATE_EPS and c_y - y > RATE_EPS else 0.0
    t_high, t_low = float(ht[a]), float(ht[b])
    p_above = (1.0 - q) + q * x
    p_below = q * x
    p_between = (1.0 - q) * lam + q * x if b != a else p_below
    return t_low, t_high, p_below, p_between, p_above

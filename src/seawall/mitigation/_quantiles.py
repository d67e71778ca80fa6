"""Quantile functions as knots, and the repair of values through them (Feldman et al.).

Pure kernels over numpy arrays for
:class:`~seawall.mitigation.DisparateImpactRemover`. They assume valid input
(float64 arrays, NaN for missing values, no infinities; knots non-decreasing,
``k >= 2``; group codes in ``range(n_groups)``); the estimator checks it first.

A quantile function is stored as ``k`` knots, its values at the even levels
``0, 1/(k-1), ..., 1``, and is linear between them. Each group ``g`` has its
own, ``Q_g``; the *target* is their pointwise median, ``T(u) = median_g Q_g(u)``.
A value ``x`` of group ``g`` is repaired to ``T(F_g(x))``, the target's value
at the quantile level that ``x`` holds within its group (``F_g``, the inverse of
``Q_g``). A value shared by many rows of a group (an atom) spans a range of
levels; a draw spreads its rows over that range, so that atoms are split as the
target requires.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "group_quantiles",
    "group_runs",
    "knot_ranks",
    "knots_between",
    "median_target",
    "quantile_at",
    "quantile_knots",
    "quantile_level",
    "repair_feature",
    "repair_values",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def quantile_knots(sorted_values: FloatArray, k: int) -> FloatArray:
    """The empirical quantile function of sorted values at ``k`` even levels.

    The i-th smallest of n values (i = 1..n) sits at level ``(i - 1) / (n - 1)``,
    linear in between: numpy's default (``method="linear"``) quantile.

    Parameters
    ----------
    sorted_values : ndarray of float64, shape (n,)
        Sorted values, ``n >= 1``, no NaN.
    k : int
        The number of knots, ``k >= 2``.

    Returns
    -------
    ndarray of float64, shape (k,)
        The quantile function at levels ``0, 1/(k-1), ..., 1``, non-decreasing.

    Examples
    --------
    >>> quantile_knots(np.array([1.0, 2.0, 4.0]), 5)
    array([1. , 1.5, 2. , 3. , 4. ])
    """
    pos, lo, hi = knot_ranks(sorted_values.size, k)
    return knots_between(pos, sorted_values[lo], sorted_values[hi])


def knot_ranks(n: int, k: int) -> tuple[FloatArray, IntArray, IntArray]:
    """Where the ``k`` knots of ``n`` sorted values fall: fractional rank and its neighbours.

    Parameters
    ----------
    n : int
        The number of values, ``n >= 1``.
    k : int
        The number of knots, ``k >= 2``.

    Returns
    -------
    pos : ndarray of float64, shape (k,)
        Each knot's fractional rank, from 0 to ``n - 1``.
    lo, hi : ndarray of intp, shape (k,)
        The ranks (from 0) of the order statistics on either side of it.

    Examples
    --------
    >>> pos, lo, hi = knot_ranks(3, 5)
    >>> pos.tolist(), lo.tolist(), hi.tolist()
    ([0.0, 0.5, 1.0, 1.5, 2.0], [0, 0, 1, 1, 2], [1, 1, 2, 2, 2])
    """
    pos = np.linspace(0.0, n - 1.0, k)
    lo = pos.astype(np.intp)
    return pos, lo, np.minimum(lo + 1, n - 1)


def knots_between(pos: FloatArray, at_lo: FloatArray, at_hi: FloatArray) -> FloatArray:
    """The knots from the order statistics at the ranks of :func:`knot_ranks`.

    Parameters
    ----------
    pos : ndarray of float64, shape (k,)
        The knots' fractional ranks.
    at_lo, at_hi : ndarray of float64, shape (k,)
        The sorted values at the ranks ``lo`` and ``hi``.

    Returns
    -------
    ndarray of float64, shape (k,)
        The knots, linear between the two order statistics, non-decreasing.

    Examples
    --------
    >>> knots_between(np.array([0.0, 0.5, 1.0]), np.array([1.0, 1.0, 2.0]),
    ...               np.array([2.0, 2.0, 2.0]))
    array([1. , 1.5, 2. ])
    """
    lo = pos.astype(np.intp)
    out = at_lo + (pos - lo) * (at_hi - at_lo)
    return np.maximum.accumulate(out)  # rounding must not break monotonicity


def quantile_level(
    knots: FloatArray, x: FloatArray, spread: FloatArray | None = None
) -> tuple[FloatArray, FloatArray | None]:
    """Each value's quantile level under the piecewise-linear quantile function ``knots``.

    The inverse of :func:`quantile_at`: linear between knots. A value equal to a
    run of equal knots (an atom) spans a range of levels: it gets the middle of
    the range (its mid-rank) when ``spread`` is None, else the point ``spread``
    of the way along it. Values outside ``[knots[0], knots[-1]]`` get level 0
    or 1.

    Parameters
    ----------
    knots : ndarray of float64, shape (k,)
        A quantile function at even levels, non-decreasing.
    x : ndarray of float64, shape (n,)
        The values; levels of NaN are meaningless.
    spread : ndarray of float64, shape (n,), default=None
        Uniforms in [0, 1), aligned with ``x``, that place tied values in their range.

    Returns
    -------
    levels : ndarray of float64, shape (n,)
        The levels, in [0, 1].
    overshoot : ndarray of float64, shape (n,), or None
        ``x - knots[0]`` (< 0) below the range, ``x - knots[-1]`` (> 0) above
        it and 0 inside; None when no value is outside.

    Examples
    --------
    >>> knots = np.array([0.0, 1.0, 1.0, 2.0])
    >>> levels, over = quantile_level(knots, np.array([0.5, 1.0, 3.0]))
    >>> levels.round(3).tolist(), over.tolist()
    ([0.167, 0.5, 1.0], [0.0, 0.0, 1.0])
    """
    k = knots.size
    hi = np.searchsorted(knots, x, "right")  # knots[hi - 1] <= x < knots[hi]
    left = hi - 1
    np.maximum(left, 0, out=left)
    kl = knots[left]
    span = knots[np.minimum(hi, k - 1)]
    span -= kl
    # A zero span (below, above or on a run of ties) must give the left knot's level.
    span[span <= 0] = np.inf
    dist = x - kl
    pos = dist / span
    pos += left
    tied = np.flatnonzero(dist == 0)
    if tied.size:
        lo = np.searchsorted(knots, x[tied], "left")
        if spread is None:
            pos[tied] = 0.5 * (lo + hi[tied] - 1)
        else:
            # The atom's CDF step runs half a knot beyond its first and last knot.
            pos[tied] = np.clip(lo - 0.5 + spread[tied] * (hi[tied] - lo), 0.0, k - 1.0)
    pos /= k - 1
    below = np.flatnonzero(hi == 0)
    above = np.flatnonzero(hi == k)
    above = above[dist[above] > 0]
    if below.size == 0 and above.size == 0:
        return pos, None
    over = np.zeros_like(pos)
    over[below] = x[below] - knots[0]
    over[above] = dist[above]
    return pos, over


def quantile_at(knots: FloatArray, u: FloatArray) -> FloatArray:
    """The piecewise-linear quantile function through ``knots`` at levels ``u``.

    Parameters
    ----------
    knots : ndarray of float64, shape (k,)
        A quantile function at even levels, non-decreasing.
    u : ndarray of float64, shape (n,)
        Levels in [0, 1].

    Returns
    -------
    ndarray of float64, shape (n,)
        The quantiles.

    Examples
    --------
    >>> quantile_at(np.array([0.0, 1.0, 4.0]), np.array([0.0, 0.25, 0.75, 1.0]))
    array([0. , 0.5, 2.5, 4. ])
    """
    k = knots.size
    pos = u * (k - 1)
    i = np.clip(pos.astype(np.intp), 0, k - 2)
    return knots[i] + (pos - i) * (knots[i + 1] - knots[i])


def group_runs(codes: IntArray, n_groups: int) -> tuple[IntArray, IntArray]:
    """The rows sorted stably by group, and where each group's run starts and ends.

    Parameters
    ----------
    codes : ndarray of intp, shape (n,)
        Each row's group code, in ``range(n_groups)``.
    n_groups : int
        The number of groups.

    Returns
    -------
    order : ndarray of intp, shape (n,)
        The rows, group after group, each group's in their original order.
    bounds : ndarray of intp, shape (n_groups + 1,)
        Group ``g``'s rows are ``order[bounds[g]:bounds[g + 1]]``.

    Examples
    --------
    >>> order, bounds = group_runs(np.array([1, 0, 1, 0]), 3)
    >>> order.tolist(), bounds.tolist()
    ([1, 3, 0, 2], [0, 2, 4, 4])
    """
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=n_groups))])
    return order, bounds


def group_quantiles(
    x: FloatArray, order: IntArray, bounds: IntArray, k: int
) -> tuple[FloatArray, FloatArray]:
    """Each group's quantile function of one feature, and that of all rows, as knots.

    Parameters
    ----------
    x : ndarray of float64, shape (n,)
        The feature; NaN (missing) is left out.
    order, bounds : ndarray of intp
        The rows grouped, as :func:`group_runs` returns them; each group has a
        non-missing value.
    k : int
        Knots per quantile function, ``k >= 2``.

    Returns
    -------
    groups : ndarray of float64, shape (n_groups, k)
        Each group's knots (:func:`quantile_knots`).
    pooled : ndarray of float64, shape (k,)
        The knots of all non-missing values.

    Examples
    --------
    >>> x = np.array([1.0, 10.0, 3.0, np.nan, 30.0])
    >>> order, bounds = group_runs(np.array([0, 1, 0, 1, 1]), 2)
    >>> groups, pooled = group_quantiles(x, order, bounds, 3)
    >>> groups.tolist(), pooled.tolist()
    ([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]], [1.0, 6.5, 30.0])
    """
    xs = x[order]
    n_groups = bounds.size - 1
    out = np.empty((n_groups, k))
    for g in range(n_groups):
        seg = xs[bounds[g] : bounds[g + 1]]
        seg.sort()  # NaN sorts last
        out[g] = quantile_knots(seg[: seg.size - int(np.isnan(seg).sum())], k)
    # Sorted runs per group: the stable sort (timsort) merges them in linear time.
    xs = np.sort(xs, kind="stable")
    return out, quantile_knots(xs[: xs.size - int(np.isnan(xs).sum())], k)


def median_target(knots: FloatArray) -> FloatArray:
    """The target quantile function: the median over groups at each level.

    The median of non-decreasing curves is non-decreasing, so the target is a
    quantile function. With two groups it is the midpoint of the two curves.

    Parameters
    ----------
    knots : ndarray of float64, shape (..., n_groups, k)
        The groups' knots (of one feature, or stacked over features).

    Returns
    -------
    ndarray of float64, shape (..., k)
        The target's knots.

    Examples
    --------
    >>> median_target(np.array([[1.0, 2.0], [3.0, 8.0], [4.0, 5.0]]))
    array([3., 5.])
    """
    out: FloatArray = np.median(knots, axis=-2)
    return out


def repair_values(
    x: FloatArray,
    group_knots: FloatArray,
    target_knots: FloatArray,
    pooled_knots: FloatArray,
    repair_level: float,
    combinatorial: bool,
    spread: FloatArray | None,
) -> FloatArray:
    """Repair one group's values of one feature; NaN stays NaN.

    Full repair: ``t = T(F_g(x))`` (plus the overshoot of ``x`` beyond the
    group's range, so values outside it keep their distance to it), an atom of
    the group spread over its levels by ``spread`` (see :func:`quantile_level`).
    Geometric: ``(1 - λ) x + λ t``. Combinatorial: the pooled quantile function
    at the pooled level moved a fraction ``λ`` from that of ``x`` to that of ``t``.

    Parameters
    ----------
    x : ndarray of float64, shape (n,)
        The group's values.
    group_knots, target_knots, pooled_knots : ndarray of float64, shape (k,)
        The quantile functions of the group, of the target and of all rows.
    repair_level : float
        ``λ`` in [0, 1].
    combinatorial : bool
        Whether a partial repair moves values in pooled rank (else in value).
    spread : ndarray of float64, shape (n,), or None
        Uniforms in [0, 1) that place tied values; None puts them at mid-rank.

    Returns
    -------
    ndarray of float64, shape (n,)
        The repaired values.

    Examples
    --------
    >>> group, target = np.array([1.0, 2.0, 3.0]), np.array([5.0, 6.0, 7.0])
    >>> repair_values(np.array([1.5, 4.0]), group, target, target, 0.5, False, None)
    array([3.5, 6. ])
    """
    if repair_level == 0.0:
        return x.copy()
    missing = np.isnan(x)
    if missing.any():
        out = x.copy()
        ok = ~missing
        out[ok] = repair_values(
            x[ok],
            group_knots,
            target_knots,
            pooled_knots,
            repair_level,
            combinatorial,
            None if spread is None else spread[ok],
        )
        return out
    u, over = quantile_level(group_knots, x, spread)
    out = quantile_at(target_knots, u)
    if over is not None:
        out += over
    lam = repair_level
    if lam < 1.0 and not combinatorial:
        out *= lam
        out += (1.0 - lam) * x
    elif lam < 1.0:
        rx, ox = quantile_level(pooled_knots, x)
        rt, ot = quantile_level(pooled_knots, out)
        rx *= 1.0 - lam
        rx += lam * rt
        out = quantile_at(pooled_knots, rx)
        if ox is not None:
            out += (1.0 - lam) * ox
        if ot is not None:
            out += lam * ot
    return out


def repair_feature(
    x: FloatArray,
    order: IntArray,
    bounds: IntArray,
    group_knots: FloatArray,
    target_knots: FloatArray,
    pooled_knots: FloatArray,
    repair_level: float,
    combinatorial: bool,
    spread: FloatArray | None,
) -> FloatArray:
    """Repair one feature, each row with its own group's quantile function.

    Parameters
    ----------
    x : ndarray of float64, shape (n,)
        The feature; NaN stays NaN.
    order, bounds : ndarray of intp
        The rows grouped, as :func:`group_runs` returns them.
    group_knots : ndarray of float64, shape (n_groups, k)
        Each group's quantile function.
    target_knots, pooled_knots : ndarray of float64, shape (k,)
        The target's and all rows' quantile functions.
    repair_level : float
        ``λ`` in [0, 1].
    combinatorial : bool
        Whether a partial repair moves values in pooled rank (else in value).
    spread : ndarray of float64, shape (n,), or None
        One uniform per row (by row position) that places tied values.

    Returns
    -------
    ndarray of float64, shape (n,)
        The repaired feature, in the rows' order.

    See Also
    --------
    repair_values : The repair of one group's values.

    Examples
    --------
    >>> x = np.array([1.0, 10.0, 3.0, 30.0])
    >>> order, bounds = group_runs(np.array([0, 1, 0, 1]), 2)
    >>> knots = np.array([[1.0, 3.0], [10.0, 30.0]])
    >>> target = median_target(knots)
    >>> repair_feature(x, order, bounds, knots, target, target, 1.0, False, None)
    array([ 5.5,  5.5, 16.5, 16.5])
    """
    xs = x[order]
    spread = None if spread is None else spread[order]
    for g in range(bounds.size - 1):
        lo, hi = bounds[g], bounds[g + 1]
        if hi > lo:
            xs[lo:hi] = repair_values(
                xs[lo:hi],
                group_knots[g],
                target_knots,
                pooled_knots,
                repair_level,
                combinatorial,
                None if spread is None else spread[lo:hi],
            )
    out = np.empty(x.size)
    out[order] = xs
    return out

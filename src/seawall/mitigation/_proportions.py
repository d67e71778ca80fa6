"""Category proportions of each group, and their repair towards a common law.

Pure kernels over numpy arrays for the ``categorical="proportions"`` repair of
:class:`~seawall.mitigation.DisparateImpactRemover`. They assume valid input
(group codes in ``range(n_groups)``, category codes in ``range(n_categories)``
or -1 for a missing or unseen category); the estimator checks it first.

Each group ``g`` has category proportions ``p_g``; the *target* ``π`` is the
median over groups of each category's proportion, renormalised to sum to 1.
A repair at level ``λ`` moves rows between categories so that, in expectation,
group ``g`` follows ``d_g = (1 - λ) p_g + λ π``, moving no row that need not.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "category_counts",
    "category_proportions",
    "move_categories",
    "proportions_of",
    "repair_categories",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def category_proportions(
    groups: IntArray, categories: IntArray, n_groups: int, n_categories: int
) -> tuple[FloatArray, FloatArray]:
    """Each group's category proportions, and the target: their median over groups.

    Parameters
    ----------
    groups : ndarray of intp, shape (n,)
        Each row's group code.
    categories : ndarray of intp, shape (n,)
        Each row's category code; -1 (missing) is left out.
    n_groups, n_categories : int
        The numbers of groups (``>= 1``) and of categories.

    Returns
    -------
    proportions : ndarray of float64, shape (n_groups, n_categories)
        Each group's proportions (zeros for a group with no category).
    target : ndarray of float64, shape (n_categories,)
        The median over groups with a category of each category's proportion,
        renormalised to sum to 1.

    Examples
    --------
    >>> props, target = category_proportions(
    ...     np.array([0, 0, 0, 0, 1, 1]), np.array([0, 0, 0, 1, 1, -1]), 2, 2
    ... )
    >>> props.tolist(), target.tolist()
    ([[0.75, 0.25], [0.0, 1.0]], [0.375, 0.625])
    """
    return proportions_of(category_counts(groups, categories, n_groups, n_categories))


def category_counts(
    groups: IntArray, categories: IntArray, n_groups: int, n_categories: int
) -> FloatArray:
    """Rows per group and category, missing categories (-1) left out.

    Counts add up over parts of a table, so the proportions of a table split
    across machines are :func:`proportions_of` the summed counts.

    Examples
    --------
    >>> category_counts(np.array([0, 0, 1]), np.array([1, -1, 0]), 2, 2).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    known = categories >= 0
    counts = np.zeros((n_groups, n_categories))
    np.add.at(counts, (groups[known], categories[known]), 1.0)
    return counts


def proportions_of(counts: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Each group's category proportions and the target, from counts per group and category.

    Parameters
    ----------
    counts : ndarray of float64, shape (n_groups, n_categories)
        Rows per group and category (missing values left out), ``n_groups >= 1``.

    Returns
    -------
    proportions, target : ndarray of float64
        As :func:`category_proportions` returns them.

    Examples
    --------
    >>> props, target = proportions_of(np.array([[3.0, 1.0], [0.0, 1.0]]))
    >>> props.tolist(), target.tolist()
    ([[0.75, 0.25], [0.0, 1.0]], [0.375, 0.625])
    """
    n_categories = counts.shape[1]
    totals = counts.sum(axis=1, keepdims=True)
    props = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    target = np.median(props[totals[:, 0] > 0], axis=0) if n_categories else props[0]
    total = target.sum()
    return props, target / total if total > 0 else target


def move_categories(
    codes: IntArray,
    proportions: FloatArray,
    target: FloatArray,
    repair_level: float,
    draws: FloatArray,
) -> IntArray:
    """Reassign one group's category codes towards ``target``.

    The group's desired law is ``d = (1 - λ) p + λ π``. A row of a category with
    surplus ``p_c > d_c`` leaves it with probability ``(p_c - d_c) / p_c`` and goes
    to a category with a deficit, chosen with probability proportional to
    ``d_c - p_c``: in expectation the group then has law ``d`` exactly, and no
    row moves that need not.

    Parameters
    ----------
    codes : ndarray of intp, shape (n,)
        The group's category codes; -1 (missing or unseen) is kept.
    proportions : ndarray of float64, shape (n_categories,)
        The group's proportions ``p``.
    target : ndarray of float64, shape (n_categories,)
        The target proportions ``π``.
    repair_level : float
        ``λ`` in [0, 1].
    draws : ndarray of float64, shape (n, 2)
        Two uniforms in [0, 1) per row: whether it leaves, and where it goes.

    Returns
    -------
    ndarray of intp, shape (n,)
        The new codes (``codes`` itself when no category has a deficit).

    Examples
    --------
    >>> codes = np.zeros(1000, dtype=np.intp)
    >>> moved = move_categories(codes, np.array([1.0, 0.0]), np.array([0.5, 0.5]), 1.0,
    ...                         np.random.default_rng(0).random((1000, 2)))
    >>> 400 < int(moved.sum()) < 600
    True
    """
    desired = (1.0 - repair_level) * proportions + repair_level * target
    surplus = np.maximum(proportions - desired, 0.0)
    deficit = np.maximum(desired - proportions, 0.0)
    if deficit.sum() <= 0.0:
        return codes
    with np.errstate(invalid="ignore", divide="ignore"):
        leave = np.where(proportions > 0, surplus / proportions, 0.0)
    known = codes >= 0
    moving = known & (draws[:, 0] < leave[np.where(known, codes, 0)])
    cumulative = np.cumsum(deficit / deficit.sum())
    cumulative[-1] = 1.0
    dest = np.searchsorted(cumulative, draws[moving, 1], "right")
    out = codes.copy()
    out[moving] = np.minimum(dest, proportions.size - 1)
    return out


def repair_categories(
    groups: IntArray,
    categories: IntArray,
    proportions: FloatArray,
    target: FloatArray,
    repair_level: float,
    draws: FloatArray,
) -> IntArray:
    """Reassign every group's category codes towards ``target``, group by group.

    Parameters
    ----------
    groups : ndarray of intp, shape (n,)
        Each row's group code.
    categories : ndarray of intp, shape (n,)
        Each row's category code; -1 (missing or unseen) is kept.
    proportions : ndarray of float64, shape (n_groups, n_categories)
        Each group's proportions, as learned by :func:`category_proportions`.
    target : ndarray of float64, shape (n_categories,)
        The target proportions.
    repair_level : float
        ``λ`` in [0, 1].
    draws : ndarray of float64, shape (n, 2)
        Two uniforms per row (see :func:`move_categories`), aligned with ``groups``.

    Returns
    -------
    ndarray of intp, shape (n,)
        The new codes.

    Examples
    --------
    >>> groups = np.repeat([0, 1], 500)
    >>> categories = groups.copy()
    >>> props = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> out = repair_categories(groups, categories, props, np.array([0.5, 0.5]), 1.0,
    ...                         np.random.default_rng(0).random((1000, 2)))
    >>> [200 < int((out[groups == g] == g).sum()) < 300 for g in (0, 1)]
    [True, True]
    """
    out = categories.copy()
    for g in range(proportions.shape[0]):
        rows = np.flatnonzero(groups == g)
        if rows.size and target.size:
            out[rows] = move_categories(
                categories[rows], proportions[g], target, repair_level, draws[rows]
            )
    return out

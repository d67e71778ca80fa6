"""The best derived predictor: one linear program over the groups' ROC hulls.

Pure kernels over numpy arrays for :class:`~seawall.mitigation.ThresholdPostprocessor`
(Hardt, Price & Srebro 2016, section 4). They assume valid input. The exact
search for plain (non-randomised) thresholds lives in ``_plain_thresholds.py``.

Every group ``g`` gets a point (``fpr_g``, ``tpr_g``). The objective is linear,
``sum_g gain[g] * tpr_g - cost[g] * fpr_g`` (plus a constant), and so is every
constrained rate, ``rate_k(g) = coef[k, g, 0] * tpr_g + coef[k, g, 1] * fpr_g``
(``k`` = 0 only, or 0 and 1 for equalized odds). A constraint holds within
``tol`` when, for every ``k``, the largest and the smallest ``rate_k(g)`` over the
groups differ by at most ``tol``; equivalently, some common level ``c_k`` is
within ``tol / 2`` of every group's rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import linprog

from seawall.mitigation._roc import RATE_EPS, GroupRoc, RuleArrays, point_rule, upper_hull

__all__ = [
    "LpSolution",
    "chain_point_at_rate",
    "objective_weights",
    "randomized_rules",
    "rate_coefficients",
    "solve_derived_lp",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class LpSolution:
    """The optimum of the derived-predictor linear program.

    Attributes
    ----------
    fpr, tpr : ndarray of float64, shape (n_groups,)
        Each group's mixed ROC point.
    levels : ndarray of float64, shape (n_rates,)
        The common level ``c_k`` of every constrained rate.
    value : float
        ``sum_g gain[g] * tpr_g - cost[g] * fpr_g`` at the optimum.
    """

    fpr: FloatArray
    tpr: FloatArray
    levels: FloatArray
    value: float


def solve_derived_lp(
    hull_fpr: Sequence[FloatArray],
    hull_tpr: Sequence[FloatArray],
    gain: FloatArray,
    cost: FloatArray,
    coef: FloatArray,
    tol: float,
) -> LpSolution | None:
    """Mix each group's hull vertices to maximise the objective under the constraint.

    Variables: a weight ``w[g, j] >= 0`` per hull vertex (summing to 1 in each
    group) and the common levels ``c_k`` in [0, 1]. With ``tol = 0`` the rates
    equal the levels; otherwise ``|rate_k(g) - c_k| <= tol / 2``. Solved by HiGHS.

    Parameters
    ----------
    hull_fpr, hull_tpr : sequence of ndarray of float64
        Per group, the rates of its upper-hull vertices, shape (n_vertices_g,).
    gain, cost : ndarray of float64, shape (n_groups,)
        Objective weights of each group's TPR and FPR.
    coef : ndarray of float64, shape (n_rates, n_groups, 2)
        Constrained rates as combinations of (TPR, FPR).
    tol : float
        The largest allowed gap of each rate between groups.

    Returns
    -------
    LpSolution or None
        The optimum; ``None`` when HiGHS reports no optimum (never expected: every
        group can reach (0, 0) and (1, 1)).

    Examples
    --------
    >>> sol = solve_derived_lp([np.array([0.0, 0.0, 1.0]), np.array([0.0, 0.5, 1.0])],
    ...                        [np.array([0.0, 0.5, 1.0]), np.array([0.0, 1.0, 1.0])],
    ...                        np.array([0.5, 0.5]), np.array([0.5, 0.5]),
    ...                        np.array([[[1.0, 0.0], [1.0, 0.0]]]), 0.0)
    >>> sol.tpr.round(6).tolist(), sol.fpr.round(6).tolist(), round(sol.value, 6)
    ([0.5, 0.5], [0.0, 0.25], 0.375)
    """
    n_groups, n_rates = len(hull_fpr), coef.shape[0]
    sizes = np.array([h.size for h in hull_fpr], dtype=np.intp)
    start = np.concatenate([[0], np.cumsum(sizes)])
    n_w = int(start[-1])
    group = np.repeat(np.arange(n_groups), sizes)
    fpr, tpr = np.concatenate(hull_fpr), np.concatenate(hull_tpr)
    c = np.concatenate([-(gain[group] * tpr - cost[group] * fpr), np.zeros(n_rates)])
    # One row per group: its weights sum to one.
    simplex = sparse.csr_array(
        (np.ones(n_w), (group, np.arange(n_w))), shape=(n_groups, n_w + n_rates)
    )
    # One row per (rate, group): the group's rate minus the common level.
    rows, cols, vals = [], [], []
    for k in range(n_rates):
        rate = coef[k, group, 0] * tpr + coef[k, group, 1] * fpr
        rows += [k * n_groups + group, k * n_groups + np.arange(n_groups)]
        cols += [np.arange(n_w), np.full(n_groups, n_w + k)]
        vals += [rate, -np.ones(n_groups)]
    gaps = sparse.csr_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_rates * n_groups, n_w + n_rates),
    )
    bounds = [(0.0, None)] * n_w + [(0.0, 1.0)] * n_rates
    if tol == 0.0:
        a_eq = sparse.vstack([simplex, gaps]).tocsr()
        b_eq = np.concatenate([np.ones(n_groups), np.zeros(n_rates * n_groups)])
        res = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    else:
        a_ub = sparse.vstack([gaps, -gaps]).tocsr()
        b_ub = np.full(2 * n_rates * n_groups, tol / 2)
        res = linprog(
            c, A_ub=a_ub, b_ub=b_ub, A_eq=simplex, b_eq=np.ones(n_groups), bounds=bounds,
            method="highs",
        )  # fmt: skip
    if res.status != 0 or res.x is None:
        return None
    w = np.clip(res.x[:n_w], 0.0, None)
    sums = np.add.reduceat(w, start[:-1]) if n_w else np.zeros(n_groups)
    w = w / np.where(sums > 0, sums, 1.0)[group]
    out_fpr = np.bincount(group, w * fpr, minlength=n_groups).astype(np.float64)
    out_tpr = np.bincount(group, w * tpr, minlength=n_groups).astype(np.float64)
    value = float(np.sum(gain * out_tpr - cost * out_fpr))
    return LpSolution(out_fpr, out_tpr, np.asarray(res.x[n_w:], dtype=np.float64), value)


def chain_point_at_rate(
    hull_fpr: FloatArray, hull_tpr: FloatArray, coef: FloatArray, level: float
) -> tuple[float, float]:
    """The point of a group's upper hull where a rate takes the value ``level``.

    The rate ``coef[0] * tpr + coef[1] * fpr`` (non-negative weights) does not
    decrease along the hull; where it is flat (TPR = 1 on a last horizontal
    edge) the left-most point is returned, the one with the fewest false positives.

    Parameters
    ----------
    hull_fpr, hull_tpr : ndarray of float64, shape (n_vertices,)
        The hull's vertices, from (0, 0) to (1, 1).
    coef : ndarray of float64, shape (2,)
        The rate's weights of TPR and FPR.
    level : float
        The rate's target value, in [0, 1].

    Returns
    -------
    (fpr, tpr) : tuple of float
        The point.

    Examples
    --------
    >>> chain_point_at_rate(np.array([0.0, 0.5, 1.0]), np.array([0.0, 1.0, 1.0]),
    ...                     np.array([1.0, 0.0]), 0.5)
    (0.25, 0.5)
    """
    rate = coef[0] * hull_tpr + coef[1] * hull_fpr
    j = int(np.searchsorted(rate, level - RATE_EPS, side="left"))
    j = min(j, rate.size - 1)
    if j == 0 or rate[j] <= level + RATE_EPS:
        return float(hull_fpr[j]), float(hull_tpr[j])
    lam = (level - rate[j - 1]) / (rate[j] - rate[j - 1])
    fpr = hull_fpr[j - 1] + lam * (hull_fpr[j] - hull_fpr[j - 1])
    tpr = hull_tpr[j - 1] + lam * (hull_tpr[j] - hull_tpr[j - 1])
    return float(fpr), float(tpr)


# --------------------------------------------------------------------------- #
# from ROC curves to rules
# --------------------------------------------------------------------------- #


def rate_coefficients(constraint: str, positives: FloatArray, negatives: FloatArray) -> FloatArray:
    """The constrained rate(s) of every group as weights of (TPR, FPR).

    Parameters
    ----------
    constraint : {"equal_opportunity", "equalized_odds", "demographic_parity"}
        The constraint.
    positives, negatives : ndarray of float64, shape (n_groups,)
        Each group's (weighted) rows of each class.

    Returns
    -------
    ndarray of float64, shape (n_rates, n_groups, 2)
        TPR; TPR and FPR; or the selection rate (P TPR + N FPR) / (P + N).

    Examples
    --------
    >>> rate_coefficients("demographic_parity", np.array([1.0]), np.array([3.0])).tolist()
    [[[0.25, 0.75]]]
    """
    n_groups = positives.size
    if constraint == "equal_opportunity":
        return np.tile([1.0, 0.0], (1, n_groups, 1))
    if constraint == "equalized_odds":
        return np.stack([np.tile([1.0, 0.0], (n_groups, 1)), np.tile([0.0, 1.0], (n_groups, 1))])
    mass = np.stack([positives, negatives], axis=1)
    out: FloatArray = (mass / mass.sum(axis=1, keepdims=True))[None, :, :]
    return out


def objective_weights(
    objective: str, positives: FloatArray, negatives: FloatArray
) -> tuple[FloatArray, FloatArray, float]:
    """The objective as ``constant + sum_g gain[g] * TPR_g - cost[g] * FPR_g``.

    Accuracy is ``(sum_g P_g TPR_g + N_g (1 - FPR_g)) / n``; balanced accuracy,
    over all rows, ``(TPR + 1 - FPR) / 2`` with ``TPR = sum_g P_g TPR_g / P``
    and ``FPR = sum_g N_g FPR_g / N``.

    Parameters
    ----------
    objective : {"accuracy", "balanced_accuracy"}
        The objective.
    positives, negatives : ndarray of float64, shape (n_groups,)
        Each group's (weighted) rows of each class.

    Returns
    -------
    (gain, cost, constant) : (ndarray, ndarray, float)
        The weights of TPR and FPR per group, and the constant.

    Examples
    --------
    >>> objective_weights("accuracy", np.array([1.0, 1.0]), np.array([1.0, 1.0]))
    (array([0.25, 0.25]), array([0.25, 0.25]), 0.5)
    """
    if objective == "accuracy":
        total = positives.sum() + negatives.sum()
        return positives / total, negatives / total, float(negatives.sum() / total)
    return positives / (2 * positives.sum()), negatives / (2 * negatives.sum()), 0.5


def randomized_rules(
    rocs: Sequence[GroupRoc], coef: FloatArray, gain: FloatArray, cost: FloatArray, tol: float
) -> RuleArrays | None:
    """Hardt et al.'s derived predictor: the LP over the groups' hull vertices, as rules.

    With one constrained rate, each group's point is the hull point at its rate
    (the best point with that rate); with ``tol = 0`` the rates are the LP's
    common levels exactly, not HiGHS's rounding of them.

    Parameters
    ----------
    rocs : sequence of GroupRoc
        Every group's ROC points (both classes present).
    coef : ndarray of float64, shape (n_rates, n_groups, 2)
        From :func:`rate_coefficients`.
    gain, cost : ndarray of float64, shape (n_groups,)
        From :func:`objective_weights`.
    tol : float
        The largest allowed gap of each rate between groups.

    Returns
    -------
    RuleArrays or None
        One rule per group; ``None`` if the LP has no optimum (not expected).
    """
    hulls = [upper_hull(r.fp, r.tp) for r in rocs]
    hfpr = [r.fpr[h] for r, h in zip(rocs, hulls, strict=True)]
    htpr = [r.tpr[h] for r, h in zip(rocs, hulls, strict=True)]
    sol = solve_derived_lp(hfpr, htpr, gain, cost, coef, tol)
    if sol is None:
        return None
    exact = tol == 0.0
    rules = []
    for g, roc in enumerate(rocs):
        if coef.shape[0] == 1:
            level = sol.levels[0] if exact else coef[0, g] @ [sol.tpr[g], sol.fpr[g]]
            fpr, tpr = chain_point_at_rate(hfpr[g], htpr[g], coef[0, g], float(level))
        elif exact:
            tpr, fpr = float(sol.levels[0]), float(sol.levels[1])
        else:
            fpr, tpr = float(sol.fpr[g]), float(sol.tpr[g])
        rules.append(point_rule(roc, hulls[g], fpr, tpr))
    return RuleArrays.from_rules(rules)

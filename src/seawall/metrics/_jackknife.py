"""Leave-one-row-out (jackknife) values of score metrics, from score histograms.

Removing one row from a histogram cell changes AUC and the Brier score in closed
form, so the jackknife needs one value per cell, weighted by the cell's rows,
never a pass per row. The values give the acceleration of BCa intervals.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["acceleration", "histogram_jackknife"]

FloatArray = npt.NDArray[np.float64]


def histogram_jackknife(
    rows: FloatArray, weight: FloatArray, s1: FloatArray, s2: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """AUC and Brier score with one row of each cell left out.

    Parameters
    ----------
    rows, weight, s1, s2 : ndarray of float64, shape (n, 2, n_bins)
        Per group, class (negatives first) and score bin: rows, sum of weights,
        and weighted sums of the score and its square.

    Returns
    -------
    values : ndarray of float64, shape (n, 2, 2 * n_bins)
        For AUC and Brier (axis 1), the metric without one row of each cell
        (axis 2: the negatives' bins, then the positives').
    multiplicity : ndarray of float64, shape (n, 2 * n_bins)
        How many rows each cell holds (0 for an empty cell).

    Examples
    --------
    >>> rows = np.array([[[2.0, 1.0], [0.0, 3.0]]])
    >>> s1 = np.array([[[0.2, 0.7], [0.0, 2.4]]])
    >>> s2 = np.array([[[0.02, 0.49], [0.0, 1.92]]])
    >>> values, mult = histogram_jackknife(rows, rows, s1, s2)
    >>> round(float(values[0, 0, 0]), 4), mult[0].tolist()
    (0.75, [2.0, 1.0, 0.0, 3.0])
    """
    neg, pos = weight[:, 0, :], weight[:, 1, :]
    p_tot = pos.sum(axis=1, keepdims=True)
    n_tot = neg.sum(axis=1, keepdims=True)
    neg_below = np.cumsum(neg, axis=1) - neg
    pos_above = p_tot - np.cumsum(pos, axis=1)
    u = np.sum(pos * (neg_below + 0.5 * neg), axis=1, keepdims=True)
    # sum over rows of w (s - y)^2, per cell; then per group.
    sq = np.stack([s2[:, 0, :], s2[:, 1, :] - 2.0 * s1[:, 1, :] + pos], axis=1)
    total_sq = sq.sum(axis=(1, 2))[:, None]
    total_w = p_tot + n_tot
    with np.errstate(divide="ignore", invalid="ignore"):
        w_neg = np.where(rows[:, 0, :] > 0, neg / rows[:, 0, :], 0.0)
        w_pos = np.where(rows[:, 1, :] > 0, pos / rows[:, 1, :], 0.0)
        auc_neg = (u - w_neg * (pos_above + 0.5 * pos)) / (p_tot * (n_tot - w_neg))
        auc_pos = (u - w_pos * (neg_below + 0.5 * neg)) / ((p_tot - w_pos) * n_tot)
        per_row_sq = np.where(rows > 0, sq / rows, 0.0)
        brier_neg = (total_sq - per_row_sq[:, 0, :]) / (total_w - w_neg)
        brier_pos = (total_sq - per_row_sq[:, 1, :]) / (total_w - w_pos)
    values = np.stack(
        [
            np.concatenate([auc_neg, auc_pos], axis=1),
            np.concatenate([brier_neg, brier_pos], axis=1),
        ],
        axis=1,
    )
    multiplicity = np.concatenate([rows[:, 0, :], rows[:, 1, :]], axis=1)
    return values, multiplicity


def acceleration(values: FloatArray, multiplicity: FloatArray) -> FloatArray:
    """The BCa acceleration from jackknife values with multiplicities.

    ``a = sum m d^3 / (6 (sum m d^2)^1.5)`` with ``d = mean - value`` (Efron 1987).

    Parameters
    ----------
    values : ndarray of float64, shape (..., n_cells)
        Jackknife values; non-finite ones are left out.
    multiplicity : ndarray of float64, broadcastable to ``values``
        How many leave-one-out rows each value stands for.

    Returns
    -------
    ndarray of float64, shape (...)
        The acceleration; 0 where undefined.

    References
    ----------
    .. [1] B. Efron, "Better bootstrap confidence intervals", JASA 82 (1987) 171-185.

    Examples
    --------
    >>> round(float(acceleration(np.array([1.0, 2.0, 4.0]), np.ones(3))), 4)
    -0.0367
    """
    m = np.where(np.isfinite(values), np.broadcast_to(multiplicity, values.shape), 0.0)
    v = np.where(m > 0, values, 0.0)
    total = m.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (m * v).sum(axis=-1, keepdims=True) / total
        d = np.where(m > 0, mean - v, 0.0)
        num = (m * d**3).sum(axis=-1)
        den = 6.0 * (m * d**2).sum(axis=-1) ** 1.5
        a = num / den
    return np.where(np.isfinite(a), a, 0.0)

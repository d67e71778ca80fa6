"""Single numbers with their intervals, read off results or counted from decisions."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from seawall.metrics._intervals import normal_quantile, wilson_interval
from seawall.metrics._result import Estimate, GroupMetrics

__all__ = ["accuracy_estimate", "summary_estimate"]


def summary_estimate(
    metrics: GroupMetrics, name: str, grouping: str | None = None
) -> tuple[Estimate, str]:
    """A summary row (the gap between the lowest and highest judged group) and its lowest group.

    Parameters
    ----------
    metrics : GroupMetrics
        The result of :func:`seawall.metrics.group_metrics`.
    name : str
        The summary's name, e.g. ``"disparate_impact"``.
    grouping : str, optional
        The grouping; by default the first row of that name.

    Returns
    -------
    Estimate, str
        The value with its interval and the lowest group; NaN and ``""`` when
        no row matches (e.g. fewer than two judged groups).

    Examples
    --------
    >>> from seawall.metrics import group_metrics
    >>> m = group_metrics([1, 0, 1, 0] * 50, [1, 0, 0, 0] * 50,
    ...                   sensitive_features=["a", "a", "b", "b"] * 50, n_bootstrap=0)
    >>> e, lowest = summary_estimate(m, "disparate_impact")
    >>> e.value, lowest
    (0.0, 'b')
    """
    s = metrics.summary
    for i in range(len(s.name)):
        if s.name[i] == name and (grouping is None or s.grouping[i] == grouping):
            value = Estimate(float(s.value[i]), float(s.lower[i]), float(s.upper[i]))
            return value, str(s.lowest_group[i])
    return Estimate(math.nan, math.nan, math.nan), ""


def accuracy_estimate(
    y_true: npt.NDArray[Any], y_pred: npt.NDArray[Any], confidence_level: float
) -> Estimate:
    """The share of correct decisions with its Wilson interval.

    Parameters
    ----------
    y_true, y_pred : ndarray of shape (n,)
        Labels and decisions (already validated, ``n > 0``).
    confidence_level : float
        The interval's level.

    Returns
    -------
    Estimate
        The accuracy and its Wilson score interval.

    Examples
    --------
    >>> e = accuracy_estimate(np.array([1, 0, 1, 0]), np.array([1, 0, 0, 0]), 0.95)
    >>> e.value, round(e.lower, 4)
    (0.75, 0.3006)
    """
    correct = float(np.sum(np.asarray(y_true) == np.asarray(y_pred)))
    n = float(len(y_true))
    lo, hi = wilson_interval(correct, n, normal_quantile(confidence_level))
    return Estimate(correct / n, float(lo), float(hi))

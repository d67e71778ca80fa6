"""Severity of an incident, and the order a person reviews incidents in.

The severity of an incident is the product of two factors:

``breadth = sqrt(sum over affected models of w_model)``
    How many models are hurt, each counted by the weight of the most important
    metric it shows (``w_model`` is the largest metric weight among that model's
    anomalous series). The square root sits between counting harm per model
    (linear: a hundred blips would bury everything) and counting one review per
    incident (constant: a broken source feeding thirty models would weigh no
    more than one model); with it a root cause shared by many models outranks
    any one of its symptoms reported alone.
``impact = median over affected models of (max over its series of w_metric * e)``
    How bad the typical affected model's worst symptom is: a series' metric
    weight times its evidence ``e``, the combined tail probability of all its
    flagged steps in the incident, in decades: ``e = -log10 P(chi2_2k >= -2 sum
    log(1 - score_j))`` over its ``k`` flagged steps (Fisher's method; one step at
    score 0.999 gives 3, a day of such steps more), capped at 10 (beyond one
    chance in ten billion, more decades say how sure, not how bad). The median
    over models (not the maximum, which grows with the number of models by
    chance alone) keeps a burst of one-step blips on many models below a lasting
    failure.

Metric weights encode what a person cares about: metrics of outcomes that hurt
people (accuracy and the other performance metrics; disparate impact and the other
fairness metrics) weigh 3, traffic volume 0.5 and every other metric (drift, data
quality, score and prediction rates) 1. An accuracy or fairness incident on one
model at ``e = 3`` has severity ``sqrt(3) * 9 = 15.6``; a volume blip at the same
evidence ``sqrt(0.5) * 1.5 = 1.06``, and thirty simultaneous blips grouped in one
incident ``sqrt(15) * 1.5 = 5.8``: a flood of blips does not bury it. Pass
``metric_weights`` to :func:`group_incidents` to change the table.

References
----------
.. [1] R. A. Fisher, "Statistical Methods for Research Workers", 1932 (combining
   independent tail probabilities).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from scipy import stats

__all__ = ["DEFAULT_METRIC_WEIGHTS", "metric_weight", "severities", "severity"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Weight of each metric in the severity (unknown metrics weigh 1).
DEFAULT_METRIC_WEIGHTS: Mapping[str, float] = {
    "accuracy": 3.0,
    "error_rate": 3.0,
    "auc": 3.0,
    "precision": 3.0,
    "recall": 3.0,
    "f1": 3.0,
    "estimated_accuracy": 3.0,
    "disparate_impact": 3.0,
    "statistical_parity": 3.0,
    "equal_opportunity": 3.0,
    "equalized_odds": 3.0,
    "tpr_gap": 3.0,
    "fpr_gap": 3.0,
    "volume": 0.5,
}
# Beyond 10 decades (one chance in ten billion) the evidence is certainty: more
# decades say how sure, not how bad, so they do not raise the severity further.
_MAX_EVIDENCE = 10.0


def metric_weight(metrics: npt.ArrayLike, weights: Mapping[str, float] | None) -> FloatArray:
    """The weight of every series' metric (1 for metrics not in the table).

    Parameters
    ----------
    metrics : array-like of str, shape (n_series,)
        Each series' metric name (``None`` for unknown).
    weights : mapping of str to float or None
        The table; ``None`` means :data:`DEFAULT_METRIC_WEIGHTS`.

    Returns
    -------
    ndarray of float64, shape (n_series,)
        The weights.

    Examples
    --------
    >>> metric_weight(["accuracy", "volume", "drift", None], None).tolist()
    [3.0, 0.5, 1.0, 1.0]
    """
    table = DEFAULT_METRIC_WEIGHTS if weights is None else weights
    return np.array(
        [float(table.get(m, 1.0)) if isinstance(m, str) else 1.0 for m in np.asarray(metrics)],
        dtype=np.float64,
    )


def severity(
    series_weight: FloatArray,
    series_stat: FloatArray,
    series_steps: IntArray,
    series_unit: IntArray,
) -> float:
    """The severity of one incident (see the module docstring for the formula).

    Parameters
    ----------
    series_weight : ndarray of float64, shape (k,)
        Metric weight of each anomalous member series.
    series_stat : ndarray of float64, shape (k,)
        Fisher's statistic ``-2 sum log(1 - score)`` over each member's flagged steps.
    series_steps : ndarray of int64, shape (k,)
        Flagged steps of each member.
    series_unit : ndarray of int64, shape (k,)
        The model (or other unit) of each member, as codes.

    Returns
    -------
    float
        ``breadth * impact``.

    Examples
    --------
    One model, one accuracy series with one step at score 0.999:

    >>> stat = np.array([-2 * np.log(1e-3)])
    >>> round(severity(np.array([3.0]), stat, np.array([1]), np.array([0])), 3)
    15.588
    """
    group = np.zeros(np.asarray(series_unit).size, dtype=np.int64)
    return float(severities(group, series_weight, series_stat, series_steps, series_unit, 1)[0])


def severities(
    group: IntArray,
    weight: FloatArray,
    stat: FloatArray,
    steps: IntArray,
    unit: IntArray,
    n_groups: int,
) -> FloatArray:
    """The severity of many incidents at once, from one row per (incident, member series).

    Parameters
    ----------
    group : ndarray of int64, shape (n_pairs,)
        The incident of each row, in ``range(n_groups)``; every incident has a row.
    weight, stat : ndarray of float64, shape (n_pairs,)
        Metric weight and Fisher's statistic of each member.
    steps, unit : ndarray of int64, shape (n_pairs,)
        Flagged steps and unit code of each member.
    n_groups : int
        The number of incidents.

    Returns
    -------
    ndarray of float64, shape (n_groups,)
        ``breadth * impact`` of each incident, as :func:`severity`.

    Examples
    --------
    >>> stat = np.full(3, -2 * np.log(1e-3))
    >>> severities(np.array([0, 1, 1]), np.array([3.0, 0.5, 0.5]), stat,
    ...            np.array([1, 1, 1]), np.array([0, 1, 2]), 2).round(3).tolist()
    [15.588, 1.5]
    """
    logsf = stats.chi2.logsf(stat, 2 * np.maximum(steps, 1))
    impact = weight * np.minimum(-logsf / np.log(10.0), _MAX_EVIDENCE)
    # One row per (incident, unit): the unit's largest weight and worst symptom.
    order = np.lexsort((unit, group))
    g, u = group[order], unit[order]
    first = np.flatnonzero(np.r_[True, (g[1:] != g[:-1]) | (u[1:] != u[:-1])])
    unit_group = g[first]
    unit_weight = np.maximum.reduceat(weight[order], first)
    unit_impact = np.maximum.reduceat(impact[order], first)
    breadth = np.sqrt(np.bincount(unit_group, weights=unit_weight, minlength=n_groups))
    # The median of each incident's unit impacts: sort within incidents, take the middle.
    by = np.lexsort((unit_impact, unit_group))
    values = unit_impact[by]
    counts = np.bincount(unit_group, minlength=n_groups)
    offset = np.concatenate(([0], np.cumsum(counts)[:-1]))
    median = 0.5 * (values[offset + (counts - 1) // 2] + values[offset + counts // 2])
    out: FloatArray = breadth * median
    return out

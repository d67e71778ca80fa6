"""Group fairness metrics with confidence intervals and multiplicity-adjusted tests.

Examples
--------
>>> from seawall.metrics import group_metrics
>>> res = group_metrics([1, 0, 1, 0], [1, 0, 0, 0], sensitive_features=["a", "a", "b", "b"],
...                     min_group_size=1, n_bootstrap=0)
>>> sorted(set(res.metrics.metric))[:3]
['accuracy', 'base_rate', 'error_rate']
"""

from __future__ import annotations

from seawall.metrics._definitions import (
    DISPARITY_NAMES,
    PROPORTION_METRICS,
    REGRESSION_METRICS,
    SAME_TEST,
    SCORE_METRICS,
)
from seawall.metrics._group_metrics import group_metrics
from seawall.metrics._intervals import (
    katz_ratio_interval,
    koopman_ratio_interval,
    newcombe_interval,
    ratio_interval,
    wilson_interval,
)
from seawall.metrics._regression import regression_metrics
from seawall.metrics._result import (
    DisparityTable,
    Estimate,
    GroupMetrics,
    GroupTable,
    MetricTable,
    SummaryTable,
)
from seawall.metrics._significance import adjust_pvalues, two_proportion_pvalue

__all__ = [
    "DISPARITY_NAMES",
    "PROPORTION_METRICS",
    "REGRESSION_METRICS",
    "SAME_TEST",
    "SCORE_METRICS",
    "DisparityTable",
    "Estimate",
    "GroupMetrics",
    "GroupTable",
    "MetricTable",
    "SummaryTable",
    "adjust_pvalues",
    "group_metrics",
    "katz_ratio_interval",
    "koopman_ratio_interval",
    "newcombe_interval",
    "ratio_interval",
    "regression_metrics",
    "two_proportion_pvalue",
    "wilson_interval",
]

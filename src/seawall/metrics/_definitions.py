"""Which metrics exist, how each is read off a confusion table, and their names."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "COMPARED",
    "DEN",
    "DISPARITY_NAMES",
    "METRIC_INDEX",
    "NUM",
    "PROPORTION_METRICS",
    "REGRESSION_COMPARED",
    "REGRESSION_METRICS",
    "SCORE_METRICS",
    "Rows",
]

# Cells are [TN, FP, FN, TP]; each rate is (cells counted) / (cells it is a rate over).
_RATES: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "base_rate": ((2, 3), (0, 1, 2, 3)),
    "selection_rate": ((1, 3), (0, 1, 2, 3)),
    "tpr": ((3,), (2, 3)),
    "fpr": ((1,), (0, 1)),
    "tnr": ((0,), (0, 1)),
    "fnr": ((2,), (2, 3)),
    "precision": ((3,), (1, 3)),
    "npv": ((0,), (0, 2)),
    "accuracy": ((0, 3), (0, 1, 2, 3)),
    "error_rate": ((1, 2), (0, 1, 2, 3)),
}
#: Every proportion computed per group, in table order.
PROPORTION_METRICS: tuple[str, ...] = tuple(_RATES)
#: Score metrics, computed when ``y_score`` is given.
SCORE_METRICS: tuple[str, ...] = ("auc", "brier", "ece")
#: ``counts @ NUM`` and ``counts @ DEN`` give successes and trials of every proportion.
NUM = np.array([[1.0 if c in _RATES[m][0] else 0.0 for c in range(4)] for m in _RATES]).T
DEN = np.array([[1.0 if c in _RATES[m][1] else 0.0 for c in range(4)] for m in _RATES]).T
METRIC_INDEX = {m: i for i, m in enumerate(PROPORTION_METRICS)}

#: Per-group metrics of a regression model.
REGRESSION_METRICS: tuple[str, ...] = (
    "mean_target",
    "mean_prediction",
    "mean_error",
    "mae",
    "rmse",
)
#: Regression metrics compared between groups.
REGRESSION_COMPARED: tuple[str, ...] = ("mean_prediction", "mean_error", "mae", "rmse")

#: Proportions compared between groups (the rest are complements, or data not model).
COMPARED = ("selection_rate", "tpr", "fpr", "fnr", "precision", "error_rate")
#: The common name of each (metric, form) disparity.
DISPARITY_NAMES: dict[tuple[str, str], str] = {
    ("selection_rate", "difference"): "statistical_parity_difference",
    ("selection_rate", "ratio"): "disparate_impact",
    ("tpr", "difference"): "equal_opportunity_difference",
    ("tpr", "ratio"): "equal_opportunity_ratio",
    **{(m, k): f"{m}_{k}" for m in COMPARED[2:] for k in ("difference", "ratio")},
    ("equalized_odds", "difference"): "equalized_odds_difference",
    **{(m, "difference"): f"{m}_difference" for m in SCORE_METRICS},
    **{(m, "difference"): f"{m}_difference" for m in REGRESSION_COMPARED},
}


@dataclass
class Rows:
    """Accumulates the rows of the four output tables, column by column."""

    groups: dict[str, list[object]] = field(default_factory=dict)
    metrics: dict[str, list[object]] = field(default_factory=dict)
    disparities: dict[str, list[object]] = field(default_factory=dict)
    summary: dict[str, list[object]] = field(default_factory=dict)

    @staticmethod
    def add(table: dict[str, list[object]], **values: object) -> None:
        """Append one row to ``table``.

        Parameters
        ----------
        table : dict of str to list
            One of the four tables.
        **values : object
            The row's value of each column.
        """
        for k, v in values.items():
            table.setdefault(k, []).append(v)

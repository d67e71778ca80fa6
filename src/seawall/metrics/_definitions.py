"""Which metrics exist, how each is read off a confusion table, and their names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "COMPARED",
    "DEN",
    "DISPARITY_NAMES",
    "METRIC_INDEX",
    "NUM",
    "PROPORTION_METRICS",
    "SAME_TEST",
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
COMPARED = ("selection_rate", "tpr", "fpr", "fnr", "precision", "accuracy", "error_rate")
#: Metrics whose comparison is the same hypothesis as another's (accuracy = 1 - error
#: rate): they share one test, so multiplicity is not counted twice.
SAME_TEST = {"accuracy": "error_rate"}
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
    """Accumulates the four output tables, column by column, in vectorised chunks."""

    groups: dict[str, list[Any]] = field(default_factory=dict)
    metrics: dict[str, list[Any]] = field(default_factory=dict)
    disparities: dict[str, list[Any]] = field(default_factory=dict)
    summary: dict[str, list[Any]] = field(default_factory=dict)

    @staticmethod
    def extend(table: dict[str, list[Any]], n: int, /, **columns: Any) -> None:
        """Append ``n`` rows to ``table``.

        Parameters
        ----------
        table : dict of str to list
            One of the four tables.
        n : int
            The number of rows.
        **columns : scalar or sequence of length n
            Each column's values; a scalar (or string) is repeated ``n`` times.
        """
        for k, v in columns.items():
            chunk = [v] * n if isinstance(v, str | bool | int | float) or np.ndim(v) == 0 else v
            table.setdefault(k, []).append(chunk)

    @staticmethod
    def flat(table: dict[str, list[Any]], name: str) -> list[Any]:
        """One column of ``table`` as a flat list of Python values.

        Parameters
        ----------
        table : dict of str to list
            One of the four tables.
        name : str
            The column.

        Returns
        -------
        list
            Its values.
        """
        out: list[Any] = []
        for chunk in table.get(name, []):
            out.extend(chunk.tolist() if isinstance(chunk, np.ndarray) else chunk)
        return out

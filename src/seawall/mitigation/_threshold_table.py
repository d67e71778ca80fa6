"""The rules a :class:`~seawall.mitigation.ThresholdPostprocessor` learns, one per group.

:class:`GroupThreshold` is one group's (possibly randomised) threshold rule with
the rates it achieves on the fit data; :class:`ThresholdTable` holds every
group's rule and what they achieve together, and converts them to a dict, a
DataFrame, words, or the arrays that predict with them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall._json import json_record, json_value
from seawall.mitigation._roc import RuleArrays

__all__ = ["GroupThreshold", "ThresholdTable"]

FloatArray = npt.NDArray[np.float64]


def _num(v: float) -> str:
    return f"{v:.6g}"


@dataclass(frozen=True, slots=True)
class GroupThreshold:
    """One group's rule and what it achieves on the fit data.

    A row of the group with score ``s`` is predicted positive with probability
    ``p_above`` when ``s >= threshold_high``, ``p_between`` when
    ``threshold_low <= s < threshold_high`` and ``p_below`` when
    ``s < threshold_low``. ``threshold_low == threshold_high`` means a single
    threshold (no score falls between; ``p_between`` then equals ``p_below``);
    ``threshold_high = inf`` or ``threshold_low = -inf`` leaves that side empty.

    Attributes
    ----------
    group : str
        The group's label.
    threshold_low, threshold_high : float
        The thresholds, ``threshold_low <= threshold_high``.
    p_below, p_between, p_above : float
        Probabilities of predicting the positive class, non-decreasing.
    tpr, fpr, selection_rate : float
        Expected true positive, false positive and selection rates on the fit data.
    n : int
        Rows of the group in the fit data.
    """

    group: str
    threshold_low: float
    threshold_high: float
    p_below: float
    p_between: float
    p_above: float
    tpr: float
    fpr: float
    selection_rate: float
    n: int

    def describe(self) -> str:
        """The rule in words, e.g. ``"a: score >= 0.7 -> 1; score < 0.7 -> 0"``.

        Returns
        -------
        str
            One line.
        """

        def prob(p: float) -> str:
            return "1" if p == 1.0 else "0" if p == 0.0 else f"1 with probability {_num(p)}"

        def span(low: float, high: float) -> str:
            if not math.isfinite(low) and not math.isfinite(high):
                return "any score"
            if not math.isfinite(low):
                return f"score < {_num(high)}"
            if not math.isfinite(high):
                return f"score >= {_num(low)}"
            return f"{_num(low)} <= score < {_num(high)}"

        lo, hi = self.threshold_low, self.threshold_high
        regions = [(hi, math.inf, self.p_above), (lo, hi, self.p_between)]
        regions.append((-math.inf, lo, self.p_below))
        parts = [f"{span(a, b)} -> {prob(p)}" for a, b, p in regions if a < b]
        return f"{self.group}: " + "; ".join(parts)


@dataclass(frozen=True, slots=True)
class ThresholdTable:
    """The rules of a fitted :class:`~seawall.mitigation.ThresholdPostprocessor`, one per group.

    Attributes
    ----------
    constraint : str
        ``"equal_opportunity"``, ``"equalized_odds"`` or ``"demographic_parity"``.
    objective : str
        ``"accuracy"`` or ``"balanced_accuracy"``.
    tolerance : float
        The largest gap allowed between groups.
    randomized : bool
        Whether rules could randomise (``False``: the best plain thresholds).
    objective_value : float
        The expected objective of the rules on the fit data.
    gap : float
        The largest gap, over the constrained rate(s), between groups on the fit data.
    groups : tuple of GroupThreshold
        One rule per group, in the order of the groups seen in fit.

    Examples
    --------
    >>> from seawall.mitigation._thresholds import ThresholdPostprocessor
    >>> scores = [0.9, 0.7, 0.65, 0.5, 0.3, 0.25, 0.8, 0.6, 0.4, 0.2, 0.1]
    >>> y = [1, 0, 0, 1, 0, 0, 1, 0, 1, 1, 0]
    >>> groups = list("aaaaaabbbbb")
    >>> table = ThresholdPostprocessor().fit(scores, y, sensitive_features=groups).thresholds_
    >>> print(table.describe())
    a: score >= 0.8 -> 1; score < 0.8 -> 0
    b: score >= 0.7 -> 1; 0.15 <= score < 0.7 -> 1 with probability 0.25; score < 0.15 -> 0
    >>> table.to_frame()[["group", "p_between", "tpr", "fpr", "n"]]
      group  p_between  tpr    fpr  n
    0     a       0.00  0.5  0.000  6
    1     b       0.25  0.5  0.125  5
    >>> table.objective_value
    0.75
    """

    constraint: str
    objective: str
    tolerance: float
    randomized: bool
    objective_value: float
    gap: float
    groups: tuple[GroupThreshold, ...]

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-safe primitives with stable keys (``inf`` as ``"inf"``).

        Returns
        -------
        dict
            The scalar fields and ``groups``, a list of one dict per group.
        """
        out: dict[str, Any] = {
            f.name: json_value(getattr(self, f.name)) for f in fields(self) if f.name != "groups"
        }
        out["groups"] = [json_record(g) for g in self.groups]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ThresholdTable:
        """Rebuild a table from :meth:`to_dict` (after a JSON round trip).

        Parameters
        ----------
        data : dict
            The output of :meth:`to_dict`.

        Returns
        -------
        ThresholdTable
            An equal table.
        """

        def num(v: Any) -> float:
            return float("nan") if v is None else float(v)

        groups = []
        for g in data["groups"]:
            row = {f.name: g[f.name] for f in fields(GroupThreshold)}
            for key in row:
                if key not in ("group", "n"):
                    row[key] = num(row[key])
            groups.append(GroupThreshold(**row))
        scalars = {f.name: data[f.name] for f in fields(cls) if f.name != "groups"}
        for key in ("tolerance", "objective_value", "gap"):
            scalars[key] = num(scalars[key])
        return cls(**scalars, groups=tuple(groups))

    def to_frame(self) -> pd.DataFrame:
        """The rules as a DataFrame, one row per group.

        Returns
        -------
        pandas.DataFrame
            Columns ``group``, ``threshold_low``, ``threshold_high``, ``p_below``,
            ``p_between``, ``p_above``, ``tpr``, ``fpr``, ``selection_rate``, ``n``.
        """
        names = [f.name for f in fields(GroupThreshold)]
        return pd.DataFrame({c: [getattr(g, c) for g in self.groups] for c in names})

    def describe(self) -> str:
        """Every group's rule in words, one line each.

        Returns
        -------
        str
            The rules.
        """
        return "\n".join(g.describe() for g in self.groups)

    def rule_arrays(self) -> RuleArrays:
        """The rules as arrays of shape (n_groups,), in group order.

        Returns
        -------
        RuleArrays
            Thresholds and probabilities.
        """

        def col(name: str) -> FloatArray:
            return np.array([getattr(g, name) for g in self.groups], dtype=np.float64)

        return RuleArrays(
            col("threshold_low"), col("threshold_high"),
            col("p_below"), col("p_between"), col("p_above"),
        )  # fmt: skip

"""Frozen result objects of the group metrics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from seawall.exceptions import InvalidParameterError
from seawall.metrics._table import ColumnTable

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DisparityTable",
    "Estimate",
    "GroupMetrics",
    "GroupTable",
    "MetricTable",
    "SummaryTable",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Estimate:
    """A number with its confidence interval.

    Attributes
    ----------
    value, lower, upper : float
        The estimate and its interval (NaN where undefined).
    """

    value: float
    lower: float
    upper: float

    def __str__(self) -> str:
        return f"{self.value:.4g} [{self.lower:.4g}, {self.upper:.4g}]"


@dataclass(frozen=True, slots=True)
class GroupTable(ColumnTable):
    """One row per group of every grouping.

    Attributes
    ----------
    grouping : tuple of str
        The feature (or intersection) that defines the group.
    group : tuple of str
        The group's label.
    n : FloatArray
        Its number of rows.
    weight : FloatArray
        Its total sample weight (``n`` when unweighted).
    positives : FloatArray
        Its weighted number of positive labels.
    small : tuple of bool
        Whether it has fewer rows than ``min_group_size`` (too small to judge).
    reference : tuple of bool
        Whether it is its grouping's reference group.
    """

    grouping: tuple[str, ...]
    group: tuple[str, ...]
    n: FloatArray
    weight: FloatArray
    positives: FloatArray
    small: tuple[bool, ...]
    reference: tuple[bool, ...]


@dataclass(frozen=True, slots=True)
class MetricTable(ColumnTable):
    """One row per group and metric: the value and its confidence interval.

    Attributes
    ----------
    grouping, group, metric : tuple of str
        Which group and which metric.
    value, lower, upper : FloatArray
        The estimate and its interval.
    denominator : FloatArray
        The (effective) number of rows the metric is a rate over.
    method : tuple of str
        How the interval was computed (``"wilson"``, ``"bootstrap"``, ...).
    small : tuple of bool
        Whether the group is too small to judge.
    """

    grouping: tuple[str, ...]
    group: tuple[str, ...]
    metric: tuple[str, ...]
    value: FloatArray
    lower: FloatArray
    upper: FloatArray
    denominator: FloatArray
    method: tuple[str, ...]
    small: tuple[bool, ...]


@dataclass(frozen=True, slots=True)
class DisparityTable(ColumnTable):
    """One row per group, metric and form (difference or ratio) against the reference.

    Attributes
    ----------
    grouping, group, reference : tuple of str
        The compared group and its grouping's reference group.
    metric : tuple of str
        The underlying metric (``"selection_rate"``, ``"tpr"``, ...).
    kind : tuple of str
        ``"difference"`` (group minus reference) or ``"ratio"`` (group over reference).
    name : tuple of str
        The disparity's common name (``"disparate_impact"``, ...); gates use it.
    value, lower, upper : FloatArray
        The disparity and its confidence interval.
    p_value, p_adjusted : FloatArray
        The test of no disparity, raw and adjusted for multiplicity; NaN when the
        group is too small to judge.
    significant : tuple of bool
        ``p_adjusted < 1 - confidence_level``.
    test : tuple of str
        The test used (``"fisher"``, ``"z"``, ``"bonferroni(tpr, fpr)"``, ``"bootstrap-z"``).
    note : tuple of str
        Why a row is not judged, when it is not.
    """

    grouping: tuple[str, ...]
    group: tuple[str, ...]
    reference: tuple[str, ...]
    metric: tuple[str, ...]
    kind: tuple[str, ...]
    name: tuple[str, ...]
    value: FloatArray
    lower: FloatArray
    upper: FloatArray
    p_value: FloatArray
    p_adjusted: FloatArray
    significant: tuple[bool, ...]
    test: tuple[str, ...]
    note: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SummaryTable(ColumnTable):
    """One row per grouping, metric and form: the largest gap between any two groups.

    The difference is highest minus lowest, the ratio lowest over highest (so
    the four-fifths rule reads ``ratio < 0.8``); groups too small to judge are
    left out.

    Attributes
    ----------
    grouping, metric, kind, name : tuple of str
        As in :class:`DisparityTable`.
    value, lower, upper : FloatArray
        The gap and its interval: simultaneous over the grouping's pairs of
        groups where a data-chosen pair could break it (Bonferroni), nominal
        where only the pair that truly attains the extreme matters.
    lowest_group, highest_group : tuple of str
        The groups with the lowest and highest value of the metric.
    p_value, p_adjusted : FloatArray
        The test that all groups share one value (chi-square of homogeneity, or
        Wald with bootstrap variances for score metrics), raw and adjusted.
    significant : tuple of bool
        ``p_adjusted < 1 - confidence_level``.
    test : tuple of str
        The test used.
    """

    grouping: tuple[str, ...]
    metric: tuple[str, ...]
    kind: tuple[str, ...]
    name: tuple[str, ...]
    value: FloatArray
    lower: FloatArray
    upper: FloatArray
    lowest_group: tuple[str, ...]
    highest_group: tuple[str, ...]
    p_value: FloatArray
    p_adjusted: FloatArray
    significant: tuple[bool, ...]
    test: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GroupMetrics:
    """The result of :func:`seawall.metrics.group_metrics`.

    Attributes
    ----------
    task : str
        ``"classification"`` or ``"regression"``.
    features : tuple of str
        The sensitive features.
    groups : GroupTable
        Sizes and flags of every group.
    metrics : MetricTable
        Every metric of every group, with intervals.
    disparities : DisparityTable
        Every group against its grouping's reference, with intervals and p-values.
    summary : SummaryTable
        Highest versus lowest group, per grouping and metric.
    confidence_level : float
        The level of every interval.
    correction : str
        The multiplicity correction (``"holm"``, ``"bh"`` or ``"none"``).
    min_group_size : int
        Groups with fewer rows are too small to judge.
    n_bootstrap : int
        Bootstrap replicates behind the intervals that have no closed form.
    random_state : int
        The seed of the bootstrap.
    n_rows : int
        Rows audited.
    weighted : bool
        Whether sample weights were given.
    """

    task: str
    features: tuple[str, ...]
    groups: GroupTable
    metrics: MetricTable
    disparities: DisparityTable
    summary: SummaryTable
    confidence_level: float
    correction: str
    min_group_size: int
    n_bootstrap: int
    random_state: int
    n_rows: int
    weighted: bool

    def _find(self, table: ColumnTable, **where: str) -> int:
        cols = table.columns()
        hits = [i for i in range(len(table)) if all(cols[k][i] == v for k, v in where.items())]
        if len(hits) != 1:
            options = sorted(
                {
                    str(cols["grouping"][i]) + ":" + str(cols.get("group", cols["metric"])[i])
                    for i in range(len(table))
                }
            )
            raise InvalidParameterError(
                f"no single row matches {where!r}; "
                f"{'several do' if hits else 'none does'}. Available: {options[:20]}"
            )
        return hits[0]

    def _grouping_of(self, group: str, grouping: str | None) -> str:
        if grouping is not None:
            return grouping
        matches = {
            g
            for g, lab in zip(self.groups.grouping, self.groups.group, strict=True)
            if lab == group
        }
        if len(matches) != 1:
            raise InvalidParameterError(
                f"group {group!r} is {'in several groupings' if matches else 'not a group'}; "
                f"pass grouping= one of {sorted(set(self.groups.grouping))}."
            )
        return matches.pop()

    def metric(self, name: str, group: str, *, grouping: str | None = None) -> Estimate:
        """One group's metric with its interval.

        Parameters
        ----------
        name : str
            The metric, e.g. ``"tpr"``.
        group : str
            The group's label.
        grouping : str, optional
            The grouping, needed only when the label is in several.

        Returns
        -------
        Estimate
            The value and interval.

        Raises
        ------
        InvalidParameterError
            When no single row matches.
        """
        gr = self._grouping_of(group, grouping)
        i = self._find(self.metrics, grouping=gr, group=group, metric=name)
        return Estimate(
            float(self.metrics.value[i]), float(self.metrics.lower[i]), float(self.metrics.upper[i])
        )

    def disparity(self, name: str, group: str, *, grouping: str | None = None) -> Estimate:
        """One group's disparity against its reference, with its interval.

        Parameters
        ----------
        name : str
            The disparity's name, e.g. ``"disparate_impact"``.
        group : str
            The group's label.
        grouping : str, optional
            The grouping, needed only when the label is in several.

        Returns
        -------
        Estimate
            The value and interval.

        Raises
        ------
        InvalidParameterError
            When no single row matches.
        """
        gr = self._grouping_of(group, grouping)
        i = self._find(self.disparities, grouping=gr, group=group, name=name)
        d = self.disparities
        return Estimate(float(d.value[i]), float(d.lower[i]), float(d.upper[i]))

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-safe primitives with stable keys.

        Returns
        -------
        dict
            Parameters, then each table as a list of records.
        """
        return {
            "task": self.task,
            "features": list(self.features),
            "n_rows": self.n_rows,
            "weighted": self.weighted,
            "confidence_level": self.confidence_level,
            "correction": self.correction,
            "min_group_size": self.min_group_size,
            "n_bootstrap": self.n_bootstrap,
            "random_state": self.random_state,
            "groups": self.groups.records(),
            "metrics": self.metrics.records(),
            "disparities": self.disparities.records(),
            "summary": self.summary.records(),
        }

    def to_frame(self) -> pd.DataFrame:
        """The per-group metrics as a long DataFrame (one row per group and metric).

        Returns
        -------
        pandas.DataFrame
            ``self.metrics.to_frame()``; the other tables have their own ``to_frame``.
        """
        return self.metrics.to_frame()

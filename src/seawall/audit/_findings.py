"""Plain-language findings: what a reviewer should read first."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from seawall._json import json_record
from seawall.metrics import DISPARITY_NAMES, SAME_TEST, GroupMetrics

__all__ = ["FourFifths", "Finding", "describe_findings", "four_fifths"]

LABELS = {
    "selection_rate": "Selection rate",
    "tpr": "True positive rate (TPR)",
    "fpr": "False positive rate (FPR)",
    "fnr": "False negative rate (FNR)",
    "precision": "Precision",
    "accuracy": "Accuracy",
    "error_rate": "Error rate",
    "equalized_odds": "Equalized-odds gap (larger of TPR and FPR gaps)",
    "auc": "ROC AUC",
    "brier": "Brier score",
    "ece": "Expected calibration error",
    "mean_prediction": "Mean prediction",
    "mean_error": "Mean error (bias)",
    "mae": "Mean absolute error",
    "rmse": "Root mean squared error",
}


def _p(p: float) -> str:
    if not math.isfinite(p):
        return "p n/a"
    return "adjusted p < 0.001" if p < 0.001 else f"adjusted p = {p:.3f}"


def _pct(level: float) -> str:
    return f"{100 * level:g}%"


@dataclass(frozen=True, slots=True)
class Finding:
    """One sentence for a reviewer, and what it is about.

    Attributes
    ----------
    text : str
        The sentence.
    kind : str
        ``"disparity"``, ``"small_group"`` or ``"none"``.
    grouping, group, metric : str
        What it is about (empty when not applicable).
    effect : float
        The size used to rank it (|log ratio| or |difference|).
    """

    text: str
    kind: str
    grouping: str
    group: str
    metric: str
    effect: float

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON-safe primitives.

        Returns
        -------
        dict
            Every field; NaN becomes None.
        """
        return json_record(self)


@dataclass(frozen=True, slots=True)
class FourFifths:
    """The four-fifths rule on one grouping: lowest over highest selection rate.

    Attributes
    ----------
    grouping : str
        The grouping.
    ratio, lower, upper : float
        The ratio and its simultaneous interval.
    lowest_group, highest_group : str
        The groups with the lowest and highest selection rate.
    verdict : str
        ``"fails"`` (the whole interval is below 0.8), ``"inconclusive"`` (only
        the estimate is), ``"passes"`` or ``"not judged"``.
    """

    grouping: str
    ratio: float
    lower: float
    upper: float
    lowest_group: str
    highest_group: str
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        """The verdict as JSON-safe primitives.

        Returns
        -------
        dict
            Every field; NaN becomes None.
        """
        return json_record(self)


def four_fifths(metrics: GroupMetrics) -> tuple[FourFifths, ...]:
    """The four-fifths rule per grouping, from the summary's disparate impact.

    Parameters
    ----------
    metrics : GroupMetrics
        Classification metrics.

    Returns
    -------
    tuple of FourFifths
        One per grouping (empty for regression).
    """
    s = metrics.summary
    out = []
    for i in range(len(s)):
        if s.name[i] != "disparate_impact":
            continue
        r, lo, hi = float(s.value[i]), float(s.lower[i]), float(s.upper[i])
        if not math.isfinite(r):
            verdict = "not judged"
        elif math.isfinite(hi) and hi < 0.8:
            verdict = "fails"
        elif r < 0.8:
            verdict = "inconclusive"
        else:
            verdict = "passes"
        out.append(
            FourFifths(s.grouping[i], r, lo, hi, s.lowest_group[i], s.highest_group[i], verdict)
        )
    return tuple(out)


def describe_findings(metrics: GroupMetrics, per_grouping: int = 5) -> tuple[Finding, ...]:
    """Sentences for the significant gaps, and for the small groups that were not tested.

    Parameters
    ----------
    metrics : GroupMetrics
        The audit's metrics.
    per_grouping : int, default=5
        The most disparity findings to state per grouping.

    Returns
    -------
    tuple of Finding
        Disparities grouping by grouping (single features before their
        intersection), largest effect first within each, then small groups; a
        single ``"none"`` finding when nothing is significant.
    """
    d = metrics.disparities
    level = _pct(metrics.confidence_level)
    found = []
    for i in range(len(d)):
        if not d.significant[i] or (
            d.kind[i] == "difference" and (d.metric[i], "ratio") in DISPARITY_NAMES
        ):
            continue  # for proportions the ratio row says it
        if d.metric[i] in SAME_TEST:
            continue  # the same test as its complement (accuracy: error rate), stated there
        label = LABELS.get(d.metric[i], d.metric[i])
        who = f"{d.grouping[i]} = {d.group[i]}"
        ref = d.reference[i]
        v, lo, hi = float(d.value[i]), float(d.lower[i]), float(d.upper[i])
        p = _p(float(d.p_adjusted[i]))
        if d.kind[i] == "ratio":
            if not (v > 0 and math.isfinite(v)):
                continue
            text = (
                f"{label} for {who} is {v:.2f}× that of {ref} ({level} CI {lo:.2f}–{hi:.2f}; {p})."
            )
            effect = abs(math.log(v))
        elif d.metric[i] == "equalized_odds":
            text = (
                f"{label} between {who} and {ref} is {v:.3f} ({level} CI {lo:.3f}–{hi:.3f}; {p})."
            )
            effect = abs(v)
        else:
            word = "higher" if v > 0 else "lower"
            text = (
                f"{label} for {who} is {abs(v):.3f} {word} than for {ref} "
                f"({level} CI of the difference {lo:.3f} to {hi:.3f}; {p})."
            )
            effect = abs(v)
        found.append(Finding(text, "disparity", d.grouping[i], d.group[i], d.metric[i], effect))
    order = {name: k for k, name in enumerate(dict.fromkeys(metrics.groups.grouping))}
    found.sort(key=lambda f: (order[f.grouping], -f.effect))
    ranked: list[Finding] = []
    for grouping in order:
        ranked.extend([f for f in found if f.grouping == grouping][:per_grouping])
    g = metrics.groups
    small = [
        Finding(
            f"Group {g.grouping[i]} = {g.group[i]} has {int(g.n[i])} rows, fewer than "
            f"min_group_size = {metrics.min_group_size}: its numbers are shown but it is too "
            f"small to judge, so it is not tested.",
            "small_group",
            g.grouping[i],
            g.group[i],
            "",
            float(np.nan),
        )
        for i in range(len(g))
        if g.small[i]
    ]
    if not ranked:
        ranked = [
            Finding(
                f"No gap between groups is statistically significant at the {level} level "
                f"after {metrics.correction} correction across "
                f"{int(np.isfinite(d.p_value).sum())} comparisons.",
                "none",
                "",
                "",
                "",
                0.0,
            )
        ]
    return tuple(ranked + small)

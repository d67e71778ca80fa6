"""Everything the report template shows, computed and formatted from an audit result."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from markupsafe import Markup

from seawall.audit import AuditResult
from seawall.metrics import SAME_TEST, GroupMetrics
from seawall.reports._audit_associations import associations_context
from seawall.reports._audit_mitigation import mitigation_context
from seawall.reports._charts import PALETTE, disparity_chart, figure_html, rate_chart
from seawall.reports._command import DATA_PLACEHOLDER, OUT_PLACEHOLDER, audit_command
from seawall.reports._format import DASH, fmt_level, fmt_p, interval
from seawall.reports._labels import (
    RATE_CHART,
    correction_phrase,
    interval_methods,
    metric_label,
)

__all__ = ["report_context"]

# CSS class of each gate status and four-fifths verdict.
_TONE = {
    "fail": "bad",
    "fails": "bad",
    "inconclusive": "warn",
    "pass": "good",
    "passes": "good",
    "not judged": "muted",
}
_STATUS_ORDER = ("fail", "inconclusive", "pass", "not judged")


def _groupings(metrics: GroupMetrics) -> list[str]:
    return list(dict.fromkeys(metrics.groups.grouping))


def _header(result: AuditResult, title: str) -> dict[str, Any]:
    p = result.parameters
    counts = Counter(g.status for g in result.gates)
    gate_counts = [
        {"status": s, "count": counts[s], "tone": _TONE[s]} for s in _STATUS_ORDER if counts[s]
    ]
    columns = [("label", p.label), ("prediction", p.prediction)]
    if p.score is not None:
        columns.append(("score", p.score))
    columns.append(("sensitive", ", ".join(p.sensitive)))
    return {
        "title": title,
        "source": result.source or "in-memory table",
        "n_rows": f"{result.n_rows:,}",
        "task": p.task,
        "created": result.created,
        "passed": result.passed,
        "verdict": "PASS" if result.passed else "FAIL",
        "n_gates": len(result.gates),
        "gate_counts": gate_counts,
        "columns": columns,
        "fingerprint": result.fingerprint,
    }


def _findings(result: AuditResult) -> dict[str, Any]:
    m = result.metrics
    tone = {"disparity": "bad", "small_group": "muted", "none": "good"}
    n_disparities = sum(1 for f in result.findings if f.kind == "disparity")
    n_small = sum(1 for f in result.findings if f.kind == "small_group")
    return {
        "items": [
            {"text": f.text, "kind": f.kind, "tone": tone.get(f.kind, "muted")}
            for f in result.findings
        ],
        "n_disparities": n_disparities,
        "n_small": n_small,
        "note": (
            f"A gap is listed when it is statistically significant at the "
            f"{fmt_level(m.confidence_level)} level, with p-values "
            f"{correction_phrase(m.correction)} across every comparison in the audit; at most "
            f"five per grouping, largest effect first. Groups with fewer than "
            f"{m.min_group_size} rows are shown but not tested."
        ),
    }


def _gates(result: AuditResult) -> dict[str, Any]:
    rows: list[dict[str, Any]] = [
        {
            "gate": g.gate,
            "grouping": g.grouping,
            "value": interval(g.value, g.lower, g.upper),
            "level": fmt_level(g.confidence_level),
            "lowest": g.lowest_group,
            "highest": g.highest_group,
            "status": g.status,
            "tone": _TONE.get(g.status, "muted"),
        }
        for g in result.gates
    ]
    levels = sorted({g.confidence_level for g in result.gates})
    level = " / ".join(fmt_level(v) for v in levels)
    if levels and max(levels) > result.metrics.confidence_level:
        how = f"the {level} level (Bonferroni-corrected for every gate and grouping checked)"
    else:
        how = f"the {level or fmt_level(result.metrics.confidence_level)} level (a single check)"
    return {
        "rows": rows,
        "note": (
            f"Each gate states the condition that fails the audit, checked on the largest gap "
            f"between the judged groups of each grouping. Intervals are at {how}. A gate fails "
            f"only when the whole interval lies beyond its threshold; when only the estimate "
            f"does, it is inconclusive and does not fail the audit."
        ),
    }


def _four_fifths(result: AuditResult) -> dict[str, Any]:
    level = fmt_level(result.metrics.confidence_level)
    return {
        "rows": [
            {
                "grouping": f.grouping,
                "ratio": interval(f.ratio, f.lower, f.upper),
                "lowest": f.lowest_group,
                "highest": f.highest_group,
                "verdict": f.verdict,
                "tone": _TONE.get(f.verdict, "muted"),
            }
            for f in result.four_fifths
        ],
        "note": (
            f"The lowest judged group's selection rate divided by the highest's, with a "
            f"{level} interval whose upper bound is Bonferroni-corrected over every pair of "
            f"judged groups. The rule fails when the whole interval lies below "
            f"0.8, and is inconclusive when only the estimate does (EEOC Uniform Guidelines, "
            f"29 CFR 1607.4(D))."
        ),
    }


def _metric_table(m: GroupMetrics, grouping: str) -> dict[str, Any]:
    t, g = m.metrics, m.groups
    present = list(dict.fromkeys(t.metric[i] for i in range(len(t)) if t.grouping[i] == grouping))
    charted = [n for n in RATE_CHART.get(m.task, ()) if n in present]
    names = charted + [n for n in present if n not in charted]  # the charted ones first
    cells: dict[tuple[str, str], Any] = {
        (t.group[i], t.metric[i]): interval(t.value[i], t.lower[i], t.upper[i])
        for i in range(len(t))
        if t.grouping[i] == grouping
    }
    rows = [
        {
            "group": g.group[i],
            "n": f"{int(g.n[i]):,}",
            "reference": g.reference[i],
            "small": g.small[i],
            "cells": [cells.get((g.group[i], name), interval(None, None, None)) for name in names],
        }
        for i in range(len(g))
        if g.grouping[i] == grouping
    ]
    return {"columns": [metric_label(n) for n in names], "rows": rows}


def _paired_rows(table: Any, where: list[int], key: tuple[str, ...]) -> list[dict[str, Any]]:
    """One row per comparison: its difference and ratio side by side (they share one test)."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    first_of_block: set[Any] = set()
    for i in where:
        k = tuple(getattr(table, c)[i] for c in key)
        row = rows.get(k)
        if row is None:
            block = k[0]
            row = {
                **{c: getattr(table, c)[i] for c in key},
                "label": metric_label(table.metric[i]),
                "difference_name": "",
                "ratio_name": "",
                "difference": interval(None, None, None),
                "ratio": interval(None, None, None),
                "p_value": fmt_p(table.p_value[i]),
                "p_adjusted": fmt_p(table.p_adjusted[i]),
                "significant": table.significant[i],
                "test": table.test[i] or DASH,
                "first": block not in first_of_block,
            }
            first_of_block.add(block)
            rows[k] = row
        row[f"{table.kind[i]}_name"] = table.name[i]
        row[table.kind[i]] = interval(table.value[i], table.lower[i], table.upper[i])
    return list(rows.values())


def _disparity_rows(m: GroupMetrics, grouping: str) -> list[dict[str, Any]]:
    d = m.disparities
    where = [i for i in range(len(d)) if d.grouping[i] == grouping]
    rows = _paired_rows(d, where, ("group", "metric"))
    notes = {(d.group[i], d.metric[i]): d.note[i] for i in where}
    for row in rows:
        row["note"] = notes[(row["group"], row["metric"])]
    return rows


def _grouping_sections(m: GroupMetrics) -> list[dict[str, Any]]:
    g = m.groups
    out = []
    for k, name in enumerate(_groupings(m)):
        idx = [i for i in range(len(g)) if g.grouping[i] == name]
        reference = next((g.group[i] for i in idx if g.reference[i]), DASH)
        out.append(
            {
                "id": f"grouping-{k}",
                "name": name,
                "reference": reference,
                "n_groups": len(idx),
                "n_small": sum(1 for i in idx if g.small[i]),
                "rate_chart": Markup(figure_html(rate_chart(m, name), f"rates-{k}")),
                "disparity_chart": Markup(figure_html(disparity_chart(m, name), f"gaps-{k}")),
                "metric_table": _metric_table(m, name),
                "disparities": _disparity_rows(m, name),
            }
        )
    return out


def _summary_rows(m: GroupMetrics) -> list[dict[str, Any]]:
    s = m.summary
    rows = _paired_rows(s, list(range(len(s))), ("grouping", "metric"))
    # Lowest and highest group of the metric itself (the same for both forms).
    ends = {
        (s.grouping[i], s.metric[i]): (s.lowest_group[i] or DASH, s.highest_group[i] or DASH)
        for i in range(len(s))
        if s.kind[i] == "difference"
    }
    for row in rows:
        row["lowest"], row["highest"] = ends.get((row["grouping"], row["metric"]), (DASH, DASH))
    return rows


def _n_tests(m: GroupMetrics) -> int:
    d = m.disparities
    return len(
        {
            (d.grouping[i], d.group[i], SAME_TEST.get(d.metric[i], d.metric[i]))
            for i in range(len(d))
            if math.isfinite(d.p_value[i])
        }
    )


def _notes(m: GroupMetrics) -> dict[str, str]:
    level = fmt_level(m.confidence_level)
    methods = interval_methods(list(m.metrics.method), m.n_bootstrap)
    adjusted = correction_phrase(m.correction)
    alpha = f"{1 - m.confidence_level:.3g}"
    charted = set(RATE_CHART.get(m.task, ()))
    chart_methods = interval_methods(
        [m.metrics.method[i] for i in range(len(m.metrics)) if m.metrics.metric[i] in charted],
        m.n_bootstrap,
    )
    if m.task == "classification":
        gaps = (
            "Each group's rate divided by the reference group's (log scale), with "
            f"{level} Koopman score intervals (Katz log intervals when both groups have 100 "
            "successes or more). The line marks parity; the shaded band 0.8–1.25 is the "
            "four-fifths rule's tolerance and its mirror image."
        )
        kinds = (
            "A difference is the group's value minus the reference's (Newcombe interval for "
            "rates); a ratio is the group's over the reference's (Koopman score interval, "
            "or Katz log interval with 100 successes or more in both)."
        )
    else:
        gaps = (
            f"Each group's value minus the reference group's, with {level} Welch intervals "
            "(delta method for RMSE); the line marks no difference."
        )
        kinds = (
            "A difference is the group's value minus the reference's (Welch interval; delta "
            "method for RMSE)."
        )
    shared = (
        " (a difference and its ratio share one test, and so do accuracy and error rate)"
        if m.task == "classification"
        else ""
    )
    return {
        "rates": (
            f"Dots are estimates, whiskers {level} {chart_methods}. The dotted line marks the "
            f"reference group. Orange: a gap to the reference that is significant "
            f"({adjusted} p < {alpha}). Grey hollow diamonds: groups with fewer than "
            f"{m.min_group_size} rows, shown but not judged."
        ),
        "gaps": gaps,
        "metrics": (
            f"Each cell is the estimate and its {level} interval [lower, upper]: {methods}. "
            f"Shaded rows are groups too small to judge."
        ),
        "disparities": (
            f"{kinds} The p-value tests for no difference; the adjusted p-value is {adjusted} "
            f"across all {_n_tests(m)} comparisons{shared}, significant when below {alpha}."
        ),
        "summary": (
            "The largest gap between any two judged groups of a grouping: highest minus "
            "lowest, or lowest over highest. The bound that a data-chosen pair could break "
            "(the lower bound of a gap, the upper bound of a ratio) is Bonferroni-corrected "
            f"over every pair of judged groups; the other holds at the {level} level. The "
            "intervals keep their level even when the true gap is zero; the p-value tests "
            f"that all groups share one value ({adjusted})."
        ),
    }


def _reproduce(result: AuditResult) -> dict[str, Any]:
    p = result.parameters
    shown: list[tuple[str, str]] = []
    for key, value in p.to_dict().items():
        if isinstance(value, list):
            text = ", ".join(str(v) for v in value) or DASH
        elif isinstance(value, dict):
            text = ", ".join(f"{k}={v}" for k, v in value.items()) or "largest group"
        elif value is None:
            text = DASH
        else:
            text = str(value)
        shown.append((key, text))
    return {
        "parameters": shown,
        "seed": p.random_state,
        "fingerprint": result.fingerprint,
        "source": result.source or DASH,
        "source_sha256": result.source_sha256 or DASH,
        "versions": list(result.versions),
        "command": audit_command(p, result.source, multiline=True),
        "in_memory": result.source is None,
        "data_placeholder": DATA_PLACEHOLDER,
        "out_placeholder": OUT_PLACEHOLDER,
    }


def report_context(result: AuditResult, title: str | None, plotly_js: str) -> dict[str, Any]:
    """The template's variables for one audit.

    Parameters
    ----------
    result : AuditResult
        The audit.
    title : str or None
        The report's title; a default names the prediction and the sensitive features.
    plotly_js : str
        The plotly.js bundle, embedded once.

    Returns
    -------
    dict
        Formatted strings, row dicts and the charts' HTML (as ``Markup``).
    """
    p = result.parameters
    m = result.metrics
    default = f"Fairness audit of {p.prediction!r} by {', '.join(p.sensitive)}"
    return {
        "header": _header(result, title if title is not None else default),
        "findings": _findings(result),
        "gates": _gates(result),
        "four_fifths": _four_fifths(result),
        "groupings": _grouping_sections(m),
        "summary": _summary_rows(m),
        "associations": associations_context(result.associations),
        "mitigation": mitigation_context(result.mitigation),
        "notes": _notes(m),
        "reproduce": _reproduce(result),
        "task": m.task,
        "level": fmt_level(m.confidence_level),
        "palette": PALETTE,
        "version": dict(result.versions).get("seawall", DASH),
        "plotly_js": Markup(plotly_js),
    }

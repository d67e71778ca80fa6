"""Everything the investigation report shows, computed and formatted from an investigation."""

from __future__ import annotations

import math
from collections import Counter
from statistics import NormalDist
from typing import Any

from markupsafe import Markup

from seawall.associations import HypothesisTable, Investigation
from seawall.metrics import wilson_interval
from seawall.reports._charts import figure_html
from seawall.reports._command import multiline_command
from seawall.reports._finding_chart import Side, finding_chart
from seawall.reports._format import DASH, Interval, fmt_level, fmt_number, fmt_p, interval
from seawall.reports._labels import correction_phrase

__all__ = ["KIND_LABELS", "finding_summary", "investigation_context"]

#: Display name of each kind of hypothesis.
KIND_LABELS: dict[str, str] = {
    "weak_slice": "Weak slice",
    "error_disparity": "Error disparity",
    "association": "Association",
    "label_association": "Label association",
}
_ERRORS: dict[str, str] = {
    "misclassification": "error rate",
    "fpr": "false positive rate",
    "fnr": "false negative rate",
    "absolute": "mean absolute error",
    "squared": "mean squared error",
}
# CSS tone of each confirmation status.
_TONE = {"finding": "bad", "explained": "warn", "shadow": "muted", "not confirmed": "good"}


#: The name of each measure a hypothesis table's ``difference`` may hold.
EFFECT_NAMES: dict[str, str] = {
    "difference": "Difference",
    "nmi": "Normalised mutual information",
}


def _quantity(kind: str, params: dict[str, Any], label: str) -> str:
    if kind in ("weak_slice", "error_disparity"):
        return _ERRORS.get(str(params.get("error", "misclassification")), "error")
    if kind == "label_association":
        return f"share of items labelled {label}"
    if params.get("outcome") == "categorical":
        return f"share of {label} outputs"
    return "positive rate" if params.get("outcome") == "binary" else "mean output"


def _is_rate(kind: str, params: dict[str, Any]) -> bool:
    """Whether each side is a proportion (then it gets a Wilson interval)."""
    if kind in ("weak_slice", "error_disparity"):
        return str(params.get("error", "misclassification")) in ("misclassification", "fpr", "fnr")
    if kind == "association":
        return params.get("outcome") in ("binary", "categorical")
    return kind == "label_association"


def _stratified(params: dict[str, Any]) -> bool:
    return bool(params.get("explanatory"))


def _side_interval(value: float, n: float, level: float, exact: bool) -> tuple[float, float]:
    """Wilson interval of a crude rate at the row's level; NaN for means and stratified rates."""
    if not exact or not (math.isfinite(value) and math.isfinite(n) and n > 0):
        return math.nan, math.nan
    z = NormalDist().inv_cdf(1.0 - (1.0 - level) / 2.0)
    lo, hi = wilson_interval(round(value * n), n, z)
    return float(lo), float(hi)


def _context_words(context: str) -> str:
    return "everyone" if context in ("", "everyone") else context


def _names(kind: str, group: str) -> tuple[str, str]:
    if kind == "weak_slice":
        return "this context", "everywhere else"
    return f"group {group}", "the rest of the context"


def _headline(
    kind: str, quantity: str, group: str, label: str, difference: float, measure: str
) -> str:
    up = difference > 0
    if measure == "nmi":
        # ``difference`` is the inside rate of ``label`` minus the outside one.
        how = "more" if up else "less"
        return (
            f"Group {group}'s outputs differ from the rest's here; most of all, "
            f"{label} is given {how} often."
        )
    if kind == "weak_slice":
        return f"The {quantity} is {'higher' if up else 'lower'} here than everywhere else."
    if kind == "label_association":
        how = "more" if up else "less"
        return f"Label {label} is given to group {group} {how} often than to the rest here."
    return f"Group {group}'s {quantity} is {'higher' if up else 'lower'} than the rest's here."


def _ratio(t: HypothesisTable, i: int) -> Interval | None:
    if not math.isfinite(float(t.ratio[i])):
        return None
    return interval(float(t.ratio[i]), float(t.ratio_lower[i]), float(t.ratio_upper[i]))


def _sides(inv: Investigation, i: int) -> tuple[Side, Side]:
    """The two sides of finding ``i``, with Wilson intervals for crude rates."""
    t, params = inv.findings, inv.parameters
    kind = t.kind[i]
    exact = _is_rate(kind, params) and not _stratified(params)
    inside_name, outside_name = _names(kind, t.group[i])
    level = float(t.level[i])
    sides = []
    for name, value, n in (
        (inside_name, float(t.inside[i]), float(t.n_inside[i])),
        (outside_name, float(t.outside[i]), float(t.n_outside[i])),
    ):
        lo, hi = _side_interval(value, n, level, exact)
        sides.append(Side(name, value, lo, hi, n))
    return sides[0], sides[1]


def finding_summary(inv: Investigation, i: int) -> dict[str, Any]:
    """Finding ``i`` of an investigation formatted for a report, without its chart.

    Parameters
    ----------
    inv : Investigation
        The investigation.
    i : int
        The finding's row in ``inv.findings``.

    Returns
    -------
    dict
        ``kind``, ``context`` (in words), ``depth``, ``group``, ``label``,
        ``headline``, ``quantity``, ``sides`` (each side's name, rows and value
        with its interval: a Wilson interval at the row's level for a crude
        rate, none for a mean or a stratified rate), ``difference``, ``ratio``
        (None for means), ``crude`` (with explanatory attributes),
        ``p_value``, ``p_adjusted``, ``level`` and ``exact``.
    """
    t, params = inv.findings, inv.parameters
    kind, group, label = t.kind[i], t.group[i], t.label[i]
    quantity = _quantity(kind, params, label)
    diff = float(t.difference[i])
    measure = t.measure[i]
    return {
        "kind": KIND_LABELS.get(kind, kind),
        "context": _context_words(t.context[i]),
        "depth": int(t.depth[i]),
        "group": group,
        "label": label,
        "headline": _headline(
            kind, quantity, group, label, float(t.inside[i] - t.outside[i]), measure
        ),
        "effect_name": EFFECT_NAMES.get(measure, measure),
        "label_kind": "output" if measure == "nmi" else "label",
        "quantity": quantity.capitalize(),
        "sides": [
            {"name": s.name, "n": f"{s.n:,.0f}", "value": interval(s.value, s.lower, s.upper)}
            for s in _sides(inv, i)
        ],
        "difference": interval(diff, float(t.difference_lower[i]), float(t.difference_upper[i])),
        "ratio": _ratio(t, i),
        "crude": fmt_number(float(t.crude_difference[i])) if _stratified(params) else None,
        "p_value": fmt_p(float(t.p_value[i])),
        "p_adjusted": fmt_p(float(t.p_adjusted[i])),
        "level": fmt_level(float(t.level[i])),
        "exact": _is_rate(kind, params) and not _stratified(params),
    }


def _card(inv: Investigation, i: int) -> dict[str, Any]:
    t = inv.findings
    summary = finding_summary(inv, i)
    inside, outside = _sides(inv, i)
    diff = (float(t.difference[i]), float(t.difference_lower[i]), float(t.difference_upper[i]))
    effect = "Difference (inside − outside)" if t.measure[i] == "difference" else "NMI"
    chart = finding_chart(summary["quantity"], inside, outside, diff, summary["level"], effect)
    return {
        **summary,
        "id": f"finding-{i}",
        "rank": i + 1,
        "shadows": inv.shadows[i] if i < len(inv.shadows) else 0,
        "chart": Markup(figure_html(chart, f"chart-{i}")),
    }


def _rows(t: HypothesisTable, where: list[int]) -> list[dict[str, Any]]:
    return [
        {
            "status": t.status[i],
            "tone": _TONE.get(t.status[i], "muted"),
            "kind": KIND_LABELS.get(t.kind[i], t.kind[i]),
            "context": _context_words(t.context[i]),
            "group": t.group[i] or DASH,
            "label": t.label[i],
            "n_inside": f"{float(t.n_inside[i]):,.0f}",
            "n_outside": f"{float(t.n_outside[i]):,.0f}",
            "crude": fmt_number(float(t.crude_difference[i])),
            "difference": interval(
                float(t.difference[i]), float(t.difference_lower[i]), float(t.difference_upper[i])
            ),
            "level": fmt_level(float(t.level[i])),
            "p_adjusted": fmt_p(float(t.p_adjusted[i])),
        }
        for i in where
    ]


def _stages(inv: Investigation) -> dict[str, Any]:
    h = inv.hypotheses
    search = [i for i in range(len(h)) if h.stage[i] == "search"]
    confirm = [i for i in range(len(h)) if h.stage[i] == "confirm"]
    kinds = list(dict.fromkeys(h.kind))
    per_kind = []
    for kind in kinds:
        s = [i for i in search if h.kind[i] == kind]
        n_candidates = sum(1 for i in s if h.status[i] == "candidate")
        retested = [i for i in confirm if h.kind[i] == kind]
        c = Counter(h.status[i] for i in retested)
        per_kind.append(
            {
                "kind": KIND_LABELS.get(kind, kind),
                "searched": f"{len(s):,}",
                "candidates": f"{n_candidates:,}",
                "retested": f"{len(retested):,}",
                "statuses": [
                    {"status": st, "count": c[st], "tone": _TONE.get(st, "muted")}
                    for st in ("finding", "explained", "shadow", "not confirmed")
                    if c[st]
                ],
            }
        )
    return {
        "n_search": len(search),
        "n_confirm": len(confirm),
        "n_total": f"{len(search) + len(confirm):,}",
        "per_kind": per_kind,
        "rows": _rows(h, confirm),
        "has_labels": any(h.label),
        "effect_name": _effect_name(h),
    }


def _effect_name(t: HypothesisTable) -> str:
    """The name of the tables' effect column: one measure, or "Effect" for a mix."""
    measures = set(t.measure)
    return EFFECT_NAMES.get(measures.pop(), "Effect") if len(measures) == 1 else "Effect"


def _what(inv: Investigation) -> str:
    p = inv.parameters
    kinds = set(inv.hypotheses.kind) or set(p.get("analyses", ()))
    if "label_association" in kinds:
        return "output labels given more or less often to a protected group, per context"
    if "association" in kinds or "outcome" in p:
        outcome = p.get("outcome", "")
        return f"the model's output ({outcome}) by protected group, per context"
    error = _ERRORS.get(str(p.get("error", "misclassification")), "error")
    if "error_disparity" in kinds or "error_disparity" in p.get("analyses", ()):
        return f"weak slices and error disparities between protected groups ({error})"
    return f"weak slices ({error})"


def _default_title(inv: Investigation) -> str:
    kinds = set(inv.hypotheses.kind) or set(inv.parameters.get("analyses", ()))
    if "label_association" in kinds:
        return "Output labels associated with protected groups"
    if "association" in kinds or "outcome" in inv.parameters:
        return "Associations of a model's output with protected groups"
    return "Where the model errs"


def _listed(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or DASH
    return DASH if value is None else str(value)


def _header(
    inv: Investigation, title: str, source: str | None, stages: dict[str, Any]
) -> dict[str, Any]:
    p = inv.parameters
    facts = [
        ("Data", source or "in-memory data"),
        ("Rows", f"{inv.n_rows:,}"),
        ("Search / confirm", f"{inv.n_search_rows:,} / {inv.n_confirm_rows:,}"),
        ("Hypotheses tested", f"{stages['n_search']:,} + {stages['n_confirm']:,} again"),
        ("Alpha", f"{p.get('alpha', DASH)}"),
        ("Correction", str(p.get("correction", DASH))),
    ]
    columns = [("Context", _listed(p.get("context")))]
    if p.get("sensitive_features"):
        columns.insert(0, ("Protected", _listed(p["sensitive_features"])))
    if p.get("explanatory"):
        columns.append(("Explanatory", _listed(p["explanatory"])))
    n = len(inv.findings)
    return {
        "title": title,
        "what": _what(inv),
        "facts": facts,
        "columns": columns,
        "n_findings": n,
        "tone": "fail" if n else "pass",
        "n_explained": len(inv.explained),
    }


def _notes(inv: Investigation, stages: dict[str, Any]) -> dict[str, str]:
    p = inv.parameters
    alpha = p.get("alpha", DASH)
    analyses = p.get("analyses") or ()
    shared = f", shared equally by its {len(analyses)} analyses" if len(analyses) > 1 else ""
    corrected = correction_phrase(str(p.get("correction", "holm")))
    strata = _listed(p.get("explanatory"))
    return {
        "method": (
            f"Contexts (conjunctions of up to {p.get('max_depth', DASH)} conditions on the "
            f"context attributes, each with at least {p.get('min_support', DASH)} rows) were "
            f"searched on {inv.n_search_rows:,} rows, with p-values Bonferroni-adjusted over "
            f"the {stages['n_search']:,} hypotheses of the search; {inv.n_pruned:,} contexts "
            f"were ruled out by the support bound without being counted. The candidates that "
            f"passed, less those whose effect another candidate carries, were tested again on "
            f"the other {inv.n_confirm_rows:,} rows, with p-values {corrected} over them, so "
            f"that the chance of any false finding is at most {alpha}{shared}. Overlapping "
            f"findings are collapsed to one per root cause; the "
            f"hypotheses folded into a finding are counted as its shadows."
        ),
        "intervals": (
            "Each interval is at the Bonferroni-corrected level of its stage (shown with it). "
            "Rates carry Wilson score intervals; means and stratified rates are shown without "
            "one, and their difference carries the interval."
            + (
                " The normalised mutual information of group and output (0: independent, "
                "1: one determines the other) carries a noncentral chi-square interval; the "
                "rates shown are those of the output whose rate differs most."
                if "nmi" in inv.hypotheses.measure
                else ""
            )
        ),
        "stratified": (
            f"Rates and differences are averaged over the strata of {strata} "
            f"(Mantel–Haenszel weights); the crude difference ignores them."
            if _stratified(p)
            else ""
        ),
        "explained": (
            f"Associations confirmed without stratification that vanish within the strata "
            f"of {strata}: the explanatory attribute accounts for them."
        ),
    }


def _reproduce(
    inv: Investigation, command: str | None, source: str | None, fingerprint: str | None
) -> dict[str, Any]:
    return {
        "command": multiline_command(command) if command else None,
        "source": source or DASH,
        "fingerprint": fingerprint or DASH,
        "seed": inv.parameters.get("random_state", DASH),
        "parameters": [(k, _listed(v)) for k, v in inv.parameters.items()],
    }


def investigation_context(
    investigation: Investigation,
    *,
    title: str | None,
    source: str | None,
    command: str | None,
    fingerprint: str | None,
    plotly_js: str,
    version: str,
) -> dict[str, Any]:
    """The investigation template's variables.

    Parameters
    ----------
    investigation : Investigation
        The result to show.
    title : str or None
        The report's title; by default it says what was investigated.
    source : str or None
        The data file, if any.
    command : str or None
        The command line that ran the investigation, if any.
    fingerprint : str or None
        The data's SHA-256, if known.
    plotly_js : str
        The plotly.js bundle, embedded once.
    version : str
        Seawall's version.

    Returns
    -------
    dict
        Formatted strings, row dicts and the charts' HTML (as ``Markup``).
    """
    inv = investigation
    stages = _stages(inv)
    title = title if title is not None else _default_title(inv)
    explained = _rows(inv.explained, list(range(len(inv.explained))))
    return {
        "header": _header(inv, title, source, stages),
        "findings": [_card(inv, i) for i in range(len(inv.findings))],
        "explained": explained,
        "stages": stages,
        "notes": _notes(inv, stages),
        "reproduce": _reproduce(inv, command, source, fingerprint),
        "has_labels": stages["has_labels"],
        "effect_name": stages["effect_name"],
        "label_name": "Most changed output" if "nmi" in inv.hypotheses.measure else "Label",
        "version": version,
        "plotly_js": Markup(plotly_js),
    }

"""The audit report's "Associations" section, formatted from the audit's investigations.

Each finding is written as the investigation report writes it
(:func:`seawall.reports._investigation.finding_summary`): its context in words,
its group, both sides' rates with Wilson intervals at the row's level, the
difference with its interval and the adjusted p-value.
"""

from __future__ import annotations

from typing import Any

from seawall.associations import Investigation
from seawall.audit import AuditAssociations
from seawall.reports._format import DASH, fmt_level
from seawall.reports._investigation import finding_summary
from seawall.reports._labels import correction_phrase

__all__ = ["associations_context"]

# What each investigation of the section looks for, and what "none" means for it.
_PARTS = {
    "error_profile": ("Weak slices and error disparities", "no weak slice or error disparity"),
    "output_associations": ("Output associations", "no association of the output with a group"),
}


def _counts(inv: Investigation) -> tuple[int, int]:
    n_search = sum(1 for stage in inv.hypotheses.stage if stage == "search")
    return n_search, len(inv.hypotheses) - n_search


def _part(name: str, inv: Investigation) -> dict[str, Any]:
    title, nothing = _PARTS[name]
    n_search, n_confirm = _counts(inv)
    were = "was" if n_confirm == 1 else "were"
    again = (
        f"{n_confirm:,} of them passed the search and {were} tested again on the other "
        f"{inv.n_confirm_rows:,} rows"
        if n_confirm
        else "none passed the search"
    )
    tested = f"{n_search:,} hypotheses tested on {inv.n_search_rows:,} rows; {again}"
    if name == "error_profile":
        misclassification = inv.parameters.get("error") == "misclassification"
        error = "error rate" if misclassification else "mean absolute error"
        what = f"Contexts where the {error} is higher than everywhere else (weak slices), "
        what += "and where one group's differs from the rest of the context (error disparities)."
    else:
        outcome = "positive rate" if inv.parameters.get("outcome") == "binary" else "mean output"
        what = f"Contexts where one group's {outcome} differs from the rest of the context."
    return {
        "id": f"associations-{name.replace('_', '-')}",
        "title": title,
        "what": what,
        "rows": [finding_summary(inv, i) for i in range(len(inv.findings))],
        "tested": tested,
        "empty": f"None found: {nothing} among the {n_search:,} hypotheses tested ({again}).",
    }


def associations_context(section: AuditAssociations | None) -> dict[str, Any] | None:
    """The template's variables for the associations section of an audit.

    Parameters
    ----------
    section : AuditAssociations or None
        ``AuditResult.associations``; None when the audit did not ask for it.

    Returns
    -------
    dict or None
        The columns used and left out, the skip reason, and per investigation
        its formatted findings (or a sentence saying none were found); None
        without a section.
    """
    if section is None:
        return None
    parts = []
    alpha: object = DASH
    correction = "holm"
    levels: set[float] = set()
    for name, inv in section.investigations:
        params = inv.parameters
        alpha = params.get("alpha", DASH)
        correction = str(params.get("correction", correction))
        parts.append(_part(name, inv))
        levels.update(float(v) for v in inv.findings.level)
    n_findings = sum(len(p["rows"]) for p in parts)
    shown_levels = " / ".join(fmt_level(v) for v in sorted(levels)) or DASH
    return {
        "skipped": section.skipped,
        "depth": section.max_depth,
        "context": list(section.context),
        "left_out": [{"column": c, "reason": r} for c, r in section.left_out],
        "parts": parts,
        "n_findings": n_findings,
        "intro": (
            f"The audit compares whole groups; this section searches the data's other "
            f"columns for contexts, conjunctions of up to {section.max_depth} conditions on "
            f"them (numeric columns cut at quantiles), where the model errs more than "
            f"elsewhere or singles out a group. These findings do not affect the gates or "
            f"the verdict."
        ),
        "method": (
            f"Each investigation searches the contexts on one random half of the rows, with "
            f"p-values Bonferroni-adjusted over the search, and tests the candidates again on "
            f"the other half, with p-values {correction_phrase(correction)} over them, so "
            f"that the chance of any false finding is at most {alpha} per investigation "
            f"(shared equally by weak slices and error disparities). Overlapping findings "
            f"are collapsed to one per root cause."
        ),
        "intervals": (
            f"Intervals are at the Bonferroni-corrected level of the confirmation "
            f"({shown_levels}): rates carry Wilson score intervals, means none (their "
            f"difference carries the interval). Run seawall investigate for deeper "
            f"contexts, explanatory attributes and every hypothesis with its status."
        ),
    }

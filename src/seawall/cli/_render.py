"""Terminal output shared by the commands: progress, audit and investigation summaries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from seawall.associations import Investigation
from seawall.audit import AuditResult
from seawall.metrics import Estimate

if TYPE_CHECKING:
    from seawall.mitigation import RepairEffect

__all__ = [
    "association_line",
    "print_audit_summary",
    "print_investigation_summary",
    "mitigation_line",
    "print_repair",
    "progress_counter",
    "progress_steps",
]

_STATUS_STYLE = {
    "fail": "bold red",
    "inconclusive": "yellow",
    "pass": "green",
    "not judged": "dim",
    "fails": "bold red",
    "passes": "green",
}


def _bar(console: Console) -> Progress:
    """The progress bar of every command: what, how far, how long (cleared when done)."""
    return Progress(
        TextColumn("[bold blue]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


@contextmanager
def progress_steps(console: Console, total: int) -> Iterator[Callable[[str], None]]:
    """A progress bar over ``total`` named steps; yields ``advance(description)``.

    Parameters
    ----------
    console : rich.console.Console
        Where to draw (standard error, so standard output stays clean).
    total : int
        The number of steps.

    Yields
    ------
    callable
        Call with a description at the start of each step.
    """
    progress = _bar(console)
    with progress:
        task = progress.add_task("starting", total=total)
        started = False

        def advance(description: str) -> None:
            nonlocal started
            if started:
                progress.advance(task)
            started = True
            progress.update(task, description=description)

        yield advance
        progress.update(task, completed=total)


@contextmanager
def progress_counter(console: Console) -> Iterator[Callable[[int, int, str], None]]:
    """A progress bar that the work reports to; yields ``report(done, total, description)``.

    For work that learns its size as it goes (the models of a store), unlike
    :func:`progress_steps`.

    Parameters
    ----------
    console : rich.console.Console
        Where to draw (standard error, so standard output stays clean).

    Yields
    ------
    callable
        Call with the units done, the total and what is being done now.
    """
    progress = _bar(console)
    with progress:
        task = progress.add_task("starting", total=None)

        def report(done: int, total: int, description: str) -> None:
            progress.update(task, completed=done, total=total, description=description)

        yield report


def _interval(v: float, lo: float, hi: float, digits: int = 3) -> str:
    def f(x: float) -> str:
        return "—" if x != x else f"{x:.{digits}f}"

    return f"{f(v)} [{f(lo)}, {f(hi)}]"


def print_audit_summary(console: Console, result: AuditResult, html: Path, json: Path) -> None:
    """Print the findings, gates and four-fifths verdicts of an audit.

    Parameters
    ----------
    console : rich.console.Console
        Where to print.
    result : AuditResult
        The audit.
    html, json : Path
        The files written.
    """
    level = f"{100 * result.metrics.confidence_level:g}%"
    console.print(f"[bold]Findings[/bold] ({result.n_rows:,} rows, {result.parameters.task})")
    for finding in result.findings:
        console.print(f"  • {finding.text}", highlight=False)
    if result.four_fifths:
        table = Table(title=f"Four-fifths rule (lowest / highest selection rate, {level} CI)")
        for col in ("grouping", "ratio", "lowest", "highest", "verdict"):
            table.add_column(col)
        for f in result.four_fifths:
            style = _STATUS_STYLE.get(f.verdict, "")
            table.add_row(
                f.grouping,
                _interval(f.ratio, f.lower, f.upper),
                f.lowest_group,
                f.highest_group,
                f"[{style}]{f.verdict}[/]",
            )
        console.print(table)
    if result.gates:
        table = Table(title="Gates (interval at the Bonferroni-corrected level)")
        for col in ("gate", "grouping", "value", "between", "status"):
            table.add_column(col)
        for g in result.gates:
            style = _STATUS_STYLE.get(g.status, "")
            table.add_row(
                g.gate,
                g.grouping,
                _interval(g.value, g.lower, g.upper),
                f"{g.lowest_group} / {g.highest_group}",
                f"[{style}]{g.status}[/]",
            )
        console.print(table)
        verdict = "[bold green]PASSED[/]" if result.passed else "[bold red]FAILED[/]"
        console.print(f"Gates: {verdict}")
    for line in (association_line(result), mitigation_line(result)):
        if line is not None:
            console.print(escape(line), highlight=False)
    console.print(f"Report: {html}\nJSON:   {json}", highlight=False)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def association_line(result: AuditResult) -> str | None:
    """One line on the audit's associations section; None when it was not asked for.

    Parameters
    ----------
    result : AuditResult
        The audit.

    Returns
    -------
    str or None
        The findings counted by kind, or why the section was skipped.
    """
    section = result.associations
    if section is None:
        return None
    if section.skipped is not None:
        return f"Associations: skipped, {section.skipped}."
    kinds: list[str] = []
    n_tested = 0
    for _, inv in section.investigations:
        kinds += inv.findings.kind
        n_tested += sum(1 for stage in inv.hypotheses.stage if stage == "search")
    found = ", ".join(
        [
            _count(kinds.count("weak_slice"), "weak slice", "weak slices"),
            _count(kinds.count("error_disparity"), "error disparity", "error disparities"),
            _count(kinds.count("association"), "output association", "output associations"),
        ]
    )
    return (
        f"Associations: {found} among {n_tested:,} hypotheses over "
        f"{_count(len(section.context), 'column', 'columns')} (up to {section.max_depth} "
        f"conditions; no gate looks at them)."
    )


def _p(p: float) -> str:
    return "—" if p != p else ("< 0.001" if p < 0.001 else f"{p:.3f}")


def print_investigation_summary(
    console: Console, result: Investigation, html: Path, json: Path
) -> None:
    """Print an investigation's findings as a table, and where the files went.

    Parameters
    ----------
    console : rich.console.Console
        Where to print.
    result : Investigation
        The investigation.
    html, json : Path
        The files written.
    """
    f, h = result.findings, result.hypotheses
    n_search = sum(1 for stage in h.stage if stage == "search")
    alpha = result.parameters.get("alpha", "—")
    console.print(
        f"[bold]Investigation[/bold] ({result.n_rows:,} rows: {result.n_search_rows:,} to "
        f"search, {result.n_confirm_rows:,} to confirm; {n_search:,} hypotheses searched, "
        f"{len(h) - n_search:,} tested again)",
        highlight=False,
    )
    if len(f) == 0:
        console.print(f"  No finding at alpha={alpha}.", highlight=False)
    else:
        with_label = any(f.label)
        nmi = "nmi" in f.measure
        effect = "NMI" if nmi else "difference"
        meaning = (
            "NMI = normalised mutual information of group and output; in / out = rates of "
            "the output that differs most"
            if nmi
            else "difference = inside − outside"
        )
        table = Table(title=f"Findings (alpha={alpha}; {meaning})")
        label = "output" if nmi else "label"
        columns = ["kind", "context", "group", *([label] if with_label else [])]
        for col in (*columns, "in / out", f"{effect} [CI]", "adj. p"):
            table.add_column(col)
        for i in range(len(f)):
            table.add_row(
                f.kind[i].replace("_", " "),
                # Text from the data is escaped: "[b]" is a group label, not markup.
                escape(f.context[i]),
                escape(f.group[i]) or "—",
                *([escape(f.label[i])] if with_label else []),
                f"{f.inside[i]:.3f} / {f.outside[i]:.3f}",
                _interval(f.difference[i], f.difference_lower[i], f.difference_upper[i]),
                _p(float(f.p_adjusted[i])),
            )
        console.print(table)
    if len(result.explained):
        console.print(
            f"{len(result.explained)} association(s) explained by the explanatory attributes "
            f"(see the report).",
            highlight=False,
        )
    console.print(f"Report:   {html}\nFindings: {json}", highlight=False)


def _estimate(e: Estimate) -> str:
    return _interval(e.value, e.lower, e.upper)


def print_repair(console: Console, effect: RepairEffect) -> None:
    """One line on a repair's effect on a retrained model.

    Parameters
    ----------
    console : rich.console.Console
        Where to print.
    effect : RepairEffect
        Disparate impact and accuracy of the model retrained with and without the repair.
    """
    cost = 100 * (effect.accuracy_before.value - effect.accuracy_after.value)
    console.print(
        f"[bold]Repaired[/bold] (Feldman et al., repair level {effect.repair_level:g}; "
        f"{escape(effect.estimator)} retrained on the repaired features): disparate impact "
        f"{_estimate(effect.disparate_impact_before)} → "
        f"{_estimate(effect.disparate_impact_after)}; accuracy "
        f"{_estimate(effect.accuracy_before)} → {_estimate(effect.accuracy_after)} "
        f"({cost:.1f} points lost).",
        highlight=False,
    )


def mitigation_line(result: AuditResult) -> str | None:
    """What the audit's remedies did, in a sentence; None without a mitigation section.

    Parameters
    ----------
    result : AuditResult
        The audit.

    Returns
    -------
    str or None
        Equal-opportunity post-processing of the scores (TPR gap and accuracy,
        before and after) and full repair on the stand-in model (disparate
        impact and accuracy), each on the judging half, with intervals.
    """
    section = result.mitigation
    if section is None:
        return None
    by_key = {(o.remedy, o.setting, o.model): o for o in section.outcomes}
    parts = []
    before = by_key.get(("none", "", "audited"))
    post = by_key.get(("threshold", "equal_opportunity", "audited"))
    if before is not None and post is not None:
        parts.append(
            f"equal-opportunity thresholds move the TPR gap {_estimate(before.tpr_gap)} → "
            f"{_estimate(post.tpr_gap)} (accuracy {before.accuracy.value:.3f} → "
            f"{post.accuracy.value:.3f})"
        )
    plain = by_key.get(("none", "", "stand-in"))
    full = by_key.get(("repair", "repair_level=1", "stand-in"))
    if plain is not None and full is not None:
        parts.append(
            f"a stand-in model retrained on repaired features moves disparate impact "
            f"{_estimate(plain.disparate_impact)} → {_estimate(full.disparate_impact)} "
            f"(accuracy {plain.accuracy.value:.3f} → {full.accuracy.value:.3f})"
        )
    if not parts:
        return None
    return (
        f"Mitigation by {section.sensitive}, fitted on {section.n_fit:,} rows and judged on "
        f"the other {section.n_eval:,}: " + "; ".join(parts) + " (more in the report; no gate "
        "looks at it)."
    )

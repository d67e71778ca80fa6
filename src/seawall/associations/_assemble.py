"""Turn selections into the frozen result tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from seawall.associations._effects import Effect
from seawall.associations._problem import Problem
from seawall.associations._result import HypothesisTable, Investigation
from seawall.associations._select import Selection
from seawall.associations._stage import Stage
from seawall.metrics._table import frozen_array

__all__ = ["Part", "build_investigation", "concat_tables", "hypothesis_table", "take_rows"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class Part:
    """One analysis of an investigation: its problem, its selection and its kind."""

    kind: str
    problem: Problem
    selection: Selection
    alpha: float


def hypothesis_table(
    kind: str,
    stage: str,
    status: Sequence[str],
    contexts: Sequence[str],
    depth: IntArray,
    groups: Sequence[str],
    labels: Sequence[str],
    n1: FloatArray,
    n2: FloatArray,
    e: Effect,
    p_adjusted: FloatArray,
    level: FloatArray,
    crude_difference: FloatArray,
) -> HypothesisTable:
    """A hypothesis table from per-row descriptions, sizes and an effect."""
    m = len(status)
    return HypothesisTable(
        kind=(kind,) * m,
        stage=(stage,) * m,
        status=tuple(status),
        context=tuple(contexts),
        depth=frozen_array(depth),
        group=tuple(groups),
        label=tuple(labels),
        n_inside=frozen_array(n1),
        n_outside=frozen_array(n2),
        inside=frozen_array(e.first),
        outside=frozen_array(e.second),
        measure=("difference" if e.category is None else "nmi",) * m,
        difference=frozen_array(e.difference),
        difference_lower=frozen_array(e.difference_lower),
        difference_upper=frozen_array(e.difference_upper),
        ratio=frozen_array(e.ratio),
        ratio_lower=frozen_array(e.ratio_lower),
        ratio_upper=frozen_array(e.ratio_upper),
        crude_difference=frozen_array(crude_difference),
        p_value=frozen_array(e.p_value),
        p_adjusted=frozen_array(p_adjusted),
        level=frozen_array(level),
    )


def _stage_table(
    part: Part, stage: Stage, stage_name: str, status: Sequence[str], rows: npt.NDArray[np.intp]
) -> HypothesisTable:
    p = part.problem
    main = stage.main.take(rows)
    labels = (
        [""] * rows.size
        if main.category is None
        else [p.classes[int(c)] for c in main.category.tolist()]
    )
    return hypothesis_table(
        part.kind,
        stage_name,
        [status[i] for i in rows.tolist()],
        [p.describe(stage.attributes[i], stage.values[i]) for i in rows.tolist()],
        (stage.attributes[rows] >= 0).sum(axis=1),
        ["" if p.comparison == "weak_slice" else p.group_labels[int(g)] for g in stage.group[rows]],
        labels,
        stage.sides.n1.sum(axis=1)[rows],
        stage.sides.n2.sum(axis=1)[rows],
        main,
        stage.p_adjusted[rows],
        stage.level[rows],
        stage.crude.difference[rows],
    )


def concat_tables(tables: Sequence[HypothesisTable]) -> HypothesisTable:
    """Stack hypothesis tables, row after row."""
    cols: dict[str, Any] = {}
    for f in fields(HypothesisTable):
        parts = [getattr(t, f.name) for t in tables]
        if parts and isinstance(parts[0], tuple):
            cols[f.name] = tuple(v for part in parts for v in part)
        else:
            cols[f.name] = frozen_array(np.concatenate(parts) if parts else np.empty(0))
    return HypothesisTable(**cols)


def take_rows(table: HypothesisTable, order: npt.NDArray[np.intp]) -> HypothesisTable:
    """The rows ``order`` of a hypothesis table, in that order."""
    cols: dict[str, Any] = {}
    for f in fields(HypothesisTable):
        col = getattr(table, f.name)
        cols[f.name] = (
            tuple(col[i] for i in order.tolist())
            if isinstance(col, tuple)
            else frozen_array(col[order])
        )
    return HypothesisTable(**cols)


def build_investigation(
    parts: Sequence[Part], parameters: dict[str, Any], n_rows: int, max_findings: int
) -> Investigation:
    """Assemble the result of one or more analyses over the same rows.

    Parameters
    ----------
    parts : sequence of Part
        The analyses.
    parameters : dict
        The investigation's parameters, recorded in the result.
    n_rows : int
        The rows investigated.
    max_findings : int
        The most findings shown (over all parts).

    Returns
    -------
    Investigation
        Findings ranked by the conservative end of their interval.
    """
    found, explained, hypotheses = [], [], []
    shadows: list[int] = []
    for part in parts:
        sel = part.selection
        search_status = np.where(sel.search.p_adjusted < part.alpha, "candidate", "rejected")
        hypotheses.append(
            _stage_table(
                part, sel.search, "search", search_status.tolist(), np.arange(search_status.size)
            )
        )
        n_confirm = len(sel.status)
        hypotheses.append(
            _stage_table(part, sel.confirm, "confirm", sel.status, np.arange(n_confirm))
        )
        found.append(_stage_table(part, sel.confirm, "confirm", sel.status, sel.findings))
        shadows.extend(int((sel.shadow_of == i).sum()) for i in sel.findings.tolist())
        ex = np.flatnonzero(np.asarray(sel.status, dtype=object) == "explained")
        explained.append(_stage_table(part, sel.confirm, "confirm", sel.status, ex))
    findings = concat_tables(found)
    lo, hi = findings.difference_lower, findings.difference_upper
    conservative = np.where(lo > 0, lo, np.where(hi < 0, -hi, 0.0))
    order = np.lexsort((findings.depth, -conservative))[:max_findings]
    first = parts[0].selection
    return Investigation(
        findings=take_rows(findings, order),
        explained=concat_tables(explained),
        hypotheses=concat_tables(hypotheses),
        parameters=parameters,
        n_rows=n_rows,
        n_search_rows=first.n_search_rows,
        n_confirm_rows=first.n_confirm_rows,
        n_pruned=sum(p.selection.n_pruned for p in parts),
        shadows=tuple(shadows[i] for i in order.tolist()),
    )

"""Select on one split, confirm on the other, one finding per root cause.

1. **Search** (on the search split): every context up to ``max_depth`` with
   enough rows is tested; a hypothesis is a candidate when its p-value passes
   Bonferroni over all of them.
2. **Collapse** (search split): candidates are taken by the conservative end of
   their effect's interval; each is kept only if its effect survives on its
   *residual* rows, those not already covered by a kept candidate. A parent of
   a planted slice (diluted effect), its sub-slices (no rows left) and its
   siblings that share rows with it (no effect left) are its shadows.
3. **Confirm** (held-out split): the kept candidates are tested again on rows
   the search never saw, with Holm's (or BH's) adjustment over them and
   intervals at the Bonferroni level ``1 - alpha / K``; the residual collapse
   runs again and a sub-context whose effect does not differ from its parent's
   is folded into the parent. At most ``max_findings`` are shown.

With no association in the data, a finding needs a false positive in both
splits, so reports on null data are almost always empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from seawall.associations._collapse import (
    collapse,
    eliminate,
    fold_refinements,
    table_sides,
    total_table,
)
from seawall.associations._problem import Problem
from seawall.associations._rows import Rows, RowView
from seawall.associations._scan import ContextTables
from seawall.associations._stage import Stage, make_stage
from seawall.metrics._significance import adjust_pvalues

__all__ = ["SearchParams", "Selection", "select", "split_rows"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class SearchParams:
    """The search's parameters (validated by the caller)."""

    max_depth: int
    min_support: int
    test_size: float
    alpha: float
    correction: Literal["holm", "bh"]
    max_candidates: int
    max_findings: int
    random_state: int


@dataclass(frozen=True, slots=True)
class Selection:
    """Everything the search and the confirmation found, for the result to present.

    ``search`` holds every tested hypothesis of the search split; ``confirm``
    the candidates tested again on the held-out split. ``status`` (per
    confirmation row) is "finding", "shadow", "explained" or "not confirmed";
    ``shadow_of`` the confirmation row a shadow belongs to (-1 otherwise);
    ``findings`` the confirmation rows shown, best first.
    """

    search: Stage
    confirm: Stage
    status: tuple[str, ...]
    shadow_of: IntArray
    findings: IntArray
    n_search_rows: int
    n_confirm_rows: int
    n_pruned: int


def _search_stage(problem: Problem, rows: Rows, params: SearchParams) -> tuple[Stage, int]:
    tables: ContextTables = rows.scan(
        [c.other for c in problem.contexts], params.max_depth, params.min_support
    )
    n_ctx = len(tables)
    if problem.comparison == "weak_slice":
        ctx = np.arange(1, n_ctx)
        group = np.zeros(ctx.size, dtype=np.intp)
        outside = tables.counts[0] - tables.counts[ctx]
        outside_sums = None if tables.sums is None else tables.sums[0] - tables.sums[ctx]
    else:
        tested = np.asarray(problem.tested_groups, dtype=np.intp)
        ctx = np.repeat(np.arange(n_ctx), tested.size)
        group = np.tile(tested, n_ctx)
        outside = outside_sums = None
    sides = problem.sides(
        tables.counts[ctx],
        None if tables.sums is None else tables.sums[ctx],
        outside,
        outside_sums,
        group,
    )
    m = max(ctx.size, 1)
    stage = make_stage(
        problem,
        tables.attributes[ctx],
        tables.values[ctx],
        group,
        sides,
        1.0 - params.alpha / m,
        "bonferroni",
    )
    return stage, tables.n_pruned


def split_rows(
    problem: Problem, params: SearchParams, held_out: BoolArray | None = None
) -> tuple[RowView, RowView]:
    """The search and the confirmation rows of a problem in memory.

    Parameters
    ----------
    problem : Problem
        The investigation's arrays.
    params : SearchParams
        The search's parameters: ``test_size`` and ``random_state`` draw the
        split when ``held_out`` is None.
    held_out : ndarray of bool, shape (n,), optional
        Which rows confirm (from :func:`~seawall.associations._split.held_out_by_key`).

    Returns
    -------
    search, confirm : RowView
        The two splits, rows in ascending order.
    """
    n = problem.y.shape[0]
    if held_out is not None:
        return (
            problem.view(np.flatnonzero(~held_out).astype(np.intp)),
            problem.view(np.flatnonzero(held_out).astype(np.intp)),
        )
    rng = np.random.default_rng(params.random_state)
    perm = rng.permutation(n)
    n_confirm = int(round(n * params.test_size))
    confirm_rows = problem.view(np.sort(perm[:n_confirm]).astype(np.intp))
    search_rows = problem.view(np.sort(perm[n_confirm:]).astype(np.intp))
    return search_rows, confirm_rows


def select(
    problem: Problem, params: SearchParams, search_rows: Rows, confirm_rows: Rows
) -> Selection:
    """Run the search, the collapse and the confirmation.

    Parameters
    ----------
    problem : Problem
        What the investigation compares.
    params : SearchParams
        The search's parameters.
    search_rows, confirm_rows : Rows
        The two splits (see :func:`split_rows`), in memory or on a cluster.

    Returns
    -------
    Selection
        Every stage's hypotheses and the findings.
    """
    search, n_pruned = _search_stage(problem, search_rows, params)
    m = max(search.attributes.shape[0], 1)
    threshold = params.alpha / m
    main = search.main
    significant = main.p_value * m < params.alpha
    # Crude effects that may vanish within the strata: collapsed with the crude
    # effect, around the roots already kept.
    explainable = (
        search.crude.p_value * m < params.alpha
        if search.stratified is not None
        else np.zeros(significant.shape, dtype=bool)
    )
    depth = (search.attributes >= 0).sum(axis=1)
    idx = np.flatnonzero(significant)
    order = idx[np.lexsort((depth[idx], -main.conservative()[idx]))]
    roots, _ = collapse(problem, search_rows, search, order, threshold, params.max_candidates)
    roots, _ = eliminate(problem, search_rows, search, roots, threshold)
    idx = np.setdiff1d(np.flatnonzero(explainable), np.asarray(roots, dtype=np.intp))
    order = idx[np.lexsort((depth[idx], -search.crude.conservative()[idx]))]
    explained, _ = collapse(
        problem,
        search_rows,
        search,
        np.concatenate([np.asarray(roots, dtype=np.intp), order]),
        threshold,
        params.max_candidates,
        forced=len(roots),
        crude=True,
    )
    cand = np.asarray(roots + explained, dtype=np.intp)

    k = max(cand.size, 1)
    c_counts, c_sums = confirm_rows.tables(search.attributes[cand], search.values[cand])
    total = total_table(confirm_rows)
    sides = table_sides(problem, c_counts, c_sums, c_counts, c_sums, total, search.group[cand])
    confirm = make_stage(
        problem,
        search.attributes[cand],
        search.values[cand],
        search.group[cand],
        sides,
        1.0 - params.alpha / k,
        params.correction,
    )
    confirmed = confirm.p_adjusted < params.alpha
    status = np.array(["not confirmed"] * cand.size, dtype=object)
    shadow_of = np.full(cand.size, -1, dtype=np.intp)
    idx = np.flatnonzero(confirmed)
    c_depth = (confirm.attributes >= 0).sum(axis=1)
    order = idx[np.lexsort((c_depth[idx], -confirm.main.conservative()[idx]))]
    kept, shadow = collapse(problem, confirm_rows, confirm, order, params.alpha / k, cand.size)
    kept, folded = fold_refinements(problem, confirm_rows, confirm, kept, params.alpha / k)
    kept, eliminated = eliminate(problem, confirm_rows, confirm, kept, params.alpha / k)
    folded.update(eliminated)
    for i, j in {**shadow, **folded}.items():
        status[i] = "shadow"
        shadow_of[i] = j
    status[kept] = "finding"
    if confirm.stratified is not None:
        # Confirmed without strata, but no finding within them (not confirmed, or
        # carried by a finding): explained, one per root cause.
        crude_adj = adjust_pvalues(confirm.crude.p_value, params.correction)
        idx = np.flatnonzero((crude_adj < params.alpha) & (status != "finding"))
        order = idx[np.lexsort((c_depth[idx], -confirm.crude.conservative()[idx]))]
        roots, ex_shadow = collapse(
            problem,
            confirm_rows,
            confirm,
            np.concatenate([np.asarray(kept, dtype=np.intp), order]),
            params.alpha / k,
            cand.size,
            forced=len(kept),
            crude=True,
        )
        status[roots] = "explained"
        for i, j in ex_shadow.items():
            status[i] = "shadow"
            shadow_of[i] = j
    findings = np.asarray(kept[: params.max_findings], dtype=np.intp)
    return Selection(
        search,
        confirm,
        tuple(str(s) for s in status),
        shadow_of,
        findings,
        int(search_rows.size),
        int(confirm_rows.size),
        n_pruned,
    )

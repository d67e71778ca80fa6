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
from scipy import special

from seawall.associations._effects import Effect
from seawall.associations._problem import Problem, RowView, Sides
from seawall.associations._scan import ContextTables, scan_contexts
from seawall.metrics._significance import adjust_pvalues

__all__ = ["SearchParams", "Selection", "select"]

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
class Stage:
    """Hypotheses of one stage (search or confirmation), arrays of shape (m,)."""

    attributes: IntArray
    values: IntArray
    group: IntArray
    sides: Sides
    crude: Effect
    stratified: Effect | None
    p_adjusted: FloatArray
    level: FloatArray

    @property
    def main(self) -> Effect:
        """The effect that decides: stratified when there are explanatory attributes."""
        return self.crude if self.stratified is None else self.stratified


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


def _stage(
    problem: Problem,
    attributes: IntArray,
    values: IntArray,
    group: IntArray,
    sides: Sides,
    level: float,
    correction: Literal["holm", "bh", "bonferroni"],
) -> Stage:
    m = attributes.shape[0]
    levels = np.full(m, level)
    crude = sides.effect(problem.outcome, problem.alternative, levels, stratified=False)
    strat = (
        sides.effect(problem.outcome, problem.alternative, levels, stratified=True)
        if problem.n_strata > 1
        else None
    )
    p = (crude if strat is None else strat).p_value
    if correction == "bonferroni":
        adjusted = np.minimum(p * m, 1.0)
    else:
        adjusted = adjust_pvalues(p, correction)
    return Stage(attributes, values, group, sides, crude, strat, adjusted, levels)


def _search_stage(problem: Problem, rows: RowView, params: SearchParams) -> tuple[Stage, int]:
    contexts = problem.contexts
    tables: ContextTables = scan_contexts(
        rows.codes,
        [c.cardinality for c in contexts],
        [c.other for c in contexts],
        rows.cell,
        problem.n_cells,
        max_depth=params.max_depth,
        min_support=params.min_support,
        values=rows.y if problem.outcome == "continuous" else None,
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
    stage = _stage(
        problem,
        tables.attributes[ctx],
        tables.values[ctx],
        group,
        sides,
        1.0 - params.alpha / m,
        "bonferroni",
    )
    return stage, tables.n_pruned


def _mask_sides(
    problem: Problem, rows: RowView, inside: BoolArray, context: BoolArray, group: IntArray
) -> Sides:
    """Sides of hypotheses whose inside rows are ``inside`` (k, len(rows))."""
    k = inside.shape[0]
    if problem.comparison == "weak_slice":
        counts, sums = problem.mask_tables(rows, np.concatenate([inside, ~context]))
        return problem.sides(
            counts[:k],
            None if sums is None else sums[:k],
            counts[k:],
            None if sums is None else sums[k:],
            group,
        )
    counts, sums = problem.mask_tables(rows, inside)
    return problem.sides(counts, sums, None, None, group)


def _table_sides(
    problem: Problem,
    counts: FloatArray,
    sums: FloatArray | None,
    full_counts: FloatArray,
    full_sums: FloatArray | None,
    total: tuple[FloatArray, FloatArray | None],
    group: IntArray,
) -> Sides:
    """Sides from inside tables; a weak slice's outside is everything but its full context."""
    if problem.comparison == "weak_slice":
        outside = total[0] - full_counts
        outside_sums = None if total[1] is None or full_sums is None else total[1] - full_sums
        return problem.sides(counts, sums, outside, outside_sums, group)
    return problem.sides(counts, sums, None, None, group)


def _total(problem: Problem, rows: RowView) -> tuple[FloatArray, FloatArray | None]:
    """The table of all ``rows`` (the context with no condition)."""
    none = np.full((1, 1), -1, dtype=np.intp)
    return problem.context_tables(rows, none, none)


def _effect_of(problem: Problem, sides: Sides, level: float, *, crude: bool = False) -> Effect:
    levels = np.full(sides.n1.shape[0], level)
    return sides.effect(
        problem.outcome,
        problem.alternative,
        levels,
        stratified=problem.n_strata > 1 and not crude,
    )


def _collapse(
    problem: Problem,
    rows: RowView,
    stage: Stage,
    order: IntArray,
    threshold: float,
    limit: int,
    *,
    forced: int = 0,
    crude: bool = False,
) -> tuple[list[int], dict[int, int]]:
    """Greedy residual collapse: keep a candidate only if its residual rows show the effect.

    The residual tables (the candidate's rows not covered by a kept one) are
    kept up to date by counting only the rows each kept candidate newly
    covers, for all remaining candidates at once; the candidates between two
    keeps are judged in one vectorised step. The first ``forced`` candidates
    are kept unconditionally (they cover rows but are not returned); ``crude``
    judges residuals without stratification.
    """
    kept: list[int] = []
    shadow: dict[int, int] = {}
    if order.size == 0:
        return kept, shadow
    att, val, grp = stage.attributes[order], stage.values[order], stage.group[order]
    full_counts, full_sums = problem.context_tables(rows, att, val)
    total = _total(problem, rows)
    cov_counts = np.zeros_like(full_counts)
    cov_sums = None if full_sums is None else np.zeros_like(full_sums)
    first_overlap = np.full(order.size, -1, dtype=np.intp)
    covered = np.zeros(rows.size, dtype=bool)
    decisive = stage.crude if crude else stage.main
    sign = np.sign(decisive.difference[order])
    start = 0
    while start < order.size and len(kept) < limit + forced:
        rest = slice(start, order.size)
        res_counts = full_counts[rest] - cov_counts[rest]
        res_sums = (
            None if full_sums is None or cov_sums is None else full_sums[rest] - cov_sums[rest]
        )
        sides = _table_sides(
            problem,
            res_counts,
            res_sums,
            full_counts[rest],
            None if full_sums is None else full_sums[rest],
            (total[0], total[1]),
            grp[rest],
        )
        e = _effect_of(problem, sides, 0.95, crude=crude)
        ok = (
            (e.p_value < threshold)
            & (np.sign(e.difference) == sign[rest])
            & (res_counts.sum(axis=1) > 0)
        )
        ok[: max(forced - start, 0)] = True
        hits = np.flatnonzero(ok)
        stop = order.size if hits.size == 0 else start + int(hits[0])
        for pos in range(start, stop):
            shadow[int(order[pos])] = (
                int(order[first_overlap[pos]]) if first_overlap[pos] >= 0 else -1
            )
        if hits.size == 0:
            break
        kept.append(int(order[stop]))
        mask = problem.context_mask(rows, att[stop], val[stop])
        new = mask & ~covered
        covered |= mask
        later = slice(stop + 1, order.size)
        add_counts, add_sums = problem.context_tables(rows.subset(new), att[later], val[later])
        cov_counts[later] += add_counts
        if cov_sums is not None and add_sums is not None:
            cov_sums[later] += add_sums
        touched = (add_counts.sum(axis=1) > 0) & (first_overlap[later] < 0)
        first_overlap[later] = np.where(touched, stop, first_overlap[later])
        start = stop + 1
    return kept[forced:], shadow


def _eliminate(
    problem: Problem, rows: RowView, stage: Stage, kept: list[int], threshold: float
) -> tuple[list[int], dict[int, int]]:
    """Backward elimination of weak slices explained by the other kept slices.

    Each kept slice is tested within the strata of the *other* kept slices'
    membership pattern (a row's set of kept slices containing it), combined
    with any explanatory strata: only rows that share every other slice's
    membership are compared, so a slice made of the overlap of two real
    causes, or a parent or sibling of one, has no evidence of its own. The
    slice with the weakest evidence is dropped while it fails ``threshold``.
    """
    k = len(kept)
    if k < 2 or problem.comparison != "weak_slice":
        return kept, {}
    masks = np.stack(
        [problem.context_mask(rows, stage.attributes[i], stage.values[i]) for i in kept]
    )
    bits = (masks.T.astype(np.int64) << np.arange(k, dtype=np.int64)).sum(axis=1)
    patterns, inverse = np.unique(bits, return_inverse=True)
    n_pat = patterns.size
    index = inverse * problem.n_cells + rows.cell
    size = n_pat * problem.n_cells
    counts = np.bincount(index, minlength=size).astype(np.float64).reshape(n_pat, problem.n_cells)
    sums = None
    if problem.outcome == "continuous":
        v = rows.y
        sums = np.stack(
            [np.bincount(index, v, size), np.bincount(index, v * v, size)], axis=-1
        ).reshape(n_pat, problem.n_cells, 2)
    alive = list(range(k))
    dropped: dict[int, int] = {}
    while len(alive) > 1:
        pvals = []
        for j in alive:
            others = sum(1 << o for o in alive if o != j)
            _, stratum = np.unique(patterns & others, return_inverse=True)
            n_s = int(stratum.max()) + 1
            inside = ((patterns >> j) & 1).astype(bool)
            onehot = np.zeros((n_pat, n_s))
            onehot[np.arange(n_pat), stratum] = 1.0
            c_in = (onehot[inside].T @ counts[inside])[None]
            c_out = (onehot[~inside].T @ counts[~inside])[None]
            s_in = s_out = None
            if sums is not None:
                s_in = np.einsum("ps,pck->sck", onehot[inside], sums[inside])[None]
                s_out = np.einsum("ps,pck->sck", onehot[~inside], sums[~inside])[None]
            sides = _pattern_sides(problem, c_in, s_in, c_out, s_out)
            e = sides.effect(problem.outcome, "greater", 0.95, stratified=True)
            p = float(e.p_value[0])
            pvals.append(p if np.isfinite(p) else 1.0)
        worst = int(np.argmax(pvals))
        if pvals[worst] < threshold:
            break
        j = alive.pop(worst)
        overlap = [(int((masks[j] & masks[o]).sum()), o) for o in alive]
        dropped[kept[j]] = kept[max(overlap)[1]] if max(overlap)[0] > 0 else -1
    return [kept[j] for j in alive], dropped


def _pattern_sides(
    problem: Problem,
    c_in: FloatArray,
    s_in: FloatArray | None,
    c_out: FloatArray,
    s_out: FloatArray | None,
) -> Sides:
    """Sides over (pattern stratum x explanatory stratum), from (1, n_s, n_cells) tables."""
    shape = (1, -1, problem.n_groups, problem.n_classes)
    a = c_in.reshape(shape).sum(axis=2)
    b = c_out.reshape(shape).sum(axis=2)
    if problem.outcome == "binary":
        zero = np.zeros(a.shape[:2])
        return Sides(a.sum(axis=2), a[..., 1], zero, b.sum(axis=2), b[..., 1], zero)
    assert s_in is not None and s_out is not None
    sa = s_in.reshape(*shape, 2).sum(axis=2)
    sb = s_out.reshape(*shape, 2).sum(axis=2)
    return Sides(a[..., 0], sa[..., 0, 0], sa[..., 0, 1], b[..., 0], sb[..., 0, 0], sb[..., 0, 1])


def _is_refinement(stage: Stage, child: int, parent: int) -> bool:
    """Whether ``child``'s conditions include all of ``parent``'s (and more)."""
    pa = {
        (a, v)
        for a, v in zip(stage.attributes[parent], stage.values[parent], strict=True)
        if a >= 0
    }
    ca = {
        (a, v) for a, v in zip(stage.attributes[child], stage.values[child], strict=True) if a >= 0
    }
    return pa < ca and int(stage.group[child]) == int(stage.group[parent])


def _fold_refinements(
    problem: Problem, rows: RowView, stage: Stage, kept: list[int], threshold: float
) -> tuple[list[int], dict[int, int]]:
    """Fold a kept sub-context into a kept parent when their effects do not differ."""
    folded: dict[int, int] = {}
    for child in kept:
        for parent in kept:
            if child == parent or parent in folded or not _is_refinement(stage, child, parent):
                continue
            g = int(stage.group[child])
            c_mask = problem.context_mask(rows, stage.attributes[child], stage.values[child])
            p_mask = problem.context_mask(rows, stage.attributes[parent], stage.values[parent])
            rest = p_mask & ~c_mask
            if not rest.any():
                folded[child] = parent
                break
            sides = _mask_sides(
                problem,
                rows,
                np.stack([c_mask, rest]),
                np.stack([c_mask, p_mask]),
                np.array([g, g]),
            )
            e = _effect_of(problem, sides, 0.95)
            z = float(special.ndtri(0.975))
            se = (e.difference_upper - e.difference_lower) / (2.0 * z)
            stat = (e.difference[0] - e.difference[1]) / np.hypot(se[0], se[1])
            p = float(2.0 * special.ndtr(-abs(stat))) if np.isfinite(stat) else 1.0
            if p >= threshold:
                folded[child] = parent
                break
    return [i for i in kept if i not in folded], folded


def select(problem: Problem, params: SearchParams) -> Selection:
    """Run the search, the collapse and the confirmation.

    Parameters
    ----------
    problem : Problem
        The investigation's arrays.
    params : SearchParams
        The search's parameters.

    Returns
    -------
    Selection
        Every stage's hypotheses and the findings.
    """
    n = problem.y.shape[0]
    rng = np.random.default_rng(params.random_state)
    perm = rng.permutation(n)
    n_confirm = int(round(n * params.test_size))
    confirm_rows = problem.view(np.sort(perm[:n_confirm]).astype(np.intp))
    search_rows = problem.view(np.sort(perm[n_confirm:]).astype(np.intp))

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
    roots, _ = _collapse(problem, search_rows, search, order, threshold, params.max_candidates)
    roots, _ = _eliminate(problem, search_rows, search, roots, threshold)
    idx = np.setdiff1d(np.flatnonzero(explainable), np.asarray(roots, dtype=np.intp))
    order = idx[np.lexsort((depth[idx], -search.crude.conservative()[idx]))]
    explained, _ = _collapse(
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
    masks = (
        np.stack(
            [
                problem.context_mask(confirm_rows, search.attributes[i], search.values[i])
                for i in cand
            ]
        )
        if cand.size
        else np.zeros((0, confirm_rows.size), dtype=bool)
    )
    sides = _mask_sides(problem, confirm_rows, masks, masks, search.group[cand])
    confirm = _stage(
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
    kept, shadow = _collapse(problem, confirm_rows, confirm, order, params.alpha / k, cand.size)
    kept, folded = _fold_refinements(problem, confirm_rows, confirm, kept, params.alpha / k)
    kept, eliminated = _eliminate(problem, confirm_rows, confirm, kept, params.alpha / k)
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
        roots, ex_shadow = _collapse(
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

"""One finding per root cause: residual collapse, backward elimination, refinement folding.

See :mod:`._select` for where each step runs.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

from seawall.associations._effects import Effect
from seawall.associations._problem import Problem, Sides
from seawall.associations._rows import Region, Rows, context_of, pattern_overlap
from seawall.associations._stage import Stage

__all__ = [
    "collapse",
    "effect_of",
    "eliminate",
    "fold_refinements",
    "table_sides",
    "total_table",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]


def _split_sides(
    problem: Problem, counts: FloatArray, sums: FloatArray | None, k: int, group: IntArray
) -> Sides:
    """Sides from region tables: ``k`` insides, then (weak slices) their ``k`` outsides."""
    if problem.comparison == "weak_slice":
        return problem.sides(
            counts[:k],
            None if sums is None else sums[:k],
            counts[k:],
            None if sums is None else sums[k:],
            group,
        )
    return problem.sides(counts, sums, None, None, group)


def table_sides(
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


def total_table(rows: Rows) -> tuple[FloatArray, FloatArray | None]:
    """The table of all ``rows`` (the context with no condition)."""
    none = np.full((1, 1), -1, dtype=np.intp)
    return rows.tables(none, none)


def effect_of(problem: Problem, sides: Sides, level: float, *, crude: bool = False) -> Effect:
    levels = np.full(sides.n1.shape[0], level)
    return sides.effect(
        problem.outcome,
        problem.alternative,
        levels,
        stratified=problem.n_strata > 1 and not crude,
    )


def collapse(
    problem: Problem,
    rows: Rows,
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
    full_counts, full_sums = rows.tables(att, val)
    total = total_table(rows)
    cov_counts = np.zeros_like(full_counts)
    cov_sums = None if full_sums is None else np.zeros_like(full_sums)
    first_overlap = np.full(order.size, -1, dtype=np.intp)
    covering: list[tuple[tuple[int, int], ...]] = []
    decisive = stage.crude if crude else stage.main
    sign = np.sign(decisive.difference[order])
    start = 0
    while start < order.size and len(kept) < limit + forced:
        rest = slice(start, order.size)
        res_counts = full_counts[rest] - cov_counts[rest]
        res_sums = (
            None if full_sums is None or cov_sums is None else full_sums[rest] - cov_sums[rest]
        )
        sides = table_sides(
            problem,
            res_counts,
            res_sums,
            full_counts[rest],
            None if full_sums is None else full_sums[rest],
            (total[0], total[1]),
            grp[rest],
        )
        e = effect_of(problem, sides, 0.95, crude=crude)
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
        # The rows the new keep covers that no earlier keep did.
        ctx = context_of(att[stop], val[stop])
        new = Region((ctx,), tuple(covering))
        covering.append(ctx)
        later = slice(stop + 1, order.size)
        add_counts, add_sums = rows.tables(att[later], val[later], new)
        cov_counts[later] += add_counts
        if cov_sums is not None and add_sums is not None:
            cov_sums[later] += add_sums
        touched = (add_counts.sum(axis=1) > 0) & (first_overlap[later] < 0)
        first_overlap[later] = np.where(touched, stop, first_overlap[later])
        start = stop + 1
    return kept[forced:], shadow


def eliminate(
    problem: Problem, rows: Rows, stage: Stage, kept: list[int], threshold: float
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
    patterns, counts, sums = rows.pattern_tables(
        [context_of(stage.attributes[i], stage.values[i]) for i in kept]
    )
    n_pat = patterns.size
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
            sides = problem.sides(
                c_in.reshape(1, -1),
                None if s_in is None else s_in.reshape(1, -1, 2),
                c_out.reshape(1, -1),
                None if s_out is None else s_out.reshape(1, -1, 2),
                np.zeros(1, dtype=np.intp),
            )
            e = sides.effect(problem.outcome, "greater", 0.95, stratified=True)
            p = float(e.p_value[0])
            pvals.append(p if np.isfinite(p) else 1.0)
        worst = int(np.argmax(pvals))
        if pvals[worst] < threshold:
            break
        j = alive.pop(worst)
        overlap = [(pattern_overlap(patterns, counts, j, o), o) for o in alive]
        dropped[kept[j]] = kept[max(overlap)[1]] if max(overlap)[0] > 0 else -1
    return [kept[j] for j in alive], dropped


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


def fold_refinements(
    problem: Problem, rows: Rows, stage: Stage, kept: list[int], threshold: float
) -> tuple[list[int], dict[int, int]]:
    """Fold a kept sub-context into a kept parent when their effects do not differ."""
    pairs = [
        (child, parent)
        for child in kept
        for parent in kept
        if child != parent and _is_refinement(stage, child, parent)
    ]
    if not pairs:
        return kept, {}
    # The tables of every pair at once (one pass over the rows): the child, the
    # rest of the parent and, for weak slices, the rows outside each.
    regions: list[Region] = []
    for child, parent in pairs:
        c = context_of(stage.attributes[child], stage.values[child])
        p = context_of(stage.attributes[parent], stage.values[parent])
        regions += [Region((c,)), Region((p,), (c,))]
        if problem.comparison == "weak_slice":
            regions += [Region((), (c,)), Region((), (p,))]
    counts, sums = rows.region_tables(regions)
    per = len(regions) // len(pairs)
    folded: dict[int, int] = {}
    for i, (child, parent) in enumerate(pairs):
        if child in folded or parent in folded:
            continue
        part = slice(i * per, (i + 1) * per)
        c_counts = counts[part]
        c_sums = None if sums is None else sums[part]
        if not c_counts[1].sum() > 0:
            folded[child] = parent
            continue
        g = int(stage.group[child])
        sides = _split_sides(problem, c_counts, c_sums, 2, np.array([g, g]))
        e = effect_of(problem, sides, 0.95)
        z = float(special.ndtri(0.975))
        se = (e.difference_upper - e.difference_lower) / (2.0 * z)
        stat = (e.difference[0] - e.difference[1]) / np.hypot(se[0], se[1])
        p_value = float(2.0 * special.ndtr(-abs(stat))) if np.isfinite(stat) else 1.0
        if p_value >= threshold:
            folded[child] = parent
    return [i for i in kept if i not in folded], folded

"""One finding per root cause: residual collapse, backward elimination, refinement folding.

See :mod:`._select` for where each step runs.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

from seawall.associations._effects import Effect
from seawall.associations._problem import Problem, RowView, Sides
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


def total_table(problem: Problem, rows: RowView) -> tuple[FloatArray, FloatArray | None]:
    """The table of all ``rows`` (the context with no condition)."""
    none = np.full((1, 1), -1, dtype=np.intp)
    return problem.context_tables(rows, none, none)


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
    total = total_table(problem, rows)
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


def eliminate(
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
        overlap = [(int((masks[j] & masks[o]).sum()), o) for o in alive]
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
            e = effect_of(problem, sides, 0.95)
            z = float(special.ndtri(0.975))
            se = (e.difference_upper - e.difference_lower) / (2.0 * z)
            stat = (e.difference[0] - e.difference[1]) / np.hypot(se[0], se[1])
            p = float(2.0 * special.ndtr(-abs(stat))) if np.isfinite(stat) else 1.0
            if p >= threshold:
                folded[child] = parent
                break
    return [i for i in kept if i not in folded], folded

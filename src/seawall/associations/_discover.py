"""Discovery over large output spaces: every label against every group, in every context.

An image tagger gives each item a few of ten thousand labels. For every label,
protected group and context (the whole population and the conjunctions of up
to ``max_depth`` conditions), the rate at which the group's items carry the
label is compared with the rest of the context. The counts come from sparse
products (:mod:`._labels`); the search split tests only the hypotheses that
*can* reach significance (Tarone's bound: a 2x2 table whose most extreme
arrangement is not significant can never be), with Bonferroni over those; the
candidates, one per label, group and overlapping contexts, are confirmed on
the held-out split with Holm. A list of sensitive labels forms its own family
with half of ``alpha``, so that a rare offensive label is not drowned by ten
thousand ordinary ones, and is shown first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

from seawall._validation import param_error
from seawall.associations._assemble import concat_tables, hypothesis_table, take_rows
from seawall.associations._effects import Effect, proportion_effect
from seawall.associations._encoding import ContextColumn, describe_context
from seawall.associations._labels import _binary_labels, count_labels, label_hypotheses
from seawall.associations._result import Investigation
from seawall.associations._select import SearchParams
from seawall.associations._stratified import stratified_proportion_effect
from seawall.metrics._significance import adjust_pvalues

__all__ = ["run_discovery", "tarone_testable"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]


def _log_choose(n: FloatArray, k: FloatArray) -> FloatArray:
    return special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)  # type: ignore[no-any-return]


def tarone_testable(
    n1: FloatArray, n2: FloatArray, successes: FloatArray, alpha: float
) -> tuple[BoolArray, int]:
    """Hypotheses that can reach significance, and the Bonferroni factor that covers them.

    With the margins of a 2x2 table fixed, the smallest two-sided p-value any
    table can have (doubling the smaller tail, as :func:`proportion_effect`'s
    exact test does) is twice the probability of the most extreme table.
    Tarone's procedure finds the smallest ``k`` such that at most ``k``
    hypotheses have a minimum p-value below ``alpha / k``; only those are
    tested, at ``alpha / k``, and the family-wise error stays at ``alpha``.

    Parameters
    ----------
    n1, n2, successes : ndarray of float64, shape (m,)
        The two samples' sizes and the total successes (the margins).
    alpha : float
        The family-wise error rate.

    Returns
    -------
    testable : ndarray of bool, shape (m,)
        The hypotheses to test.
    k : int
        The Bonferroni factor (at least 1).

    References
    ----------
    .. [1] R. E. Tarone, "A modified Bonferroni method for discrete data",
       Biometrics 46 (1990) 515-522.

    Examples
    --------
    >>> t, k = tarone_testable(np.array([5.0, 500.0]), np.array([5.0, 500.0]),
    ...                        np.array([1.0, 100.0]), 0.05)
    >>> t.tolist(), k
    ([False, True], 1)
    """
    total = n1 + n2
    hi = np.minimum(n1, successes)
    lo = np.maximum(0.0, successes - n2)
    log_all = _log_choose(total, successes)
    upper = _log_choose(n1, hi) + _log_choose(n2, successes - hi) - log_all
    lower = _log_choose(n1, lo) + _log_choose(n2, successes - lo) - log_all
    p_min = np.minimum(1.0, 2.0 * np.exp(np.minimum(upper, lower)))
    m = p_min.size
    if m == 0:
        return np.zeros(0, dtype=bool), 1
    ordered = np.sort(p_min)
    ks = np.arange(1, m + 1, dtype=np.float64)
    count = np.searchsorted(ordered, alpha / ks, side="left")
    k = int(ks[np.argmax(count <= ks)]) if (count <= ks).any() else m
    return p_min < alpha / k, k


def _evidence(e: Effect) -> FloatArray:
    """The difference in units of its interval's half-width (a z-score that never underflows)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(e.difference) / ((e.difference_upper - e.difference_lower) / 2.0)
    return np.where(np.isfinite(z), z, 0.0)


def _overlap(a_attr: IntArray, a_val: IntArray, b_attr: IntArray, b_val: IntArray) -> bool:
    """Whether two contexts can share rows (no attribute fixed to two different values)."""
    fixed = {int(x): int(v) for x, v in zip(a_attr, a_val, strict=True) if x >= 0}
    return all(
        fixed.get(int(x), int(v)) == int(v) for x, v in zip(b_attr, b_val, strict=True) if x >= 0
    )


def _roots(
    order: IntArray,
    label: IntArray,
    group: IntArray,
    sign: FloatArray,
    attrs: IntArray,
    vals: IntArray,
) -> tuple[list[int], dict[int, int]]:
    """One candidate per label and root cause, in ``order`` (strongest evidence first).

    A later candidate of the same label whose context overlaps a kept one is its
    shadow when it concerns the same group (a parent, sub-context or sibling of
    the kept context), or another group with the opposite sign (the mirror
    image of a one-group-against-the-rest difference).
    """
    kept: list[int] = []
    shadow: dict[int, int] = {}
    by_label: dict[int, list[int]] = {}
    for i in order.tolist():
        owner = next(
            (
                j
                for j in by_label.get(int(label[i]), [])
                if (group[j] == group[i] or sign[j] != sign[i])
                and _overlap(attrs[j], vals[j], attrs[i], vals[i])
            ),
            None,
        )
        if owner is None:
            kept.append(i)
            by_label.setdefault(int(label[i]), []).append(i)
        else:
            shadow[i] = owner
    return kept, shadow


def _refine(
    kept: list[int],
    shadow: dict[int, int],
    counts: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    evidence: FloatArray,
    significant: BoolArray,
    nominal: float,
    attrs: IntArray,
    vals: IntArray,
) -> tuple[list[int], dict[int, int]]:
    """Replace a kept context by a sub-context that carries all of its effect.

    For a kept context ``F`` and a significant shadow ``C`` of it that refines
    it (same label, group and sign; ``C``'s conditions include ``F``'s), the
    rows of ``F`` outside ``C`` are tested (their counts are differences of the
    two tables); if they show no effect even at the ``nominal`` level, ``C``
    is the root cause and ``F`` its shadow. Among several such ``C`` the most
    specific wins, then the one with the strongest evidence.
    """
    x1, n1, x2, n2 = counts
    out = list(kept)
    new_shadow = dict(shadow)
    for pos, f in enumerate(kept):
        f_cond = {(int(a), int(v)) for a, v in zip(attrs[f], vals[f], strict=True) if a >= 0}
        subs = [
            c
            for c, owner in shadow.items()
            if owner == f
            and significant[c]
            and f_cond
            < {(int(a), int(v)) for a, v in zip(attrs[c], vals[c], strict=True) if a >= 0}
        ]
        if not subs:
            continue
        subs_arr = np.asarray(subs, dtype=np.intp)
        rest = proportion_effect(
            x1[f] - x1[subs_arr], n1[f] - n1[subs_arr], x2[f] - x2[subs_arr], n2[f] - n2[subs_arr]
        )
        # No effect left outside C, even at the nominal level: C carries it all.
        carried = subs_arr[rest.p_value >= nominal]
        if carried.size == 0:
            continue
        depth = (attrs[carried] >= 0).sum(axis=1)
        best = int(carried[np.lexsort((-evidence[carried], -depth))[0]])
        out[pos] = best
        new_shadow.pop(best, None)
        for c, owner in list(new_shadow.items()):
            if owner == f:
                new_shadow[c] = best
        new_shadow[f] = best
    return out, new_shadow


def run_discovery(
    labels: object,
    label_names: Sequence[str],
    group: IntArray,
    group_labels: tuple[str, ...],
    contexts: list[ContextColumn],
    sensitive_labels: Sequence[str],
    stratum: IntArray,
    n_strata: int,
    params: SearchParams,
    caller: str,
) -> Investigation:
    """Search, collapse and confirm label associations (inputs validated by the caller).

    Returns the investigation (kind ``"label_association"``).
    """
    matrix = _binary_labels(labels, caller)
    n, n_labels = matrix.shape
    if len(label_names) != n_labels:
        raise param_error(
            "label_names", caller, f"{n_labels} names (one per label column)", len(label_names)
        )
    name_index = {name: j for j, name in enumerate(label_names)}
    unknown = [s for s in sensitive_labels if s not in name_index]
    if unknown:
        raise param_error(
            "sensitive_labels", caller, "names of labels that occur in the label set", unknown[:5]
        )
    is_sensitive = np.zeros(n_labels, dtype=bool)
    is_sensitive[[name_index[s] for s in sensitive_labels]] = True
    rng = np.random.default_rng(params.random_state)
    perm = rng.permutation(n)
    n_confirm = int(round(n * params.test_size))
    confirm_rows = np.sort(perm[:n_confirm])
    search_rows = np.sort(perm[n_confirm:])
    n_groups = len(group_labels)

    # ---- search: counts, Tarone, Bonferroni per family
    tables = count_labels(
        matrix[search_rows],
        group[search_rows],
        n_groups,
        [c.codes[search_rows] for c in contexts],
        [c.cardinality for c in contexts],
        [c.other for c in contexts],
        max_depth=params.max_depth if contexts else 0,
        min_support=params.min_support,
    )
    hyp = label_hypotheses(tables)
    families = [is_sensitive[hyp.label], ~is_sensitive[hyp.label]]
    alphas = [params.alpha / 2, params.alpha / 2] if is_sensitive.any() else [0.0, params.alpha]
    tested = np.zeros(len(hyp), dtype=bool)
    threshold = np.zeros(len(hyp))
    for fam, a in zip(families, alphas, strict=True):
        idx = np.flatnonzero(fam)
        if a <= 0 or idx.size == 0:
            continue
        testable, k = tarone_testable(hyp.n1[idx], hyp.n2[idx], hyp.x1[idx] + hyp.x2[idx], a)
        tested[idx[testable]] = True
        threshold[idx[testable]] = a / k
    t_idx = np.flatnonzero(tested)
    level = 1.0 - threshold[t_idx]
    e = proportion_effect(
        hyp.x1[t_idx], hyp.n1[t_idx], hyp.x2[t_idx], hyp.n2[t_idx], confidence_level=level
    )
    significant = e.p_value < threshold[t_idx]
    # ---- collapse on the search split: sensitive labels first, then the conservative end
    sens_t = is_sensitive[hyp.label[t_idx]]
    cons = e.conservative()
    sig = np.flatnonzero(significant)
    # Sensitive labels first, then a group given the label more often (its mirror,
    # the other groups given it less often, follows), then the strongest evidence:
    # a broad context beats its slices at equal effect, a concentrated effect its
    # diluted parent.
    order = sig[np.lexsort((-cons[sig], -_evidence(e)[sig], e.difference[sig] < 0, ~sens_t[sig]))]
    c_attrs = tables.attributes[hyp.context[t_idx]]
    c_vals = tables.values[hyp.context[t_idx]]
    t_sign = np.sign(e.difference)
    roots, search_shadow = _roots(
        order, hyp.label[t_idx], hyp.group[t_idx], t_sign, c_attrs, c_vals
    )
    roots, _ = _refine(
        roots,
        search_shadow,
        (hyp.x1[t_idx], hyp.n1[t_idx], hyp.x2[t_idx], hyp.n2[t_idx]),
        _evidence(e),
        significant,
        params.alpha,
        c_attrs,
        c_vals,
    )
    roots = roots[: 2 * params.max_candidates]

    # ---- confirm on the held-out split
    cand = np.asarray(roots, dtype=np.intp)
    conf = matrix[confirm_rows].tocsc()
    g_conf = group[confirm_rows]
    s_conf = stratum[confirm_rows]
    x1 = np.zeros((cand.size, n_strata))
    n1 = np.zeros((cand.size, n_strata))
    x2 = np.zeros((cand.size, n_strata))
    n2 = np.zeros((cand.size, n_strata))

    def per_stratum(rows: BoolArray) -> FloatArray:
        return np.bincount(s_conf[rows], minlength=n_strata).astype(np.float64)

    for r, i in enumerate(cand.tolist()):
        mask = np.ones(confirm_rows.size, dtype=bool)
        for a, v in zip(c_attrs[i], c_vals[i], strict=True):
            if a >= 0:
                mask &= contexts[a].codes[confirm_rows] == v
        in_group = mask & (g_conf == hyp.group[t_idx][i])
        rest = mask & (g_conf != hyp.group[t_idx][i]) if n_groups > 2 else mask & ~in_group
        lab = hyp.label[t_idx][i]
        carriers = np.zeros(confirm_rows.size, dtype=bool)
        carriers[conf.indices[conf.indptr[lab] : conf.indptr[lab + 1]]] = True
        x1[r], n1[r] = per_stratum(carriers & in_group), per_stratum(in_group)
        x2[r], n2[r] = per_stratum(carriers & rest), per_stratum(rest)
    c_sens = sens_t[cand] if cand.size else np.zeros(0, dtype=bool)
    c_level = np.ones(cand.size)
    p_adj = np.ones(cand.size)
    for fam, a in zip((c_sens, ~c_sens), alphas, strict=True):
        idx = np.flatnonzero(fam)
        if idx.size == 0 or a <= 0:
            continue
        c_level[idx] = 1.0 - a / idx.size
    crude = proportion_effect(
        x1.sum(axis=1), n1.sum(axis=1), x2.sum(axis=1), n2.sum(axis=1), confidence_level=c_level
    )
    ce = (
        stratified_proportion_effect(x1, n1, x2, n2, confidence_level=c_level)
        if n_strata > 1
        else crude
    )

    def adjusted(p: FloatArray) -> FloatArray:
        out = np.ones(p.size)
        for fam, a in zip((c_sens, ~c_sens), alphas, strict=True):
            idx = np.flatnonzero(fam)
            if idx.size and a > 0:
                # Holm (or BH) within the family at the family's alpha, rescaled so
                # that "p_adjusted < alpha" reads the same for both families.
                out[idx] = np.minimum(
                    1.0, adjust_pvalues(p[idx], params.correction) * params.alpha / a
                )
        return out

    p_adj = adjusted(ce.p_value)
    confirmed = p_adj < params.alpha
    c_order = np.flatnonzero(confirmed)
    c_order = c_order[
        np.lexsort((-_evidence(ce)[c_order], ce.difference[c_order] < 0, ~c_sens[c_order]))
    ]
    r_label = hyp.label[t_idx][cand]
    r_group = hyp.group[t_idx][cand]
    c_sign = np.sign(ce.difference)
    kept, shadow = _roots(c_order, r_label, r_group, c_sign, c_attrs[cand], c_vals[cand])
    # Shown: sensitive labels first, then by the conservative end of the interval.
    c_cons = ce.conservative()
    kept = [kept[i] for i in np.lexsort((-c_cons[kept], ~c_sens[kept]))] if kept else kept
    status = np.array(["not confirmed"] * cand.size, dtype=object)
    status[list(shadow)] = "shadow"
    status[kept] = "finding"
    if n_strata > 1:
        # Confirmed crude, not within the strata: explained, one per label and group.
        ex = np.flatnonzero((adjusted(crude.p_value) < params.alpha) & (status != "finding"))
        ex = ex[np.lexsort((-_evidence(crude)[ex], crude.difference[ex] < 0))]
        ex_sign = np.sign(crude.difference)
        ex_kept, _ = _roots(ex, r_label, r_group, ex_sign, c_attrs[cand], c_vals[cand])
        status[ex_kept] = "explained"
    findings = np.asarray(kept[: params.max_findings], dtype=np.intp)

    def names(idx: IntArray, where: IntArray) -> tuple[list[str], list[str], list[str], IntArray]:
        ctx = [describe_context(contexts, c_attrs[i], c_vals[i]) for i in where.tolist()]
        grp = [group_labels[int(g)] for g in hyp.group[t_idx][where]]
        lab = [label_names[int(j)] for j in hyp.label[t_idx][where]]
        return ctx, grp, lab, (c_attrs[where] >= 0).sum(axis=1)

    s_ctx, s_grp, s_lab, s_depth = names(t_idx, np.arange(t_idx.size))
    search_table = hypothesis_table(
        "label_association",
        "search",
        ["candidate" if s else "rejected" for s in significant.tolist()],
        s_ctx,
        s_depth,
        s_grp,
        s_lab,
        hyp.n1[t_idx],
        hyp.n2[t_idx],
        e,
        np.where(threshold[t_idx] > 0, e.p_value * params.alpha / threshold[t_idx], 1.0).clip(
            max=1.0
        ),
        level,
        e.difference,
    )
    c_ctx, c_grp, c_lab, c_depth = names(t_idx, cand)
    confirm_table = hypothesis_table(
        "label_association",
        "confirm",
        [str(s) for s in status],
        c_ctx,
        c_depth,
        c_grp,
        c_lab,
        n1.sum(axis=1),
        n2.sum(axis=1),
        ce,
        p_adj,
        c_level,
        crude.difference,
    )
    shadows = tuple(sum(1 for j in shadow.values() if j == i) for i in findings.tolist())
    record: dict[str, Any] = {
        "hypotheses_counted": len(hyp) + hyp.n_skipped,
        "hypotheses_tested": int(t_idx.size),
        "n_labels": n_labels,
        "sensitive_labels": list(sensitive_labels),
    }
    explained = np.flatnonzero(status == "explained")
    return Investigation(
        findings=take_rows(confirm_table, findings),
        explained=take_rows(confirm_table, explained),
        hypotheses=concat_tables([search_table, confirm_table]),
        parameters=record,
        n_rows=n,
        n_search_rows=int(search_rows.size),
        n_confirm_rows=int(confirm_rows.size),
        n_pruned=tables.n_pruned,
        shadows=shadows,
    )

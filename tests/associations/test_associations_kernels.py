"""The scan, the effect kernels and the stratified tests against naive loops and scipy."""

from __future__ import annotations

from itertools import combinations, product

import numpy as np
import pytest
from scipy import stats

from seawall.associations._effects import mean_effect, proportion_effect
from seawall.associations._encoding import OTHER_LABEL, encode_contexts
from seawall.associations._scan import count_given, scan_contexts
from seawall.associations._stratified import stratified_mean_effect, stratified_proportion_effect
from seawall.metrics import newcombe_interval


def _naive_scan(codes, cards, excluded, cell, n_cells, max_depth, min_support):  # type: ignore[no-untyped-def]
    """Every conjunction whose sub-conjunctions all have min_support rows, by brute force."""
    n = cell.size
    out = {(): np.bincount(cell, minlength=n_cells).astype(float)}
    valid = {(): True}
    for depth in range(1, max_depth + 1):
        for attrs in combinations(range(len(codes)), depth):
            for vals in product(*(range(cards[a]) for a in attrs)):
                if any(v == excluded[a] for a, v in zip(attrs, vals, strict=True)):
                    continue
                cond = tuple(zip(attrs, vals, strict=True))
                subs = [cond[:j] + cond[j + 1 :] for j in range(depth)]
                if not all(valid.get(s, False) for s in subs):
                    continue
                mask = np.ones(n, dtype=bool)
                for a, v in cond:
                    mask &= codes[a] == v
                if mask.sum() >= min_support:
                    valid[cond] = True
                    out[cond] = np.bincount(cell[mask], minlength=n_cells).astype(float)
    return out


@pytest.mark.parametrize("max_depth", [1, 2, 3])
def test_scan_matches_brute_force(rng: np.random.Generator, max_depth: int) -> None:
    n, cards = 400, [2, 3, 4, 3]
    codes = [rng.integers(0, c, n) for c in cards]
    excluded = [-1, 2, -1, -1]
    cell = rng.integers(0, 3, n)
    t = scan_contexts(codes, cards, excluded, cell, 3, max_depth=max_depth, min_support=15)
    naive = _naive_scan(codes, cards, excluded, cell, 3, max_depth, 15)
    got = {}
    for i in range(len(t)):
        cond = tuple(
            (int(a), int(v)) for a, v in zip(t.attributes[i], t.values[i], strict=True) if a >= 0
        )
        got[cond] = t.counts[i]
    assert set(got) == set(naive)
    for cond, counts in naive.items():
        np.testing.assert_array_equal(got[cond], counts)
    assert t.n_evaluated >= len(naive) - 1


def test_count_given_matches_masks(rng: np.random.Generator) -> None:
    n, cards = 300, [3, 4, 2]
    codes = [rng.integers(0, c, n) for c in cards]
    cell = rng.integers(0, 2, n)
    values = rng.normal(size=n)
    attributes = np.array([[-1, -1], [1, -1], [0, 2], [0, 1]])
    vals = np.array([[-1, -1], [3, -1], [2, 1], [1, 0]])
    counts, sums = count_given(codes, cards, cell, 2, attributes, vals, row_values=values)
    assert sums is not None
    for i in range(4):
        mask = np.ones(n, dtype=bool)
        for a, v in zip(attributes[i], vals[i], strict=True):
            if a >= 0:
                mask &= codes[a] == v
        for c in range(2):
            sel = mask & (cell == c)
            assert counts[i, c] == sel.sum()
            assert sums[i, c, 0] == pytest.approx(values[sel].sum())
            assert sums[i, c, 1] == pytest.approx((values[sel] ** 2).sum())


def test_encoding_bins_numbers_and_pools_rare_values() -> None:
    rng = np.random.default_rng(0)
    n = 1000
    cities = np.array([f"c{k}" for k in rng.zipf(1.5, n) % 40])
    cols = encode_contexts(
        {"age": rng.uniform(18, 90, n), "city": cities, "flag": rng.integers(0, 2, n)},
        n,
        n_bins=4,
        max_values=5,
    )
    age, city, flag = cols
    assert age.binned and age.cardinality == 4 and np.bincount(age.codes).min() > 200
    assert city.labels[-1] == OTHER_LABEL and city.other == 4 and city.cardinality == 5
    kept = [lab for lab in city.labels[:-1]]
    counts = {c: int((cities == c).sum()) for c in set(cities.tolist())}
    assert sorted(counts.values(), reverse=True)[:4] == sorted(
        (counts[k] for k in kept), reverse=True
    )
    assert flag.labels == ("0", "1") and flag.other == -1


def test_proportion_effect_against_scipy(rng: np.random.Generator) -> None:
    x1 = rng.integers(0, 12, 40)
    n1 = x1 + rng.integers(1, 20, 40)
    x2 = rng.integers(0, 300, 40)
    n2 = x2 + rng.integers(1, 700, 40)
    e = proportion_effect(x1, n1, x2, n2, alternative="greater")
    lo, hi = newcombe_interval(x1, n1, x2, n2, 1.959963984540054)
    np.testing.assert_allclose(e.difference_lower, lo)
    np.testing.assert_allclose(e.difference_upper, hi)
    for i in range(40):
        table = [[x1[i], n1[i] - x1[i]], [x2[i], n2[i] - x2[i]]]
        if e.exact[i]:
            ref = stats.fisher_exact(table, alternative="greater").pvalue
        else:
            pooled = (x1[i] + x2[i]) / (n1[i] + n2[i])
            se = np.sqrt(pooled * (1 - pooled) * (1 / n1[i] + 1 / n2[i]))
            ref = stats.norm.sf((x1[i] / n1[i] - x2[i] / n2[i]) / se)
        assert e.p_value[i] == pytest.approx(ref, rel=1e-9)
    two = proportion_effect(x1, n1, x2, n2)
    for i in np.flatnonzero(two.exact):
        table = [[x1[i], n1[i] - x1[i]], [x2[i], n2[i] - x2[i]]]
        g = stats.fisher_exact(table, alternative="greater").pvalue
        le = stats.fisher_exact(table, alternative="less").pvalue
        assert two.p_value[i] == pytest.approx(min(1.0, 2 * min(g, le)), rel=1e-9)


def test_mean_effect_is_welch() -> None:
    e = mean_effect([1.3, 0.2], [2.0, 1.0], [40, 12], [1.0, 0.5], [1.0, 3.0], [60, 9])
    for i, (m1, v1, k1, m2, v2, k2) in enumerate(
        [(1.3, 2.0, 40, 1.0, 1.0, 60), (0.2, 1.0, 12, 0.5, 3.0, 9)]
    ):
        ref = stats.ttest_ind_from_stats(m1, np.sqrt(v1), k1, m2, np.sqrt(v2), k2, equal_var=False)
        assert e.p_value[i] == pytest.approx(ref.pvalue, rel=1e-9)


def test_one_stratum_reduces_to_the_crude_comparison() -> None:
    x1, n1, x2, n2 = 30.0, 80.0, 45.0, 200.0
    e = stratified_proportion_effect(
        np.array([[x1]]), np.array([[n1]]), np.array([[x2]]), np.array([[n2]])
    )
    assert e.difference[0] == pytest.approx(x1 / n1 - x2 / n2)
    # Sato's variance in one stratum is the unpooled (Wald) variance.
    p1, p2 = x1 / n1, x2 / n2
    se = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    assert (e.difference_upper[0] - e.difference[0]) / 1.959963984540054 == pytest.approx(se)
    # CMH in one stratum is Pearson's chi-square times (N - 1) / N.
    chi2, _, _, _ = stats.chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False)
    n = n1 + n2
    assert e.p_value[0] == pytest.approx(stats.chi2.sf(chi2 * (n - 1) / n, 1))


def test_stratification_removes_a_confounded_gap(rng: np.random.Generator) -> None:
    # Rates depend on the stratum only; the two sides have different mixes.
    rate = np.array([0.2, 0.5, 0.8])
    n1 = np.array([[400.0, 200.0, 100.0]])
    n2 = np.array([[100.0, 200.0, 400.0]])
    x1 = rng.binomial(n1.astype(int), rate).astype(float)
    x2 = rng.binomial(n2.astype(int), rate).astype(float)
    crude = proportion_effect(x1.sum(), n1.sum(), x2.sum(), n2.sum())
    strat = stratified_proportion_effect(x1, n1, x2, n2)
    assert crude.p_value[0] < 1e-10
    assert strat.p_value[0] > 0.001
    assert strat.difference_lower[0] < 0 < strat.difference_upper[0]


def test_stratified_means_combine_equal_differences() -> None:
    n = np.array([[30.0, 30.0]])
    e = stratified_mean_effect(
        n,
        np.array([[30.0, 90.0]]),
        np.array([[60.0, 300.0]]),
        n,
        np.array([[0.0, 60.0]]),
        np.array([[30.0, 150.0]]),
    )
    # stratum differences 1 and 1: any weights give 1
    assert e.difference[0] == pytest.approx(1.0)

"""Group metrics, intervals and tests on small fixtures worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from seawall.metrics import (
    adjust_pvalues,
    group_metrics,
    katz_ratio_interval,
    koopman_ratio_interval,
    newcombe_interval,
    ratio_interval,
    two_proportion_pvalue,
    wilson_interval,
)

Z95 = 1.959963984540054  # Phi^-1(0.975)

# Two groups of ten rows.
#   A: y_true 1111100000, y_pred 1111010000 -> TP=4 FN=1 FP=1 TN=4
#   B: y_true 1111110000, y_pred 1100001000 -> TP=2 FN=4 FP=1 TN=3
Y_TRUE = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0] + [1, 1, 1, 1, 1, 1, 0, 0, 0, 0]
Y_PRED = [1, 1, 1, 1, 0, 1, 0, 0, 0, 0] + [1, 1, 0, 0, 0, 0, 1, 0, 0, 0]
GROUP = ["A"] * 10 + ["B"] * 10

# (successes, trials) of every proportion, read off the confusion cells above.
BY_HAND = {
    "A": {
        "base_rate": (5, 10),  # TP + FN
        "selection_rate": (5, 10),  # TP + FP
        "tpr": (4, 5),  # TP / (TP + FN)
        "fpr": (1, 5),  # FP / (FP + TN)
        "tnr": (4, 5),
        "fnr": (1, 5),
        "precision": (4, 5),  # TP / (TP + FP)
        "npv": (4, 5),  # TN / (TN + FN)
        "accuracy": (8, 10),
        "error_rate": (2, 10),
    },
    "B": {
        "base_rate": (6, 10),
        "selection_rate": (3, 10),
        "tpr": (2, 6),
        "fpr": (1, 4),
        "tnr": (3, 4),
        "fnr": (4, 6),
        "precision": (2, 3),
        "npv": (3, 7),
        "accuracy": (5, 10),
        "error_rate": (5, 10),
    },
}


def wilson_by_hand(x: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson (1927): (p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)."""
    p = x / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denom = 1 + z * z / n
    return max(0.0, (centre - half) / denom), min(1.0, (centre + half) / denom)


def newcombe_by_hand(x1: float, n1: float, x2: float, n2: float) -> tuple[float, float]:
    """Newcombe (1998) method 10, from the two Wilson intervals."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_by_hand(x1, n1)
    l2, u2 = wilson_by_hand(x2, n2)
    d = p1 - p2
    return d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


def katz_by_hand(x1: float, n1: float, x2: float, n2: float) -> tuple[float, float]:
    """Katz et al. (1978): log(p1/p2) ± z sqrt(1/x1 - 1/n1 + 1/x2 - 1/n2)."""
    log_r = math.log((x1 / n1) / (x2 / n2))
    se = math.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2)
    return math.exp(log_r - Z95 * se), math.exp(log_r + Z95 * se)


def pooled_z_by_hand(x1: float, n1: float, x2: float, n2: float) -> float:
    p = (x1 + x2) / (n1 + n2)
    z = (x1 / n1 - x2 / n2) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return 2 * stats.norm.sf(abs(z))


def holm_by_hand(p: list[float]) -> list[float]:
    """Holm (1979) as a plain loop: the k-th smallest times (m - k), made monotone."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out = [0.0] * m
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, (m - k) * p[i])
        out[i] = min(1.0, running)
    return out


def bh_by_hand(p: list[float]) -> list[float]:
    """Benjamini-Hochberg (1995) as a plain loop from the largest p-value down."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i], reverse=True)
    out = [0.0] * m
    running = 1.0
    for k, i in enumerate(order):
        rank = m - k
        running = min(running, m * p[i] / rank)
        out[i] = min(1.0, running)
    return out


@pytest.fixture(scope="module")
def two_groups():  # type: ignore[no-untyped-def]
    return group_metrics(
        Y_TRUE, Y_PRED, sensitive_features=GROUP, reference="A", min_group_size=1, n_bootstrap=0
    )


# --------------------------------------------------------------------------- #
# closed forms
# --------------------------------------------------------------------------- #


def test_wilson_published_value() -> None:
    # 8 of 10: the textbook interval [0.4902, 0.9433].
    lo, hi = wilson_interval(8, 10, Z95)
    assert (round(float(lo), 4), round(float(hi), 4)) == (0.4902, 0.9433)
    assert (float(lo), float(hi)) == pytest.approx(wilson_by_hand(8, 10), abs=1e-12)


@pytest.mark.parametrize(("x", "n"), [(0, 10), (10, 10), (1, 1), (3, 7), (0.5, 2.5), (0, 1)])
def test_wilson_closed_form_and_boundaries(x: float, n: float) -> None:
    lo, hi = wilson_interval(x, n, Z95)
    e_lo, e_hi = wilson_by_hand(x, n)
    assert float(lo) == pytest.approx(0.0 if x == 0 else e_lo, abs=1e-12)
    assert float(hi) == pytest.approx(1.0 if x == n else e_hi, abs=1e-12)


def test_wilson_empty_is_nan() -> None:
    lo, hi = wilson_interval(np.array([0.0, 3.0]), np.array([0.0, 5.0]), Z95)
    assert np.isnan(lo[0]) and np.isnan(hi[0])
    assert np.isfinite(lo[1]) and np.isfinite(hi[1])


def test_newcombe_published_example() -> None:
    # Newcombe (1998), Table II example (a): 56/70 vs 48/80 -> [0.0524, 0.3339].
    lo, hi = newcombe_interval(56, 70, 48, 80, Z95)
    assert (round(float(lo), 4), round(float(hi), 4)) == (0.0524, 0.3339)
    assert (float(lo), float(hi)) == pytest.approx(newcombe_by_hand(56, 70, 48, 80), abs=1e-12)


def test_newcombe_is_antisymmetric() -> None:
    lo, hi = newcombe_interval(9, 20, 3, 15, Z95)
    lo2, hi2 = newcombe_interval(3, 15, 9, 20, Z95)
    assert (float(lo2), float(hi2)) == pytest.approx((-float(hi), -float(lo)), abs=1e-15)


def test_katz_closed_form() -> None:
    # 30/100 vs 45/100: log(0.3/0.45) ± 1.96 * sqrt(1/30 - 1/100 + 1/45 - 1/100).
    lo, hi = katz_ratio_interval(30, 100, 45, 100, Z95)
    assert (float(lo), float(hi)) == pytest.approx(katz_by_hand(30, 100, 45, 100), abs=1e-12)
    assert (round(float(lo), 3), round(float(hi), 3)) == (0.461, 0.965)


def test_katz_zero_cells() -> None:
    # With a zero count, 0.5 is added to the successes and trials of both samples;
    # the bound on the empty side is then 0 (nothing in the first sample) ...
    corrected = katz_by_hand(0.5, 10.5, 5.5, 10.5)
    lo, hi = katz_ratio_interval(0, 10, 5, 10, Z95)
    assert (float(lo), float(hi)) == pytest.approx((0.0, corrected[1]), abs=1e-12)
    # ... or infinity (nothing in the second), so the interval holds the estimate.
    lo, hi = katz_ratio_interval(5, 10, 0, 10, Z95)
    corrected = katz_by_hand(5.5, 10.5, 0.5, 10.5)
    assert float(lo) == pytest.approx(corrected[0], abs=1e-12)
    assert float(hi) == np.inf
    lo, hi = katz_ratio_interval(0, 10, 0, 10, Z95)  # 0/0: no ratio
    assert np.isnan(lo) and np.isnan(hi)
    lo, hi = katz_ratio_interval(3, 0, 2, 10, Z95)  # an empty sample
    assert np.isnan(lo) and np.isnan(hi)


def test_two_proportion_pvalue_fisher_for_small_cells() -> None:
    x1, n1, x2, n2 = [3, 1, 0, 7], [10, 12, 9, 8], [8, 6, 5, 2], [10, 11, 9, 9]
    p, exact = two_proportion_pvalue(x1, n1, x2, n2)
    assert exact.all()
    for i in range(4):
        table = [[x1[i], n1[i] - x1[i]], [x2[i], n2[i] - x2[i]]]
        assert p[i] == pytest.approx(stats.fisher_exact(table).pvalue, rel=1e-12)


def test_two_proportion_pvalue_z_for_large_cells() -> None:
    # 400/1000 vs 500/1000: pooled 0.45, se = sqrt(.45 * .55 * 2/1000), |z| = 4.49.
    p, exact = two_proportion_pvalue([400, 120], [1000, 300], [500, 100], [1000, 310])
    assert not exact.any()
    assert p[0] == pytest.approx(pooled_z_by_hand(400, 1000, 500, 1000), rel=1e-12)
    assert p[1] == pytest.approx(pooled_z_by_hand(120, 300, 100, 310), rel=1e-12)
    assert p[0] == pytest.approx(6.97e-6, rel=1e-2)


def test_two_proportion_pvalue_weighted_counts_use_z() -> None:
    p, exact = two_proportion_pvalue([1.5], [6.2], [4.1], [5.7], exact_allowed=False)
    assert not exact.any()
    assert p[0] == pytest.approx(pooled_z_by_hand(1.5, 6.2, 4.1, 5.7), rel=1e-12)


def test_two_proportion_pvalue_degenerate() -> None:
    p, exact = two_proportion_pvalue([0, 10, 3], [10, 10, 0], [0, 10, 1], [12, 10, 5])
    assert p[0] == 1.0 and p[1] == 1.0  # nothing varies
    assert np.isnan(p[2])  # an empty sample
    assert not exact.any()


# --------------------------------------------------------------------------- #
# multiplicity
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("method", ["holm", "bh"])
def test_adjust_pvalues_against_naive_loops(method: str, rng: np.random.Generator) -> None:
    naive = holm_by_hand if method == "holm" else bh_by_hand
    for m in (1, 2, 5, 40):
        p = rng.uniform(0, 0.2, m) ** 2
        p[rng.integers(0, m)] = p[0]  # a tie
        got = adjust_pvalues(p, method)  # type: ignore[arg-type]
        np.testing.assert_allclose(got, naive(p.tolist()), rtol=1e-14, atol=0)


def test_adjust_pvalues_published_examples() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005 0.01 0.03 0.04 times 4 3 2 1 -> 0.02 0.03 0.06 0.06 (monotone).
    np.testing.assert_allclose(adjust_pvalues(p, "holm"), [0.03, 0.06, 0.06, 0.02])
    # BH: 0.005*4/1=0.02, 0.01*4/2=0.02, 0.03*4/3=0.04, 0.04*4/4=0.04.
    np.testing.assert_allclose(adjust_pvalues(p, "bh"), [0.02, 0.04, 0.04, 0.02])
    np.testing.assert_array_equal(adjust_pvalues(p, "none"), p)


def test_adjust_pvalues_ignores_nan() -> None:
    p = np.array([0.01, np.nan, 0.04, 0.03])
    got = adjust_pvalues(p, "holm")
    assert np.isnan(got[1])
    np.testing.assert_allclose(got[[0, 2, 3]], holm_by_hand([0.01, 0.04, 0.03]))
    assert adjust_pvalues([], "bh").size == 0
    np.testing.assert_array_equal(adjust_pvalues([np.nan], "bh"), [np.nan])


# --------------------------------------------------------------------------- #
# the two-group fixture through group_metrics
# --------------------------------------------------------------------------- #


def test_group_sizes(two_groups) -> None:  # type: ignore[no-untyped-def]
    g = two_groups.groups
    assert g.grouping == ("sensitive_features",) * 2
    assert g.group == ("A", "B")
    np.testing.assert_array_equal(g.n, [10, 10])
    np.testing.assert_array_equal(g.weight, [10, 10])
    np.testing.assert_array_equal(g.positives, [5, 6])
    assert g.reference == (True, False)
    assert g.small == (False, False)


@pytest.mark.parametrize("group", ["A", "B"])
def test_rates_and_wilson_intervals_by_hand(two_groups, group: str) -> None:  # type: ignore[no-untyped-def]
    for metric, (x, n) in BY_HAND[group].items():
        est = two_groups.metric(metric, group)
        assert est.value == pytest.approx(x / n, abs=1e-15), metric
        lo, hi = wilson_by_hand(x, n)
        assert est.lower == pytest.approx(0.0 if x == 0 else lo, abs=1e-12), metric
        assert est.upper == pytest.approx(1.0 if x == n else hi, abs=1e-12), metric
    m = two_groups.metrics.to_frame()
    m = m[m.group == group].set_index("metric")
    for metric, (_, n) in BY_HAND[group].items():
        assert m.loc[metric, "denominator"] == n
        assert m.loc[metric, "method"] == "wilson"


def test_accuracy_of_a_is_the_textbook_wilson(two_groups) -> None:  # type: ignore[no-untyped-def]
    est = two_groups.metric("accuracy", "A")  # 8 of 10
    assert (round(est.lower, 4), round(est.upper, 4)) == (0.4902, 0.9433)


@pytest.mark.parametrize(
    ("metric", "name_diff", "name_ratio"),
    [
        ("selection_rate", "statistical_parity_difference", "disparate_impact"),
        ("tpr", "equal_opportunity_difference", "equal_opportunity_ratio"),
        ("fpr", "fpr_difference", "fpr_ratio"),
        ("fnr", "fnr_difference", "fnr_ratio"),
        ("precision", "precision_difference", "precision_ratio"),
        ("accuracy", "accuracy_difference", "accuracy_ratio"),
        ("error_rate", "error_rate_difference", "error_rate_ratio"),
    ],
)
def test_disparities_by_hand(two_groups, metric: str, name_diff: str, name_ratio: str) -> None:  # type: ignore[no-untyped-def]
    x1, n1 = BY_HAND["B"][metric]
    x2, n2 = BY_HAND["A"][metric]  # A is the reference
    diff = two_groups.disparity(name_diff, "B")
    assert diff.value == pytest.approx(x1 / n1 - x2 / n2, abs=1e-15)
    assert (diff.lower, diff.upper) == pytest.approx(newcombe_by_hand(x1, n1, x2, n2), abs=1e-12)
    ratio = two_groups.disparity(name_ratio, "B")
    assert ratio.value == pytest.approx((x1 / n1) / (x2 / n2), rel=1e-14)
    # Few successes: the ratio gets Koopman's score interval (Katz misses its level here).
    k_lo, k_hi = koopman_ratio_interval(x1, n1, x2, n2, stats.norm.ppf(0.975))
    assert (ratio.lower, ratio.upper) == pytest.approx((float(k_lo), float(k_hi)), rel=1e-12)
    # Every cell here is small: Fisher's exact test, shared by difference and ratio.
    d = two_groups.disparities.to_frame()
    rows = d[(d.metric == metric) & (d.group == "B")]
    assert len(rows) == 2
    assert set(rows.test) == {"fisher"}
    expected_p = stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]]).pvalue
    np.testing.assert_allclose(rows.p_value, expected_p, rtol=1e-12)
    assert set(rows.reference) == {"A"}


def test_equalized_odds_by_hand(two_groups) -> None:  # type: ignore[no-untyped-def]
    # max(|TPR_B - TPR_A|, |FPR_B - FPR_A|) = max(|1/3 - 4/5|, |1/4 - 1/5|) = 7/15.
    eo = two_groups.disparity("equalized_odds_difference", "B")
    assert eo.value == pytest.approx(7 / 15, abs=1e-15)
    d = two_groups.disparities.to_frame()
    rows = d[d.metric == "equalized_odds"]
    p_tpr = stats.fisher_exact([[2, 4], [4, 1]]).pvalue
    p_fpr = stats.fisher_exact([[1, 3], [1, 4]]).pvalue
    # Bonferroni over the two gaps.
    assert rows.p_value.item() == pytest.approx(min(1.0, 2 * min(p_tpr, p_fpr)), rel=1e-12)
    assert rows.test.item() == "bonferroni(tpr, fpr)"

    # The upper bound needs to hold only for the gap that is truly the larger one:
    # max over the gaps of max(|lower|, |upper|) of each gap's 95% Newcombe interval.
    # The lower bound must hold for both gaps at once: Bonferroni, level 1 - alpha/2.
    def abs_bounds(z: float) -> list[tuple[float, float]]:
        out = []
        for x1, n1, x2, n2 in ((2, 6, 4, 5), (1, 4, 1, 5)):  # TPR, FPR: B vs A
            lo, hi = (float(v) for v in newcombe_interval(x1, n1, x2, n2, z))
            out.append((0.0 if lo <= 0 <= hi else min(abs(lo), abs(hi)), max(abs(lo), abs(hi))))
        return out

    upper = max(b[1] for b in abs_bounds(stats.norm.ppf(1 - 0.05 / 2)))
    lower = max(b[0] for b in abs_bounds(stats.norm.ppf(1 - 0.05 / 4)))
    assert eo.upper == pytest.approx(upper, rel=1e-12)
    assert eo.lower == pytest.approx(lower, abs=1e-12)
    assert eo.lower <= eo.value <= eo.upper


def test_holm_over_every_comparison(two_groups) -> None:  # type: ignore[no-untyped-def]
    # One test per (grouping, group, metric): a difference and its ratio share it.
    # Accuracy and error rate are complements: one hypothesis, one test.
    d = two_groups.disparities.to_frame()
    d["metric"] = d.metric.replace({"accuracy": "error_rate"})
    tests = d.drop_duplicates(["grouping", "group", "metric"])
    adjusted = dict(zip(tests.metric, holm_by_hand(tests.p_value.tolist()), strict=True))
    for metric, p_adj in zip(d.metric, d.p_adjusted, strict=True):
        assert p_adj == pytest.approx(adjusted[metric], rel=1e-12)
    np.testing.assert_array_equal(d.significant, d.p_adjusted < 0.05)


def test_benjamini_hochberg_over_every_comparison() -> None:
    res = group_metrics(
        Y_TRUE,
        Y_PRED,
        sensitive_features=GROUP,
        min_group_size=1,
        n_bootstrap=0,
        reference="A",
        correction="bh",
    )
    d = res.disparities.to_frame()
    d["metric"] = d.metric.replace({"accuracy": "error_rate"})
    tests = d.drop_duplicates(["grouping", "group", "metric"])
    adjusted = dict(zip(tests.metric, bh_by_hand(tests.p_value.tolist()), strict=True))
    np.testing.assert_allclose(d.p_adjusted, [adjusted[m] for m in d.metric], rtol=1e-12)
    none = group_metrics(
        Y_TRUE,
        Y_PRED,
        sensitive_features=GROUP,
        min_group_size=1,
        n_bootstrap=0,
        reference="A",
        correction="none",
    ).disparities
    np.testing.assert_array_equal(none.p_adjusted, none.p_value)


def test_summary_by_hand(two_groups) -> None:  # type: ignore[no-untyped-def]
    s = two_groups.summary.to_frame().set_index("name")
    # Selection rate: A 0.5 (highest), B 0.3 (lowest).
    row = s.loc["statistical_parity_difference"]
    assert row.value == pytest.approx(0.2, abs=1e-15)
    assert (row.lowest_group, row.highest_group) == ("B", "A")
    assert s.loc["disparate_impact"].value == pytest.approx(0.6, abs=1e-15)
    # Equalized odds: the larger of the TPR spread (7/15) and the FPR spread (1/20).
    assert s.loc["equalized_odds_difference"].value == pytest.approx(7 / 15, abs=1e-15)
    # With two groups the spread's interval is the absolute pairwise Newcombe interval.
    lo, hi = newcombe_by_hand(5, 10, 3, 10)
    assert (row.lower, row.upper) == pytest.approx(
        (0.0 if lo <= 0 <= hi else min(abs(lo), abs(hi)), max(abs(lo), abs(hi))), abs=1e-12
    )
    # The homogeneity test of two groups is the (uncorrected) chi-square of the 2x2 table.
    expected = stats.chi2_contingency([[5, 5], [3, 7]], correction=False).pvalue
    assert row.p_value == pytest.approx(expected, rel=1e-12)
    assert row.test == "chi2"


def test_large_cells_use_the_z_test() -> None:
    # 1,000 rows per group: selection 400/1000 in A, 500/1000 in B.
    y_pred = [1] * 400 + [0] * 600 + [1] * 500 + [0] * 500
    y_true = ([1, 0] * 500) * 2
    group = ["A"] * 1000 + ["B"] * 1000
    res = group_metrics(y_true, y_pred, sensitive_features=group, reference="A", n_bootstrap=0)
    d = res.disparities.to_frame()
    row = d[(d.name == "statistical_parity_difference")].iloc[0]
    assert row.test == "z"
    assert row.p_value == pytest.approx(pooled_z_by_hand(500, 1000, 400, 1000), rel=1e-12)
    assert row.value == pytest.approx(0.1, abs=1e-15)


def test_chi2_summary_of_three_groups() -> None:
    # Selection rates 10/40, 20/40, 30/40 -> chi-square on the 3x2 table.
    y_pred = [1] * 10 + [0] * 30 + [1] * 20 + [0] * 20 + [1] * 30 + [0] * 10
    y_true = [1, 0] * 60
    group = ["a"] * 40 + ["b"] * 40 + ["c"] * 40
    res = group_metrics(y_true, y_pred, sensitive_features=group, n_bootstrap=0)
    s = res.summary.to_frame().set_index("name")
    table = [[10, 30], [20, 20], [30, 10]]
    expected = stats.chi2_contingency(table, correction=False).pvalue
    assert s.loc["statistical_parity_difference"].p_value == pytest.approx(expected, rel=1e-12)
    assert s.loc["statistical_parity_difference"].value == pytest.approx(0.5)
    assert s.loc["disparate_impact"].value == pytest.approx(1 / 3)
    # The summary's p-values are adjusted (Holm) across the summary rows alone.
    # Accuracy and error rate are complements: one hypothesis, one test.
    s = res.summary.to_frame()
    s["metric"] = s.metric.replace({"accuracy": "error_rate"})
    tests = s.drop_duplicates(["grouping", "metric"])
    adjusted = dict(zip(tests.metric, holm_by_hand(tests.p_value.tolist()), strict=True))
    np.testing.assert_allclose(s.p_adjusted, [adjusted[m] for m in s.metric], rtol=1e-12)


def test_weighted_rates_use_kish_effective_sizes() -> None:
    # Group A: weights 1,1,2,2 with labels 1,0,1,0 and decisions 1,1,0,0.
    # selection_rate = (1 + 1) / 6 = 1/3; n_eff = 6^2 / (1 + 1 + 4 + 4) = 3.6.
    y_true = [1, 0, 1, 0] + [1, 0, 1, 0]
    y_pred = [1, 1, 0, 0] + [1, 1, 1, 0]
    w = [1, 1, 2, 2] + [1, 1, 1, 1]
    group = ["A"] * 4 + ["B"] * 4
    res = group_metrics(
        y_true,
        y_pred,
        sensitive_features=group,
        sample_weight=w,
        min_group_size=1,
        n_bootstrap=0,
        reference="B",
    )
    assert res.weighted
    m = res.metrics.to_frame().set_index(["group", "metric"])
    row = m.loc[("A", "selection_rate")]
    assert row.value == pytest.approx(1 / 3)
    assert row.denominator == pytest.approx(3.6)
    lo, hi = wilson_by_hand(3.6 / 3, 3.6)
    assert (row.lower, row.upper) == pytest.approx((lo, hi), abs=1e-12)
    g = res.groups.to_frame().set_index("group")
    assert g.loc["A", "n"] == 4 and g.loc["A", "weight"] == 6 and g.loc["A", "positives"] == 3
    # Weighted counts are not whole: no Fisher test.
    assert "fisher" not in set(res.disparities.test)


def test_ratio_interval_is_koopman_with_few_successes_and_katz_with_many() -> None:
    z = stats.norm.ppf(0.975)
    lo, hi = ratio_interval([7, 700], [34, 3400], [1, 150], [34, 3400], z)
    k_lo, k_hi = koopman_ratio_interval(7, 34, 1, 34, z)
    assert (lo[0], hi[0]) == pytest.approx((float(k_lo), float(k_hi)), rel=1e-12)
    assert (lo[1], hi[1]) == pytest.approx(katz_by_hand(700, 3400, 150, 3400), rel=1e-12)

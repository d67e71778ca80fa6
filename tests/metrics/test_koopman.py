"""Koopman's score interval for a ratio of proportions.

Checked five ways: against a naive scalar implementation written independently
(the Pearson chi-squared statistic summed over the four cells of the table,
the constrained MLE found numerically, both bounds by ``brentq``); against
published values; by its exact coverage, summed over the binomial distribution
of the counts (no Monte Carlo error); on the edge cases; and by its duality
with Pearson's chi-squared test of the 2x2 table.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from seawall.metrics._intervals import katz_ratio_interval, koopman_ratio_interval

Z95 = 1.959963984540054  # Phi^-1(0.975)


# --------------------------------------------------------------- naive reference
def _constrained_p2(phi: float, x1: float, n1: float, x2: float, n2: float) -> float:
    """MLE of p2 under p1 = phi * p2, from the score equation of the log-likelihood."""
    top = min(1.0, 1.0 / phi)

    def score(p: float) -> float:
        # d/dp of x1 log(phi p) + (n1-x1) log(1-phi p) + x2 log p + (n2-x2) log(1-p).
        s = (x1 + x2) / p
        if n1 > x1:
            s -= phi * (n1 - x1) / (1.0 - phi * p)
        if n2 > x2:
            s -= (n2 - x2) / (1.0 - p)
        return s

    # The log-likelihood is concave in p: the maximum is at the top of the range
    # if the score is still positive there, else at the root of the score.
    edge = top * (1.0 - 1e-15)
    if score(edge) >= 0.0:
        return top
    return float(optimize.brentq(score, 1e-300, edge, xtol=1e-300, rtol=1e-15, maxiter=2000))


def _pearson(phi: float, x1: float, n1: float, x2: float, n2: float) -> float:
    """Pearson's chi-squared over the four cells, expected counts under p1 = phi p2."""
    p2 = _constrained_p2(phi, x1, n1, x2, n2)
    p1 = min(phi * p2, 1.0)
    total = 0.0
    cells = ((x1, n1 * p1), (n1 - x1, n1 * (1 - p1)), (x2, n2 * p2), (n2 - x2, n2 * (1 - p2)))
    for observed, expected in cells:
        if expected > 0:
            total += (observed - expected) ** 2 / expected
        elif observed > 0:
            return math.inf
    return total


def naive_koopman(
    x1: float, n1: float, x2: float, n2: float, z: float = Z95
) -> tuple[float, float]:
    """One interval, the slow way: ``brentq`` on ``chi2(exp(t)) = z^2``."""
    if n1 <= 0 or n2 <= 0 or (x1 <= 0 and x2 <= 0):
        return math.nan, math.nan

    def f(t: float) -> float:
        return _pearson(math.exp(t), x1, n1, x2, n2) - z * z

    if x1 <= 0:
        return 0.0, math.exp(optimize.brentq(f, -40.0, 40.0, xtol=1e-13))
    if x2 <= 0:
        return math.exp(optimize.brentq(f, -40.0, 40.0, xtol=1e-13)), math.inf
    t_hat = math.log((x1 / n1) / (x2 / n2))
    lower = optimize.brentq(f, t_hat - 40.0, t_hat, xtol=1e-13)
    upper = optimize.brentq(f, t_hat, t_hat + 40.0, xtol=1e-13)
    return math.exp(lower), math.exp(upper)


def _all_tables(sizes: tuple[int, ...]) -> list[tuple[float, float, float, float]]:
    samples = [(float(x), float(n)) for n in sizes for x in range(n + 1)]
    return [(x1, n1, x2, n2) for x1, n1 in samples for x2, n2 in samples]


# ------------------------------------------------------------ naive comparison
SMALL_TABLES = _all_tables((1, 2, 3, 7, 16))


def test_matches_naive_on_every_small_table() -> None:
    x1, n1, x2, n2 = (np.array(c) for c in zip(*SMALL_TABLES, strict=True))
    lower, upper = koopman_ratio_interval(x1, n1, x2, n2, Z95)
    expected = np.array([naive_koopman(*t) for t in SMALL_TABLES])
    np.testing.assert_allclose(lower, expected[:, 0], rtol=1e-9, atol=0)
    np.testing.assert_allclose(upper, expected[:, 1], rtol=1e-9, atol=0)


@pytest.mark.parametrize(
    "table",
    [
        (2.5, 7.3, 4.25, 11.0),  # weighted rows: effective counts
        (0.3, 0.9, 0.6, 1.7),  # fewer than one effective trial
        (123.4, 5000.0, 7.7, 31.2),
        (499.0, 500.0, 1.0, 500.0),
        (1.0, 500.0, 499.0, 500.0),
        (3.2, 3.2, 1.1, 8.0),  # all successes, fractional
        (0.0, 12.5, 3.5, 9.0),
        (4.5, 12.5, 0.0, 9.0),
    ],
)
@pytest.mark.parametrize("z", [1.0, Z95, 3.290526731491926])
def test_matches_naive_on_fractional_counts(
    table: tuple[float, float, float, float], z: float
) -> None:
    lower, upper = koopman_ratio_interval(*table, z)
    assert (float(lower), float(upper)) == pytest.approx(naive_koopman(*table, z), rel=1e-9)


def test_bounds_solve_the_score_equation() -> None:
    """At each finite positive bound, Pearson's statistic is z^2 (the definition)."""
    for table in [(36, 40, 16, 80), (7, 34, 1, 34), (0, 16, 15, 72), (5, 10, 0, 34)]:
        lower, upper = koopman_ratio_interval(*table, Z95)
        for bound in (float(lower), float(upper)):
            if 0.0 < bound < math.inf:
                assert _pearson(bound, *table) == pytest.approx(Z95**2, rel=1e-8)


def test_vectorised_equals_the_scalar_loop(rng: np.random.Generator) -> None:
    n1 = rng.integers(1, 200, 300).astype(float)
    n2 = rng.integers(1, 200, 300).astype(float)
    x1 = rng.binomial(n1.astype(int), rng.uniform(0, 1, 300)).astype(float)
    x2 = rng.binomial(n2.astype(int), rng.uniform(0, 1, 300)).astype(float)
    z = rng.uniform(1.0, 3.0, 300)
    lower, upper = koopman_ratio_interval(x1, n1, x2, n2, z)
    one_by_one = np.array(
        [
            [float(b) for b in koopman_ratio_interval(*args)]
            for args in zip(x1, n1, x2, n2, z, strict=True)
        ]
    )
    # Exactly: a bracket stops once narrow enough, whatever the rest of the batch.
    np.testing.assert_array_equal(lower, one_by_one[:, 0])
    np.testing.assert_array_equal(upper, one_by_one[:, 1])


# ------------------------------------------------------------- published values
def test_koopman_1984_example() -> None:
    """Koopman (1984, Biometrics 40:513-517): 36 of 40 against 16 of 80, 95%.

    The estimate is 4.5. The naive implementation above gives (2.9396, 7.1522)
    at 95% and (3.1368, 6.6327) at 90%, and the kernel agrees to 1e-9; Katz's
    log interval on the same table is (2.87, 7.06) at 95%.
    """
    lower, upper = koopman_ratio_interval(36, 40, 16, 80, Z95)
    assert (float(lower), float(upper)) == pytest.approx(naive_koopman(36, 40, 16, 80), rel=1e-9)
    assert round(float(lower), 4) == 2.9396
    assert round(float(upper), 4) == 7.1522
    z90 = 1.6448536269514722
    lower, upper = koopman_ratio_interval(36, 40, 16, 80, z90)
    expected = naive_koopman(36, 40, 16, 80, z90)
    assert (float(lower), float(upper)) == pytest.approx(expected, rel=1e-9)
    assert round(float(lower), 4) == 3.1368
    assert round(float(upper), 4) == 6.6327


def test_perondi_2004_as_in_fagerland_lydersen_laake() -> None:
    """The epinephrine RCT (Perondi et al. 2004): 7 of 34 against 1 of 34.

    Fagerland, Lydersen & Laake, *Statistical Analysis of Contingency Tables*
    (2017), ch. 4, report the Koopman interval 1.2209 to 42.5757; the same
    numbers are pinned in the R package contingencytables
    (ocbe-uio/contingencytables, tests/testthat/test-ch4.R).
    """
    lower, upper = koopman_ratio_interval(7, 34, 1, 34, Z95)
    assert round(float(lower), 4) == 1.2209
    assert round(float(upper), 4) == 42.5757


def test_all_successes_in_both_samples_has_a_closed_form() -> None:
    """With x1 = n1 and x2 = n2 the score equation solves to n1 / (n1 + z^2) and
    (n2 + z^2) / n2 (the closed form used by PropCIs::riskscoreci)."""
    for n1, n2, z in [(10, 10, Z95), (7, 40, 1.5), (2.5, 0.8, Z95)]:
        lower, upper = koopman_ratio_interval(n1, n1, n2, n2, z)
        assert float(lower) == pytest.approx(n1 / (n1 + z * z), rel=1e-9)
        assert float(upper) == pytest.approx((n2 + z * z) / n2, rel=1e-9)


def test_contains_one_exactly_when_pearson_does_not_reject() -> None:
    """Koopman's interval is the inversion of Pearson's test; at phi = 1 that is the
    usual (uncorrected) chi-squared test of independence of the 2x2 table."""
    checked = 0
    for x1, n1, x2, n2 in _all_tables((3, 8, 20)):
        if x1 + x2 in (0, n1 + n2):
            continue  # a zero margin: no test
        table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
        statistic = stats.chi2_contingency(table, correction=False)[0]
        if abs(statistic - Z95**2) < 1e-6:
            continue  # on the boundary, either answer is right
        lower, upper = koopman_ratio_interval(x1, n1, x2, n2, Z95)
        assert (float(lower) <= 1.0 <= float(upper)) == (statistic <= Z95**2)
        checked += 1
    assert checked > 1000


# ---------------------------------------------------------------- exact coverage
GRID = np.round(np.arange(0.1, 1.0, 0.1), 1)


def exact_coverage(interval, n: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Coverage of ``p1 / p2`` for every (p1, p2) on GRID, n trials in each sample."""
    x = np.arange(n + 1.0)
    lower, upper = interval(x[:, None], n, x[None, :], n, Z95)
    pmf = {p: stats.binom.pmf(x, n, p) for p in GRID}
    out = np.empty((GRID.size, GRID.size))
    for i, p1 in enumerate(GRID):
        for j, p2 in enumerate(GRID):
            covered = (lower <= p1 / p2) & (p1 / p2 <= upper)  # NaN cells never cover
            out[i, j] = np.sum(np.outer(pmf[p1], pmf[p2])[covered])
    return out


@pytest.mark.parametrize("n", [30, 100])
def test_exact_coverage_is_near_nominal(n: int) -> None:
    koopman = exact_coverage(koopman_ratio_interval, n)
    # Measured: n=30 min 94.38%, mean 95.11%, 79/81 cells in [93.5%, 96.5%] (max
    # 96.59% at p = 0.1 vs 0.9); n=100 min 94.40%, mean 94.99%, all 81 in band.
    assert 0.94 <= koopman.mean() <= 0.96
    assert koopman.min() >= 0.92
    in_band = np.mean((koopman >= 0.935) & (koopman <= 0.965))
    assert in_band >= 0.9


def test_exact_coverage_is_closer_to_nominal_than_katz_at_n30() -> None:
    """Katz's 0.5 correction overcovers at small p (99.4% at p1 = p2 = 0.1)."""
    koopman = exact_coverage(koopman_ratio_interval, 30)
    katz = exact_coverage(katz_ratio_interval, 30)
    assert np.mean(np.abs(koopman - 0.95)) < np.mean(np.abs(katz - 0.95))


# -------------------------------------------------------------------- edge cases
def test_no_successes_in_the_first_sample() -> None:
    lower, upper = koopman_ratio_interval(0, 10, 5, 34, Z95)
    assert float(lower) == 0.0
    assert float(upper) == pytest.approx(naive_koopman(0, 10, 5, 34)[1], rel=1e-9)
    assert 0.0 < float(upper) < math.inf


def test_no_successes_in_the_second_sample() -> None:
    lower, upper = koopman_ratio_interval(5, 10, 0, 34, Z95)
    assert float(upper) == math.inf
    assert float(lower) == pytest.approx(naive_koopman(5, 10, 0, 34)[0], rel=1e-9)
    assert 0.0 < float(lower) < math.inf


@pytest.mark.parametrize("table", [(10, 10, 3, 20), (3, 20, 10, 10), (10, 10, 0, 7), (0, 7, 9, 9)])
def test_all_successes_in_one_sample(table: tuple[int, int, int, int]) -> None:
    lower, upper = koopman_ratio_interval(*table, Z95)
    expected = naive_koopman(*table)
    assert float(lower) == pytest.approx(expected[0], rel=1e-9)
    assert float(upper) == pytest.approx(expected[1], rel=1e-9)


def test_undefined_cells_are_nan() -> None:
    x1 = [0, 3, 3, 0, 0.0]
    n1 = [10, 0, 10, 0, 5.5]
    x2 = [0, 2, 0, 0, 0.0]
    n2 = [10, 10, 0, 0, 2.5]
    lower, upper = koopman_ratio_interval(x1, n1, x2, n2, Z95)
    assert np.isnan(lower).all()
    assert np.isnan(upper).all()


def test_swapping_the_samples_inverts_the_interval() -> None:
    x1, n1, x2, n2 = (np.array(c) for c in zip(*_all_tables((4, 9)), strict=True))
    lower, upper = koopman_ratio_interval(x1, n1, x2, n2, Z95)
    swapped_lower, swapped_upper = koopman_ratio_interval(x2, n2, x1, n1, Z95)
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(lower, 1.0 / swapped_upper, rtol=1e-12)
        np.testing.assert_allclose(upper, 1.0 / swapped_lower, rtol=1e-12)


def test_the_estimate_is_always_inside(rng: np.random.Generator) -> None:
    tables = _all_tables((1, 2, 5, 13, 40))
    x1, n1, x2, n2 = (np.array(c) for c in zip(*tables, strict=True))
    weights = rng.uniform(0.05, 20.0, (2, x1.size))
    for scale1, scale2 in [(1.0, 1.0), (weights[0], weights[1])]:
        a1, m1, a2, m2 = x1 * scale1, n1 * scale1, x2 * scale2, n2 * scale2
        for z in (0.5, Z95, 4.0):
            lower, upper = koopman_ratio_interval(a1, m1, a2, m2, z)
            defined = (a1 > 0) | (a2 > 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                estimate = (a1 / m1) / (a2 / m2)
            assert np.all(lower[defined] <= estimate[defined])
            assert np.all(estimate[defined] <= upper[defined])
            assert np.all(lower[defined] >= 0.0)


def test_a_higher_confidence_level_gives_a_wider_interval() -> None:
    x1, n1, x2, n2 = (np.array(c) for c in zip(*_all_tables((3, 11)), strict=True))
    lo90, hi90 = koopman_ratio_interval(x1, n1, x2, n2, 1.6448536269514722)
    lo95, hi95 = koopman_ratio_interval(x1, n1, x2, n2, Z95)
    defined = ~np.isnan(lo90)
    assert np.all(lo95[defined] <= lo90[defined])
    assert np.all(hi90[defined] <= hi95[defined])


def test_broadcasting_shape_and_dtype() -> None:
    lower, upper = koopman_ratio_interval(np.arange(4)[:, None], 10, [1, 5, 9], 10, Z95)
    assert lower.shape == upper.shape == (4, 3)
    assert lower.dtype == upper.dtype == np.float64
    scalar_lower, scalar_upper = koopman_ratio_interval(3, 10, 5, 10, Z95)
    assert scalar_lower.shape == scalar_upper.shape == ()
    assert float(lower[3, 1]) == float(scalar_lower)


def test_inputs_are_not_mutated() -> None:
    x1 = np.array([0.0, 3.0, 10.0])
    x2 = np.array([2.0, 0.0, 10.0])
    before = (x1.copy(), x2.copy())
    koopman_ratio_interval(x1, 10.0, x2, 10.0, Z95)
    np.testing.assert_array_equal(x1, before[0])
    np.testing.assert_array_equal(x2, before[1])

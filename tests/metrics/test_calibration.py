"""The debiased calibration error: unbiasedness, its calibration test and intervals."""

from __future__ import annotations

import numpy as np

from seawall.metrics import group_metrics
from seawall.metrics._scores import calibration_error

#: Two score values, in calibration bins 1 and 5 of 10, with their shares and
#: the true P(y = 1 | s).
SCORES = np.array([0.15, 0.55])
SHARES = np.array([0.6, 0.4])


def _draws(
    rng: np.random.Generator, n: int, n_draws: int, truth: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Histograms (draws, 2 classes, 2 bins) of ``n`` rows; bins are the two scores."""
    rows_per_bin = rng.multinomial(n, SHARES, size=n_draws).astype(float)
    pos = rng.binomial(rows_per_bin.astype(np.int64), truth).astype(float)
    rows = np.stack([rows_per_bin - pos, pos], axis=1)
    s1 = rows * SCORES
    s2 = rows * SCORES**2
    return rows, s1, s2


def _estimate(rows: np.ndarray, s1: np.ndarray, s2: np.ndarray):  # type: ignore[no-untyped-def]
    return calibration_error(rows, s1, s2, (rows, s1, s2), np.array([1, 5]), 10)


def test_debiased_square_is_unbiased_where_the_plugin_is_not() -> None:
    rng = np.random.default_rng(1)
    truth = np.array([0.25, 0.45])  # d = (0.10, -0.10): true squared ECE 0.01
    est = _estimate(*_draws(rng, 30, 20_000, truth))
    true_square = float(SHARES @ (truth - SCORES) ** 2)
    se = est.squared.std() / np.sqrt(est.squared.size)
    assert abs(est.squared.mean() - true_square) < 4 * se
    # The plug-in is biased upward by about a bin's sampling variance.
    assert est.plugin.mean() > true_square + 0.01
    # The standard error errs large (it uses the upward-biased plug-in gap), by
    # about a quarter with 15 rows a bin.
    assert 1.0 < np.nanmean(est.standard_error) / est.squared.std() < 1.4


def test_calibration_test_holds_its_level_and_has_power() -> None:
    rng = np.random.default_rng(2)
    calibrated = _estimate(*_draws(rng, 40, 20_000, SCORES))
    size = float(np.mean(calibrated.null_pvalue < 0.025))
    assert size < 0.035
    miscalibrated = _estimate(*_draws(rng, 200, 2_000, np.array([0.35, 0.75])))
    assert np.mean(miscalibrated.null_pvalue < 0.025) > 0.9


def test_one_row_per_bin_gives_no_pair_and_no_evidence() -> None:
    rows = np.array([[1.0, 0.0], [0.0, 1.0]])  # a negative in bin 1, a positive in bin 5
    est = _estimate(rows, rows * SCORES, rows * SCORES**2)
    assert float(est.squared) == 0.0
    assert float(est.null_pvalue) == 1.0


def _scored(rng: np.random.Generator, n: int, shift: float) -> tuple[np.ndarray, ...]:
    score = rng.uniform(0.05, 0.95, n)
    truth = np.clip(score + shift, 0.0, 1.0)
    y = (rng.random(n) < truth).astype(int)
    return y, score


def test_group_intervals_cover_zero_for_calibrated_and_not_for_miscalibrated() -> None:
    rng = np.random.default_rng(3)
    y_a, s_a = _scored(rng, 2_000, 0.0)
    y_b, s_b = _scored(rng, 2_000, -0.2)
    y = np.r_[y_a, y_b]
    s = np.r_[s_a, s_b]
    group = np.repeat(["a", "b"], 2_000)
    res = group_metrics(y, (s > 0.5).astype(int), sensitive_features=group, y_score=s)
    a, b = res.metric("ece", "a"), res.metric("ece", "b")
    assert a.lower == 0.0 and a.upper < 0.05
    # The true ECE of b is 0.2 wherever the shift is not clipped (almost everywhere).
    assert 0.15 < b.lower < b.value < b.upper < 0.25
    diff = res.disparity("ece_difference", "b")
    assert diff.lower > 0.1 and diff.upper < 0.25
    assert diff.lower < diff.value < diff.upper

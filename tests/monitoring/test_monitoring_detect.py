"""Detection kernels over (n_series, n_steps) matrices: periods, baseline, calibrated score."""

from __future__ import annotations

import re

import numpy as np
import pytest

from seawall.exceptions import DataValidationError, InsufficientDataError, InvalidParameterError
from seawall.monitoring import Detection, detect, detect_period

N_STEPS = 1440


def _seasonal(rng: np.random.Generator, period: int, n: int, n_steps: int = N_STEPS) -> np.ndarray:
    t = np.arange(n_steps)
    if period == 168:  # hourly data: a daily shape, damped and lifted at weekends
        weekend = ((t // 24) % 7) >= 5
        base = np.sin(2 * np.pi * t / 24) * np.where(weekend, 0.3, 1.0) + 0.5 * weekend
    elif period > 1:
        base = np.sin(2 * np.pi * t / period) + 0.5 * np.cos(4 * np.pi * t / period)
    else:
        base = np.zeros(n_steps)
    return 10.0 + base + rng.normal(0, 0.4, (n, n_steps))


# --------------------------------------------------------------------------- #
# period detection
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("period", [24, 168, 7, 1])
def test_detect_period_finds_planted_periods(rng: np.random.Generator, period: int) -> None:
    X = _seasonal(rng, period, 40)
    found = detect_period(X)
    assert np.mean(found == period) >= 0.95, np.unique(found, return_counts=True)


def test_detect_period_vectorised_equals_loop(rng: np.random.Generator) -> None:
    X = np.vstack([_seasonal(rng, p, 5, 600) for p in (24, 7, 1, 168)])
    X[rng.random(X.shape) < 0.05] = np.nan
    batch = detect_period(X)
    loop = np.array([detect_period(X[i : i + 1])[0] for i in range(X.shape[0])])
    np.testing.assert_array_equal(batch, loop)


def test_detect_period_with_missing_values_and_trend(rng: np.random.Generator) -> None:
    X = _seasonal(rng, 24, 20) + 0.01 * np.arange(N_STEPS)
    X[rng.random(X.shape) < 0.2] = np.nan
    assert np.mean(detect_period(X) == 24) >= 0.95


def test_detect_period_no_season_for_short_or_missing_series() -> None:
    X = np.full((2, 10), np.nan)
    X[1] = np.arange(10.0)
    np.testing.assert_array_equal(detect_period(X), [1, 1])


def test_detect_period_bad_parameters() -> None:
    with pytest.raises(InvalidParameterError, match=re.escape("'min_acf' parameter")):
        detect_period(np.zeros((1, 50)), min_acf=1.5)


# --------------------------------------------------------------------------- #
# detect: result, causality, spikes, shifts, missing values
# --------------------------------------------------------------------------- #


def test_detect_result_shapes_and_readonly(rng: np.random.Generator) -> None:
    X = _seasonal(rng, 24, 3, 600)
    res = detect(X)
    assert isinstance(res, Detection)
    for arr in (res.scores, res.baselines, res.scales, res.warmup):
        assert arr.shape == X.shape
        assert not arr.flags.writeable
    assert res.periods.tolist() == [24, 24, 24]
    assert res.warmup[:, :200].all() and not res.warmup[:, 200:].any()
    scored = res.scores[:, 200:]
    assert np.isnan(res.scores[:, :200]).all()
    assert ((scored >= 0) & (scored < 1)).all()
    assert res.valid.all() and res.reasons == ("", "", "")
    d = res.to_dict()
    assert set(d) == {"scores", "baselines", "scales", "periods", "warmup", "reasons"}
    assert d["scores"][0][0] is None
    frame = res.to_frame()
    assert len(frame) == X.size and list(frame.columns)[:3] == ["series", "step", "score"]


def test_detect_is_causal(rng: np.random.Generator) -> None:
    X = _seasonal(rng, 24, 4, 600)
    res = detect(X, warmup=200)
    for cut in (200, 350, 599):
        Y = X.copy()
        Y[:, cut:] = rng.normal(50, 20, Y[:, cut:].shape)
        other = detect(Y, warmup=200)
        np.testing.assert_array_equal(other.scores[:, :cut], res.scores[:, :cut])
        np.testing.assert_array_equal(other.baselines[:, : cut + 1], res.baselines[:, : cut + 1])


def test_detect_batch_equals_per_series_loop(rng: np.random.Generator) -> None:
    X = np.vstack([_seasonal(rng, p, 3, 600) for p in (24, 7, 1)])
    X[rng.random(X.shape) < 0.03] = np.nan
    X[4] = np.nan  # a bad series among good ones
    batch = detect(X, warmup=240)
    for i in range(X.shape[0]):
        one = detect(X[i : i + 1], warmup=240)
        np.testing.assert_allclose(one.scores[0], batch.scores[i], rtol=1e-12, atol=0)
        np.testing.assert_allclose(one.baselines[0], batch.baselines[i], rtol=1e-12, atol=0)
        assert one.periods[0] == batch.periods[i]
        assert one.reasons[0] == batch.reasons[i]


def test_spike_scores_high_and_does_not_contaminate_baseline(rng: np.random.Generator) -> None:
    X = _seasonal(rng, 24, 1, 900)
    spiked = X.copy()
    spiked[0, 700] += 8.0  # 20 noise standard deviations
    clean, res = detect(X), detect(spiked)
    assert res.scores[0, 700] >= 0.995
    # The steps after it score about as they would have without it (its own seasonal
    # slot moved by at most season_rate * clip scales, about 0.3).
    diff = np.abs(res.scores[0, 701:749] - clean.scores[0, 701:749])
    assert diff.mean() < 0.1 and diff.max() < 0.4
    scale = clean.scales[0, 700]
    # The baseline over the next two cycles moves by well under one noise scale.
    drift = np.abs(res.baselines[0, 701:749] - clean.baselines[0, 701:749])
    assert drift.max() < 0.5 * scale
    assert res.scales[0, 701] < 1.1 * scale


def test_level_shift_is_absorbed(rng: np.random.Generator) -> None:
    X = _seasonal(rng, 24, 1, 1200)
    X[0, 600:] += 5.0  # about 12 noise scales, for good
    res = detect(X)
    assert res.scores[0, 600:603].min() >= 0.99  # first noticed
    late = res.scores[0, 800:1200]
    assert np.mean(late >= 0.99) < 0.03  # then the new normal
    assert abs(np.median(res.baselines[0, 800:] - (X[0, 800:] - 0))) < 0.5


def test_missing_values_score_nan_and_state_carries_over(rng: np.random.Generator) -> None:
    X = _seasonal(rng, 24, 1, 800)
    Y = X.copy()
    Y[0, 500:510] = np.nan
    a, b = detect(X), detect(Y)
    assert np.isnan(b.scores[0, 500:510]).all()
    np.testing.assert_array_equal(a.scores[0, :500], b.scores[0, :500])
    # Across the gap the state is frozen: the scale is the one in force before it.
    assert (b.scales[0, 500:511] == b.scales[0, 500]).all()
    assert np.isfinite(b.scores[0, 510:]).all()
    assert np.nanmax(np.abs(b.scores[0, 520:] - a.scores[0, 520:])) < 0.5


# --------------------------------------------------------------------------- #
# calibration: one threshold means the same on every series
# --------------------------------------------------------------------------- #

NOISES = {
    "gaussian": lambda g, n, m: g.normal(0, 1, (n, m)),
    "gaussian_wide": lambda g, n, m: 1000 + g.normal(0, 250, (n, m)),
    "student_t3": lambda g, n, m: g.standard_t(3, (n, m)),
    "student_t5_scaled": lambda g, n, m: 7 * g.standard_t(5, (n, m)),
    "poisson_10": lambda g, n, m: g.poisson(10, (n, m)).astype(float),
    "poisson_100": lambda g, n, m: g.poisson(100, (n, m)).astype(float),
    "laplace": lambda g, n, m: g.laplace(0, 3, (n, m)),
}


@pytest.mark.slow
@pytest.mark.parametrize("noise", sorted(NOISES))
def test_scores_are_calibrated_on_every_series(rng: np.random.Generator, noise: str) -> None:
    n_series, n_steps = 30, 3000
    X = NOISES[noise](rng, n_series, n_steps)
    res = detect(X, warmup=600)
    s = res.scores[:, 600:]
    share = (s >= 0.99).mean(axis=1)
    share90 = (s >= 0.9).mean(axis=1)
    # 2,400 scored steps: a binomial(2400, 1%) share has sd 0.2%; the estimate of
    # each series' tail adds a little more.
    assert 0.005 <= share.mean() <= 0.014, share
    assert share.min() >= 0.001 and share.max() <= 0.025, share
    assert 0.08 <= share90.mean() <= 0.115, share90
    assert share90.min() >= 0.06 and share90.max() <= 0.14, share90


# --------------------------------------------------------------------------- #
# bad input
# --------------------------------------------------------------------------- #


def test_one_dimensional_input_is_an_error() -> None:
    with pytest.raises(
        DataValidationError, match=re.escape("Wrap a single series as values[None, :]")
    ):
        detect(np.zeros(100))


def test_too_short_is_an_error() -> None:
    with pytest.raises(InsufficientDataError, match=re.escape("has 20 steps; at least 32")):
        detect(np.zeros((2, 20)))


def test_infinite_values_are_an_error() -> None:
    X = np.zeros((2, 100))
    X[1, 3] = np.inf
    with pytest.raises(DataValidationError, match=re.escape("(the first at series 1, step 3)")):
        detect(X)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"period": 0}, "'period' parameter of detect"),
        ({"period": "weekly"}, "'period' parameter of detect"),
        ({"period": [24, 24]}, "one period per series (3)"),
        ({"period": 200}, "at most warmup // 2 = 100"),
        ({"warmup": 5}, "'warmup' parameter of detect"),
        ({"level_rate": 1.0}, "'level_rate' parameter of detect"),
        ({"clip": 0}, "'clip' parameter of detect"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(InvalidParameterError, match=re.escape(fragment)):
        detect(np.zeros((3, 600)), **kwargs)  # type: ignore[arg-type]


def test_bad_series_do_not_stop_the_batch(rng: np.random.Generator) -> None:
    X = _seasonal(rng, 24, 4, 600)
    X[1] = np.nan  # all missing
    X[2, :150] = np.nan  # nothing to learn from in the first half of the warm-up
    res = detect(X)
    assert res.reasons[0] == "" and res.reasons[3] == ""
    assert res.reasons[1] == "all values are missing"
    assert "observed values in the first 100 steps" in res.reasons[2]
    np.testing.assert_array_equal(res.valid, [True, False, False, True])
    for i in (1, 2):
        assert np.isnan(res.scores[i]).all() and np.isnan(res.baselines[i]).all()
        assert res.periods[i] == 0
    good = detect(X[[0, 3]])
    np.testing.assert_allclose(good.scores, res.scores[[0, 3]], rtol=1e-12)


def test_constant_series_scores_zero_until_it_changes() -> None:
    X = np.full((1, 400), 3.0)
    X[0, 300] = 3.5
    res = detect(X)
    assert res.valid.all() and res.periods[0] == 1
    assert (res.scores[0, 133:300] == 0).all()
    assert res.scores[0, 300] > 0.99


def test_input_is_not_mutated(rng: np.random.Generator) -> None:
    for X in (_seasonal(rng, 24, 1, 300), _seasonal(rng, 7, 3, 300)):
        X[0, 5] = np.nan
        before = X.copy()
        detect(X)
        detect_period(X)
        np.testing.assert_array_equal(X, before)


def test_scores_keep_ranking_beyond_every_past_residual(rng: np.random.Generator) -> None:
    X = 5.0 + rng.normal(0, 1.0, (1, 1200))
    for step, size in ((900, 12.0), (1000, 25.0), (1100, 60.0)):
        X[0, step] += size
    s = detect(X, warmup=300, period=1).scores[0]
    # All three are beyond anything the series has shown; they still rank by size.
    assert 0.999 < s[900] < s[1000] < s[1100]


def test_an_early_wild_spell_is_forgotten(rng: np.random.Generator) -> None:
    X = 5.0 + rng.normal(0, 1.0, (1, 2400))
    X[0, 300:700] += 3.0 * rng.standard_t(1.5, 400)  # a heavy-tailed spell
    X[0, 2300] += 9.0
    s = detect(X, warmup=300, period=1).scores[0]
    # 1,600 quiet steps after the spell (over 6 * MEMORY) its residuals have faded
    # from the counts, so a 9-sigma step reads as rare as on a series that never
    # had one (without the halving it scores about 0.999).
    assert s[2300] > 0.9995


def test_a_season_fitted_on_little_more_than_one_cycle_keeps_its_scale(
    rng: np.random.Generator,
) -> None:
    """A warm-up half of 32 steps for a 24-step season: most slots are fitted on one value.

    Their residuals are exactly 0; counted in the MAD they made the starting scale
    about 0.01 against a noise of 2.25, every later step was clipped, the baseline
    froze and 30-sigma spikes scored about 0.01. Spikes must score high instead.
    """
    n, steps, sigma = 60, 240, 2.25
    t = np.arange(steps)
    x = 50 + 10 * np.sin(2 * np.pi * t / 24) + rng.normal(0, sigma, (n, steps))
    at = rng.integers(120, 230, n)
    x[np.arange(n), at] += 20 * sigma
    det = detect(x, period=24, warmup=64)
    start = det.scales[:, 64]  # from 8 pairs of values a series: spread, but not ~0
    assert (start > 0.2 * sigma).all() and (start < 2 * sigma).all()
    assert 0.6 * sigma < np.median(det.scales[:, 120:]) < 1.4 * sigma
    assert det.scores[np.arange(n), at].min() > 0.95
    # Every slot fitted on one value (warm-up half = one period): the first
    # differences give the scale, inflated a little by the season, not near zero.
    det = detect(x, period=24, warmup=48)
    assert (det.scales[:, 48] > 0.5 * sigma).all() and (det.scales[:, 48] < 3 * sigma).all()

"""Label-free estimated accuracy (CBPE): hand-worked sums, coverage, and broken calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _window_logs import START, point
from scipy import special
from sklearn.isotonic import IsotonicRegression

from seawall.exceptions import InsufficientDataError
from seawall.monitoring._cbpe import expected_sums, fit_calibration
from seawall.monitoring._window_metrics import window_metrics

N_WINDOWS, PER_WINDOW = 200, 200


def test_expected_sums_by_hand() -> None:
    # c = P(decision right): 0.9 (positive at 0.9), 0.8 (negative at 0.2), 0.3 (positive at 0.3).
    sums = expected_sums(
        np.array([0, 0, 0]), np.array([0.9, 0.2, 0.3]), np.array([1, 0, 1], dtype=np.int8), 1
    )
    np.testing.assert_allclose(sums[0], [3.0, 2.0, 0.09 + 0.16 + 0.21])


def test_isotonic_map_matches_sklearn(rng: np.random.Generator) -> None:
    s = rng.random(500)
    y = (rng.random(500) < s**2).astype(float)
    y[::7] = np.nan
    x_knots, y_knots = fit_calibration(s, y, "m", "test")
    ok = ~np.isnan(y)
    iso = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(s[ok], y[ok])
    grid = np.linspace(-0.1, 1.1, 301)
    np.testing.assert_allclose(np.interp(grid, x_knots, y_knots), iso.predict(grid), atol=1e-12)
    with pytest.raises(InsufficientDataError, match="labelled scored reference rows of both"):
        fit_calibration(s, np.zeros(500), "m", "test")


def _logs(rng: np.random.Generator, overconfidence: float) -> pd.DataFrame:
    """One model, hourly windows; true P(y=1) = p, logged score sigmoid(k logit p)."""
    n = N_WINDOWS * PER_WINDOW
    p = rng.beta(2.0, 2.0, n)
    score = special.expit(overconfidence * special.logit(p))
    return pd.DataFrame(
        {
            "time": START + pd.to_timedelta(np.repeat(np.arange(N_WINDOWS), PER_WINDOW), "h"),
            "model": "m",
            "score": score,
            "prediction": (score >= 0.5).astype(int),
            "label": (rng.random(n) < p).astype(float),
        }
    )


def _estimate_vs_truth(logs: pd.DataFrame, **options: object) -> tuple[pd.DataFrame, pd.Series]:
    frame = window_metrics(logs, every="1h", min_rows=1, feature_cols=[], **options).to_frame()
    return point(frame, "cbpe_accuracy"), point(frame, "accuracy").value


def test_cbpe_covers_the_realised_accuracy_of_a_calibrated_model(
    rng: np.random.Generator,
) -> None:
    est, truth = _estimate_vs_truth(_logs(rng, 1.0))
    covered = (est.lower <= truth) & (truth <= est.upper)
    assert 0.90 <= covered.mean() <= 0.99
    assert abs((est.value - truth).mean()) < 0.01  # unbiased
    assert (est.n == PER_WINDOW).all()


def test_cbpe_is_biased_when_calibration_breaks_and_isotonic_repairs_it(
    rng: np.random.Generator,
) -> None:
    # Overconfident scores (sigmoid(3 logit p)) promise more accuracy than they deliver.
    logs = _logs(rng, 3.0)
    est, truth = _estimate_vs_truth(logs)
    assert (est.value - truth).mean() > 0.05
    assert ((est.lower <= truth) & (truth <= est.upper)).mean() < 0.5
    # An isotonic map learned on the first 40 labelled windows removes the bias.
    est, truth = _estimate_vs_truth(logs, reference=40, calibration="isotonic")
    later = est.index.get_level_values("window_start") >= START + pd.Timedelta(hours=40)
    error = (est.value - truth)[later]
    assert abs(error.mean()) < 0.02
    covered = (est.lower <= truth) & (truth <= est.upper)
    assert covered[later].mean() >= 0.85

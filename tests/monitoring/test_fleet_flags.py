"""fleet_flags: runs at the fleet's level, weekly echoes dropped, guardrail breaches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seawall.exceptions import DataValidationError, InvalidParameterError
from seawall.monitoring import (
    breach_scores,
    flag_anomalies,
    fleet_flags,
    fleet_threshold,
    guardrail_bounds,
    guardrail_flags,
)

HOURS = pd.date_range("2024-01-01", periods=24 * 21, freq="h")


def test_is_the_union_of_runs_and_breaches_ranked_like_flags(rng: np.random.Generator) -> None:
    scores = 1 - rng.random((6, HOURS.size)) ** 2 * 0.02
    upper = np.where(np.arange(6)[:, None] < 3, 0.75 + 0.1 * rng.random(scores.shape), np.nan)
    metrics = ["disparate_impact"] * 3 + ["volume"] * 3
    res = fleet_flags(
        scores, HOURS, threshold=0.9999, upper=upper, metrics=metrics, guard_run=2, echo_days=None
    )
    runs = flag_anomalies(scores, threshold=0.9999)
    guard = guardrail_flags(upper, guardrail_bounds(metrics), min_run=2)
    assert guard.any() and not guard[3:].any() and res.n_breaches == int(guard.sum())
    np.testing.assert_array_equal(res.flags, runs | guard)
    np.testing.assert_array_equal(res.scores, breach_scores(scores, guard))
    assert res.echo is None and (res.levels == 0.9999).all()


def test_the_level_defaults_to_the_fleets() -> None:
    scores = np.full((40, HOURS.size), 0.5)
    res = fleet_flags(scores, HOURS, false_runs_per_day=0.5)
    assert res.levels.tolist() == [fleet_threshold(40, false_runs_per_day=0.5)] * 40
    assert res.echo == 168 and not res.flags.any()
    days = pd.date_range("2024-01-01", periods=60, freq="D")
    assert fleet_flags(np.full((2, 60), 0.5), days).echo == 7  # a week of daily windows


def test_a_weekly_peak_alarms_once_a_new_one_alarms_too() -> None:
    scores = np.full((2, HOURS.size), 0.3)
    monday_9 = [9, 9 + 168, 9 + 336]
    scores[0, monday_9] = 1 - 1e-9  # the same hour every week
    scores[1, [9, 200]] = 1 - 1e-9  # two unrelated spikes
    res = fleet_flags(scores, HOURS)
    assert np.flatnonzero(res.flags[0]).tolist() == [9]
    assert np.flatnonzero(res.flags[1]).tolist() == [9, 200]
    # Without the echo rule every Monday alarms.
    again = fleet_flags(scores, HOURS, echo_days=None)
    assert np.flatnonzero(again.flags[0]).tolist() == monday_9


def test_matches_flag_anomalies_with_the_echo_lag(rng: np.random.Generator) -> None:
    scores = 1 - rng.random((10, HOURS.size)) ** 3 * 0.05
    res = fleet_flags(scores, HOURS, threshold=0.999)
    np.testing.assert_array_equal(res.flags, flag_anomalies(scores, threshold=0.999, echo=168))


def test_bad_input_is_named() -> None:
    scores = np.full((2, HOURS.size), 0.5)
    with pytest.raises(DataValidationError, match="timestamps passed to fleet_flags has 10"):
        fleet_flags(scores, HOURS[:10])
    with pytest.raises(DataValidationError, match="pass metrics="):
        fleet_flags(scores, HOURS, upper=np.full(scores.shape, 0.9))
    with pytest.raises(DataValidationError, match="upper passed to fleet_flags has shape"):
        fleet_flags(scores, HOURS, upper=np.full((2, 5), 0.9), metrics=["a", "b"])
    with pytest.raises(InvalidParameterError, match="echo_days"):
        fleet_flags(scores, HOURS, echo_days=0)


def test_guard_run_per_metric(rng: np.random.Generator) -> None:
    scores = np.full((2, HOURS.size), 0.5)
    upper = np.full(scores.shape, 0.9)
    upper[:, 100:106] = 0.7  # six windows under both limits
    metrics = ["disparate_impact", "accuracy"]
    values = np.full(scores.shape, 0.85)  # accuracy's floor: 0.83
    res = fleet_flags(
        scores,
        HOURS,
        upper=upper,
        metrics=metrics,
        values=values,
        reference_steps=50,
        guard_run={"disparate_impact": 5},
    )
    # Disparate impact waits 5 windows, accuracy the default 3.
    assert np.flatnonzero(res.flags[0]).tolist() == [104, 105]
    assert np.flatnonzero(res.flags[1]).tolist() == [102, 103, 104, 105]
    plain = fleet_flags(scores, HOURS, upper=upper, metrics=metrics, guard_run=5)
    assert not plain.flags[1].any()  # without values no floor: accuracy is not judged
    with pytest.raises(InvalidParameterError, match="guard_run"):
        fleet_flags(scores, HOURS, upper=upper, metrics=metrics, guard_run={"accuracy": 0})

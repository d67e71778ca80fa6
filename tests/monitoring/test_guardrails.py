"""Guardrails: a fixed limit flags a slow breach that the adaptive baseline follows."""

from __future__ import annotations

import re

import numpy as np
import pytest

from seawall.exceptions import DataValidationError, InvalidParameterError
from seawall.monitoring import (
    detect,
    flag_anomalies,
    guardrail_bounds,
    guardrail_flags,
    reference_floors,
)


def _naive(V: np.ndarray, bounds: np.ndarray, min_run: int, smooth: int) -> np.ndarray:
    out = np.zeros(V.shape, dtype=bool)
    for i in range(V.shape[0]):
        run = 0
        for t in range(V.shape[1]):
            window = V[i, max(t - smooth + 1, 0) : t + 1]
            window = window[~np.isnan(window)]
            enough = window.size >= (max(smooth // 2, 1) if smooth > 1 else 1)
            value = np.median(window) if enough else np.nan
            run = run + 1 if value < bounds[i] else 0
            out[i, t] = run >= min_run
    return out


@pytest.mark.parametrize(("min_run", "smooth"), [(1, 1), (3, 1), (1, 5), (2, 24)])
def test_flags_equal_a_naive_loop(rng: np.random.Generator, min_run: int, smooth: int) -> None:
    V = 0.85 + rng.normal(0, 0.08, (5, 300))
    V[rng.random(V.shape) < 0.1] = np.nan
    bounds = np.array([0.8, 0.8, np.nan, 0.9, 0.7])
    np.testing.assert_array_equal(
        guardrail_flags(V, bounds, min_run=min_run, smooth=smooth),
        _naive(V, bounds, min_run, smooth),
    )


def test_a_slow_creep_is_missed_by_the_detector_and_caught_by_the_guardrail(
    rng: np.random.Generator,
) -> None:
    n = 24 * 30
    di = 0.92 + rng.normal(0, 0.03, n)
    di[400:] -= np.linspace(0, 0.35, n - 400)  # five-fifths to three-fifths over ~13 days
    scores = detect(di[None, :], warmup=240, period=1).scores
    assert not flag_anomalies(scores).any()  # the baseline follows the creep
    flags = guardrail_flags(di[None, :], guardrail_bounds(["disparate_impact"]), min_run=3)[0]
    first = int(np.argmax(flags))
    assert flags.any() and 400 < first < n
    assert np.median(di[first - 2 : first + 1]) < 0.8 and not flags[:400].any()


def test_bad_input_is_named() -> None:
    with pytest.raises(
        DataValidationError, match=re.escape("bounds passed to guardrail_flags has 1")
    ):
        guardrail_flags(np.zeros((2, 5)), [0.8])
    with pytest.raises(
        InvalidParameterError, match=re.escape("'smooth' parameter of guardrail_flags")
    ):
        guardrail_flags(np.zeros((1, 5)), [0.8], smooth=0)


def test_reference_floors_are_the_reference_median_less_the_margin(
    rng: np.random.Generator,
) -> None:
    V = 0.8 + rng.normal(0, 0.03, (4, 50))
    V[1, 3] = np.nan
    V[3, :10] = np.nan  # no reference at all
    metrics = ["accuracy", "auc", "volume", "accuracy"]
    floors = reference_floors(V, metrics, n_reference=10)
    assert floors[0] == pytest.approx(np.median(V[0, :10]) - 0.02)
    assert floors[1] == pytest.approx(np.nanmedian(V[1, :10]) - 0.02)
    assert np.isnan(floors[2]) and np.isnan(floors[3])
    tight = reference_floors(V, metrics, n_reference=10, rules={"volume": 0.5})
    assert np.isnan(tight[0]) and tight[2] == pytest.approx(np.median(V[2, :10]) - 0.5)
    with pytest.raises(DataValidationError, match=re.escape("has 2 entries but values has 4")):
        reference_floors(V, metrics[:2], n_reference=10)
    with pytest.raises(InvalidParameterError, match="n_reference"):
        reference_floors(V, metrics, n_reference=0)


def test_min_run_per_series_equals_one_call_per_series(rng: np.random.Generator) -> None:
    V = 0.8 + rng.normal(0, 0.05, (4, 120))
    runs = np.array([1, 3, 5, 12])
    got = guardrail_flags(V, [0.8] * 4, min_run=runs)
    for i, k in enumerate(runs):
        np.testing.assert_array_equal(got[i], guardrail_flags(V[i : i + 1], [0.8], min_run=k)[0])
    with pytest.raises(InvalidParameterError, match="one per series"):
        guardrail_flags(V, [0.8] * 4, min_run=[1, 2])

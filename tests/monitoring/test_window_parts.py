"""Logs taken in parts: states per part, merged per window, give the metrics of the whole."""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _window_logs import HOUR, START, make_logs

from seawall.exceptions import InvalidParameterError
from seawall.monitoring._summarize_windows import StateOptions, window_states
from seawall.monitoring._window_build import build_states, window_starts
from seawall.monitoring._window_columns import resolve_columns
from seawall.monitoring._window_inputs import read_logs
from seawall.monitoring._window_metrics import (
    empty_window_points,
    metric_points,
    points_of,
    window_metrics,
)
from seawall.monitoring._window_options import check_options
from seawall.monitoring._window_parts import concat_logs, take_rows
from seawall.monitoring._window_reference import ReferenceRule, reference_rule
from seawall.monitoring._window_state import WindowStates, merge_all, utc_ns

KEY = ["model", "metric", "qualifier", "window_start"]


def _columns(frame: pd.DataFrame) -> Any:
    return resolve_columns(
        list(frame.columns),
        time_col="time",
        model_col="model",
        prediction_col="prediction",
        score_col="score",
        label_col="label",
        feature_cols=None,
        categorical=None,
        sensitive_cols="sex",
        id_col="request_id",
        positive_label=1,
        caller="f",
    )


def test_points_without_gaps_plus_empty_windows_are_the_points(rng: np.random.Generator) -> None:
    logs = make_logs(rng, n_models=2, hours=7, per_hour=40)
    hour = logs["time"].dt.floor("1h")
    logs = logs[~((logs["model"] == "m1") & hour.isin([START + 2 * HOUR, START + 3 * HOUR]))]
    states = window_states(logs, every="1h", sensitive_cols="sex")
    whole = metric_points(states, min_rows=10).to_frame()
    part = points_of(states, 0.05, 10, fill_gaps=False).to_frame()
    gaps = [utc_ns(START + k * HOUR) for k in (2, 3)]
    empty = empty_window_points(
        np.array(["m1", "m1"], dtype=object), np.array(gaps), 3600 * 10**9, 0.05, None
    )
    assert len(whole) == len(part) + 2 == len(part) + len(empty)
    both = pd.concat([part, empty.to_frame()]).sort_values(KEY, ignore_index=True)
    pd.testing.assert_frame_equal(both, whole.sort_values(KEY, ignore_index=True))


@pytest.mark.parametrize("n_parts", [2, 5])
def test_states_of_parts_merged_per_window_give_the_whole_logs_metrics(
    rng: np.random.Generator, n_parts: int
) -> None:
    # Parts cut through windows; every part is built against the whole logs' profiles.
    logs = make_logs(rng, n_models=2, hours=6, per_hour=120).sort_values("time", ignore_index=True)
    options = {"every": "1h", "sensitive_cols": "sex", "sample_cap": 100, "score_sample_cap": 80}
    whole = window_states(logs, **options)
    columns = _columns(logs)
    profiles = {p.model: p for p in whole.references}
    merged: dict[tuple[str, int], list[Any]] = {}
    for rows in np.array_split(np.arange(len(logs)), n_parts):
        part = read_logs(logs.iloc[rows], columns, "logs", "f")
        built = build_states(
            part, 3600 * 10**9, profiles, n_calibration_bins=10, score_cap=80, sample_cap=100
        )
        for s in built:
            merged.setdefault((s.model, utc_ns(s.start)), []).append(s)
    states = tuple(merge_all(merged[k]) for k in sorted(merged))
    parted = WindowStates(states, whole.references, whole.every, whole.tz, ("sex",), True, True)
    got = metric_points(parted, min_rows=10)
    want = metric_points(whole, min_rows=10)
    np.testing.assert_array_equal(got.n, want.n)
    for field in ("value", "lower", "upper", "q_value"):
        np.testing.assert_allclose(getattr(got, field), getattr(want, field), rtol=1e-9, atol=1e-12)


def test_concatenated_parts_are_the_checked_whole(rng: np.random.Generator) -> None:
    logs = make_logs(rng, n_models=3, hours=2, per_hour=20)
    logs.loc[logs.index[:5], "sex"] = None  # missing groups stay missing
    columns = _columns(logs)
    whole = read_logs(logs, columns, "logs", "f")
    cuts = np.array_split(np.arange(len(logs)), 3)
    # Each part checked alone: its own models and groups, numbered its own way.
    parts = [read_logs(logs.iloc[rows], columns, "logs", "f") for rows in cuts]
    both = concat_logs(parts)
    assert both.models == whole.models
    np.testing.assert_array_equal(both.model, whole.model)
    np.testing.assert_array_equal(both.time_ns, whole.time_ns)
    np.testing.assert_array_equal(both.score, whole.score)
    np.testing.assert_array_equal(both.label, whole.label)
    pd.testing.assert_frame_equal(both.features, whole.features.reset_index(drop=True))
    codes, labels = both.sensitive[0]
    want_codes, want_labels = whole.sensitive[0]
    np.testing.assert_array_equal(
        np.array(labels + (None,), dtype=object)[codes],
        np.array(want_labels + (None,), dtype=object)[want_codes],
    )
    assert concat_logs([parts[0]]) is parts[0]
    some = take_rows(whole, np.array([3, 1]))
    assert some.n_rows == 2 and some.features.index.tolist() == [0, 1]


def test_reference_rule_with_the_whole_data_first_windows(rng: np.random.Generator) -> None:
    logs = make_logs(rng, n_models=2, hours=4, per_hour=10).sort_values("time", ignore_index=True)
    checked = read_logs(logs, _columns(logs), "logs", "f")
    every = 3600 * 10**9
    window = window_starts(checked.time_ns, every)
    rule = reference_rule(2, None, "f")
    # A later part of the data: its own first window is not the models' first.
    later = np.flatnonzero(window >= window.min() + every)
    part = take_rows(checked, later)
    first = np.full(len(part.models), int(window.min()))
    got = rule.mask(part, window[later], every, first)
    np.testing.assert_array_equal(got, rule.mask(checked, window, every)[later])
    assert rule.mask(part, window[later], every).sum() > got.sum()
    span = reference_rule(("2024-01-01 01:00", "2024-01-01 02:00"), None, "f")
    assert span == ReferenceRule(0, utc_ns(START + HOUR), utc_ns(START + 2 * HOUR))


def test_checked_options_fail_as_window_metrics_does(rng: np.random.Generator) -> None:
    logs = make_logs(rng, n_models=1, hours=2, per_hour=10)
    defaults = {f.name: None for f in fields(StateOptions)}
    defaults.update(
        every="1h",
        calibration="none",
        n_bins=10,
        n_calibration_bins=10,
        sample_cap=10_000,
        score_sample_cap=10_000,
        score_col="score",
        label_col="label",
    )
    bad: list[dict[str, Any]] = [
        {"every": "1 month"},
        {"n_bins": 1},
        {"sample_cap": -1},
        {"score_sample_cap": 0},
        {"calibration": "platt"},
        {"calibration": "isotonic", "label_col": None},
    ]
    for change in bad:
        with pytest.raises(InvalidParameterError) as memory:
            window_metrics(logs, **change)
        message = str(memory.value)
        with pytest.raises(InvalidParameterError, match=re.escape(message)):
            check_options(StateOptions(**{**defaults, **change}), 0.05, 30, "window_metrics")
    for alpha, min_rows in ((1.5, 30), (0.05, 0)):
        with pytest.raises(InvalidParameterError) as memory:
            window_metrics(logs, alpha=alpha, min_rows=min_rows)
        with pytest.raises(InvalidParameterError, match=re.escape(str(memory.value))):
            check_options(StateOptions(**defaults), alpha, min_rows, "window_metrics")
    ok = check_options(StateOptions(**defaults), 0.1, 5, "window_metrics")
    assert (ok.every, ok.alpha, ok.min_rows, ok.sample_cap) == (3600 * 10**9, 0.1, 5, 10_000)

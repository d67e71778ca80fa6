"""Windowed metrics: hand-worked cases, sklearn per window, merged states, bad input."""

from __future__ import annotations

import functools
import json
import pickle
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from _window_logs import START, make_logs, point, windows_of
from scipy import stats
from sklearn.metrics import accuracy_score, brier_score_loss, roc_auc_score

from seawall.exceptions import DataValidationError, InsufficientDataError, InvalidParameterError
from seawall.metrics._estimates import accuracy_estimate
from seawall.metrics._intervals import wilson_interval
from seawall.monitoring._drift_sketch import NumericSketch
from seawall.monitoring._performance import auc_delong
from seawall.monitoring._score_sketch import ScoreSketch, merge_scores
from seawall.monitoring._sketch_merge import merge_summaries
from seawall.monitoring._summarize_windows import window_states
from seawall.monitoring._window_metrics import metric_points, window_metrics
from seawall.monitoring._window_state import merge_all

Z = stats.norm.ppf(0.975)


def _tiny() -> pd.DataFrame:
    t = START + pd.to_timedelta([5, 10, 20, 50, 130, 140], unit="min")
    return pd.DataFrame(
        {
            "time": t,
            "model": "m",
            "score": [0.9, 0.6, 0.2, 0.4, 0.7, 0.1],
            "prediction": [1, 1, 0, 0, 1, 0],
            "label": [1.0, 0.0, 0.0, np.nan, 1.0, 1.0],
        }
    )


# --------------------------------------------------------------------------- #
# hand-worked
# --------------------------------------------------------------------------- #


def test_hand_worked_first_window() -> None:
    frame = window_metrics(_tiny(), every="1h", min_rows=1, feature_cols=[]).to_frame()
    first = frame[frame.window_start == START].set_index("metric")
    volume = first.loc["volume"]
    assert (volume.value, volume.n) == (4.0, 4)
    assert volume.lower == pytest.approx(stats.chi2.ppf(0.025, 8) / 2)
    assert volume.upper == pytest.approx(stats.chi2.ppf(0.975, 10) / 2)
    rate = first.loc["positive_rate"]
    lo, hi = wilson_interval(2, 4, Z)
    assert (rate.value, rate.lower, rate.upper) == pytest.approx((0.5, float(lo), float(hi)))
    # Labelled: (y=1, p=1) right, (0, 1) wrong, (0, 0) right.
    acc = first.loc["accuracy"]
    lo, hi = wilson_interval(2, 3, Z)
    assert (acc.value, acc.lower, acc.upper, acc.n) == pytest.approx(
        (2 / 3, float(lo), float(hi), 3)
    )
    assert first.loc["auc"].value == 1.0  # the positive 0.9 beats the negatives 0.6, 0.2
    assert first.loc["brier"].value == pytest.approx((0.01 + 0.36 + 0.04) / 3)
    # c = P(decision right) = 0.9, 0.6, 0.8, 0.6.
    cbpe = first.loc["cbpe_accuracy"]
    half = Z * np.sqrt(0.09 + 0.24 + 0.16 + 0.24) / 4
    assert (cbpe.value, cbpe.lower, cbpe.upper) == pytest.approx((0.725, 0.725 - half, 1.0))
    scores = np.array([0.9, 0.6, 0.2, 0.4])
    assert first.loc["score_mean"].value == pytest.approx(scores.mean())
    for name, q in (("score_p10", 0.1), ("score_p50", 0.5), ("score_p90", 0.9)):
        assert first.loc[name].value == np.quantile(scores, q)


def test_empty_window_inside_a_models_span_has_volume_zero() -> None:
    points = window_metrics(_tiny(), every="1h", min_rows=1, feature_cols=[])
    matrix = points.series_matrix(["volume", "accuracy"])
    assert matrix.keys == (("m", "accuracy", ""), ("m", "volume", ""))
    assert list(matrix.window_starts) == [
        START,
        START + pd.Timedelta("1h"),
        START + pd.Timedelta("2h"),
    ]
    np.testing.assert_array_equal(matrix.values[1], [4.0, 0.0, 2.0])
    assert np.isnan(matrix.values[0, 1]) and matrix.values[0, 2] == 0.5


def test_window_with_too_few_rows_is_nan_with_its_n() -> None:
    frame = window_metrics(_tiny(), every="1h", min_rows=3, feature_cols=[]).to_frame()
    second = frame[frame.window_start == START + pd.Timedelta("2h")].set_index("metric")
    assert second.loc["volume"].value == 2.0
    for metric in ("positive_rate", "accuracy", "auc", "score_mean", "cbpe_accuracy"):
        assert np.isnan(second.loc[metric].value), metric
        assert np.isnan(second.loc[metric].lower), metric
        assert second.loc[metric].n == 2, metric


def test_quantile_interval_is_order_statistics() -> None:
    values = np.arange(1, 100) / 100
    sketch = ScoreSketch.from_scores(values, np.full(99, np.nan), 1000)
    from seawall.monitoring._window_outputs import sketch_quantiles

    ((v, lo, hi),) = sketch_quantiles([sketch], [0.1], 0.05)
    r = int(stats.binom.ppf(0.025, 99, 0.1))
    s = int(stats.binom.ppf(0.975, 99, 0.1)) + 1
    assert v[0] == np.quantile(values, 0.1)
    assert (lo[0], hi[0]) == (values[r - 1], values[s - 1])


# --------------------------------------------------------------------------- #
# against sklearn and a naive loop over windows
# --------------------------------------------------------------------------- #


def _naive_ece(y: np.ndarray, s: np.ndarray, n_bins: int = 10) -> float:
    # Equal-width bins with numpy's edges (0.30000000000000004...), as group_metrics bins.
    b = np.searchsorted(np.linspace(0.0, 1.0, n_bins + 1)[1:-1], s, side="right")
    t = 0.0
    for k in range(n_bins):
        x = (y - s)[b == k]
        if x.size >= 2:  # the mean of x_i x_j over ordered pairs of distinct rows
            t += x.size / y.size * (x.sum() ** 2 - (x**2).sum()) / (x.size * (x.size - 1))
    return float(np.sqrt(max(t, 0.0)))


def _naive_delong(y: np.ndarray, s: np.ndarray) -> float:
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return float(v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size)


def test_performance_matches_sklearn_per_window(rng: np.random.Generator) -> None:
    logs = make_logs(rng, n_models=2, hours=4, per_hour=120)
    frame = window_metrics(logs, every="1h", min_rows=1).to_frame()
    acc, auc = point(frame, "accuracy"), point(frame, "auc")
    brier, ece = point(frame, "brier"), point(frame, "ece")
    rate, mean = point(frame, "positive_rate"), point(frame, "score_mean")
    checked = 0
    for key, rows in windows_of(logs):
        lab = rows[rows.label.notna()]
        y, s, p = lab.label.to_numpy(int), lab.score.to_numpy(), lab.prediction.to_numpy()
        assert acc.loc[key].value == accuracy_score(y, p)
        est = accuracy_estimate(y, p, 0.95)
        assert (acc.loc[key].lower, acc.loc[key].upper) == pytest.approx((est.lower, est.upper))
        assert auc.loc[key].value == pytest.approx(roc_auc_score(y, s), abs=1e-12)
        assert brier.loc[key].value == pytest.approx(brier_score_loss(y, s), abs=1e-12)
        assert ece.loc[key].value == pytest.approx(_naive_ece(y, s), abs=1e-9)
        assert rate.loc[key].value == rows.prediction.mean()
        assert mean.loc[key].value == pytest.approx(rows.score.mean(), abs=1e-12)
        for q, name in ((0.1, "score_p10"), (0.5, "score_p50"), (0.9, "score_p90")):
            assert point(frame, name).loc[key].value == pytest.approx(
                np.quantile(rows.score, q), abs=1e-15
            )
        checked += 1
    assert checked == 8


def test_delong_variance_matches_naive(rng: np.random.Generator) -> None:
    sketches, naive = [], []
    for n in (15, 40, 90):
        s = np.round(rng.random(n), 1)  # heavy ties
        y = (rng.random(n) < s).astype(float)
        y[:2] = [0.0, 1.0]
        sketches.append(ScoreSketch.from_scores(s, y, 1000))
        naive.append((roc_auc_score(y, s), _naive_delong(y, s)))
    auc, var, _, _ = auc_delong(sketches)
    np.testing.assert_allclose(auc, [a for a, _ in naive], rtol=1e-12)
    np.testing.assert_allclose(var, [v for _, v in naive], rtol=1e-10)


# --------------------------------------------------------------------------- #
# mergeable states
# --------------------------------------------------------------------------- #


def _compare(merged: pd.DataFrame, direct: pd.DataFrame, *, exact_scores: bool) -> None:
    key = ["model", "metric", "qualifier", "window_start"]
    a, b = merged.set_index(key).sort_index(), direct.set_index(key).sort_index()
    assert a.index.equals(b.index)
    pd.testing.assert_series_equal(a.n, b.n)
    counted = a.index.get_level_values("metric").isin(
        [
            "volume",
            "positive_rate",
            "accuracy",
            "null_rate",
            "out_of_range_rate",
            "unseen_rate",
            "disparate_impact",
            "tpr_gap",
            "drift_ks",
            "drifted_features",
            "drift_psi",
            "drift_js",
        ]
    )
    for col in ("value", "lower", "upper"):
        pd.testing.assert_series_equal(a[col][counted], b[col][counted])
        quantile = a.index.get_level_values("metric").str.startswith("score_p")
        rest = ~counted & (~quantile | exact_scores)
        np.testing.assert_allclose(a[col][rest], b[col][rest], rtol=1e-9, atol=1e-12)
        if not exact_scores:
            np.testing.assert_allclose(a[col][quantile], b[col][quantile], atol=0.5e-3 + 1e-12)


@pytest.mark.parametrize("score_cap", [10_000, 50])
def test_merged_hourly_states_equal_two_hour_windows(
    rng: np.random.Generator, score_cap: int
) -> None:
    logs = make_logs(rng, n_models=2, hours=6, per_hour=100)
    reference = logs[logs.time < START + pd.Timedelta("2h")]
    options = dict(reference=reference, sensitive_cols="sex", score_sample_cap=score_cap)
    hourly = window_states(logs, every="1h", **options)
    merged = metric_points(hourly.coarsen("2h"), min_rows=20).to_frame()
    direct = window_metrics(logs, every="2h", min_rows=20, **options).to_frame()
    _compare(merged, direct, exact_scores=score_cap > 1000)
    # WindowState.merge on its own gives the same state as coarsen.
    first_two = [s for s in hourly.states if s.model == "m0"][:2]
    state = merge_all(first_two)
    coarse = hourly.coarsen("2h").states[0]
    assert (state.n_rows, state.n_positive) == (coarse.n_rows, coarse.n_positive)
    np.testing.assert_array_equal(state.confusion, coarse.confusion)


def test_merging_at_once_equals_merging_two_by_two(rng: np.random.Generator) -> None:
    logs = make_logs(rng, n_models=1, hours=8, per_hour=60)
    logs.loc[rng.random(len(logs)) < 0.1, "x0"] = np.nan
    for cap in (None, 200):  # 200: the sample is dropped part way through the chain
        states = window_states(logs, every="1h", sample_cap=cap, score_sample_cap=100)
        parts = [s.features for s in states.states]
        once = merge_summaries(parts)
        chained = functools.reduce(lambda a, b: a.merge(b), parts)
        assert once.names == chained.names and once.n_rows == chained.n_rows
        for a, b in zip(once.sketches, chained.sketches, strict=True):
            np.testing.assert_array_equal(a.counts, b.counts)
            assert (a.n_missing, a.reason) == (b.n_missing, b.reason)
            if isinstance(a, NumericSketch) and isinstance(b, NumericSketch):
                assert (a.minimum, a.maximum, a.sample_cap) == (b.minimum, b.maximum, b.sample_cap)
                assert (a.sample is None) == (b.sample is None)
                if a.sample is not None and b.sample is not None:
                    np.testing.assert_array_equal(a.sample, b.sample)
            else:
                assert a.categories == b.categories
        # The score sketch: snapping once at the end equals snapping on the way.
        sketches = [s.scores for s in states.states]
        chained_scores = functools.reduce(lambda a, b: a.merge(b), sketches)
        once_scores = merge_scores(sketches)
        np.testing.assert_array_equal(once_scores.values, chained_scores.values)
        np.testing.assert_array_equal(once_scores.counts, chained_scores.counts)
        assert once_scores.compacted and once_scores.n == len(logs)
        direct = ScoreSketch.from_scores(
            logs.score.to_numpy(), logs.label.to_numpy(), 100
        )  # compacted too: 8 hours have more than 100 distinct scores
        np.testing.assert_array_equal(direct.values, once_scores.values)
        np.testing.assert_array_equal(direct.counts, once_scores.counts)


def test_states_pickle_and_merge_after(rng: np.random.Generator) -> None:
    states = window_states(make_logs(rng, n_models=1, hours=4), every="1h", sensitive_cols="sex")
    again = pickle.loads(pickle.dumps(states))
    a = metric_points(states.coarsen("2h")).to_frame()
    b = metric_points(again.coarsen("2h")).to_frame()
    pd.testing.assert_frame_equal(a, b)


def test_coarsen_needs_a_multiple(rng: np.random.Generator) -> None:
    states = window_states(make_logs(rng, hours=2), every="1h")
    with pytest.raises(InvalidParameterError, match=re.escape("a whole multiple of the states'")):
        states.coarsen("90min")


# --------------------------------------------------------------------------- #
# forms, order and results
# --------------------------------------------------------------------------- #


def test_row_order_and_arrow_input_do_not_matter(rng: np.random.Generator) -> None:
    logs = make_logs(rng, hours=3)
    a = window_metrics(logs, sensitive_cols="sex").to_frame()
    ordered = logs.sort_values("time").reset_index(drop=True)
    b = window_metrics(ordered, sensitive_cols="sex").to_frame()
    c = window_metrics(pa.Table.from_pandas(logs), sensitive_cols="sex").to_frame()
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)


def test_results_round_trip_and_shapes(rng: np.random.Generator) -> None:
    logs = make_logs(rng, n_models=2, hours=3)
    points = window_metrics(logs, sensitive_cols="sex")
    frame = points.to_frame()
    assert list(frame.columns) == [
        "model", "metric", "qualifier", "window_start", "window_end",
        "value", "lower", "upper", "n", "q_value",
    ]  # fmt: skip
    assert (frame.window_end - frame.window_start == pd.Timedelta("1h")).all()
    data = json.loads(json.dumps(points.to_dict()))
    assert data["every"] == "P0DT1H0M0S" and len(data["points"]) == len(points)
    assert set(data["points"][0]) == set(frame.columns)
    matrix = points.series_matrix()
    n_series = frame.groupby(["model", "metric", "qualifier"]).ngroups
    assert matrix.values.shape == (n_series, 3)
    row = matrix.keys.index(("m1", "drift", "x0"))
    np.testing.assert_array_equal(matrix.values[row], point(frame, "drift", "x0").loc["m1"].value)


def test_time_zone_is_kept(rng: np.random.Generator) -> None:
    logs = make_logs(rng, n_models=1, hours=2)
    logs["time"] = logs.time.dt.tz_localize("Europe/Paris")
    frame = window_metrics(logs, feature_cols=[]).to_frame()
    assert str(frame.window_start.dt.tz) == "Europe/Paris"
    assert frame.window_start.min() == pd.Timestamp("2024-01-01", tz="Europe/Paris")


# --------------------------------------------------------------------------- #
# bad input
# --------------------------------------------------------------------------- #


def test_bad_input_messages(rng: np.random.Generator) -> None:
    logs = make_logs(rng, n_models=1, hours=2)
    with pytest.raises(DataValidationError, match=re.escape("has no column for score_col='p'")):
        window_metrics(logs, score_col="p")
    with pytest.raises(DataValidationError, match="pass score_col=None when the logs have none"):
        window_metrics(logs.drop(columns="score"))
    bad = logs.assign(time=logs.time.astype(str))
    bad.loc[3, "time"] = "yesterday-ish"
    with pytest.raises(DataValidationError, match="cannot be parsed.*'yesterday-ish'"):
        window_metrics(bad)
    with pytest.raises(DataValidationError, match=re.escape("holds numbers (int64)")):
        window_metrics(logs.assign(time=np.arange(len(logs))))
    with pytest.raises(DataValidationError, match=re.escape("must be the probability")):
        window_metrics(logs.assign(score=logs.score * 2))
    with pytest.raises(DataValidationError, match="must be binary with positive_label=1"):
        window_metrics(logs.assign(prediction=np.arange(len(logs)) % 3))
    with pytest.raises(DataValidationError, match="missing value"):
        window_metrics(logs.assign(prediction=np.where(logs.index == 0, np.nan, logs.prediction)))
    with pytest.raises(InsufficientDataError, match=re.escape("has no rows for 1 model(s): 'm0'")):
        window_metrics(logs, reference=("2023-01-01", "2023-01-02"))
    with pytest.raises(InsufficientDataError, match="has no rows"):
        window_metrics(logs.iloc[:0])
    with pytest.raises(InvalidParameterError, match=re.escape("The 'every' parameter")):
        window_metrics(logs, every="MS")
    with pytest.raises(InvalidParameterError, match=re.escape("The 'reference' parameter")):
        window_metrics(logs, reference="last")
    with pytest.raises(InvalidParameterError, match=re.escape("The 'alpha' parameter")):
        window_metrics(logs, alpha=1.5)
    with pytest.raises(InvalidParameterError, match=re.escape("The 'calibration' parameter")):
        window_metrics(logs, calibration="isotonic", label_col=None)
    with pytest.raises(InvalidParameterError, match="named for two roles"):
        window_metrics(logs, sensitive_cols="model")


def test_options_are_honoured(rng: np.random.Generator) -> None:
    logs = make_logs(rng, n_models=1, hours=3)
    frame = window_metrics(
        logs, every="90min", reference=2, feature_cols=["x0"], categorical=["x0"]
    ).to_frame()
    assert set(frame.qualifier) == {"", "x0", "score"}
    assert "unseen_rate" in set(frame[frame.qualifier == "x0"].metric)
    assert frame.window_start.nunique() == 2
    no_labels = window_metrics(logs, label_col=None, score_col=None, sensitive_cols="sex")
    assert {"accuracy", "auc", "cbpe_accuracy", "tpr_gap"}.isdisjoint(no_labels.metrics)
    assert "disparate_impact" in no_labels.metrics


def test_a_row_without_a_model_is_refused_not_counted_as_another_model() -> None:
    logs = pd.DataFrame(
        {
            "time": pd.to_datetime(["2024-01-01 00:10", "2024-01-01 00:20", "2024-01-01 00:30"]),
            "model": ["a", None, "b"],
            "prediction": [1, 0, 1],
        }
    )
    with pytest.raises(DataValidationError, match=r"1 missing model\(s\), the first at row 1"):
        window_metrics(logs, score_col=None, label_col=None, id_col=None)

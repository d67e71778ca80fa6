"""The simulated fleet: determinism, shapes, planted events, label delay and seasons."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from seawall.datasets._fleet import SimulatedFleet, simulate_fleet
from seawall.exceptions import InvalidParameterError

N_MODELS, N_DAYS = 40, 20


@pytest.fixture(scope="module")
def fleet() -> SimulatedFleet:
    return simulate_fleet(N_MODELS, N_DAYS, seed=3)


def rows(fleet: SimulatedFleet, keys) -> np.ndarray:
    index = {k: i for i, k in enumerate(fleet.series["series"])}
    return np.array([index[k] for k in keys])


def event(fleet: SimulatedFleet, kind: str):
    return next(e for e in fleet.events if e.kind == kind)


def test_same_seed_same_fleet_other_seed_other_fleet(fleet):
    again = simulate_fleet(N_MODELS, N_DAYS, seed=3)
    np.testing.assert_array_equal(again.values, fleet.values)
    pd.testing.assert_frame_equal(again.series, fleet.series)
    assert [e.to_dict() for e in again.events] == [e.to_dict() for e in fleet.events]
    other = simulate_fleet(N_MODELS, N_DAYS, seed=4)
    assert other.values.shape != fleet.values.shape or not np.array_equal(
        other.values, fleet.values, equal_nan=True
    )


def test_shapes_and_labels(fleet):
    n_steps = N_DAYS * 24
    assert fleet.values.shape == (len(fleet.series), n_steps)
    assert len(fleet.timestamps) == n_steps and fleet.timestamps.freq == pd.Timedelta("1h")
    assert not fleet.values.flags.writeable
    per_model = fleet.series.groupby("model").size()
    expected = 5 + 2 * fleet.models.set_index("model")["n_features"]
    pd.testing.assert_series_equal(per_model, expected, check_names=False)
    assert fleet.series["series"].is_unique
    assert list(fleet.series.columns) == [
        "series",
        "model",
        "metric",
        "feature",
        "source",
        "team",
        "region",
        "project",
    ]
    feat = fleet.series[fleet.series["metric"].isin(["drift", "null_rate"])]
    assert feat["feature"].notna().all() and feat["source"].notna().all()
    assert (feat["feature"].str.split(".").str[0] == feat["source"]).all()
    assert fleet.models["sources"].str.len().gt(0).all()


def test_every_event_is_visible_in_the_values(fleet):
    v = fleet.values
    brk = event(fleet, "source_break")
    nulls = rows(fleet, [k for k in brk.affected if "/null_rate/" in k])
    during = np.nanmean(v[nulls, brk.start_step : brk.end_step + 1])
    before = np.nanmean(v[nulls, brk.start_step - 48 : brk.start_step])
    assert during > 0.2 > 0.05 > before
    assert brk.root_cause == {"source": brk.affected[0].split("/")[2].split(".")[0]}
    assert brk.importance == len({k.split("/")[0] for k in brk.affected})

    drop = event(fleet, "accuracy_drop")
    acc = v[rows(fleet, drop.affected)[0]]
    during = np.nanmean(acc[drop.start_step : drop.start_step + 24])
    before = np.nanmean(acc[drop.start_step - 72 : drop.start_step])
    assert before - during > 0.1

    creep = event(fleet, "fairness_creep")
    di = v[rows(fleet, creep.affected)[0]]
    assert np.nanmean(di[-24:]) / np.nanmean(di[creep.start_step - 48 : creep.start_step]) < 0.8

    drift = event(fleet, "region_drift")
    psi = v[rows(fleet, drift.affected)]
    late = np.nanmedian(psi[:, -24:], axis=1)
    early = np.nanmedian(psi[:, drift.start_step - 48 : drift.start_step], axis=1)
    assert np.median(late / early) > 2
    assert drift.importance == 0.0


def test_label_delay_leaves_the_newest_accuracy_windows_empty(fleet):
    acc = fleet.series["metric"] == "accuracy"
    values = fleet.values[acc.to_numpy()]
    delay = fleet.models.set_index("model").loc[fleet.series.loc[acc, "model"], "label_delay_steps"]
    assert np.isnan(values[:, -1]).all()
    trailing = np.array([np.argmax(~np.isnan(r[::-1])) for r in values])
    assert (trailing >= delay.to_numpy() // 2).all()
    assert np.isfinite(values[:, 24 : 24 * 5]).mean() > 0.5


def test_daily_weekly_and_batch_peaks_are_present(fleet):
    vol = fleet.values[(fleet.series["metric"] == "volume").to_numpy()]
    ts = fleet.timestamps
    offset = fleet._catalog.utc_offset
    local = ts.hour.to_numpy()[None, :] + offset[:, None]
    hod = np.mod(local, 24).astype(int)
    afternoon = np.where((hod >= 12) & (hod <= 16), vol, np.nan)
    night = np.where((hod >= 0) & (hod <= 4), vol, np.nan)
    assert np.median(np.nanmean(afternoon, axis=1) / np.nanmean(night, axis=1)) > 1.5
    day = np.floor((np.arange(len(ts))[None, :] + offset[:, None]) / 24).astype(int) % 7
    weekend = np.nanmean(np.where(day >= 5, vol, np.nan), axis=1)
    weekday = np.nanmean(np.where(day < 5, vol, np.nan), axis=1)
    assert (weekend < weekday).mean() > 0.9
    batch = fleet._catalog.weekly_peak
    assert batch.any()
    monday = (day == 0) & (hod >= 8) & (hod < 10)
    other = (day > 0) & (day < 5) & (hod >= 8) & (hod < 10)
    ratio = np.nanmean(np.where(monday, vol, np.nan), axis=1) / np.nanmean(
        np.where(other, vol, np.nan), axis=1
    )
    assert ratio[batch].min() > 1.8 and np.median(ratio[~batch]) < 1.3


def test_metrics_long_and_events_frame(fleet):
    long = fleet.metrics_long()
    assert len(long) == int(np.isfinite(fleet.values).sum())
    assert list(long.columns) == [
        "series",
        "timestamp",
        "value",
        "model",
        "metric",
        "feature",
        "source",
        "team",
        "region",
        "project",
    ]
    first = long[long["series"] == fleet.series["series"].iat[0]]
    np.testing.assert_array_equal(
        first["value"].to_numpy(), fleet.values[0][np.isfinite(fleet.values[0])]
    )
    assert len(fleet.metrics_long(dropna=False)) == fleet.values.size
    frame = fleet.events_frame()
    assert frame["kind"].tolist() == [
        "source_break",
        "region_drift",
        "fairness_creep",
        "accuracy_drop",
    ]
    assert fleet.to_dict()["n_steps"] == N_DAYS * 24


def test_prediction_logs_tell_the_same_story(fleet):
    drop = event(fleet, "accuracy_drop")
    model = drop.root_cause["model"]
    logs = fleet.prediction_logs([model], rows_per_hour=400, seed=1)
    step = ((logs["timestamp"] - fleet.timestamps[0]) // pd.Timedelta("1h")).to_numpy()
    right = (logs["y_true"] == logs["y_pred"]).to_numpy()
    labelled = logs["y_true"].notna().to_numpy()
    during = right[labelled & (step >= drop.start_step) & (step < drop.start_step + 24)].mean()
    before = right[labelled & (step >= drop.start_step - 72) & (step < drop.start_step)].mean()
    assert before - during > 0.1
    assert logs["y_true"].tail(20).isna().all()
    features = fleet.series.loc[
        (fleet.series["model"] == model) & (fleet.series["metric"] == "drift"), "feature"
    ]
    assert set(features) <= set(logs.columns)
    assert logs["timestamp"].is_monotonic_increasing


def test_frequency_and_event_choice():
    half = simulate_fleet(6, 7, freq="30min", seed=0, events=("accuracy_drop",))
    assert half.values.shape[1] == 7 * 48 and [e.kind for e in half.events] == ["accuracy_drop"]
    assert simulate_fleet(6, 7, seed=0, events=()).events == ()


def test_errors_name_the_parameter():
    with pytest.raises(
        InvalidParameterError, match=re.escape("The 'n_models' parameter of simulate_fleet")
    ):
        simulate_fleet(2)
    with pytest.raises(
        InvalidParameterError, match=re.escape("The 'freq' parameter of simulate_fleet")
    ):
        simulate_fleet(6, 7, freq="7h")
    with pytest.raises(
        InvalidParameterError, match=re.escape("The 'events' parameter of simulate_fleet")
    ):
        simulate_fleet(6, 7, events=("meteor",))  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match=re.escape("The 'models' parameter")):
        simulate_fleet(6, 7).prediction_logs(["nope"])


def test_upper_bounds_cover_the_true_disparate_impact(fleet):
    """``upper`` is a one-sided 97.5% bound of the last day's disparate impact."""
    is_di = (fleet.series["metric"] == "disparate_impact").to_numpy()
    is_acc = (fleet.series["metric"] == "accuracy").to_numpy()
    assert np.isnan(fleet.upper[~(is_di | is_acc)]).all()
    upper = fleet.upper[is_di]
    assert np.isfinite(upper).mean() > 0.9 and np.nanmax(upper) <= 1.0
    models = fleet.series.loc[is_di, "model"].to_numpy()
    true_di = fleet.models.set_index("model").loc[models, "disparate_impact"].to_numpy()
    # The lower rate over the higher one: the true value of the symmetric ratio.
    truth = (
        np.minimum(true_di, 1 / true_di)[:, None]
        * fleet._effects.di_factor[
            [fleet.models.index[fleet.models["model"] == m][0] for m in models]
        ]
    )
    rate = np.nanmean(upper < truth)  # trailing days overlap: coverage per window
    assert rate < 0.05


def test_the_fairness_creep_pulls_its_upper_bound_down(fleet):
    e = event(fleet, "fairness_creep")
    row = rows(fleet, e.affected)[0]
    before = np.nanmedian(fleet.upper[row, e.start_step - 48 : e.start_step])
    late = np.nanmedian(fleet.upper[row, e.end_step - 24 : e.end_step + 1])
    # The ratio falls to 65% of its usual value; the bound follows most of the way.
    assert late < before - 0.1
    others = np.delete(fleet.upper, row, axis=0)[:, e.end_step - 24 : e.end_step + 1]
    assert np.nanmean(others < 0.8) < 0.01  # no other model breaches the four-fifths rule


def test_upper_bounds_cover_the_true_accuracy(fleet):
    """For accuracy, ``upper`` is a one-sided 97.5% bound of each window's labels."""
    is_acc = (fleet.series["metric"] == "accuracy").to_numpy()
    models = fleet.series.loc[is_acc, "model"].to_numpy()
    index = [int(np.flatnonzero(fleet.models["model"] == m)[0]) for m in models]
    steady = np.abs(fleet._effects.acc_delta[index]).max(axis=1) == 0  # no event moved it
    truth = fleet.models["accuracy"].to_numpy()[index][steady]
    upper = fleet.upper[is_acc][steady]
    assert steady.sum() > 10 and np.isfinite(upper).mean() > 0.5
    assert np.nanmean(upper < truth[:, None]) < 0.05
    # Windows without enough labels (the newest) have no bound.
    assert np.isnan(upper[:, -1]).all()

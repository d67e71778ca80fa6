"""The monitoring loop over a store: windows, then incidents; feedback lowers sensitivity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seawall.datasets import simulate_fleet
from seawall.exceptions import InsufficientDataError
from seawall.storage import Store, compute_windows, detect_incidents, incident_id, ingest_fleet


def _loaded_store() -> Store:
    fleet = simulate_fleet(n_models=12, n_days=7, seed=2)
    store = Store()
    load = ingest_fleet(store, fleet, models=fleet.models["model"].tolist()[:6], rows_per_hour=30)
    logged = store.counts().to_pandas()
    assert load.n_predictions == int(logged["n_predictions"].sum()) > 0
    assert 0 < load.n_labels < load.n_predictions  # the newest labels have not arrived
    return store


def test_a_false_alarm_makes_its_series_less_sensitive() -> None:
    with _loaded_store() as store:
        calls: list[tuple[int, int, str]] = []
        run = compute_windows(store, every="1h", progress=lambda *a: calls.append(a))
        assert len(run.models) == 6 and run.n_points > 0
        # One report per model, then the end; the work counted up to its total.
        assert [(d, t) for d, t, _ in calls] == [(i, 6) for i in range(7)]
        assert calls[0][2].startswith("windows of ")
        steps: list[tuple[int, int, str]] = []
        before = detect_incidents(store, threshold=0.999, progress=lambda *a: steps.append(a))
        assert [(d, t) for d, t, _ in steps] == [(i, 4) for i in range(5)]
        assert "scoring" in steps[1][2]
        assert before.incidents
        # The mildest incident: one whose evidence ten times stronger would not reach.
        top = min(before.incidents, key=lambda i: i.peak_score)
        assert top.peak_score < 0.9999
        stored = store.read_incidents().to_pandas()
        assert incident_id(top.start, top.members) in set(stored["id"])
        store.record_feedback(incident_id(top.start, top.members), "false_alarm")
        after = detect_incidents(store, threshold=0.999)
        members = set(top.members)

        def flagged(incidents: object) -> int:
            return sum(
                i.n_anomalies
                for i in incidents.incidents
                if set(i.members) & members  # type: ignore[attr-defined]
            )

        assert flagged(after) < flagged(before)
        # The status people gave survives the rerun.
        status = store.read_incidents().to_pandas().set_index("id")["status"]
        assert status[incident_id(top.start, top.members)] == "false_alarm"


def test_detection_needs_enough_windows() -> None:
    with Store() as store:
        points = pd.DataFrame(
            {
                "model": "m",
                "metric": "volume",
                "window_start": pd.date_range("2024-01-01", periods=10, freq="h"),
                "value": np.arange(10.0),
            }
        )
        store.write_metric_points(points)
        with pytest.raises(InsufficientDataError, match="at least 32 are needed"):
            detect_incidents(store)


def test_a_fairness_guardrail_breach_becomes_an_incident() -> None:
    rng = np.random.default_rng(4)
    n = 200
    times = pd.date_range("2024-01-01", periods=n, freq="h")
    di = 0.93 + rng.normal(0, 0.01, n)
    di[100:] -= np.linspace(0, 0.3, n - 100)  # a creep the baseline follows
    volume = 100 + rng.normal(0, 3, n)
    points = pd.concat(
        [
            pd.DataFrame(
                {
                    "model": "m",
                    "metric": "disparate_impact",
                    "window_start": times,
                    "value": di,
                    "lower": di - 0.04,
                    "upper": di + 0.04,
                }
            ),
            pd.DataFrame(
                {"model": "m", "metric": "volume", "window_start": times, "value": volume}
            ),
        ]
    )
    with Store() as store:
        store.write_metric_points(points)
        incidents = detect_incidents(store)
    members = [m for i in incidents.incidents for m in i.members]
    assert "m/disparate_impact" in members
    breach = int(np.argmax(di + 0.04 < 0.8))
    first = min(i.start for i in incidents.incidents if "m/disparate_impact" in i.members)
    assert first == times[breach + 2]  # the third window in a row under 0.8


def test_every_scored_step_is_stored_with_its_baseline_and_scale() -> None:
    rng = np.random.default_rng(6)
    n = 120
    times = pd.date_range("2024-01-01", periods=n, freq="h")
    values = {m: 100 + rng.normal(0, 1, n) for m in ("a", "b")}
    values["a"][100] += 40  # one spike on a
    points = pd.concat(
        pd.DataFrame({"model": m, "metric": "volume", "window_start": times, "value": v})
        for m, v in values.items()
    )
    with Store() as store:
        store.write_metric_points(points)
        incidents = detect_incidents(store, models=["a"])
        stored = store.read_anomalies().to_pandas()
        assert set(stored["series"]) == {"a/volume"}  # b was not asked for
        detect_incidents(store)
        again = store.read_anomalies().to_pandas()
    from seawall.monitoring import detect
    from seawall.monitoring._series_table import default_warmup

    res = detect(values["a"][None, :], warmup=default_warmup(n))
    scored = np.isfinite(res.scores[0])
    a = stored.set_index("timestamp")
    assert len(a) == int(scored.sum())
    np.testing.assert_allclose(a["baseline"], res.baselines[0][scored])
    np.testing.assert_allclose(a["scale"], res.scales[0][scored])
    np.testing.assert_allclose(a["score"], res.scores[0][scored])
    assert a.loc[times[100], "is_anomaly"]
    assert int(a["is_anomaly"].sum()) == sum(i.n_anomalies for i in incidents.incidents)
    # The second run scored both series and replaced a's rows rather than adding to them.
    assert again.groupby("series").size().to_dict() == {"a/volume": len(a), "b/volume": len(a)}


def test_restating_metrics_are_not_watched_unless_asked() -> None:
    rng = np.random.default_rng(5)
    n = 200
    times = pd.date_range("2024-01-01", periods=n, freq="h")
    count = np.zeros(n)
    count[[120, 160]] = 1.0  # a count that is mostly 0: each 1 looks unprecedented
    frames = [
        pd.DataFrame({"model": "m", "metric": metric, "window_start": times, "value": values})
        for metric, values in [
            ("drifted_features", count),
            ("drift_psi", 0.05 + rng.normal(0, 0.001, n) + 0.5 * (np.arange(n) == 150)),
            ("volume", 100 + rng.normal(0, 3, n)),
        ]
    ]
    with Store() as store:
        store.write_metric_points(pd.concat(frames))
        watched = {m for i in detect_incidents(store).incidents for m in i.metrics}
        assert not watched & {"drifted_features", "drift_psi"}
        asked = detect_incidents(store, metrics=["drifted_features", "drift_psi"])
    assert {m for i in asked.incidents for m in i.metrics} == {"drifted_features", "drift_psi"}


@pytest.mark.parametrize("drop", [0.0, 0.15])
def test_an_accuracy_drop_on_thin_windows_breaches_its_reference_floor(drop: float) -> None:
    rng = np.random.default_rng(6)
    n, labels = 240, 60  # few labels per window: the scores of the drop stay moderate
    times = pd.date_range("2024-01-01", periods=n, freq="h")
    p = np.full(n, 0.8)
    p[170:200] -= drop
    correct = rng.binomial(labels, p)
    lo, hi = ratio_bounds(correct, labels)
    points = pd.DataFrame(
        {
            "model": "m",
            "metric": "accuracy",
            "window_start": times,
            "value": correct / labels,
            "lower": lo,
            "upper": hi,
            "n": labels,
        }
    )
    with Store() as store:
        store.write_metric_points(points)
        incidents = detect_incidents(store)
    during = [
        i
        for i in incidents.incidents
        if times[170] <= pd.Timestamp(i.start) <= times[199] and "m/accuracy" in i.members
    ]
    assert bool(during) == (drop > 0)  # found when it happened, and only then


def ratio_bounds(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Wilson 95% bounds of x / n."""
    z = 1.959963984540054
    phat = x / n
    centre = (phat + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_an_incident_that_grows_keeps_its_id_and_status() -> None:
    rng = np.random.default_rng(7)
    n = 220
    times = pd.date_range("2024-01-01", periods=n, freq="h")
    volume = 100 + rng.normal(0, 1, n)
    volume[180:] -= 20  # a drop that lasts
    latency = 50 + rng.normal(0, 1, n)
    latency[192:] += 15  # the same model's latency follows twelve hours later

    def points(upto: int) -> pd.DataFrame:
        return pd.concat(
            pd.DataFrame({"model": "m", "metric": metric, "window_start": times[:upto],
                          "value": values[:upto]})
            for metric, values in (("volume", volume), ("latency", latency))
        )  # fmt: skip

    with Store() as store:
        store.write_metric_points(points(190))
        (first,) = detect_incidents(store).incidents
        assert first.members == ("m/volume",)
        (stored_id,) = store.read_incidents().column("id").to_pylist()
        store.record_feedback(stored_id, "acknowledge", note="on it")
        # Nothing happened at step 100: an open incident there is not shown by the
        # data (dropped by the next run), an acknowledged one is history (kept).
        quiet = times[100]
        store.write_incidents(
            pd.DataFrame(
                {
                    "id": ["inc-stale-open", "inc-stale-acked"],
                    "start": [quiet, quiet],
                    "end": [quiet, quiet],
                    "members": [["m/volume"], ["m/volume"]],
                    "status": ["open", "acknowledged"],
                }
            )
        )
        store.write_metric_points(points(200))
        (grown,) = detect_incidents(store).incidents
        rows = store.read_incidents().to_pandas().set_index("id")
    assert set(grown.members) == {"m/latency", "m/volume"} and grown.start == first.start
    assert incident_id(grown.start, grown.members) != stored_id  # the content hash moved
    assert set(rows.index) == {stored_id, "inc-stale-acked"}
    assert rows.loc[stored_id, "status"] == "acknowledged"
    assert sorted(rows.loc[stored_id, "members"]) == ["m/latency", "m/volume"]

"""Metric points, anomalies, incidents and feedback: keys, replacement and statuses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from seawall.storage._store import Store


def points(values: list[float], start: str = "2024-05-01") -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame(
        {
            "model": "m",
            "metric": "accuracy",
            "window_start": pd.date_range(start, periods=n, freq="h"),
            "value": values,
            "n": [100] * n,
        }
    )


def test_a_recomputed_window_replaces_the_stored_point(store: Store) -> None:
    first = store.write_metric_points(points([0.9, 0.8, 0.7]))
    again = store.write_metric_points(points([0.9, 0.8, 0.7]))
    assert (first.inserted, again.inserted, again.duplicates) == (3, 0, 3)
    # Windows 2 and 3 recomputed (one changed), window 4 new.
    later = store.write_metric_points(points([0.8, 0.75, 0.6], start="2024-05-01 01:00"))
    assert (later.inserted, later.replaced, later.duplicates) == (1, 1, 1)
    got = store.read_metric_points(metric="accuracy").to_pandas()
    np.testing.assert_allclose(got["value"], [0.9, 0.8, 0.75, 0.6])
    assert set(got["qualifier"]) == {""}


def test_qualifier_separates_series(store: Store) -> None:
    frame = pd.concat([points([0.5]).assign(qualifier="sex=F"), points([0.6])])
    assert store.write_metric_points(frame).inserted == 2
    got = store.read_metric_points(qualifier="sex=F").to_pandas()
    assert got["value"].tolist() == [0.5]


def test_last_repeat_within_a_batch_wins(store: Store) -> None:
    frame = pd.concat([points([0.1]), points([0.2])])
    result = store.write_metric_points(frame)
    assert (result.inserted, result.duplicates) == (1, 1)
    assert store.read_metric_points().column("value").to_pylist() == [0.2]


def test_metric_points_from_arrow_with_text_times(store: Store) -> None:
    table = pa.table(
        {
            "model": ["m", "m"],
            "metric": ["psi", "psi"],
            "qualifier": ["age", None],
            "window_start": ["2024-05-01T00:00:00Z", "2024-05-01T01:00:00+01:00"],
            "value": [0.1, 0.2],
        }
    )
    store.write_metric_points(table)
    got = store.read_metric_points().to_pylist()
    assert [(r["qualifier"], r["window_start"].isoformat()) for r in got] == [
        ("", "2024-05-01T00:00:00"),
        ("age", "2024-05-01T00:00:00"),
    ]


def test_anomalies_are_replaced_by_a_rescore(store: Store) -> None:
    frame = pd.DataFrame(
        {
            "series": ["s1", "s1"],
            "timestamp": pd.date_range("2024-05-01", periods=2, freq="h"),
            "value": [1.0, 9.0],
            "score": [0.2, 0.9999],
            "is_anomaly": [False, True],
        }
    )
    store.write_anomalies(frame)
    rescored = frame.iloc[[1]].assign(score=0.5, is_anomaly=False)
    result = store.write_anomalies(rescored)
    assert (result.inserted, result.replaced) == (0, 1)
    assert store.read_anomalies(only_anomalies=True).num_rows == 0
    assert store.read_anomalies(series="s1").column("score").to_pylist() == [0.2, 0.5]


def incident(id_: str, members: list[str], severity: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [id_],
            "start": [pd.Timestamp("2024-05-01 03:00")],
            "end": [pd.Timestamp("2024-05-01 05:00")],
            "severity": [severity],
            "members": [members],
            "shared_labels": [{"source": "crm"}],
        }
    )


def test_rewriting_an_incident_keeps_the_status_people_gave_it(store: Store) -> None:
    store.write_incidents(incident("i1", ["a/acc"]))
    store.record_feedback("i1", "acknowledge", time="2024-05-01 06:00")
    result = store.write_incidents(incident("i1", ["a/acc", "b/acc"], severity=3.0))
    assert (result.inserted, result.replaced) == (0, 1)
    row = store.read_incidents().to_pylist()[0]
    assert row["status"] == "acknowledged" and row["members"] == ["a/acc", "b/acc"]
    store.write_incidents(incident("i1", ["a/acc"]).assign(status="resolved"))
    assert store.read_incidents(status="resolved").num_rows == 1


def test_the_latest_feedback_sets_the_status(store: Store) -> None:
    store.write_incidents(incident("i1", ["a/acc"]))
    store.write_incidents(incident("i2", ["b/volume"], severity=5.0))
    feedback = pd.DataFrame(
        {
            "incident_id": ["i1", "i1", "i2"],
            "action": ["resolve", "acknowledge", "false_alarm"],
            "time": pd.to_datetime(["2024-05-02", "2024-05-01", "2024-05-01"]),
        }
    )
    result = store.write_feedback(feedback)
    assert result.inserted == 3
    assert store.write_feedback(feedback).duplicates == 3
    statuses = {r["id"]: r["status"] for r in store.read_incidents().to_pylist()}
    assert statuses == {"i1": "resolved", "i2": "false_alarm"}
    assert store.read_incidents().column("id").to_pylist() == ["i2", "i1"]  # by severity
    assert store.read_feedback(incident_id="i1").num_rows == 2
    assert store.read_feedback(action="false_alarm").column("incident_id").to_pylist() == ["i2"]


def test_false_alarm_series_lists_members_of_false_alarms(store: Store) -> None:
    store.write_incidents(incident("i1", ["a/acc", "b/acc"]))
    store.write_incidents(incident("i2", ["b/acc"]))
    store.write_incidents(incident("i3", ["c/acc"]))
    store.record_feedback("i1", "false_alarm", time="2024-05-01")
    store.record_feedback("i2", "false_alarm", time="2024-05-03", note="again")
    store.record_feedback("i3", "resolve", time="2024-05-03")
    got = store.false_alarm_series().to_pylist()
    assert [(r["series"], r["n_false_alarms"]) for r in got] == [("a/acc", 1), ("b/acc", 2)]
    assert got[1]["last_time"] == pd.Timestamp("2024-05-03")
    recent = store.false_alarm_series(since="2024-05-02").column("series").to_pylist()
    assert recent == ["b/acc"]


def test_record_feedback_defaults_to_now(store: Store) -> None:
    store.write_incidents(incident("i1", ["a/acc"]))
    before = pd.Timestamp.now(tz="UTC").tz_localize(None)
    store.record_feedback("i1", "acknowledge")
    after = pd.Timestamp.now(tz="UTC").tz_localize(None)
    when = pd.Timestamp(store.read_feedback().column("time").to_pylist()[0])
    assert before.floor("us") <= when <= after


def test_last_repeat_of_an_incident_in_a_batch_wins(store: Store) -> None:
    batch = pd.concat([incident("i1", ["a/acc"]), incident("i1", ["a/acc", "b/acc"], 4.0)])
    result = store.write_incidents(batch)
    assert (result.inserted, result.duplicates) == (1, 1)
    row = store.read_incidents().to_pylist()[0]
    assert (row["members"], row["severity"], row["status"]) == (["a/acc", "b/acc"], 4.0, "open")

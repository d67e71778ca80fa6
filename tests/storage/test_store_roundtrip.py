"""Every table of the store reads back what was written, from every input form."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawall.exceptions import DataValidationError
from seawall.storage._store import Store

FEATURES = ["age", "income", "plan", "is_member", "sex"]


def expected_wide(logs: pd.DataFrame, model: str) -> pd.DataFrame:
    out = logs[logs["model"] == model].sort_values(["time", "request_id"])
    return out[["time", "model", "request_id", "prediction", "score", *FEATURES]].reset_index(
        drop=True
    )


def as_plain(table: pa.Table) -> pd.DataFrame:
    """Arrow to pandas with numpy dtypes for numbers and object for text."""
    frame = table.to_pandas()
    for c in frame.columns:
        if pd.api.types.is_string_dtype(frame[c]) and not pd.api.types.is_object_dtype(frame[c]):
            frame[c] = frame[c].astype(object)
    return frame


def assert_logs_equal(table: pa.Table, logs: pd.DataFrame, model: str) -> None:
    got = as_plain(table.drop_columns(["label", "label_time"]))
    want = expected_wide(logs, model)
    for c in want.columns:
        if pd.api.types.is_string_dtype(want[c]) and not pd.api.types.is_object_dtype(want[c]):
            want[c] = want[c].astype(object)
    want["time"] = want["time"].astype("datetime64[us]")
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)


def write_input(logs: pd.DataFrame, form: str, tmp_path: Path) -> object:
    if form == "pandas":
        return logs
    if form == "arrow":
        return pa.Table.from_pandas(logs, preserve_index=False)
    if form == "polars":
        polars = pytest.importorskip("polars")
        return polars.from_pandas(logs)
    if form == "parquet":
        path = tmp_path / "logs.parquet"
        logs.to_parquet(path, index=False)
        return path
    if form == "csv":
        path = tmp_path / "logs.csv"
        logs.to_csv(path, index=False)
        return str(path)
    # A directory of Parquet parts, as a partitioned export writes them.
    folder = tmp_path / "parts"
    folder.mkdir()
    half = len(logs) // 2
    logs.iloc[:half].to_parquet(folder / "part-0.parquet", index=False)
    logs.iloc[half:].to_parquet(folder / "part-1.parquet", index=False)
    (folder / "_SUCCESS").write_text("")
    return folder


@pytest.mark.parametrize("form", ["pandas", "arrow", "polars", "parquet", "csv", "directory"])
def test_predictions_round_trip_every_input_form(
    form: str, logs: pd.DataFrame, tmp_path: Path, store: Store
) -> None:
    result = store.ingest_predictions(write_input(logs, form, tmp_path), sensitive_cols=["sex"])
    assert (result.rows_read, result.inserted, result.duplicates) == (len(logs), len(logs), 0)
    for model in ("a", "b"):
        table = store.read_predictions(model)
        assert_logs_equal(table, logs, model)
        types = {f.name: f.type for f in table.schema}
        assert types["age"] == pa.int64()
        assert types["income"] == pa.float64()
        assert types["is_member"] == pa.bool_()
        assert pa.types.is_string(types["plan"]) and pa.types.is_string(types["sex"])
        assert types["time"] == pa.timestamp("us")


def test_read_predictions_time_range_is_half_open(logs: pd.DataFrame, store: Store) -> None:
    store.ingest_predictions(logs)
    start, end = pd.Timestamp("2024-05-01 01:00"), pd.Timestamp("2024-05-01 03:00")
    got = store.read_predictions("a", start, end).to_pandas()
    want = logs[(logs["model"] == "a") & (logs["time"] >= start) & (logs["time"] < end)]
    assert sorted(got["request_id"]) == sorted(want["request_id"])


def test_time_zone_aware_input_is_stored_as_utc(store: Store) -> None:
    frame = pd.DataFrame(
        {
            "time": pd.to_datetime(["2024-05-01 02:00"]).tz_localize("Europe/Paris"),
            "model": ["m"],
            "request_id": ["1"],
            "prediction": [1],
            "score": [0.5],
        }
    )
    store.ingest_predictions(frame)
    text = frame.assign(time=["2024-05-01T03:00:00+02:00"], request_id=["2"])
    store.ingest_predictions(text)
    times = store.read_predictions("m").column("time").to_pylist()
    assert [t.isoformat() for t in times] == ["2024-05-01T00:00:00", "2024-05-01T01:00:00"]


def test_features_vary_per_model(store: Store) -> None:
    base = {"time": pd.to_datetime(["2024-05-01"]), "prediction": [1], "score": [0.1]}
    store.ingest_predictions(pd.DataFrame({**base, "model": ["a"], "request_id": ["1"], "x": [1]}))
    store.ingest_predictions(
        pd.DataFrame({**base, "model": ["b"], "request_id": ["1"], "colour": ["red"]})
    )
    assert store.read_predictions("a", with_labels=False).column_names[-1] == "x"
    assert store.read_predictions("b", with_labels=False).column_names[-1] == "colour"
    assert "colour" not in store.read_predictions("a").column_names


def test_text_predictions_and_labels_keep_their_kind(store: Store) -> None:
    frame = pd.DataFrame(
        {
            "time": pd.to_datetime(["2024-05-01", "2024-05-02"]),
            "model": "m",
            "request_id": ["1", "2"],
            "prediction": ["approve", "deny"],
        }
    )
    store.ingest_predictions(frame, score_col=None)
    store.ingest_labels(
        frame[["model", "request_id"]].assign(label=["deny", "deny"]), label_time_col=None
    )
    table = store.read_predictions("m")
    assert table.column("prediction").to_pylist() == ["approve", "deny"]
    assert table.column("label").to_pylist() == ["deny", "deny"]
    assert table.column("score").null_count == 2


def test_labels_join_by_request_id_with_some_missing(logs: pd.DataFrame, store: Store) -> None:
    store.ingest_predictions(logs)
    some = logs.iloc[::3][["model", "request_id"]].copy()
    some["label"] = np.arange(len(some)) % 2
    some["label_time"] = pd.Timestamp("2024-05-02")
    result = store.ingest_labels(some)
    assert (result.inserted, result.replaced, result.duplicates) == (len(some), 0, 0)
    got = store.read_predictions("a").to_pandas()
    want = expected_wide(logs, "a").merge(some, on=["model", "request_id"], how="left")
    np.testing.assert_array_equal(got["request_id"], want["request_id"])
    np.testing.assert_array_equal(got["label"].isna(), want["label"].isna())
    labelled = want["label"].notna()
    np.testing.assert_array_equal(got.loc[labelled, "label"], want.loc[labelled, "label"])
    assert (got.loc[labelled, "label_time"] == pd.Timestamp("2024-05-02")).all()
    assert store.read_labels("a").num_rows == int((some["model"] == "a").sum())


def test_models_round_trip_with_labels(store: Store) -> None:
    models = pd.DataFrame(
        {
            "model": ["m1", "m2", "m3"],
            "version": ["1.0", "2.1", "1.0"],
            "project": ["churn", "churn", "fraud"],
            "team": ["growth", "growth", "risk"],
            "source": ["crm", "crm", "payments"],
        }
    )
    result = store.register_models(models)
    assert (result.inserted, result.replaced) == (3, 0)
    got = store.models().to_pandas()
    want = models[["model", "version", "project", "source", "team"]]
    pd.testing.assert_frame_equal(got.astype(object), want.astype(object))
    assert store.shared_labels(["m1", "m2"]) == {"source": "crm", "team": "growth"}
    assert store.shared_labels(["m1", "m3"]) == {}
    crm = store.models({"source": "crm"}).column("model").to_pylist()
    assert crm == ["m1", "m2"]
    long = store.model_labels().to_pandas()
    assert len(long) == 6 and set(long["key"]) == {"team", "source"}


def test_model_update_keeps_fields_not_in_the_batch(store: Store) -> None:
    store.register_models(pd.DataFrame({"model": ["m"], "version": ["1"], "team": ["a"]}))
    again = store.register_models(pd.DataFrame({"model": ["m"], "region": ["eu"]}))
    assert (again.inserted, again.replaced, again.duplicates) == (0, 1, 0)
    row = store.models().to_pylist()[0]
    assert row == {"model": "m", "version": "1", "project": None, "region": "eu", "team": "a"}
    same = store.register_models(pd.DataFrame({"model": ["m"], "region": ["eu"]}))
    assert (same.replaced, same.duplicates) == (0, 1)


def test_labels_from_a_map_column_leave_other_keys_alone(store: Store) -> None:
    maps = pa.map_(pa.string(), pa.string())
    store.register_models(
        pa.table(
            {
                "model": ["a", "b"],
                "project": ["p", "p"],
                "labels": pa.array([[("team", "x")], [("region", "eu")]], maps),
                "ignored": ["1", "2"],
            }
        ),
        labels_col="labels",
    )
    # With one column per label, b's row would have removed a's region and vice versa.
    again = store.register_models(
        pa.table(
            {
                "model": ["a", "b"],
                "labels": pa.array([[("region", "us")], None], maps),
            }
        ),
        labels_col="labels",
    )
    assert (again.replaced, again.duplicates) == (1, 1)
    rows = {r["model"]: r for r in store.models().to_pylist()}
    assert rows["a"] == {"model": "a", "version": None, "project": "p", "region": "us", "team": "x"}
    assert rows["b"] == {
        "model": "b",
        "version": None,
        "project": "p",
        "region": "eu",
        "team": None,
    }
    with pytest.raises(DataValidationError, match="labels_col"):
        store.register_models(pa.table({"model": ["c"]}), labels_col="labels")


def test_metric_points_round_trip(store: Store, rng: np.random.Generator) -> None:
    n = 12
    points = pd.DataFrame(
        {
            "model": np.repeat(["a", "b"], n // 2),
            "metric": "accuracy",
            "qualifier": ["", "sex=F"] * (n // 2),
            "window_start": pd.date_range("2024-05-01", periods=n, freq="h"),
            "window_end": pd.date_range("2024-05-01 01:00", periods=n, freq="h"),
            "value": rng.random(n),
            "lower": rng.random(n) * 0.1,
            "upper": 1 - rng.random(n) * 0.1,
            "n": rng.integers(1, 100, n),
            "q_value": rng.random(n),
        }
    )
    result = store.write_metric_points(points)
    assert (result.inserted, result.replaced, result.duplicates) == (n, 0, 0)
    got = store.read_metric_points().to_pandas()
    want = points.sort_values(["model", "metric", "qualifier", "window_start"]).reset_index(
        drop=True
    )
    want[["window_start", "window_end"]] = want[["window_start", "window_end"]].astype(
        "datetime64[us]"
    )
    pd.testing.assert_frame_equal(
        got.astype({"model": object, "metric": object, "qualifier": object}),
        want.astype({"model": object, "metric": object, "qualifier": object}),
    )
    only = store.read_metric_points(model="b", qualifier="sex=F").to_pandas()
    assert len(only) == 3 and set(only["qualifier"]) == {"sex=F"}


def test_anomalies_round_trip(store: Store, rng: np.random.Generator) -> None:
    frame = pd.DataFrame(
        {
            "series": np.repeat(["a/volume", "b/volume"], 5),
            "timestamp": np.tile(pd.date_range("2024-05-01", periods=5, freq="h"), 2),
            "value": rng.normal(size=10),
            "score": rng.random(10),
            "is_anomaly": rng.random(10) < 0.3,
            "baseline": rng.normal(size=10),
            "scale": rng.random(10) + 0.5,
        }
    )
    store.write_anomalies(frame)
    got = store.read_anomalies().to_pandas()
    want = frame.astype({"timestamp": "datetime64[us]"})
    pd.testing.assert_frame_equal(got.astype({"series": object}), want.astype({"series": object}))
    flagged = store.read_anomalies(only_anomalies=True).to_pandas()
    assert len(flagged) == int(frame["is_anomaly"].sum())
    # A re-scoring of series a replaces its whole history and leaves b alone.
    rescored = frame[frame["series"] == "a/volume"].iloc[1:].assign(score=0.5)
    result = store.write_anomalies(pd.concat([rescored, rescored.iloc[:1]]), replace_series=True)
    assert (result.rows_read, result.inserted, result.duplicates) == (5, 4, 1)
    after = store.read_anomalies().to_pandas()
    assert after.groupby("series").size().to_dict() == {"a/volume": 4, "b/volume": 5}
    assert (after.loc[after["series"] == "a/volume", "score"] == 0.5).all()
    b = after[after["series"] == "b/volume"].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        b.astype({"series": object}),
        want.iloc[5:].reset_index(drop=True).astype({"series": object}),
    )


def test_incidents_and_feedback_round_trip(store: Store) -> None:
    incidents = pd.DataFrame(
        {
            "id": ["i1", "i2"],
            "start": pd.to_datetime(["2024-05-01 03:00", "2024-05-02 00:00"]),
            "end": pd.to_datetime(["2024-05-01 06:00", "2024-05-02 02:00"]),
            "severity": [7.5, 2.0],
            "members": [["a/acc", "b/acc"], ["c/volume"]],
            "shared_labels": [{"source": "crm"}, {}],
            "summary": ["crm feed broke", "volume dip"],
            "peak_score": [0.9999, 0.999],
            "n_anomalies": [12, 3],
        }
    )
    store.write_incidents(incidents)
    got = store.read_incidents().to_pylist()
    assert [r["id"] for r in got] == ["i1", "i2"]
    assert got[0]["members"] == ["a/acc", "b/acc"]
    assert got[0]["shared_labels"] == [("source", "crm")]
    assert got[1]["shared_labels"] == []
    assert [r["status"] for r in got] == ["open", "open"]
    assert got[0]["n_anomalies"] == 12 and got[0]["summary"] == "crm feed broke"
    feedback = pd.DataFrame(
        {
            "incident_id": ["i1", "i2"],
            "action": ["false_alarm", "acknowledge"],
            "time": pd.to_datetime(["2024-05-03", "2024-05-03"]),
            "note": ["planned migration", ""],
        }
    )
    store.write_feedback(feedback)
    read = store.read_feedback().to_pandas()
    assert list(read["incident_id"]) == ["i1", "i2"]
    assert list(read["note"]) == ["planned migration", ""]
    assert list(read["members"].map(list)) == [["a/acc", "b/acc"], ["c/volume"]]
    statuses = {r["id"]: r["status"] for r in store.read_incidents().to_pylist()}
    assert statuses == {"i1": "false_alarm", "i2": "acknowledged"}


_name = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=8
)


def test_hypothesis_round_trip() -> None:
    # One store for every example (opening one costs ~0.1 s); each example logs
    # under a model of its own.
    names = itertools.count()
    with Store() as store:

        @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(
            n=st.integers(1, 12),
            floats=st.lists(
                st.floats(allow_nan=False, allow_infinity=False), min_size=12, max_size=12
            ),
            ints=st.lists(st.integers(-(2**53), 2**53), min_size=12, max_size=12),
            texts=st.lists(_name, min_size=12, max_size=12),
            ids=st.lists(_name, min_size=12, max_size=12, unique=True),
        )
        def check(
            n: int, floats: list[float], ints: list[int], texts: list[str], ids: list[str]
        ) -> None:
            model = f"m{next(names)}"
            frame = pd.DataFrame(
                {
                    "time": pd.date_range("2024-01-01", periods=n, freq="min"),
                    "model": model,
                    "request_id": ids[:n],
                    "prediction": ints[:n],
                    "score": floats[:n],
                    "f": floats[:n],
                    "i": ints[:n],
                    "t": pd.Series(texts[:n], dtype=object),
                }
            )
            store.ingest_predictions(frame)
            got = store.read_predictions(model, with_labels=False).to_pylist()
            want = frame.sort_values(["time", "request_id"]).to_dict("records")
            for column in ("request_id", "prediction", "score", "f", "i", "t"):
                assert [r[column] for r in got] == [r[column] for r in want]

        check()


def test_many_models_in_one_batch(
    rng: np.random.Generator, store: Store, logs_factory: Callable[..., pd.DataFrame]
) -> None:
    names = tuple(f"m{i:03d}" for i in range(40))
    logs = logs_factory(rng, n=400, models=names)
    store.ingest_predictions(logs)
    counts = store.counts().to_pandas().set_index("model")["n_predictions"]
    want = logs.groupby("model").size()
    pd.testing.assert_series_equal(counts.loc[want.index], want, check_names=False)


def test_parquet_with_arrow_schema_round_trips(
    tmp_path: Path, logs: pd.DataFrame, store: Store
) -> None:
    table = pa.Table.from_pandas(logs, preserve_index=False)
    pq.write_table(table, tmp_path / "x.pq")
    store.ingest_predictions(tmp_path / "x.pq")
    assert_logs_equal(store.read_predictions("b"), logs, "b")

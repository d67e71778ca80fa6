"""Bad input gets a message naming the input, what was expected, what came, and the fix."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from seawall.exceptions import DataValidationError, InvalidParameterError, StorageError
from seawall.storage import SCHEMA_VERSION
from seawall.storage._sql import quote_identifier
from seawall.storage._store import Store


def one_row(**overrides: object) -> pd.DataFrame:
    row: dict[str, object] = {
        "time": pd.Timestamp("2024-05-01"),
        "model": "m",
        "request_id": "r1",
        "prediction": 1,
        "score": 0.5,
    }
    row.update(overrides)
    return pd.DataFrame({k: [v] for k, v in row.items()})


def test_missing_column_names_the_parameter(store: Store) -> None:
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            "Store.ingest_predictions: the column 'ts' (time_col='ts') is missing from the "
            "DataFrame, which has the columns ['time', 'model', 'request_id', 'prediction', "
            "'score']. Add the column or pass time_col= the name"
        ),
    ):
        store.ingest_predictions(one_row(), time_col="ts")


def test_missing_score_column_says_how_to_do_without(store: Store) -> None:
    with pytest.raises(DataValidationError, match=re.escape("(score_col='score') is missing")):
        store.ingest_predictions(one_row().drop(columns="score"))
    assert store.ingest_predictions(one_row().drop(columns="score"), score_col=None).inserted == 1


def test_unparseable_time_text(store: Store) -> None:
    frame = pd.concat([one_row(time="2024-05-01 10:00"), one_row(time="last tuesday")])
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            "the column 'time' (time_col='time') in the DataFrame has 1 value(s) that are not "
            "times, e.g. 'last tuesday'; expected timestamps or ISO-8601 text"
        ),
    ):
        store.ingest_predictions(frame)


def test_numeric_time_column(store: Store) -> None:
    with pytest.raises(
        DataValidationError,
        match=re.escape("must hold timestamps (or ISO-8601 text); got the type BIGINT"),
    ):
        store.ingest_predictions(one_row(time=1714521600))


def test_missing_request_ids(store: Store) -> None:
    frame = pd.concat([one_row(), one_row(request_id=None), one_row(request_id=None)])
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            "the column 'request_id' (request_id_col='request_id') in the DataFrame has 2 "
            "missing value(s), the first at row 1"
        ),
    ):
        store.ingest_predictions(frame)


def test_non_numeric_score(store: Store) -> None:
    with pytest.raises(
        DataValidationError,
        match=re.escape("must hold numbers; got 1 value(s) that are not numbers, e.g. 'high'"),
    ):
        store.ingest_predictions(one_row(score="high"))


def test_path_that_does_not_exist(store: Store, tmp_path: Path) -> None:
    missing = tmp_path / "nope.parquet"
    with pytest.raises(
        DataValidationError, match=re.escape(f"the path {str(missing)!r} does not exist")
    ):
        store.ingest_predictions(missing)


def test_unsupported_file_type(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "logs.json"
    path.write_text("{}")
    with pytest.raises(
        DataValidationError,
        match=re.escape("has the unsupported suffix '.json'; expected one of ['.csv', '.parquet'"),
    ):
        store.ingest_predictions(path)


def test_corrupt_parquet(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(
        DataValidationError, match=re.escape(f"could not read the file {str(path)!r}")
    ):
        store.ingest_predictions(path)


def test_directory_without_files_and_with_mixed_formats(store: Store, tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="holds no Parquet or CSV files"):
        store.ingest_predictions(tmp_path)
    one_row().to_csv(tmp_path / "a.csv", index=False)
    one_row().to_parquet(tmp_path / "b.parquet", index=False)
    with pytest.raises(DataValidationError, match="holds both Parquet and CSV files"):
        store.ingest_predictions(tmp_path)


def test_unsupported_data_type(store: Store) -> None:
    with pytest.raises(
        InvalidParameterError,
        match=re.escape("The 'data' parameter of Store.ingest_predictions must be a path"),
    ):
        store.ingest_predictions([{"time": 1}])


def test_feature_with_a_reserved_name(store: Store) -> None:
    with pytest.raises(
        DataValidationError,
        match=re.escape("the column 'label' in feature_cols is reserved for the stored table"),
    ):
        store.ingest_predictions(one_row(label=1))


def test_bad_feedback_action_and_unknown_incident(store: Store) -> None:
    store.write_incidents(
        pd.DataFrame(
            {"id": ["i1"], "start": [pd.Timestamp(0)], "end": [pd.Timestamp(1)], "members": [["s"]]}
        )
    )
    bad = pd.DataFrame({"incident_id": ["i1"], "action": ["ignore"], "time": [pd.Timestamp(2)]})
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            "the column 'action' in the DataFrame holds ['ignore']; expected one of "
            "['acknowledge', 'resolve', 'false_alarm']"
        ),
    ):
        store.write_feedback(bad)
    with pytest.raises(DataValidationError, match=re.escape("does not hold: ['i9']")):
        store.write_feedback(bad.assign(incident_id="i9", action="resolve"))
    with pytest.raises(
        InvalidParameterError,
        match=re.escape("The 'action' parameter of Store.record_feedback must be one of"),
    ):
        store.record_feedback("i1", "ignore")
    assert store.table_sizes()["feedback"] == 0


def test_unknown_model_on_read(store: Store) -> None:
    store.ingest_predictions(one_row())
    with pytest.raises(
        InvalidParameterError,
        match=re.escape(
            "The 'model' parameter of Store.read_predictions must be the name of a model in "
            "the store ('m'). Got 'x' instead."
        ),
    ):
        store.read_predictions("x")


def test_bad_time_bound(store: Store) -> None:
    store.ingest_predictions(one_row())
    with pytest.raises(
        InvalidParameterError, match="The 'start' parameter of Store.read_predictions"
    ):
        store.read_predictions("m", start="not a time")


def test_metric_points_need_their_columns(store: Store) -> None:
    frame = pd.DataFrame({"model": ["m"], "metric": ["acc"], "value": [0.9]})
    with pytest.raises(
        DataValidationError,
        match=re.escape("the required column 'window_start' is missing from the DataFrame"),
    ):
        store.write_metric_points(frame)
    with pytest.raises(DataValidationError, match=re.escape("the extra column 'note'")):
        store.write_metric_points(frame.assign(window_start=pd.Timestamp(0), note="x"))


def test_opening_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_text("hello")
    with pytest.raises(StorageError, match=re.escape(f"could not open the store {str(path)!r}")):
        Store(path)


def test_read_only_needs_a_file() -> None:
    with pytest.raises(InvalidParameterError, match="False for an in-memory store"):
        Store(None, read_only=True)


def test_hostile_column_names_are_quoted_not_run(store: Store) -> None:
    name = 'x"; DROP TABLE predictions; --'
    store.ingest_predictions(one_row(**{name: 3.5}))
    table = store.read_predictions("m")
    assert table.column(name).to_pylist() == [3.5]
    assert store.table_sizes()["predictions"] == 1
    assert quote_identifier(name) == '"x""; DROP TABLE predictions; --"'
    with pytest.raises(InvalidParameterError, match="must be a non-empty string"):
        quote_identifier("")


def test_a_store_from_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.duckdb"
    with Store(path) as store:
        cur = store.cursor()
        cur.execute("INSERT INTO seawall_schema VALUES (99, now()::TIMESTAMP)")
        cur.close()
    want = f"has schema version 99, but this Seawall reads version {SCHEMA_VERSION}"
    with pytest.raises(StorageError, match=re.escape(want)):
        Store(path)


def test_a_version_1_store_is_brought_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE seawall_schema (version INTEGER NOT NULL, applied_at TIMESTAMP)")
    con.execute("INSERT INTO seawall_schema VALUES (1, now()::TIMESTAMP)")
    con.execute(
        "CREATE TABLE anomalies (series VARCHAR NOT NULL, timestamp TIMESTAMP NOT NULL, "
        "value DOUBLE, score DOUBLE, is_anomaly BOOLEAN NOT NULL)"
    )
    con.execute("INSERT INTO anomalies VALUES ('m/acc', '2024-05-01', 0.9, 0.5, false)")
    con.close()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 2
        kept = store.read_anomalies().to_pylist()
    assert kept == [
        {
            "series": "m/acc",
            "timestamp": dt.datetime(2024, 5, 1),
            "value": 0.9,
            "score": 0.5,
            "is_anomaly": False,
            "baseline": None,
            "scale": None,
        }
    ]
    with Store(path, read_only=True) as store:
        assert store.schema_version == 2


def test_a_csv_value_past_the_type_sniffer_is_bad_input(store: Store, tmp_path: Path) -> None:
    n = 30_000  # DuckDB sniffs the first 20,480 rows for the column types
    frame = pd.concat([one_row(request_id=f"r{i}", age=i) for i in range(3)])
    frame = frame.loc[frame.index.repeat(n // 3)].reset_index(drop=True)
    frame["request_id"] = [f"r{i}" for i in range(len(frame))]
    frame["age"] = frame["age"].astype(object)
    frame.loc[len(frame) - 1, "age"] = "abc"
    path = tmp_path / "late.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(
        DataValidationError,
        match=re.escape(f"Store.ingest_predictions: could not read the file {str(path)!r}"),
    ) as e:
        store.ingest_predictions(path)
    assert 'converting column "age"' in str(e.value)
    assert store.table_sizes()["predictions"] == 0

"""Idempotent ingestion, all-or-nothing batches, reopening a file, threads."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from seawall.exceptions import DataValidationError, StorageError
from seawall.storage import SCHEMA_VERSION, _upsert
from seawall.storage._store import Store


def test_ingesting_twice_keeps_one_row_per_request(logs: pd.DataFrame, store: Store) -> None:
    first = store.ingest_predictions(logs)
    second = store.ingest_predictions(logs)
    assert (first.inserted, first.duplicates) == (len(logs), 0)
    assert (second.rows_read, second.inserted, second.duplicates) == (len(logs), 0, len(logs))
    assert store.table_sizes()["predictions"] == len(logs)


def test_overlapping_batches(logs: pd.DataFrame, store: Store) -> None:
    a = store.ingest_predictions(logs.iloc[:70])
    b = store.ingest_predictions(logs.iloc[50:])
    assert (a.inserted, b.inserted, b.duplicates) == (70, len(logs) - 70, 20)
    assert store.table_sizes()["predictions"] == len(logs)
    ids = [
        rid
        for m in ("a", "b")
        for rid in store.read_predictions(m).column("request_id").to_pylist()
    ]
    assert sorted(ids) == sorted(logs["request_id"])


def test_first_write_wins_for_predictions(logs: pd.DataFrame, store: Store) -> None:
    row = logs.iloc[[0]]
    changed = row.assign(score=0.123456, request_id=row["request_id"])
    # The repeat inside one batch and the later batch both lose to the first row.
    result = store.ingest_predictions(pd.concat([row, changed]))
    assert (result.inserted, result.duplicates) == (1, 1)
    store.ingest_predictions(changed)
    got = store.read_predictions(row["model"].iloc[0]).column("score").to_pylist()
    assert got == [row["score"].iloc[0]]


def test_same_request_id_in_two_models_is_two_predictions(store: Store) -> None:
    frame = pd.DataFrame(
        {
            "time": pd.to_datetime(["2024-05-01", "2024-05-01"]),
            "model": ["a", "b"],
            "request_id": ["r1", "r1"],
            "prediction": [1, 0],
            "score": [0.9, 0.1],
        }
    )
    assert store.ingest_predictions(frame).inserted == 2


def test_labels_latest_write_wins_and_identical_is_a_duplicate(
    logs: pd.DataFrame, store: Store
) -> None:
    store.ingest_predictions(logs)
    labels = logs[["model", "request_id"]].iloc[:10].assign(label=0, label_time=pd.Timestamp(0))
    assert store.ingest_labels(labels).inserted == 10
    same = store.ingest_labels(labels)
    assert (same.inserted, same.replaced, same.duplicates) == (0, 0, 10)
    fixed = labels.iloc[:4].assign(label=1)
    result = store.ingest_labels(fixed)
    assert (result.inserted, result.replaced, result.duplicates) == (0, 4, 0)
    assert store.table_sizes()["labels"] == 10
    got = pd.concat(store.read_labels(m).to_pandas() for m in ("a", "b"))
    by_id = dict(zip(got["request_id"], got["label"], strict=True))
    assert [by_id[r] for r in labels["request_id"]] == [1] * 4 + [0] * 6


def test_labels_without_model_are_matched_by_request_id(logs: pd.DataFrame, store: Store) -> None:
    store.ingest_predictions(logs)
    labels = pd.DataFrame(
        {"request_id": [*logs["request_id"].iloc[:5], "nope-1", "nope-2"], "y": [1] * 7}
    )
    result = store.ingest_labels(labels, model_col=None, label_col="y", label_time_col=None)
    assert (result.rows_read, result.inserted, result.unmatched) == (7, 5, 2)
    n_labelled = store.counts().to_pandas()["n_labelled"].sum()
    assert n_labelled == 5


def test_labels_not_known_yet_are_missing_not_stored(logs: pd.DataFrame, store: Store) -> None:
    store.ingest_predictions(logs)
    labels = logs[["model", "request_id"]].iloc[:6].assign(label=[1.0, np.nan] * 3)
    result = store.ingest_labels(labels, label_time_col=None)
    assert (result.rows_read, result.inserted, result.missing) == (6, 3, 3)
    assert store.table_sizes()["labels"] == 3


def test_a_bad_batch_is_rolled_back_and_earlier_data_stays(
    logs: pd.DataFrame, store: Store
) -> None:
    store.ingest_predictions(logs.iloc[:60])
    before = store.table_sizes()
    bad = logs.iloc[60:].astype({"time": str})
    bad.iloc[30, bad.columns.get_loc("time")] = "yesterday"
    with pytest.raises(DataValidationError, match="e.g. 'yesterday'"):
        store.ingest_predictions(bad)
    assert store.table_sizes() == before
    good = store.ingest_predictions(logs.iloc[60:])
    assert good.inserted == len(logs) - 60


def test_a_database_failure_mid_batch_rolls_back_everything(
    logs: pd.DataFrame, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.ingest_predictions(logs[logs["model"] == "a"])
    before = store.table_sizes()

    def fail(*args: object, **kwargs: object) -> int:
        raise duckdb.IOException("disk full")

    # New models and catalog rows are written before the predictions; they must go too.
    monkeypatch.setattr(_upsert, "insert_first", fail)
    monkeypatch.setattr("seawall.storage._ingest.insert_first", fail)
    with pytest.raises(StorageError, match="ingesting predictions failed and was rolled back") as e:
        store.ingest_predictions(logs)
    assert isinstance(e.value.__cause__, duckdb.IOException)
    assert store.table_sizes() == before
    assert store.models().column("model").to_pylist() == ["a"]


def test_a_kind_change_is_refused_and_the_first_kind_kept(store: Store) -> None:
    base = {"time": pd.to_datetime(["2024-05-01"]), "model": ["m"], "prediction": [1]}
    store.ingest_predictions(pd.DataFrame({**base, "request_id": ["1"], "x": [1]}), score_col=None)
    with pytest.raises(
        DataValidationError,
        match="the column 'x' of model 'm' holds text values in the DataFrame, but earlier "
        "batches stored it as integer",
    ):
        store.ingest_predictions(
            pd.DataFrame({**base, "request_id": ["2"], "x": ["one"]}), score_col=None
        )
    store.ingest_predictions(
        pd.DataFrame({**base, "request_id": ["3"], "x": [2.5]}), score_col=None
    )
    got = store.read_predictions("m").column("x")
    assert str(got.type) == "double" and got.to_pylist() == [1.0, 2.5]


def test_file_backed_store_reopens_with_its_data(logs: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "fleet.duckdb"
    with Store(path) as store:
        store.ingest_predictions(logs, sensitive_cols=["sex"])
        store.register_models(pd.DataFrame({"model": ["a"], "team": ["growth"]}))
        before = store.read_predictions("a")
        assert store.schema_version == SCHEMA_VERSION
    assert store.closed
    with Store(path) as again:
        assert again.read_predictions("a").equals(before)
        assert again.models().to_pylist()[0]["team"] == "growth"
        assert again.ingest_predictions(logs).inserted == 0
    with Store(str(path), read_only=True) as reader:
        assert reader.read_predictions("a").num_rows == before.num_rows
        with pytest.raises(StorageError, match="needs a writable store"):
            reader.ingest_predictions(logs)


def test_threads_each_ingest_through_the_same_store(
    store: Store, rng: np.random.Generator, logs_factory: object
) -> None:
    batches = [logs_factory(rng, n=50, models=(f"t{i}",)) for i in range(4)]  # type: ignore[operator]
    for i, batch in enumerate(batches):
        batch["request_id"] = [f"{i}-{j}" for j in range(len(batch))]
    errors: list[BaseException] = []
    counts: dict[str, int] = {}

    def work(i: int) -> None:
        try:
            store.ingest_predictions(batches[i])
            cur = store.cursor()  # one cursor per thread for the thread's own SQL
            try:
                rows = cur.execute(
                    "SELECT count(*) FROM predictions WHERE model = ?", [f"t{i}"]
                ).fetchall()
                counts[f"t{i}"] = rows[0][0]
            finally:
                cur.close()
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert counts == {f"t{i}": 50 for i in range(4)}
    assert store.table_sizes()["predictions"] == 200


def test_closed_store_refuses_work(logs: pd.DataFrame) -> None:
    store = Store()
    store.close()
    store.close()  # twice is fine
    with pytest.raises(StorageError, match="the store is closed"):
        store.ingest_predictions(logs)
    assert repr(store) == "Store(':memory:', closed)"

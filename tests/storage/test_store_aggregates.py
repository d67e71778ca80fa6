"""Aggregates computed by DuckDB equal the same computation in pandas/numpy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seawall.exceptions import InvalidParameterError
from seawall.storage._store import Store


@pytest.fixture
def filled(
    logs: pd.DataFrame, store: Store, rng: np.random.Generator
) -> tuple[Store, pd.DataFrame]:
    store.ingest_predictions(logs)
    labelled = logs.sample(frac=0.4, random_state=rng.integers(2**31))
    store.ingest_labels(labelled[["model", "request_id"]].assign(label=1), label_time_col=None)
    return store, logs.assign(labelled=logs["request_id"].isin(labelled["request_id"]))


@pytest.mark.parametrize("every", ["15min", "1h", "1d", "7d"])
def test_window_counts_equal_pandas(every: str, filled: tuple[Store, pd.DataFrame]) -> None:
    store, logs = filled
    got = store.window_counts(every).to_pandas()
    width = pd.Timedelta(every.upper() if every.endswith("d") else every)
    frame = logs.assign(window_start=logs["time"].dt.floor(width))
    want = (
        frame.groupby(["model", "window_start"])
        .agg(
            n_predictions=("request_id", "size"),
            n_labelled=("labelled", "sum"),
            n_scored=("score", "count"),
            mean_score=("score", "mean"),
        )
        .reset_index()
    )
    np.testing.assert_array_equal(got["model"], want["model"])
    np.testing.assert_array_equal(
        got["window_start"].to_numpy("datetime64[us]"),
        want["window_start"].to_numpy("datetime64[us]"),
    )
    np.testing.assert_array_equal(got["window_end"] - got["window_start"], np.full(len(got), width))
    for column in ("n_predictions", "n_labelled", "n_scored"):
        np.testing.assert_array_equal(got[column], want[column])
    np.testing.assert_allclose(got["mean_score"], want["mean_score"], rtol=1e-12)


def test_window_counts_of_one_model_in_a_range(filled: tuple[Store, pd.DataFrame]) -> None:
    store, logs = filled
    start, end = "2024-05-01 01:00", "2024-05-01 03:30"
    got = store.window_counts("30min", model="b", start=start, end=end).to_pandas()
    keep = (logs["model"] == "b") & (logs["time"] >= start) & (logs["time"] < end)
    want = logs[keep].groupby(logs["time"].dt.floor("30min")).size()
    np.testing.assert_array_equal(got["n_predictions"], want.to_numpy())
    assert set(got["model"]) == {"b"}


def test_counts_and_time_range_equal_pandas(filled: tuple[Store, pd.DataFrame]) -> None:
    store, logs = filled
    got = store.counts().to_pandas().set_index("model")
    grouped = logs.groupby("model")
    np.testing.assert_array_equal(got["n_predictions"], grouped.size())
    np.testing.assert_array_equal(got["n_labelled"], grouped["labelled"].sum())
    np.testing.assert_array_equal(got["n_labels"], grouped["labelled"].sum())
    np.testing.assert_array_equal(got["first_time"], grouped["time"].min())
    np.testing.assert_array_equal(got["last_time"], grouped["time"].max())
    first, last = store.time_range()
    assert (pd.Timestamp(first), pd.Timestamp(last)) == (logs["time"].min(), logs["time"].max())
    first_b, last_b = store.time_range("b")
    b = logs[logs["model"] == "b"]["time"]
    assert (pd.Timestamp(first_b), pd.Timestamp(last_b)) == (b.min(), b.max())


def test_empty_store_aggregates(store: Store) -> None:
    assert store.time_range() == (None, None)
    assert store.window_counts().num_rows == 0
    assert store.counts().num_rows == 0
    assert set(store.table_sizes().values()) == {0}


@pytest.mark.parametrize("every", ["0h", "-1h", "soon", 3, "1ns"])
def test_window_width_must_be_positive_and_fixed(every: object, store: Store) -> None:
    with pytest.raises(InvalidParameterError, match="The 'every' parameter of Store.window_counts"):
        store.window_counts(every)  # type: ignore[arg-type]

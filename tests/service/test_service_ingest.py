"""Ingestion: JSON, Arrow IPC and Parquet batches, stored whole, once, or not at all."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _service_api import Api, assert_error, prediction_rows

ARROW = "application/vnd.apache.arrow.stream"
PARQUET = "application/vnd.apache.parquet"


@pytest.fixture
def shop(api: Api) -> Api:
    r = api.client.post(
        "/api/v1/projects/shop/models",
        json={
            "models": [
                {"model": "churn", "version": "3", "labels": {"team": "growth", "region": "eu"}},
                {"model": "fraud", "labels": {"source": "payments"}},
            ]
        },
        headers=api.ingest_shop,
    )
    assert r.status_code == 200, r.text
    assert r.json()["inserted"] == 2
    return api


def _arrow(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def test_models_keep_their_project_version_and_labels(shop: Api) -> None:
    models = {r["model"]: r for r in shop.store.models().to_pylist()}
    assert models["churn"]["project"] == "shop" and models["churn"]["version"] == "3"
    assert models["churn"]["team"] == "growth" and models["fraud"]["source"] == "payments"
    # A row sets its own labels; the model's other labels stay.
    r = shop.client.post(
        "/api/v1/projects/shop/models",
        json={"models": [{"model": "churn", "labels": {"region": "us"}}, {"model": "fraud"}]},
        headers=shop.ingest_shop,
    )
    assert r.json()["replaced"] == 1 and r.json()["duplicates"] == 1
    churn = {r["model"]: r for r in shop.store.models().to_pylist()}["churn"]
    assert (churn["team"], churn["region"]) == ("growth", "us")


def test_json_predictions_are_stored_once(shop: Api) -> None:
    rows = prediction_rows(5)
    r = shop.client.post(
        "/api/v1/projects/shop/predictions", json={"rows": rows}, headers=shop.ingest_shop
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "table": "predictions", "rows_read": 5, "inserted": 5, "replaced": 0,
        "duplicates": 0, "unmatched": 0, "missing": 0,
    }  # fmt: skip
    again = shop.client.post(
        "/api/v1/projects/shop/predictions",
        json={"rows": rows + prediction_rows(2, start=5)},
        headers=shop.ingest_shop,
    )
    assert (again.json()["inserted"], again.json()["duplicates"]) == (2, 5)
    stored = shop.store.read_predictions("churn").to_pandas().sort_values("request_id")
    assert stored["request_id"].tolist() == [f"r{i}" for i in range(7)]
    assert stored["age"].tolist() == [20 + i for i in range(7)]
    assert stored["sex"].tolist() == ["M", "F", "F", "M", "F", "F", "M"]
    assert stored["score"].tolist() == pytest.approx([0.1, 0.9, 0.1, 0.9, 0.1, 0.9, 0.1])
    roles = shop.store.model_columns("churn").to_pandas().set_index("name")["role"].to_dict()
    assert roles == {"prediction": "prediction", "age": "feature", "sex": "sensitive"}


def test_time_zones_are_stored_as_utc(shop: Api) -> None:
    rows = prediction_rows(1)
    rows[0]["time"] = "2024-05-01T09:00:00+02:00"
    shop.client.post(
        "/api/v1/projects/shop/predictions", json={"rows": rows}, headers=shop.ingest_shop
    )
    time = shop.store.read_predictions("churn")["time"][0].as_py()
    assert (time.hour, time.minute) == (7, 0)


@pytest.mark.parametrize(
    ("field", "value", "loc"),
    [
        ("time", "yesterday", "rows[3].time"),
        ("score", "high", "rows[3].score"),
        ("request_id", "", "rows[3].request_id"),
        ("colour", "red", "rows[3].colour"),
    ],
)
def test_a_bad_row_is_named_and_nothing_of_its_batch_is_stored(
    shop: Api, field: str, value: object, loc: str
) -> None:
    rows = prediction_rows(6)
    rows[3][field] = value
    r = shop.client.post(
        "/api/v1/projects/shop/predictions", json={"rows": rows}, headers=shop.ingest_shop
    )
    error = assert_error(r, 422, loc, "Nothing")
    assert error["details"][0]["loc"] == loc  # type: ignore[index]
    assert shop.store.table_sizes()["predictions"] == 0


def test_a_feature_of_two_kinds_is_named(shop: Api) -> None:
    rows = prediction_rows(4)
    rows[2]["features"] = {"age": "old"}
    r = shop.client.post(
        "/api/v1/projects/shop/predictions", json={"rows": rows}, headers=shop.ingest_shop
    )
    assert_error(r, 422, "rows[2].features.age", "'old'")
    assert shop.store.table_sizes()["predictions"] == 0


def test_arrow_and_parquet_bodies(shop: Api) -> None:
    table = pa.table(
        {
            "model": ["fraud"] * 3,
            "request_id": ["a", "b", "c"],
            "time": pa.array([1714554000, 1714557600, 1714561200], pa.timestamp("s")),
            "prediction": [0, 1, 0],
            "score": [0.2, 0.7, 0.1],
            "amount": [10.0, 250.0, 3.5],
            "sex": ["F", "M", "F"],
        }
    )
    for body, ctype in ((_arrow(table), ARROW), (_parquet(table), PARQUET)):
        r = shop.client.post(
            "/api/v1/projects/shop/predictions",
            params={"sensitive": "sex"},
            content=body,
            headers={**shop.ingest_shop, "content-type": ctype},
        )
        assert r.status_code == 200, r.text
    assert shop.store.table_sizes()["predictions"] == 3
    stored = shop.store.read_predictions("fraud").to_pandas().sort_values("request_id")
    assert stored["amount"].tolist() == [10.0, 250.0, 3.5]
    roles = shop.store.model_columns("fraud").to_pandas().set_index("name")["role"].to_dict()
    assert roles == {"prediction": "prediction", "amount": "feature", "sex": "sensitive"}


def test_unreadable_tables_and_other_content_types(shop: Api) -> None:
    for ctype in (ARROW, PARQUET):
        r = shop.client.post(
            "/api/v1/projects/shop/predictions",
            content=b"not a table",
            headers={**shop.ingest_shop, "content-type": ctype},
        )
        assert_error(r, 422, "not a readable")
    r = shop.client.post(
        "/api/v1/projects/shop/predictions",
        content=b"model,request_id\n",
        headers={**shop.ingest_shop, "content-type": "text/csv"},
    )
    assert_error(r, 415, "'text/csv'", "application/json")


def test_labels_json_and_parquet_and_metric_points(shop: Api) -> None:
    shop.client.post(
        "/api/v1/projects/shop/predictions",
        json={"rows": prediction_rows(4)},
        headers=shop.ingest_shop,
    )
    r = shop.client.post(
        "/api/v1/projects/shop/labels",
        json={"rows": [{"model": "churn", "request_id": "r0", "label": 1}]},
        headers=shop.ingest_shop,
    )
    assert r.json()["inserted"] == 1
    late = pa.table({"model": ["churn", "churn"], "request_id": ["r0", "r1"], "label": [0, 1]})
    r = shop.client.post(
        "/api/v1/projects/shop/labels",
        content=_parquet(late),
        headers={**shop.ingest_shop, "content-type": PARQUET},
    )
    assert (r.json()["inserted"], r.json()["replaced"]) == (1, 1)
    labels = shop.store.read_labels("churn").to_pandas().set_index("request_id")["label"]
    assert labels.to_dict() == {"r0": 0.0, "r1": 1.0}
    r = shop.client.post(
        "/api/v1/projects/shop/metrics",
        json={
            "rows": [
                {
                    "model": "churn",
                    "metric": "revenue",
                    "timestamp": "2024-05-01T09:00:00Z",
                    "value": 3.5,
                },
                {
                    "model": "churn",
                    "metric": "revenue",
                    "timestamp": "2024-05-01T10:00:00Z",
                    "value": None,
                },
            ]
        },
        headers=shop.ingest_shop,
    )
    assert r.json()["inserted"] == 2
    points = shop.store.read_metric_points().to_pandas()
    assert points["metric"].tolist() == ["revenue", "revenue"]
    assert points["value"].iloc[0] == 3.5 and points["value"].isna().iloc[1]


def test_bodies_over_the_limits_get_413(shop: Api) -> None:
    big = b"x" * 300_000
    r = shop.client.post(
        "/api/v1/projects/shop/predictions",
        content=big,
        headers={**shop.ingest_shop, "content-type": "application/json"},
    )
    assert_error(r, 413, "larger than", "200,000 bytes")

    def chunks() -> object:
        for _ in range(30):
            yield b"y" * 10_000

    r = shop.client.post(
        "/api/v1/projects/shop/predictions",
        content=chunks(),
        headers={**shop.ingest_shop, "content-type": "application/json"},
    )
    assert_error(r, 413, "larger than")
    assert shop.store.table_sizes()["predictions"] == 0


def test_unknown_routes_and_methods_answer_the_error_shape(shop: Api) -> None:
    assert_error(shop.client.get("/api/v1/nothing", headers=shop.admin), 404, "/openapi.json")
    assert_error(shop.client.put("/api/v1/projects", headers=shop.admin), 405)
    r = shop.client.post(
        "/api/v1/projects", content=b"{", headers={**shop.admin, "content-type": "application/json"}
    )
    assert_error(r, 422)


def test_names_with_control_characters_or_slashes_are_refused(shop: Api) -> None:
    rows = prediction_rows(3)
    rows[1]["features"] = {"a\x00b": 1}
    r = shop.client.post(
        "/api/v1/projects/shop/predictions", json={"rows": rows}, headers=shop.ingest_shop
    )
    assert_error(r, 422, "rows[1].features")
    r = shop.client.post(
        "/api/v1/projects/shop/models",
        json={"models": [{"model": "a/b"}]},
        headers=shop.ingest_shop,
    )
    assert_error(r, 422, "models[0].model")
    assert shop.store.table_sizes()["predictions"] == 0

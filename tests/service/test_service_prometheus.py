"""/metrics: the standard exposition, parsed by the official parser."""

from __future__ import annotations

from _service_api import Api, assert_error, bearer, load_monitored_fleet, prediction_rows
from prometheus_client.parser import text_string_to_metric_families

from seawall.service import issue_token


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_counters_gauges_and_bounded_scores(api: Api) -> None:
    load_monitored_fleet(api.store)
    rows = prediction_rows(5, model="churn")
    api.client.post(
        "/api/v1/projects/shop/predictions", json={"rows": rows}, headers=api.ingest_shop
    )
    api.client.post(
        "/api/v1/projects/shop/predictions", json={"rows": rows}, headers=api.ingest_shop
    )
    rows[0]["time"] = "not a time"
    api.client.post(
        "/api/v1/projects/shop/predictions", json={"rows": rows}, headers=api.ingest_shop
    )
    r = api.client.get("/metrics", headers=api.read_shop)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    s = _samples(r.text)
    assert (
        s[("seawall_ingested_rows_total", (("outcome", "inserted"), ("table", "predictions")))] == 5
    )
    assert (
        s[("seawall_ingested_rows_total", (("outcome", "duplicates"), ("table", "predictions")))]
        == 5
    )
    assert s[("seawall_refused_batches_total", (("table", "predictions"),))] == 1
    assert s[("seawall_models", (("project", "shop"),))] == 3
    assert ("seawall_models", (("project", "bank"),)) not in s  # not this token's project
    open_shop = s[("seawall_open_incidents", (("project", "shop"),))]
    listed = api.client.get(
        "/api/v1/projects/shop/incidents", params={"status": "open"}, headers=api.read_shop
    ).json()
    assert open_shop == listed["total"] >= 1
    scores = {k: v for k, v in s.items() if k[0] == "seawall_anomaly_score"}
    assert len(scores) == 6  # 3 models x 2 metrics of shop
    latest = api.store.read_anomalies(series="churn/accuracy").to_pandas().iloc[-1]["score"]
    key = (
        "seawall_anomaly_score",
        (("metric", "accuracy"), ("model", "churn"), ("project", "shop")),
    )
    assert scores[key] == latest


def test_cardinality_is_bounded_and_a_token_is_needed(api: Api) -> None:
    from fastapi.testclient import TestClient

    from seawall.service import ServiceSettings, create_app

    app = create_app(
        ServiceSettings(print_admin_token=False, prometheus_series=2, schedule_seconds=0)
    )
    with TestClient(app) as client:
        store = app.state.store
        load_monitored_fleet(store)
        token = bearer(issue_token(store, "prom", ["read"], ["*"]).token)
        s = _samples(client.get("/metrics", headers=token).text)
        scores = sorted(v for k, v in s.items() if k[0] == "seawall_anomaly_score")
        assert len(scores) == 2
        latest = store.read_anomalies().to_pandas().groupby("series")["score"].last()
        assert scores == sorted(latest.nlargest(2))
        assert_error(client.get("/metrics"), 401)
        ingest = bearer(issue_token(store, "i", ["ingest"], ["*"]).token)
        assert_error(client.get("/metrics", headers=ingest), 403)

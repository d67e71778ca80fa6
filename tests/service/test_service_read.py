"""The read API: models, series against their band, incidents and actions, reports."""

from __future__ import annotations

import numpy as np
import pytest
from _service_api import Api, assert_error, bearer, load_monitored_fleet

from seawall.service import issue_token


@pytest.fixture
def fleet(api: Api) -> Api:
    load_monitored_fleet(api.store)
    return api


def test_models_are_paged_least_healthy_first(fleet: Api) -> None:
    page = fleet.client.get("/api/v1/projects/shop/models", headers=fleet.read_shop).json()
    assert (page["total"], page["limit"], page["offset"]) == (3, 50, 0)
    names = [m["model"] for m in page["items"]]
    assert names[0] == "churn" and sorted(names) == ["churn", "fraud", "upsell"]
    churn = page["items"][0]
    assert churn["open_incidents"] >= 1 and churn["n_flagged"] >= 1
    assert churn["labels"] == {"region": "eu", "team": "growth"}
    assert churn["worst_score"] > 0.999
    second = fleet.client.get(
        "/api/v1/projects/shop/models", params={"limit": 2, "offset": 2}, headers=fleet.read_shop
    ).json()
    assert second["total"] == 3 and [m["model"] for m in second["items"]] == names[2:]
    growth = fleet.client.get(
        "/api/v1/projects/shop/models", params={"label": "team:growth"}, headers=fleet.read_shop
    ).json()
    assert sorted(m["model"] for m in growth["items"]) == ["churn", "upsell"]
    found = fleet.client.get(
        "/api/v1/projects/shop/models", params={"search": "RAU"}, headers=fleet.read_shop
    ).json()
    assert [m["model"] for m in found["items"]] == ["fraud"]
    r = fleet.client.get(
        "/api/v1/projects/shop/models", params={"label": "team"}, headers=fleet.read_shop
    )
    assert_error(r, 422, "KEY:VALUE")
    r = fleet.client.get(
        "/api/v1/projects/shop/models", params={"limit": 0}, headers=fleet.read_shop
    )
    assert_error(r, 422, "limit")


def test_a_model_lists_its_series_and_other_projects_stay_hidden(fleet: Api) -> None:
    detail = fleet.client.get("/api/v1/projects/shop/models/churn", headers=fleet.read_shop)
    assert detail.status_code == 200, detail.text
    series = {s["metric"]: s for s in detail.json()["series"]}
    assert set(series) == {"accuracy", "volume"} and series["accuracy"]["n_points"] == 200
    assert series["accuracy"]["n_flagged"] >= 1 and series["accuracy"]["worst_score"] > 0.999
    r = fleet.client.get("/api/v1/projects/shop/models/loans", headers=fleet.read_shop)
    assert_error(r, 404, "no model 'loans'")
    r = fleet.client.get("/api/v1/projects/bank/models/loans", headers=fleet.read_shop)
    assert_error(r, 404, "no project 'bank'")


def test_a_series_comes_with_its_band_and_scores(fleet: Api) -> None:
    r = fleet.client.get(
        "/api/v1/projects/shop/models/churn/series/accuracy", headers=fleet.read_shop
    )
    assert r.status_code == 200, r.text
    points = r.json()
    assert len(points) == 200
    stored = fleet.store.read_metric_points(model="churn", metric="accuracy").to_pandas()
    np.testing.assert_allclose([p["value"] for p in points], stored["value"])
    scored = fleet.store.read_anomalies(series="churn/accuracy").to_pandas()
    by_time = {p["timestamp"]: p for p in points}
    for row in scored.itertuples():
        p = by_time[row.timestamp.isoformat()]
        assert p["score"] == pytest.approx(row.score)
        assert p["band_lower"] == pytest.approx(row.baseline - 3 * row.scale)
        assert p["band_upper"] == pytest.approx(row.baseline + 3 * row.scale)
        assert p["is_anomaly"] == row.is_anomaly
    assert points[190]["is_anomaly"] and points[190]["value"] < points[190]["band_lower"]
    assert points[0]["score"] is None  # the warm-up is not scored
    recent = fleet.client.get(
        "/api/v1/projects/shop/models/churn/series/accuracy",
        params={"limit": 10},
        headers=fleet.read_shop,
    ).json()
    assert [p["timestamp"] for p in recent] == [p["timestamp"] for p in points[-10:]]
    r = fleet.client.get(
        "/api/v1/projects/shop/models/churn/series/latency", headers=fleet.read_shop
    )
    assert_error(r, 404, "no series 'latency'")


def test_incidents_of_a_project_and_actions_on_them(fleet: Api) -> None:
    page = fleet.client.get("/api/v1/projects/shop/incidents", headers=fleet.read_shop).json()
    assert page["total"] >= 1
    members = {m for i in page["items"] for m in i["members"]}
    assert "churn/accuracy" in members and not any(m.startswith("loans/") for m in members)
    severities = [i["severity"] for i in page["items"]]
    assert severities == sorted(severities, reverse=True)
    top = next(i for i in page["items"] if "churn/accuracy" in i["members"])
    path = f"/api/v1/projects/shop/incidents/{top['id']}"
    r = fleet.client.post(
        f"{path}/actions",
        json={"action": "acknowledge", "comment": "looking into it"},
        headers=fleet.read_shop,
    )
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["status"] == "acknowledged"
    assert [a["action"] for a in after["actions"]] == ["acknowledge"]
    assert after["actions"][0]["note"] == "looking into it (r-shop)"
    assert fleet.client.get(path, headers=fleet.read_shop).json()["status"] == "acknowledged"
    still_open = fleet.client.get(
        "/api/v1/projects/shop/incidents", params={"status": "open"}, headers=fleet.read_shop
    ).json()
    assert top["id"] not in {i["id"] for i in still_open["items"]}
    r = fleet.client.post(f"{path}/actions", json={"action": "delete"}, headers=fleet.read_shop)
    assert_error(r, 422, "action")
    r = fleet.client.post(f"{path}/actions", json={"action": "resolve"}, headers=fleet.ingest_shop)
    assert_error(r, 403, "'read'")
    bank_reader = bearer(issue_token(fleet.store, "r-bank", ["read"], ["bank"]).token)
    r = fleet.client.get(f"/api/v1/projects/bank/incidents/{top['id']}", headers=bank_reader)
    assert_error(r, 404, "no incident")
    bank = fleet.client.get("/api/v1/projects/bank/incidents", headers=bank_reader).json()
    assert bank["total"] >= 1
    assert all(m.startswith("loans/") for i in bank["items"] for m in i["members"])


def test_audit_reports_attach_to_a_model_version(fleet: Api) -> None:
    report = {"gates": [{"name": "four_fifths", "passed": True}], "n_rows": 1000}
    r = fleet.client.post(
        "/api/v1/projects/shop/models/churn/reports",
        json={"version": "3", "title": "Pre-launch audit", "report": report},
        headers=fleet.ingest_shop,
    )
    assert r.status_code == 201, r.text
    report_id = r.json()["report_id"]
    listed = fleet.client.get("/api/v1/projects/shop/models/churn", headers=fleet.read_shop)
    assert [x["report_id"] for x in listed.json()["reports"]] == [report_id]
    assert listed.json()["reports"][0]["has_html"] is False
    got = fleet.client.get(
        f"/api/v1/projects/shop/models/churn/reports/{report_id}", headers=fleet.read_shop
    ).json()
    assert (got["version"], got["title"], got["report"]) == ("3", "Pre-launch audit", report)
    r = fleet.client.get(
        f"/api/v1/projects/shop/models/fraud/reports/{report_id}", headers=fleet.read_shop
    )
    assert_error(r, 404, "no report")
    r = fleet.client.post(
        "/api/v1/projects/shop/models/churn/reports", json={"report": {}}, headers=fleet.read_shop
    )
    assert_error(r, 403, "'ingest'")

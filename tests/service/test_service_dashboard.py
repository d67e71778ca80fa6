"""The dashboard through the ASGI client: login, overview, incident, actions, model."""

from __future__ import annotations

import re

import pytest
from _service_api import Api, assert_error, load_monitored_fleet

from seawall.service import issue_token


@pytest.fixture
def fleet(api: Api) -> Api:
    load_monitored_fleet(api.store)
    return api


def _login(api: Api, token: str, next_url: str = "/") -> object:
    return api.client.post(
        "/login",
        content=f"token={token}&next={next_url}",
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def test_pages_need_a_login_with_a_read_token(fleet: Api) -> None:
    r = fleet.client.get("/p/shop", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fp%2Fshop"
    assert "API token" in fleet.client.get("/login").text
    r = _login(fleet, "sw_wrong")
    assert r.status_code == 303 and "error=invalid" in r.headers["location"]
    assert "not valid" in fleet.client.get(r.headers["location"]).text
    r = _login(fleet, _token(fleet.ingest_shop))
    assert "error=scope" in r.headers["location"]
    r = _login(fleet, _token(fleet.read_shop), "/p/shop")
    assert r.status_code == 303 and r.headers["location"] == "/p/shop"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    # An off-site next is not followed.
    for off_site in ("//evil.example/x", "/%5Cevil.example", "https://evil.example/"):
        assert _login(fleet, _token(fleet.read_shop), off_site).headers["location"] == "/"
    home = fleet.client.get("/", follow_redirects=False)
    assert home.headers["location"] == "/p/shop"
    # The session cookie opens pages, never the API: that needs the bearer header.
    assert_error(fleet.client.get("/api/v1/projects/shop/models"), 401)
    r = fleet.client.post("/logout", follow_redirects=False)
    assert r.status_code == 303
    fleet.client.cookies.clear()
    assert fleet.client.get("/p/shop", follow_redirects=False).status_code == 303


def test_overview_shows_health_incidents_and_counts(fleet: Api) -> None:
    _login(fleet, _token(fleet.read_shop))
    r = fleet.client.get("/p/shop")
    assert r.status_code == 200, r.text
    page = r.text
    assert 'id="health"' in page and "Plotly.newPlot" in page
    assert '<script src="/static/plotly.min.js">' in page
    models = re.findall(r'href="/p/shop/models/([^"]+)"', page)
    assert models[0] == "churn" and sorted(set(models)) == ["churn", "fraud", "upsell"]
    assert re.search(r'href="/p/shop/incidents/[\w-]+"', page)
    assert "By team" in page and "By region" in page
    assert "loans" not in page  # another project's model
    filtered = fleet.client.get("/p/shop", params={"label": "team:risk"}).text
    assert re.findall(r'href="/p/shop/models/([^"]+)"', filtered) == ["fraud"]
    assert_error(fleet.client.get("/p/bank"), 404, "no project 'bank'")
    js = fleet.client.get("/static/plotly.min.js")
    assert js.status_code == 200 and "plotly" in js.text[:2000].lower()


def test_an_incident_is_acknowledged_from_its_page(fleet: Api) -> None:
    _login(fleet, _token(fleet.read_shop))
    page = fleet.client.get("/p/shop").text
    path = re.search(r'href="(/p/shop/incidents/[\w-]+)"', page).group(1)  # type: ignore[union-attr]
    incident = fleet.client.get(path).text
    assert 'id="status">open' in incident and 'id="member-0"' in incident
    r = fleet.client.post(
        f"{path}/actions",
        content="action=acknowledge&comment=on+it",
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "origin": "http://testserver",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == path
    after = fleet.client.get(path).text
    assert 'id="status">acknowledged' in after and "on it (r-shop)" in after
    r = fleet.client.post(
        f"{path}/actions",
        content="action=resolve",
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "origin": "https://evil.example",
        },
    )
    assert_error(r, 403, "posted from the dashboard")
    r = fleet.client.post(
        f"{path}/actions",
        content="action=delete",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_error(r, 422, "'delete'")


def test_model_page_groups_metrics_and_lists_reports(fleet: Api) -> None:
    token = issue_token(fleet.store, "i", ["ingest"], ["shop"]).token
    fleet.client.post(
        "/api/v1/projects/shop/models/churn/reports",
        json={
            "title": "Pre-launch audit",
            "report": {"passed": True},
            "html": "<!DOCTYPE html><h1>Audit of churn</h1><script>document.title='x'</script>",
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    _login(fleet, _token(fleet.read_shop))
    page = fleet.client.get("/p/shop/models/churn").text
    assert "<h2>Performance</h2>" in page and "<h2>Outputs and volume</h2>" in page
    assert page.count('id="series-') == 2
    link = re.search(r'href="(/p/shop/models/churn/reports/[0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
    view = fleet.client.get(link).text
    assert "&#34;passed&#34;: true" in view and 'id="report-page"' in view
    page = fleet.client.get(f"{link}/page")
    assert page.status_code == 200 and "<h1>Audit of churn</h1>" in page.text
    assert page.headers["content-security-policy"] == "sandbox allow-scripts"
    assert_error(fleet.client.get(f"{link.replace('churn', 'fraud')}/page"), 404)
    assert_error(fleet.client.get("/p/shop/models/loans"), 404, "no model 'loans'")

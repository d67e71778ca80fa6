"""Tokens, scopes and projects: who may read and write what."""

from __future__ import annotations

import hashlib

from _service_api import Api, assert_error, bearer, prediction_rows

from seawall.service import authenticate, issue_token, revoke_token


def _register(api: Api, project: str, headers: dict[str, str], model: str = "churn") -> None:
    r = api.client.post(
        f"/api/v1/projects/{project}/models", json={"models": [{"model": model}]}, headers=headers
    )
    assert r.status_code == 200, r.text


def test_no_token_gets_401_with_a_bearer_challenge(api: Api) -> None:
    r = api.client.get("/api/v1/projects")
    assert_error(r, 401, "needs an API token")
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_wrong_malformed_and_revoked_tokens_get_401(api: Api) -> None:
    issued = issue_token(api.store, "soon revoked", ["read"], ["shop"])
    good = issued.token
    wrong_secret = good[: good.rindex("_") + 1] + "x" * 43
    unknown_id = "sw_" + "0" * 16 + good[good.rindex("_") :]
    for token in (wrong_secret, unknown_id, "not-a-token", "sw_", good + "x"):
        assert_error(api.client.get("/api/v1/projects", headers=bearer(token)), 401, "not valid")
    assert api.client.get("/api/v1/projects", headers=bearer(good)).status_code == 200
    assert revoke_token(api.store, issued.principal.token_id)
    assert_error(api.client.get("/api/v1/projects", headers=bearer(good)), 401, "revoked")
    assert not revoke_token(api.store, issued.principal.token_id)


def test_only_the_digest_of_a_secret_is_stored(api: Api) -> None:
    issued = issue_token(api.store, "x", ["read"], ["shop"])
    token_id, secret = issued.token.removeprefix("sw_").split("_", 1)
    cur = api.store.cursor()
    rows = cur.execute("SELECT * FROM service_tokens").fetchall()
    cur.close()
    assert not any(secret in str(v) for row in rows for v in row)
    stored = {r[0]: r[1] for r in rows}
    assert stored[token_id] == hashlib.sha256(secret.encode()).hexdigest()
    listed = api.client.get("/api/v1/tokens", headers=api.admin).json()
    assert {t["token_id"] for t in listed} >= {token_id}
    assert all("token" not in t and "secret_sha256" not in t for t in listed)


def test_a_read_token_cannot_ingest(api: Api) -> None:
    _register(api, "shop", api.ingest_shop)
    r = api.client.post(
        "/api/v1/projects/shop/predictions",
        json={"rows": prediction_rows(2)},
        headers=api.read_shop,
    )
    assert_error(r, 403, "needs 'ingest'", "['read']")
    assert api.store.table_sizes()["predictions"] == 0


def test_an_ingest_token_cannot_read_or_administer(api: Api) -> None:
    assert_error(api.client.get("/api/v1/projects", headers=api.ingest_shop), 403, "'read'")
    r = api.client.post("/api/v1/projects", json={"project": "x"}, headers=api.ingest_shop)
    assert_error(r, 403, "'admin'")
    r = api.client.post(
        "/api/v1/tokens",
        json={"name": "mine", "scopes": ["admin"], "projects": ["*"]},
        headers=api.ingest_shop,
    )
    assert_error(r, 403, "'admin'")


def test_a_token_of_one_project_can_neither_write_nor_read_another(api: Api) -> None:
    _register(api, "bank", api.ingest_bank, model="loans")
    for path in ("models", "predictions", "labels", "metrics"):
        r = api.client.post(
            f"/api/v1/projects/bank/{path}", json={"rows": []}, headers=api.ingest_shop
        )
        assert_error(r, 404, "no project 'bank'")
    # The same answer for a project that does not exist: nothing leaks.
    r = api.client.post("/api/v1/projects/nope/predictions", json={}, headers=api.ingest_shop)
    assert_error(r, 404, "no project 'nope'")
    listed = api.client.get("/api/v1/projects", headers=api.read_shop).json()
    assert [p["project"] for p in listed] == ["shop"]
    assert api.store.table_sizes()["predictions"] == 0


def test_a_model_of_another_project_is_refused(api: Api) -> None:
    _register(api, "bank", api.ingest_bank, model="loans")
    r = api.client.post(
        "/api/v1/projects/shop/predictions",
        json={"rows": prediction_rows(3, model="loans")},
        headers=api.ingest_shop,
    )
    assert_error(r, 422, "rows[0].model", "not a model of the project 'shop'")
    r = api.client.post(
        "/api/v1/projects/shop/models",
        json={"models": [{"model": "loans"}]},
        headers=api.ingest_shop,
    )
    assert_error(r, 409, "models[0].model", "taken")
    assert api.store.models()["project"].to_pylist() == ["bank"]


def test_admin_issues_tokens_for_existing_projects_only(api: Api) -> None:
    r = api.client.post(
        "/api/v1/tokens",
        json={"name": "ci", "scopes": ["ingest", "read"], "projects": ["shop"]},
        headers=api.admin,
    )
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    who = authenticate(api.store, token)
    assert who is not None and who.sees("shop") and not who.sees("bank")
    assert who.can("read") and who.can("ingest") and not who.can("admin")
    r = api.client.post(
        "/api/v1/tokens",
        json={"name": "ci", "scopes": ["read"], "projects": ["ghost"]},
        headers=api.admin,
    )
    assert_error(r, 422, "no project 'ghost'")
    r = api.client.post(
        "/api/v1/tokens",
        json={"name": "ci", "scopes": ["root"], "projects": ["shop"]},
        headers=api.admin,
    )
    assert_error(r, 422, "'root' is not a scope")
    assert_error(api.client.delete("/api/v1/tokens/feedbeef", headers=api.admin), 404)


def test_admin_creates_projects_once(api: Api) -> None:
    r = api.client.post("/api/v1/projects", json={"project": "ads"}, headers=api.admin)
    assert r.status_code == 201 and r.json()["n_models"] == 0
    r = api.client.post("/api/v1/projects", json={"project": "ads"}, headers=api.admin)
    assert_error(r, 409, "exists")
    r = api.client.post("/api/v1/projects", json={"project": "../etc"}, headers=api.admin)
    assert_error(r, 422, "project")
    names = [p["project"] for p in api.client.get("/api/v1/projects", headers=api.admin).json()]
    assert names == ["ads", "bank", "default", "shop"]


def test_admin_revokes_a_token_through_the_api(api: Api) -> None:
    issued = issue_token(api.store, "leaving", ["read"], ["shop"])
    r = api.client.delete(f"/api/v1/tokens/{issued.principal.token_id}", headers=api.admin)
    assert r.status_code == 204
    assert_error(api.client.get("/api/v1/projects", headers=bearer(issued.token)), 401)
    listed = {t["token_id"]: t for t in api.client.get("/api/v1/tokens", headers=api.admin).json()}
    assert listed[issued.principal.token_id]["revoked_at"] is not None
    r = api.client.delete(f"/api/v1/tokens/{issued.principal.token_id}", headers=api.admin)
    assert_error(r, 404, "no active token")

"""The monitoring loop: closed windows only, incidents, one signed alert each, retried."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import numpy as np
import pandas as pd
from _service_api import Api, assert_error

from seawall.service import ServiceSettings
from seawall.service._alerts import verify_signature
from seawall.service._monitor_loop import MonitorLoop
from seawall.service._prometheus import ServiceMetrics

START = dt.datetime(2024, 5, 1)


def _logs(model: str, hours: int, broken_from: int | None, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for h in range(hours):
        n = 60
        score = rng.beta(2, 5, n)
        if broken_from is not None and h >= broken_from:
            score = rng.beta(8, 2, n)  # the model's scores jump: a broken input
        frames.append(
            pd.DataFrame(
                {
                    "model": model,
                    "request_id": [f"{model}-{h}-{i}" for i in range(n)],
                    "time": [
                        START + dt.timedelta(hours=h, seconds=int(s))
                        for s in rng.uniform(0, 3599, n)
                    ],
                    "prediction": (score > 0.5).astype(int),
                    "score": score,
                    "tenure": rng.normal(20, 5, n),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


class Receiver:
    """A webhook receiver: fails the first ``fail`` posts, then answers 200."""

    def __init__(self, fail: int) -> None:
        self.fail = fail
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(500 if len(self.requests) <= self.fail else 200)


def test_cycle_windows_incidents_and_one_signed_alert_per_incident(api: Api) -> None:
    client, admin = api.client, api.admin
    client.post(
        "/api/v1/projects/shop/models",
        json={"models": [{"model": "churn"}, {"model": "fraud"}]},
        headers=api.ingest_shop,
    )
    for model, broken, seed in (("churn", 44, 1), ("fraud", None, 2)):
        api.store.ingest_predictions(_logs(model, 50, broken, seed))
    hook = client.post(
        "/api/v1/projects/shop/webhooks",
        json={"url": "https://alerts.example/hook", "min_severity": 0},
        headers=admin,
    )
    assert hook.status_code == 201, hook.text
    secret = hook.json()["secret"]
    receiver = Receiver(fail=1)
    metrics = ServiceMetrics.create()
    loop = MonitorLoop(
        api.store,
        ServiceSettings(schedule_seconds=0),
        metrics,
        http=httpx.Client(transport=httpx.MockTransport(receiver)),
    )
    now = START + dt.timedelta(hours=48, minutes=30)
    cycles = {c.project: c for c in loop.cycle(now)}
    shop = cycles["shop"]
    assert shop.outcome == "ran" and shop.n_models == 2 and shop.n_incidents >= 1
    assert shop.n_alerts >= 1
    assert set(cycles) == {"shop"}  # projects without models are not cycled
    # Windows close on time: the last one computed ended at 48:00; 48:00-49:00 still fills.
    volume = api.store.read_metric_points(model="churn", metric="volume").to_pandas()
    assert volume["window_start"].max() == START + dt.timedelta(hours=47)
    assert (volume["value"] == 60).all()
    # Nothing changed: the next cycle does no work.
    assert {c.project: c.outcome for c in loop.cycle(now)}["shop"] == "unchanged"
    incidents = client.get("/api/v1/projects/shop/incidents", headers=api.read_shop).json()
    assert any(m.startswith("churn/") for i in incidents["items"] for m in i["members"])

    first = loop.deliver(now)
    assert (first.delivered, first.failed) == (shop.n_alerts - 1, 1)  # the first post failed
    assert loop.deliver(now + dt.timedelta(seconds=10)).delivered == 0  # not due yet
    retry = loop.deliver(now + dt.timedelta(seconds=31))
    assert (retry.delivered, retry.failed) == (1, 0)
    posted = {}
    for request in receiver.requests:
        body = request.content
        assert verify_signature(
            secret,
            request.headers["x-seawall-timestamp"],
            body,
            request.headers["x-seawall-signature"],
        )
        payload = json.loads(body)
        assert payload["event"] == "incident.opened" and payload["project"] == "shop"
        posted.setdefault(payload["incident"]["id"], 0)
        posted[payload["incident"]["id"]] += 1
    assert len(posted) == shop.n_alerts
    assert sorted(posted.values())[-1] == 2  # the failed one, twice; each other once

    # More data and another cycle: incidents already announced are not sent again.
    api.store.ingest_predictions(_logs("fraud", 52, None, 3).iloc[-120:])
    later = now + dt.timedelta(hours=2)
    again = {c.project: c for c in loop.cycle(later)}["shop"]
    assert again.outcome == "ran"
    loop.deliver(later)
    ids = [json.loads(r.content)["incident"]["id"] for r in receiver.requests]
    assert len(ids) - len(set(ids)) == 1  # only the retry repeats an incident
    loop.stop()
    # A restart finds every closed window computed and scored: it redoes nothing.
    restarted = MonitorLoop(api.store, ServiceSettings(schedule_seconds=0), metrics)
    assert {c.project: c.outcome for c in restarted.cycle(later)}["shop"] == "unchanged"
    api.store.ingest_predictions(_logs("fraud", 53, None, 4).iloc[-60:])  # hour 52
    after = later + dt.timedelta(hours=3)
    assert {c.project: c.outcome for c in restarted.cycle(after)}["shop"] == "ran"
    restarted.stop()


def test_run_endpoint_is_for_admins_and_webhooks_are_per_project(api: Api) -> None:
    assert_error(api.client.post("/api/v1/monitor/run", headers=api.read_shop), 403, "'admin'")
    r = api.client.post("/api/v1/monitor/run", headers=api.admin)
    assert r.status_code == 200, r.text
    assert {c["project"] for c in r.json()["cycles"]} == set()  # no models yet
    r = api.client.post(
        "/api/v1/projects/shop/webhooks", json={"url": "ftp://x"}, headers=api.admin
    )
    assert_error(r, 422, "url")
    r = api.client.post(
        "/api/v1/projects/shop/webhooks", json={"url": "http://127.0.0.1:9/x"}, headers=api.admin
    )
    hook_id = r.json()["webhook_id"]
    listed = api.client.get("/api/v1/projects/shop/webhooks", headers=api.admin).json()
    assert [h["webhook_id"] for h in listed] == [hook_id] and "secret" not in listed[0]
    assert api.client.get("/api/v1/projects/bank/webhooks", headers=api.admin).json() == []
    assert (
        api.client.delete(
            f"/api/v1/projects/bank/webhooks/{hook_id}", headers=api.admin
        ).status_code
        == 404
    )
    assert (
        api.client.delete(
            f"/api/v1/projects/shop/webhooks/{hook_id}", headers=api.admin
        ).status_code
        == 204
    )
    assert api.client.get("/api/v1/projects/shop/webhooks", headers=api.admin).json() == []


def test_one_projects_failure_does_not_stop_the_others(api: Api, monkeypatch: object) -> None:
    import seawall.service._monitor_loop as loop_module
    from seawall.exceptions import DataValidationError

    for project, model in (("shop", "churn"), ("bank", "loans")):
        api.client.post(
            f"/api/v1/projects/{project}/models",
            json={"models": [{"model": model}]},
            headers=api.admin,
        )
        api.store.ingest_predictions(_logs(model, 40, None, 5))
    real = loop_module.compute_windows

    def broken(store: object, **kwargs: object) -> object:
        if "loans" in kwargs["models"]:  # type: ignore[operator]
            raise DataValidationError("the logs of 'loans' are broken")
        return real(store, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loop_module, "compute_windows", broken)  # type: ignore[attr-defined]
    loop = MonitorLoop(api.store, ServiceSettings(schedule_seconds=0), ServiceMetrics.create())
    outcomes = {c.project: c.outcome for c in loop.cycle(START + dt.timedelta(hours=40))}
    assert outcomes["bank"] == "failed: the logs of 'loans' are broken"
    assert outcomes["shop"] == "ran"
    loop.stop()

"""Helpers of the service tests: the running app and rows to send it."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient

from seawall.storage import Store


@dataclass(frozen=True)
class Api:
    """A running app: its client, its store and headers for each kind of token."""

    client: TestClient
    store: Store
    admin: dict[str, str]
    ingest_shop: dict[str, str]
    read_shop: dict[str, str]
    ingest_bank: dict[str, str]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def prediction_rows(n: int, model: str = "churn", start: int = 0) -> list[dict[str, object]]:
    return [
        {
            "model": model,
            "request_id": f"r{i}",
            "time": f"2024-05-01T{9 + i % 10:02d}:00:00Z",
            "prediction": i % 2,
            "score": 0.1 + 0.8 * (i % 2),
            "features": {"age": 20 + i},
            "sensitive": {"sex": "F" if i % 3 else "M"},
        }
        for i in range(start, start + n)
    ]


def assert_error(response: object, status: int, *words: str) -> dict[str, object]:
    """Check the one JSON error shape, the status and words of the message."""
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"status", "code", "message", "details"}, error
    assert error["status"] == status
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["details"], list)
    for word in words:
        assert word in error["message"], (word, error["message"])
    return error  # type: ignore[no-any-return]


def load_monitored_fleet(store: Store) -> None:
    """Two projects' models with hourly metric points, detection run, health summarised.

    In ``shop``: ``churn`` (team growth, region eu) has an accuracy drop at hour 190,
    ``fraud`` (team risk) and ``upsell`` (team growth) are calm. In ``bank``: ``loans``
    has a volume drop at the same hour.
    """
    import numpy as np
    import pandas as pd

    from seawall.service._health import refresh_health
    from seawall.storage import detect_incidents

    with store.transaction() as cur:
        cur.execute(
            "INSERT INTO service_projects VALUES ('shop', '', now()), ('bank', '', now()) "
            "ON CONFLICT DO NOTHING"
        )
    store.register_models(
        pd.DataFrame(
            {
                "model": ["churn", "fraud", "upsell", "loans"],
                "project": ["shop", "shop", "shop", "bank"],
                "team": ["growth", "risk", "growth", "credit"],
                "region": ["eu", "us", "eu", "eu"],
            }
        )
    )
    rng = np.random.default_rng(3)
    n = 200
    times = pd.date_range("2024-05-01", periods=n, freq="h")
    frames = []
    for model in ("churn", "fraud", "upsell", "loans"):
        for metric, level in (("accuracy", 0.9), ("volume", 100.0)):
            value = level + rng.normal(0, level * 0.01, n)
            if (model, metric) in {("churn", "accuracy"), ("loans", "volume")}:
                value[190] -= level * 0.2
            frames.append(
                pd.DataFrame(
                    {
                        "model": model,
                        "metric": metric,
                        "window_start": times,
                        "value": value,
                        "lower": value - 0.01,
                        "upper": value + 0.01,
                    }
                )
            )
    store.write_metric_points(pd.concat(frames))
    detect_incidents(store, models=["churn", "fraud", "upsell"])
    detect_incidents(store, models=["loans"])
    refresh_health(store)

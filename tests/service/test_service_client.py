"""seawall.Client and seawall ingest: batches, retries, refused batches reported."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pandas as pd
import pytest
from _server import start_server
from _service_api import Api
from click.testing import CliRunner

import seawall
from seawall.cli import cli
from seawall.client import Client, ServiceError
from seawall.service import issue_token


def _logs(n: int, model: str = "churn") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": [model] * n,
            "request_id": [f"q{i}" for i in range(n)],
            "time": pd.date_range("2024-05-01", periods=n, freq="min"),
            "prediction": [i % 2 for i in range(n)],
            "score": [0.25 + 0.5 * (i % 2) for i in range(n)],
            "plan": ["pro" if i % 3 else "free" for i in range(n)],
            "sex": ["F" if i % 2 else "M" for i in range(n)],
        }
    )


def test_batches_are_summed_and_a_refused_batch_is_reported(api: Api) -> None:
    token = issue_token(api.store, "c", ["ingest"], ["shop"]).token
    logs = _logs(7)
    logs.loc[4, "model"] = "ghost"  # not a model of the project: its batch is refused
    with seawall.Client("http://t", token, project="shop", batch_rows=3, client=api.client) as c:
        assert c.register_models([{"model": "churn", "labels": {"team": "a"}}]).inserted == 1
        report = c.log_predictions(logs, sensitive=["sex"])
        again = c.log_predictions(logs.drop(index=4), sensitive=["sex"])
    assert (report.rows_sent, report.inserted, report.rows_rejected) == (7, 4, 3)
    assert not report.ok
    (refused,) = report.rejected
    assert (refused.start, refused.stop, refused.status) == (3, 6, 422)
    assert "rows[1].model" not in refused.message and "'ghost'" in refused.message
    assert (again.inserted, again.duplicates, again.ok) == (2, 4, True)
    stored = api.store.read_predictions("churn").to_pandas()
    assert sorted(stored["request_id"]) == [f"q{i}" for i in range(7) if i != 4]


def test_labels_and_metrics_go_as_arrow_batches(api: Api) -> None:
    token = issue_token(api.store, "c", ["ingest"], ["shop"]).token
    with Client("http://t", token, project="shop", batch_rows=2, client=api.client) as c:
        c.register_models([{"model": "churn"}])
        c.log_predictions(_logs(5))
        labels = c.send_labels(
            pd.DataFrame(
                {"model": ["churn"] * 3, "request_id": ["q0", "q1", "q9"], "label": [1, 0, 1]}
            )
        )
        points = c.push_metrics(
            pd.DataFrame(
                {
                    "model": ["churn"] * 3,
                    "metric": ["revenue"] * 3,
                    "timestamp": pd.date_range("2024-05-01", periods=3, freq="h"),
                    "value": [1.0, 2.0, 3.5],
                }
            )
        )
    assert (labels.inserted, points.inserted) == (3, 3)
    assert api.store.read_metric_points().to_pandas()["value"].tolist() == [1.0, 2.0, 3.5]


def test_retries_with_backoff_then_success() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) <= 2:
            return httpx.Response(503, json={"error": {"message": "busy"}})
        return httpx.Response(200, json={"table": "predictions", "rows_read": 3, "inserted": 3})

    client = Client("http://t", "sw_x", transport=httpx.MockTransport(handler), backoff=0.1)
    pauses: list[float] = []
    client._sleep = pauses.append
    report = client.log_predictions(_logs(3))
    assert (report.inserted, report.retries, len(calls)) == (3, 2, 3)
    assert len(pauses) == 2 and 0.05 <= pauses[0] <= 0.15 and 0.1 <= pauses[1] <= 0.3


def test_unreachable_and_refused_tokens_raise() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = Client("http://t", "sw_x", transport=httpx.MockTransport(down), retries=2)
    client._sleep = lambda _: None
    with pytest.raises(ServiceError, match="after 3 attempts"):
        client.log_predictions(_logs(2))
    unauthorized = httpx.MockTransport(
        lambda r: httpx.Response(401, json={"error": {"message": "the API token is not valid"}})
    )
    with pytest.raises(ServiceError, match="401: the API token is not valid"):
        Client("http://t", "sw_x", transport=unauthorized).log_predictions(_logs(2))
    with pytest.raises(ValueError, match="token"):
        Client("http://t", "", transport=unauthorized)


@pytest.mark.service
def test_ingest_command_against_a_running_server(tmp_path: Path) -> None:
    server = start_server(tmp_path / "s.duckdb", tmp_path / "log.txt")
    try:
        token = server.admin_token
        assert token is not None
        models = tmp_path / "models.csv"
        pd.DataFrame({"model": ["churn"], "version": ["2"], "team": ["growth"]}).to_csv(
            models, index=False
        )
        logs = tmp_path / "logs.parquet"
        _logs(12).to_parquet(logs)
        bad = tmp_path / "bad.csv"
        frame = _logs(4)
        frame.loc[2, "model"] = "ghost"
        frame.to_csv(bad, index=False)
        runner = CliRunner()
        common = ["--url", server.url, "--token", token]
        r = runner.invoke(cli, ["ingest", str(models), "--kind", "models", *common])
        assert r.exit_code == 0, r.output
        r = runner.invoke(
            cli, ["ingest", str(logs), "--sensitive", "sex", "--batch-rows", "5", *common]
        )
        assert r.exit_code == 0, r.output
        assert "12 rows sent, 12 stored" in r.output
        r = runner.invoke(cli, ["ingest", str(bad), "--batch-rows", "2", *common])
        assert r.exit_code == 2
        assert "refused rows 2-3 (422)" in r.output and "'ghost'" in r.output
        assert "1 batch(es) were refused" in r.output
        r = runner.invoke(cli, ["ingest", str(logs), "--url", server.url, "--token", "sw_nope"])
        assert r.exit_code == 2 and "401" in r.output and "Traceback" not in r.output
        projects = httpx.get(
            f"{server.url}/api/v1/projects", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert json.dumps(projects)
        assert {p["project"]: p["n_models"] for p in projects} == {"default": 1}
    finally:
        server.stop()

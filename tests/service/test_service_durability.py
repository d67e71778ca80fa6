"""A 2xx means the rows survive a crash: SIGKILL mid-stream, restart, count."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import httpx
import pytest
from _server import start_server
from _service_api import prediction_rows

pytestmark = pytest.mark.service


def test_every_acknowledged_row_survives_sigkill_and_none_is_stored_twice(
    tmp_path: Path,
) -> None:
    store, log = tmp_path / "fleet.duckdb", tmp_path / "server.log"
    server = start_server(store, log)
    assert server.admin_token is not None
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    acked: list[int] = []
    sent: list[int] = []
    stop = threading.Event()
    try:
        with httpx.Client(base_url=server.url, headers=admin, timeout=30) as http:
            r = http.post("/api/v1/projects/default/models", json={"models": [{"model": "m"}]})
            assert r.status_code == 200, r.text

            def stream() -> None:
                batch = 0
                while not stop.is_set():
                    sent.append(batch)
                    try:
                        r = http.post(
                            "/api/v1/projects/default/predictions",
                            json={"rows": prediction_rows(200, model="m", start=batch * 200)},
                        )
                    except httpx.TransportError:
                        return
                    if r.status_code == 200:
                        acked.append(batch)
                    batch += 1

            sender = threading.Thread(target=stream)
            sender.start()
            while len(acked) < 25 and sender.is_alive():
                stop.wait(0.01)
            server.kill()
            stop.set()
            sender.join(timeout=60)
    finally:
        server.stop()
    assert len(acked) >= 25

    again = start_server(store, log)
    try:
        assert again.admin_token == server.admin_token  # no new token: the old one is kept
        with httpx.Client(base_url=again.url, headers=admin, timeout=30) as http:
            assert http.get("/api/v1/projects").status_code == 200
            # Resend everything that was sent: only rows of unacknowledged batches are new.
            counts = []
            for batch in sent:
                r = http.post(
                    "/api/v1/projects/default/predictions",
                    json={"rows": prediction_rows(200, model="m", start=batch * 200)},
                )
                assert r.status_code == 200, r.text
                counts.append(r.json())
    finally:
        again.stop()
    for batch, c in zip(sent, counts, strict=True):
        if batch in acked:
            assert c["duplicates"] == 200 and c["inserted"] == 0, (batch, c)
        else:
            assert c["inserted"] + c["duplicates"] == 200
            assert c["inserted"] in (0, 200), (batch, c)  # a batch is whole or absent

    con = duckdb.connect(str(store), read_only=True)
    try:
        n, distinct = con.execute(
            "SELECT count(*), count(DISTINCT request_id) FROM predictions"
        ).fetchone()  # type: ignore[misc]
    finally:
        con.close()
    assert n == distinct == 200 * len(sent)

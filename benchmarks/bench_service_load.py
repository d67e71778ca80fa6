"""Load test of the service's ingestion on loopback: sustained rows/s and latency percentiles.

Starts ``seawall serve`` on a fresh store (a real uvicorn process, the background
monitoring loop on), then runs several concurrent clients for a fixed time, each
posting batches of prediction logs with unique request ids. Every answer is
recorded; at the end the server is stopped and the store is opened to check that
every acknowledged row is there exactly once (nothing lost, nothing duplicated).

    .venv/bin/python benchmarks/bench_service_load.py --clients 8 --seconds 30 \\
        --json benchmarks/results/service_load.json

There is no peer here: the issue asks for the sustained rate and the latencies.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import seawall_source, versions  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(store: Path, log: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    port = _free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "seawall", "serve", "--store", str(store), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError(log.read_text())
    token = re.findall(r"\bsw_[0-9a-f]{16}_[A-Za-z0-9_-]+", log.read_text())[-1]
    return process, url, token


def _batch(
    client: int, seq: int, rows: int, rng: np.random.Generator, fmt: str
) -> tuple[str, bytes | dict[str, Any]]:
    ids = [f"c{client}-{seq}-{i}" for i in range(rows)]
    score = rng.random(rows)
    age = rng.integers(18, 90, rows)
    if fmt == "json":
        return "application/json", {
            "rows": [
                {
                    "model": f"m{client % 4}",
                    "request_id": r,
                    "time": "2024-05-01T09:00:00Z",
                    "prediction": int(s > 0.5),
                    "score": float(s),
                    "features": {"age": int(a)},
                }
                for r, s, a in zip(ids, score, age, strict=True)
            ]
        }
    table = pa.table(
        {
            "model": [f"m{client % 4}"] * rows,
            "request_id": ids,
            "time": pa.array(np.full(rows, 1714554000, dtype="datetime64[s]")),
            "prediction": (score > 0.5).astype(np.int64),
            "score": score,
            "age": age,
        }
    )
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return "application/vnd.apache.arrow.stream", sink.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--batch-rows", type=int, default=500)
    parser.add_argument("--format", choices=("json", "arrow"), default="json")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "load.duckdb"
        process, url, token = _start(store, Path(tmp) / "server.log")
        headers = {"Authorization": f"Bearer {token}"}
        try:
            httpx.post(
                f"{url}/api/v1/projects/default/models",
                json={"models": [{"model": f"m{k}"} for k in range(4)]},
                headers=headers,
            ).raise_for_status()
            latencies: list[list[float]] = [[] for _ in range(args.clients)]
            acked = [0] * args.clients
            errors: list[str] = []
            start = time.perf_counter()
            deadline = start + args.seconds

            def work(client: int) -> None:
                rng = np.random.default_rng([args.seed, client])
                with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
                    seq = 0
                    while time.perf_counter() < deadline:
                        ctype, body = _batch(client, seq, args.batch_rows, rng, args.format)
                        t = time.perf_counter()
                        if isinstance(body, dict):
                            r = http.post("/api/v1/projects/default/predictions", json=body)
                        else:
                            r = http.post(
                                "/api/v1/projects/default/predictions",
                                content=body,
                                headers={"Content-Type": ctype},
                            )
                        latencies[client].append(time.perf_counter() - t)
                        if r.status_code == 200 and r.json()["inserted"] == args.batch_rows:
                            acked[client] += args.batch_rows
                        else:
                            errors.append(f"{r.status_code}: {r.text[:200]}")
                        seq += 1

            threads = [threading.Thread(target=work, args=(c,)) for c in range(args.clients)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            elapsed = time.perf_counter() - start
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=120)
        con = duckdb.connect(str(store), read_only=True)
        stored, distinct = con.execute(
            "SELECT count(*), count(DISTINCT (model, request_id)) FROM predictions"
        ).fetchone()  # type: ignore[misc]
        con.close()

    lat = np.concatenate([np.asarray(x) for x in latencies]) * 1000
    total = sum(acked)
    result = {
        "config": vars(args) | {"json": str(args.json) if args.json else None},
        "seconds": elapsed,
        "requests": int(lat.size),
        "rows_acknowledged": total,
        "rows_per_s": total / elapsed,
        "requests_per_s": lat.size / elapsed,
        "latency_ms": {
            q: float(np.percentile(lat, p))
            for q, p in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))
        },
        "errors": len(errors),
        "first_errors": errors[:3],
        "rows_stored": int(stored),
        "rows_distinct": int(distinct),
        "lost": total - int(distinct),
        "duplicated": int(stored) - int(distinct),
        "load_average_end": os.getloadavg(),
        "seawall_source": seawall_source(),
        "versions": versions(["duckdb", "fastapi", "uvicorn", "httpx", "pyarrow"]),
    }
    print(
        f"{args.clients} clients x {args.seconds:.0f} s, batches of {args.batch_rows} rows "
        f"({args.format}): {result['requests']:,} requests, {total:,} rows acknowledged"
    )
    print(
        f"sustained {result['rows_per_s']:,.0f} rows/s "
        f"({result['requests_per_s']:.1f} requests/s); latency ms "
        + ", ".join(f"{k} {v:.1f}" for k, v in result["latency_ms"].items())
    )
    print(
        f"store after shutdown: {stored:,} rows, {distinct:,} distinct; lost {result['lost']}, "
        f"duplicated {result['duplicated']}, errors {len(errors)}"
    )
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, default=str))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

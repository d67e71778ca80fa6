"""Benchmark: windowed model metrics on a Dask LocalCluster, 1 then 2 workers, over Parquet logs.

The logs are written once by a seeded generator into ``--data-dir`` and reused
by later runs (``meta.json`` says what the folder holds): ``--models`` models,
``--days`` days, about ``--rows-per-hour`` predictions per model and hour
(Poisson), each with a score, its decision, a label for 70% of rows (the last
two days have none yet), four numeric features, a plan (text) and a group
(the sensitive attribute). From day ``days // 2`` the first tenth of the
models drift (``x0`` shifts by half a standard deviation). Files hold
``--hours-per-file`` hours of every model (default a day), cut at half past
the hour, so every file boundary cuts through one window of each model: those
windows' states are merged across two tasks.

For each worker count: ``seawall.distributed.window_metrics`` (hourly windows,
each model's first hour as the reference, ``group`` as the sensitive
attribute, points written back as Parquet by the workers): wall time from the
call to the sorted points (the LocalCluster is started before the clock),
rows per second, the peak resident memory of each worker process, sampled
every 0.2 s with ``client.run`` (psutil's RSS), and the client process's
resident memory before and its peak during the run (it holds the points, and
the LocalCluster's scheduler). With the most workers, the
same run on the first quarter and half of the files shows whether a worker's
memory grows with the data. The in-memory path
(``pandas.read_parquet`` then ``seawall.monitoring.window_metrics``, in a fresh
process) runs on the first ``--memory-days`` days, and the cluster on the same
files; their points must agree (the largest relative difference is printed).

Run (the first run writes the data, about a minute)::

    .venv/bin/python benchmarks/bench_distributed_windows.py \\
        --json benchmarks/results/distributed_windows.json
    .venv/bin/python benchmarks/bench_distributed_windows.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from _harness import reset_peak, seawall_source, status_kib, versions
from bench_distributed import timed
from seawall.distributed import connect, parquet_files
from seawall.distributed._windows import window_metrics

HOUR = 3_600_000_000_000
START = pd.Timestamp("2024-01-01")
OPTIONS: dict[str, Any] = {"every": "1h", "sensitive_cols": "group"}


def day_logs(day: int, n_models: int, per_hour: float, days: int, seed: int) -> pa.Table:
    """One day of every model's predictions, sorted by time (seeded by ``(seed, day)``)."""
    rng = np.random.default_rng([seed, day])
    counts = rng.poisson(per_hour, size=(n_models, 24))
    n = int(counts.sum())
    model = np.repeat(np.repeat(np.arange(n_models), 24), counts.ravel())
    hour = np.repeat(np.tile(np.arange(24), n_models), counts.ravel())
    ns = START.value + day * 24 * HOUR + hour * HOUR + rng.integers(0, HOUR, n)
    score = rng.beta(2.0, 3.0, n)
    label = (rng.random(n) < score).astype(np.float64)
    label[(rng.random(n) >= 0.7) | (day >= days - 2)] = np.nan
    x0 = rng.normal(0.0, 1.0, n)
    if day >= days // 2:
        x0 = x0 + 0.5 * (model < max(n_models // 10, 1))
    names = np.array([f"model-{i:04d}" for i in range(n_models)], dtype=object)
    order = np.argsort(ns, kind="stable")
    columns = {
        "time": pa.array(ns.astype("datetime64[ns]")),
        "model": pa.array(names[model], pa.string()),
        "request_id": pa.array(day * 10**9 + np.arange(n)),
        "score": score,
        "prediction": (score > 0.5).astype(np.int8),
        "label": label,
        "x0": x0,
        "x1": rng.gamma(2.0, 1.0, n),
        "x2": np.round(rng.normal(5.0, 2.0, n), 2),
        "x3": rng.integers(0, 20, n).astype(np.float64),
        "plan": pa.array(rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2]), pa.string()),
        "group": pa.array(rng.choice(["A", "B"], n, p=[0.4, 0.6]), pa.string()),
    }
    return pa.table(columns).take(pa.array(order))


def ensure_logs(
    folder: Path, n_models: int, days: int, per_hour: float, hours_per_file: int
) -> list[str]:
    """Write the logs (files of ``hours_per_file`` hours cut at :30) unless already there."""
    meta = folder / "meta.json"
    want = {
        "models": n_models,
        "days": days,
        "rows_per_hour": per_hour,
        "hours_per_file": hours_per_file,
        "seed": 0,
    }
    if not (meta.exists() and json.loads(meta.read_text()) == want):
        if folder.exists() and any(folder.iterdir()):
            sys.exit(f"{folder} holds other data; remove it or choose another --data-dir")
        (folder / "parts").mkdir(parents=True)
        t0 = time.perf_counter()
        carry: pa.Table | None = None
        index = 0
        for day in range(days):
            table = day_logs(day, n_models, per_hour, days, 0)
            if carry is not None:
                table = pa.concat_tables([carry, table])
            t = table.column("time").to_numpy().view(np.int64)
            offsets = np.arange(0, 24, hours_per_file) * HOUR + HOUR // 2
            cuts = START.value + day * 24 * HOUR + offsets
            bounds = np.searchsorted(t, cuts)
            for lo, hi in zip([0, *bounds[:-1]], bounds, strict=True):
                pq.write_table(table.slice(lo, hi - lo), folder / "parts" / f"{index:05d}.parquet")
                index += 1
            carry = table.slice(int(bounds[-1]))
        if carry is not None and carry.num_rows:
            pq.write_table(carry, folder / "parts" / f"{index:05d}.parquet")
        meta.write_text(json.dumps(want))
        print(f"wrote {days} days of {n_models} models in {time.perf_counter() - t0:.1f} s")
    return list(parquet_files(folder / "parts"))


def n_rows(files: list[str]) -> int:
    return sum(pq.read_metadata(f).num_rows for f in files)


def run(client: Any, files: list[str], out: Path | None) -> Any:
    if out is not None:
        shutil.rmtree(out, ignore_errors=True)
    return window_metrics(files, **OPTIONS, out=out, scheduler=client)


def in_memory(files: list[str]) -> tuple[Any, float, int]:
    """The single-machine path in a fresh process: read the files, then window_metrics."""
    code = """
import pickle, sys, time
import pandas as pd
from seawall.monitoring import window_metrics
files, options, out = pickle.load(open(sys.argv[1], "rb"))
t0 = time.perf_counter()
frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
res = window_metrics(frame, **options)
seconds = time.perf_counter() - t0
# VmHWM: this program's own peak (ru_maxrss would count the parent's memory at fork).
status = open("/proc/self/status").read().split("VmHWM:")[1]
peak = int(status.split()[0]) * 1024
pickle.dump((res, seconds, peak), open(out, "wb"))
"""
    with tempfile.TemporaryDirectory() as tmp:
        args, out = Path(tmp) / "args.pkl", Path(tmp) / "out.pkl"
        args.write_bytes(pickle.dumps((files, OPTIONS, str(out))))
        subprocess.run([sys.executable, "-c", code, str(args)], check=True)
        res, seconds, peak = pickle.loads(out.read_bytes())
    return res, seconds, peak


def largest_difference(a: Any, b: Any) -> float:
    """The largest relative difference of two MetricPoints (keys and n must be equal)."""
    for field in ("model", "metric", "qualifier", "window_start", "n"):
        if not np.array_equal(getattr(a, field), getattr(b, field)):
            raise AssertionError(f"the points' {field} differ")
    worst = 0.0
    for field in ("value", "lower", "upper", "q_value"):
        x, y = getattr(a, field), getattr(b, field)
        if not np.array_equal(np.isnan(x), np.isnan(y)):
            raise AssertionError(f"the points' {field} differ in where they are NaN")
        ok = ~np.isnan(x)
        rel = np.abs(x[ok] - y[ok]) / np.maximum(np.abs(y[ok]), 1e-12)
        worst = max(worst, float(rel.max(initial=0.0)))
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=Path("/tmp/seawall-bench-windows"))
    ap.add_argument("--models", type=int, default=200)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--rows-per-hour", type=float, default=200.0)
    ap.add_argument("--hours-per-file", type=int, choices=[1, 2, 3, 4, 6, 8, 12, 24], default=24)
    ap.add_argument("--memory-days", type=int, default=3)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--memory-limit", default="8GiB", help="per worker")
    ap.add_argument("--quick", action="store_true", help="20 models, 8 days, 50 rows an hour")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.quick:
        args.models, args.days, args.rows_per_hour, args.memory_days = 20, 8, 50.0, 2
        args.data_dir = args.data_dir.with_name(args.data_dir.name + "-quick")
    files = ensure_logs(
        args.data_dir / "logs", args.models, args.days, args.rows_per_hour, args.hours_per_file
    )
    rows = n_rows(files)
    print(f"{rows:,} rows in {len(files)} files; load average {os.getloadavg()[0]:.1f}")
    out: dict[str, Any] = {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "versions": versions(["numpy", "pandas", "pyarrow", "dask", "distributed"]),
        "seawall": seawall_source(),
        "rows": rows,
        "files": len(files),
        "load_average_before": os.getloadavg(),
        "cluster": {},
        "growth": [],
    }
    results: dict[int, Any] = {}
    # The first file holds the first half hour; then come whole days.
    subset = files[: 1 + args.memory_days * 24 // args.hours_per_file]
    for n in args.workers:
        with connect("local", n_workers=n, memory_limit=args.memory_limit) as client:
            target = args.data_dir / f"points-{n}"
            # The client process also runs the LocalCluster's scheduler.
            before = status_kib()["VmRSS"] / 1024
            reset_peak()
            res, sec, peaks = timed(client, lambda c=client, t=target: run(c, files, t))
            client_peak = status_kib()["VmHWM"] / 1024
            results[n] = res
            out["cluster"][n] = {
                "seconds": sec,
                "rows_per_second": rows / sec,
                "worker_peak_mib": [p / 2**20 for p in peaks],
                "client_rss_before_mib": before,
                "client_peak_mib": client_peak,
                "points": len(res),
                "load_average_after": os.getloadavg(),
            }
            print(
                f"window_metrics {rows:,} rows, {n} worker(s): {sec:.1f} s, "
                f"{rows / sec / 1e3:,.0f}k rows/s, worker peak {max(peaks) / 2**20:.0f} MiB, "
                f"client {before:.0f} -> peak {client_peak:.0f} MiB, {len(res):,} points; "
                f"load average {os.getloadavg()[0]:.1f}"
            )
            if n == max(args.workers):
                for share in (4, 2):
                    part = files[: max(len(files) // share, 1)]
                    _, s, pk = timed(client, lambda c=client, p=part: run(c, p, None))
                    out["growth"].append(
                        {"files": len(part), "seconds": s, "worker_peak_mib": max(pk) / 2**20}
                    )
                    print(
                        f"  {len(part)} of {len(files)} files: {s:.1f} s, worker peak "
                        f"{max(pk) / 2**20:.0f} MiB"
                    )
                out["growth"].append(
                    {"files": len(files), "seconds": sec, "worker_peak_mib": max(peaks) / 2**20}
                )
                sub, s_sub, _ = timed(client, lambda c=client: run(c, subset, None))
                out["subset_cluster_seconds"] = s_sub
    if len(results) > 1:
        first, last = min(results), max(results)
        out["same_across_workers"] = largest_difference(results[first], results[last])
        out["scaling"] = out["cluster"][first]["seconds"] / out["cluster"][last]["seconds"]
        print(f"scaling {first} -> {last} workers: {out['scaling']:.2f}x")
    res_m, sec_m, peak_m = in_memory(subset)
    sub_rows = n_rows(subset)
    worst = largest_difference(sub, res_m)
    out["in_memory_subset"] = {
        "files": len(subset),
        "rows": sub_rows,
        "seconds": sec_m,
        "rows_per_second": sub_rows / sec_m,
        "peak_mib": peak_m / 2**20,
        "cluster_seconds": out["subset_cluster_seconds"],
        "largest_relative_difference": worst,
    }
    print(
        f"in-memory path on {len(subset)} files ({sub_rows:,} rows, one process): {sec_m:.1f} s, "
        f"{sub_rows / sec_m / 1e3:,.0f}k rows/s, peak {peak_m / 2**20:.0f} MiB; the cluster "
        f"({max(args.workers)} workers) {out['subset_cluster_seconds']:.1f} s; largest relative "
        f"difference {worst:.2g}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()

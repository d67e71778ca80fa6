"""Benchmark: Seawall on a Dask LocalCluster, 1 then 2 workers, over partitioned Parquet.

Two workloads, each written once by ``seawall.datasets`` into ``--data-dir`` and
reused by later runs (the writers are seeded; the folder's ``meta.json`` says what
it holds):

1. **audit**: ``seawall.distributed.group_metrics`` over ``--audit-rows`` decision
   rows (label, prediction, score, sex, race, ...; ``write_audit_parquet``, files of
   ``--rows-per-file``), sensitive features sex, race and their intersection:
   once from the count tables alone, once with the score metrics (AUC, Brier,
   ECE with 1,000 bootstrap replicates: three more passes, one a distributed
   sort of the scores). The
   same rows are also audited in one process (``pandas.read_parquet`` of the needed
   columns, then ``seawall.metrics.group_metrics``), which is the single-machine
   path; every number of the two results must agree (checked here, and printed).
   To show that memory per worker does not grow with the data, the audit also runs
   on the first quarter and half of the files with the largest worker count.
2. **detection**: ``seawall.distributed.detect_fleet`` over ``--fleet-series``
   hourly series of ``--steps`` steps (``write_fleet_parquet``, ``--series-per-file``
   series per file), label columns model, metric and source; each worker writes its
   blocks' scores back as Parquet. The single-machine path does not fit this size
   in one pandas frame (the long table alone is ``series x steps`` rows with a
   string key), so it is not run; tests check equality on small fleets. The
   warm-up is 48 steps (two days), so each series' daily season can be learned.
3. **streaming** (with the largest worker count): ``fit_stream`` writes each
   block's state to Parquet, then three ticks of ``tick_stream`` score and learn
   one new step of every series (one task per block), timed one by one.

For each workload and worker count: wall time from the call to the result (the
LocalCluster is started before the clock and closed after), throughput, and the
peak resident memory of each worker process, sampled every 0.2 s with
``client.run`` (psutil's RSS). The client process (which also hosts the
scheduler of a LocalCluster) reports its own peak (``VmHWM``). Scaling is
``time(1 worker) / time(2 workers)``; on this machine's 2 cores the ideal is 2.

Run (the first run writes the data: ~2 minutes for 100M rows)::

    .venv/bin/python benchmarks/bench_distributed.py --json benchmarks/results/distributed.json
    .venv/bin/python benchmarks/bench_distributed.py --quick
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from _harness import seawall_source, status_kib, versions
from seawall.datasets import write_audit_parquet, write_fleet_parquet
from seawall.distributed import (
    connect,
    detect_fleet,
    fit_stream,
    group_metrics,
    parquet_files,
    tick_stream,
)

SENSITIVE = ["sex", "race"]
#: Learning steps of the fleet's hourly series: two days, so a daily season can be
#: found (a period is searched up to half the warm-up; the default for 168 steps
#: would be 32, too short for a day).
WARMUP = 48
#: Bootstrap replicates of the score metrics (the count metrics have closed-form intervals).
N_BOOTSTRAP = 1000


def _rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


@contextmanager
def worker_peaks(client: Any, every: float = 0.2) -> Iterator[dict[str, int]]:
    """Sample each worker's resident memory while the block runs; yields {worker: peak bytes}."""
    peaks: dict[str, int] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                for worker, rss in client.run(_rss).items():
                    peaks[worker] = max(peaks.get(worker, 0), int(rss))
            except Exception:  # a worker restarting between samples
                pass
            stop.wait(every)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        stop.set()
        thread.join()


def timed(client: Any, run: Callable[[], Any]) -> tuple[Any, float, list[int]]:
    """Run, timing it and sampling the workers' peak memory."""
    with worker_peaks(client) as peaks:
        t0 = time.perf_counter()
        out = run()
        seconds = time.perf_counter() - t0
    return out, seconds, sorted(peaks.values())


def file_sizes(n_rows: int, per_file: int) -> list[int]:
    """Rows per file: ``per_file`` each, the remainder in a last file."""
    return [per_file] * (n_rows // per_file) + ([n_rows % per_file] if n_rows % per_file else [])


def ensure(
    folder: Path, want: dict[str, Any], write: Callable[[Path], None], what: str
) -> list[str]:
    """The Parquet files of ``folder/parts``, written by ``write`` unless meta.json matches."""
    meta = folder / "meta.json"
    if not (meta.exists() and json.loads(meta.read_text()) == want):
        if folder.exists() and any(folder.iterdir()):
            sys.exit(f"{folder} holds other data; remove it or choose another --data-dir")
        t0 = time.perf_counter()
        write(folder / "parts")
        meta.write_text(json.dumps(want))
        print(f"wrote {what} in {time.perf_counter() - t0:.1f} s")
    return list(parquet_files(folder / "parts"))


def ensure_audit(folder: Path, n_rows: int, per_file: int) -> list[str]:
    want = {"kind": "audit", "n_rows": n_rows, "rows_per_file": per_file, "random_state": 0}
    return ensure(
        folder,
        want,
        lambda parts: write_audit_parquet(parts, n_rows, rows_per_file=per_file, random_state=0),
        f"{n_rows:,} audit rows",
    )


def ensure_fleet(folder: Path, n_series: int, n_steps: int, per_file: int) -> list[str]:
    want = {
        "kind": "fleet",
        "n_series": n_series,
        "n_steps": n_steps,
        "series_per_file": per_file,
        "random_state": 0,
    }
    return ensure(
        folder,
        want,
        lambda parts: write_fleet_parquet(
            parts, n_series, n_steps, series_per_file=per_file, random_state=0
        ),
        f"{n_series:,} series x {n_steps} steps",
    )


def stream_ticks(client: Any, files: list[str], folder: Path, n_ticks: int = 3) -> dict[str, Any]:
    """Fit per-block stream states on the fleet, then time ticks of one step for every series.

    A tick's values are each series' value a day before the last step (read before
    the clock starts), so the scores are those of an ordinary hour.
    """
    import shutil

    import pyarrow.dataset as ds

    shutil.rmtree(folder, ignore_errors=True)
    t0 = time.perf_counter()
    manifest = fit_stream(files, folder, warmup=WARMUP, scheduler=client)
    fit_seconds = time.perf_counter() - t0
    last = pd.Timestamp(manifest["last"])
    table = ds.dataset(files).to_table(
        columns=["series", "value"], filter=ds.field("timestamp") == last - pd.Timedelta("1D")
    )
    frame = table.to_pandas()
    seconds = []
    for k in range(n_ticks):
        when = last + pd.Timedelta(hours=k + 1)
        with worker_peaks(client) as peaks:
            t1 = time.perf_counter()
            tick = tick_stream(folder, frame, timestamp=when, scheduler=client)
            seconds.append(time.perf_counter() - t1)
    bytes_on_disk = sum(p.stat().st_size for p in folder.glob("block-*.parquet"))
    print(
        f"stream {manifest['series']:,} series: fit {fit_seconds:.1f} s; tick median "
        f"{np.median(seconds):.2f} s ({', '.join(f'{s:.2f}' for s in seconds)}); "
        f"{len(tick.anomalies)} series reported at the last tick; state "
        f"{bytes_on_disk / manifest['series']:.0f} B/series on disk"
    )
    return {
        "series": manifest["series"],
        "blocks": manifest["blocks"],
        "fit_seconds": fit_seconds,
        "tick_seconds": seconds,
        "tick_worker_peak_mib": max(peaks.values()) / 2**20,
        "state_bytes_per_series_on_disk": bytes_on_disk / manifest["series"],
        "reported_last_tick": len(tick.anomalies),
    }


def audit_on(client: Any, files: list[str], score: str | None = None) -> Any:
    return group_metrics(
        files,
        label="label",
        prediction="prediction",
        sensitive=SENSITIVE,
        score=score,
        n_bootstrap=N_BOOTSTRAP,
        scheduler=client,
    )


def in_memory_audit(files: list[str], score: str | None = None) -> tuple[Any, float, int]:
    """The single-machine path on the same rows, in a fresh process: read, then group_metrics.

    Returns the result, the seconds and the process's peak resident memory (bytes).
    """
    import pickle
    import subprocess
    import tempfile

    code = """
import pickle, sys, time
import pandas as pd
from seawall.metrics import group_metrics
files, sens, score, n_boot, out = pickle.load(open(sys.argv[1], "rb"))
t0 = time.perf_counter()
frame = pd.read_parquet(files, columns=["label", "prediction", *sens, *([score] if score else [])])
frame[sens] = frame[sens].astype(str)  # groups in sorted order, as the cluster has them
res = group_metrics(frame["label"], frame["prediction"], sensitive_features=frame[sens],
                    y_score=frame[score].astype("float64") if score else None, n_bootstrap=n_boot)
seconds = time.perf_counter() - t0
# VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec from the parent.
peak = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status")
            if line.startswith("VmHWM:"))
pickle.dump((res, seconds, peak), open(out, "wb"))
"""
    with tempfile.TemporaryDirectory() as tmp:
        args, out = Path(tmp) / "args.pkl", Path(tmp) / "out.pkl"
        args.write_bytes(pickle.dumps((files, SENSITIVE, score, N_BOOTSTRAP, str(out))))
        subprocess.run([sys.executable, "-c", code, str(args)], check=True)
        res, seconds, peak = pickle.loads(out.read_bytes())
    return res, seconds, peak


def same_numbers(a: Any, b: Any) -> float:
    """The largest absolute difference between two results' numbers (tables aligned by row)."""
    worst = 0.0
    for table in ("metrics", "disparities", "summary"):
        fa, fb = getattr(a, table).to_frame(), getattr(b, table).to_frame()
        if fa.shape != fb.shape:
            raise AssertionError(f"{table}: shapes differ {fa.shape} != {fb.shape}")
        for col in fa.columns:
            if fa[col].dtype.kind == "f":
                diff = np.nanmax(np.abs(fa[col].to_numpy() - fb[col].to_numpy()), initial=0.0)
                worst = max(worst, float(diff))
            elif not fa[col].equals(fb[col]):
                raise AssertionError(f"{table}.{col} differs")
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=Path("/tmp/seawall-bench-distributed"))
    ap.add_argument("--audit-rows", type=int, default=100_000_000)
    ap.add_argument("--rows-per-file", type=int, default=5_000_000)
    ap.add_argument("--fleet-series", type=int, default=1_000_000)
    ap.add_argument("--steps", type=int, default=168)
    ap.add_argument("--series-per-file", type=int, default=50_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--memory-limit", default="8GiB", help="per worker")
    ap.add_argument("--skip-memory-path", action="store_true", help="skip the in-memory audit")
    ap.add_argument("--quick", action="store_true", help="2M rows, 20k series")
    ap.add_argument(
        "--stream-only", action="store_true", help="only the streaming part, largest worker count"
    )
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.quick:
        args.audit_rows, args.rows_per_file = 2_000_000, 250_000
        args.fleet_series, args.series_per_file = 20_000, 2_500
        args.data_dir = args.data_dir.with_name(args.data_dir.name + "-quick")
    audit_files = ensure_audit(args.data_dir / "audit", args.audit_rows, args.rows_per_file)
    fleet_files = ensure_fleet(
        args.data_dir / "fleet", args.fleet_series, args.steps, args.series_per_file
    )
    if args.stream_only:
        with connect("local", n_workers=max(args.workers), memory_limit=args.memory_limit) as c:
            stream = stream_ticks(c, fleet_files, args.data_dir / "stream")
        if args.json:
            args.json.write_text(json.dumps({"stream": stream, "seawall": seawall_source()}))
        return
    out: dict[str, Any] = {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "versions": versions(["numpy", "pandas", "pyarrow", "dask", "distributed"]),
        "seawall": seawall_source(),
        "audit": {},
        "audit_scores": {},
        "detection": {},
        "audit_growth": [],
    }
    results: dict[int, Any] = {}
    scored: dict[int, Any] = {}
    for n in args.workers:
        with connect("local", n_workers=n, memory_limit=args.memory_limit) as client:
            res, sec, peaks = timed(client, lambda c=client: audit_on(c, audit_files))
            results[n] = res
            out["audit"][n] = {
                "seconds": sec,
                "rows_per_second": args.audit_rows / sec,
                "worker_peak_mib": [p / 2**20 for p in peaks],
            }
            print(
                f"audit  {args.audit_rows:,} rows, {n} worker(s): {sec:.1f} s, "
                f"{args.audit_rows / sec / 1e6:.1f}M rows/s, worker peak "
                f"{max(peaks) / 2**20:.0f} MiB"
            )
            res_s, sec_s, peaks_s = timed(
                client, lambda c=client: audit_on(c, audit_files, "score")
            )
            scored[n] = res_s
            out["audit_scores"][n] = {
                "seconds": sec_s,
                "rows_per_second": args.audit_rows / sec_s,
                "worker_peak_mib": [p / 2**20 for p in peaks_s],
            }
            print(
                f"audit with scores (AUC, Brier, ECE, {N_BOOTSTRAP} bootstrap replicates), "
                f"{n} worker(s): {sec_s:.1f} s, {args.audit_rows / sec_s / 1e6:.1f}M rows/s, "
                f"worker peak {max(peaks_s) / 2**20:.0f} MiB"
            )
            if n == max(args.workers):
                for share in (4, 2):
                    part = audit_files[: max(len(audit_files) // share, 1)]
                    _, s, pk = timed(client, lambda c=client, p=part: audit_on(c, p))
                    out["audit_growth"].append(
                        {"files": len(part), "seconds": s, "worker_peak_mib": max(pk) / 2**20}
                    )
                    print(
                        f"  {len(part)} of {len(audit_files)} files: {s:.1f} s, worker peak "
                        f"{max(pk) / 2**20:.0f} MiB"
                    )
                out["audit_growth"].append(
                    {
                        "files": len(audit_files),
                        "seconds": sec,
                        "worker_peak_mib": max(peaks) / 2**20,
                    }
                )
            scores = args.data_dir / f"scores-{n}"
            res_d, sec_d, peaks_d = timed(
                client,
                lambda c=client, s=scores: detect_fleet(
                    fleet_files,
                    label_cols=["model", "metric", "source"],
                    warmup=WARMUP,
                    out=s,
                    scheduler=c,
                ),
            )
            if n == max(args.workers):
                out["stream"] = stream_ticks(client, fleet_files, args.data_dir / "stream")
            out["detection"][n] = {
                "seconds": sec_d,
                "series_per_second": args.fleet_series / sec_d,
                "worker_peak_mib": [p / 2**20 for p in peaks_d],
                "n_flagged": res_d.n_flagged,
                "n_incidents": len(res_d.incidents.incidents),
            }
            print(
                f"detect {args.fleet_series:,} series x {args.steps}, {n} worker(s): "
                f"{sec_d:.1f} s, {args.fleet_series / sec_d:,.0f} series/s, worker peak "
                f"{max(peaks_d) / 2**20:.0f} MiB; {res_d.n_flagged} flagged steps in "
                f"{len(res_d.incidents.incidents)} incidents"
            )
    if len(results) > 1:
        first, last = min(results), max(results)
        out["audit_same_across_workers"] = same_numbers(results[first], results[last])
        out["scores_same_across_workers"] = same_numbers(scored[first], scored[last])
        out["audit_scores_scaling"] = (
            out["audit_scores"][first]["seconds"] / out["audit_scores"][last]["seconds"]
        )
        out["audit_scaling"] = out["audit"][first]["seconds"] / out["audit"][last]["seconds"]
        out["detection_scaling"] = (
            out["detection"][first]["seconds"] / out["detection"][last]["seconds"]
        )
        print(
            f"scaling {first} -> {last} workers: audit {out['audit_scaling']:.2f}x, "
            f"detection {out['detection_scaling']:.2f}x"
        )
    if not args.skip_memory_path:
        res_m, sec_m, peak_m = in_memory_audit(audit_files)
        worst = same_numbers(res_m, results[max(results)])
        out["in_memory_audit"] = {
            "seconds": sec_m,
            "peak_mib": peak_m / 2**20,
            "largest_difference": worst,
        }
        print(
            f"in-memory audit of the same rows (one process): {sec_m:.1f} s, peak "
            f"{peak_m / 2**20:.0f} MiB; largest difference from the cluster's numbers {worst:.2g}"
        )
        res_ms, sec_ms, peak_ms = in_memory_audit(audit_files, "score")
        worst_s = same_numbers(res_ms, scored[max(scored)])
        out["in_memory_audit_scores"] = {
            "seconds": sec_ms,
            "peak_mib": peak_ms / 2**20,
            "largest_difference": worst_s,
        }
        print(
            f"in-memory audit with scores: {sec_ms:.1f} s, peak {peak_ms / 2**20:.0f} MiB; "
            f"largest difference from the cluster's numbers {worst_s:.2g}"
        )
    out["client_peak_mib"] = status_kib()["VmHWM"] / 1024
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()

"""Benchmark: the weak-slice scan on a Dask LocalCluster, 1 then 2 workers, over Parquet.

``seawall.distributed.profile_errors`` (misclassification, weak slices only) over
``--rows`` rows of ``seawall.datasets.make_slices`` (ten categorical features
``f0`` ... ``f9``, planted weak slices ``f1 = b and f4 = b`` and ``f1 = d and f6 =
c and f8 = b``), contexts of levels 1 to ``--max-depth`` (default 2), split by the
seeded hash of ``row_id``. The data are written once into ``--data-dir``, file
``i`` drawn by ``make_slices(rows_per_file, random_state=i)`` with its text
columns dictionary-encoded and a global ``row_id``; later runs reuse them (the
folder's ``meta.json`` says what it holds).

For each worker count: wall time from the call to the result (the LocalCluster
is started before the clock and closed after), rows per second, and the peak
resident memory of each worker process, sampled every 0.2 s (see
``bench_distributed.py``). The results of the worker counts must be identical
(checked). With ``--memory-check``, the in-memory ``profile_errors`` also runs on
the first file with the same ``split_key`` and its result is compared with the
cluster's on that file.

Run::

    .venv/bin/python benchmarks/bench_distributed_scan.py --json /tmp/distributed_scan.json
    .venv/bin/python benchmarks/bench_distributed_scan.py --quick
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from _harness import seawall_source, status_kib, versions
from bench_distributed import ensure, file_sizes, timed
from seawall.associations import profile_errors as memory_profile_errors
from seawall.datasets import make_slices
from seawall.distributed import connect
from seawall.distributed._scan import profile_errors

CONTEXT = [f"f{i}" for i in range(10)]
TEXT = [*CONTEXT, "group", "qualification"]


def ensure_slices(folder: Path, n_rows: int, per_file: int) -> list[str]:
    """Write (once) ``n_rows`` of make_slices in files of ``per_file`` rows."""

    def write(parts: Path) -> None:
        parts.mkdir(parents=True)
        start = 0
        for i, size in enumerate(file_sizes(n_rows, per_file)):
            frame = make_slices(max(size, 1_000), random_state=i).frame.iloc[:size]
            frame = frame.astype(dict.fromkeys(TEXT, "category"))
            frame.insert(0, "row_id", np.arange(start, start + size, dtype=np.int64))
            frame.to_parquet(parts / f"part-{i:04d}.parquet", index=False)
            start += size

    want = {"kind": "slices", "n_rows": n_rows, "rows_per_file": per_file}
    return ensure(folder, want, write, f"{n_rows:,} rows")


def scan(files: list[str], client: Any, depth: int) -> Any:
    return profile_errors(
        files,
        y_true="y_true",
        y_pred="y_pred",
        context=CONTEXT,
        split_key="row_id",
        max_depth=depth,
        scheduler=client,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=Path("/tmp/seawall-bench-scan"))
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--rows-per-file", type=int, default=2_000_000)
    ap.add_argument("--max-depth", type=int, default=2)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--memory-limit", default="8GiB", help="per worker")
    ap.add_argument("--memory-check", action="store_true", help="compare with memory on file 0")
    ap.add_argument("--quick", action="store_true", help="2M rows in files of 250k")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.quick:
        args.rows, args.rows_per_file = 2_000_000, 250_000
        args.data_dir = args.data_dir.with_name(args.data_dir.name + "-quick")
    files = ensure_slices(args.data_dir, args.rows, args.rows_per_file)
    out: dict[str, Any] = {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "versions": versions(["numpy", "pandas", "pyarrow", "dask", "distributed"]),
        "seawall": seawall_source(),
        "scan": {},
    }
    results: dict[int, Any] = {}
    for n in args.workers:
        with connect("local", n_workers=n, memory_limit=args.memory_limit) as client:
            res, sec, peaks = timed(client, lambda c=client: scan(files, c, args.max_depth))
            results[n] = res
            out["scan"][n] = {
                "seconds": sec,
                "rows_per_second": args.rows / sec,
                "worker_peak_mib": [p / 2**20 for p in peaks],
                "n_hypotheses": len(res.hypotheses.context),
                "findings": list(res.findings.context),
            }
            print(
                f"slice scan {args.rows:,} rows, levels 1-{args.max_depth}, {n} worker(s): "
                f"{sec:.1f} s, {args.rows / sec / 1e6:.2f}M rows/s, worker peak "
                f"{max(peaks) / 2**20:.0f} MiB; findings {list(res.findings.context)}"
            )
            if args.memory_check and n == max(args.workers):
                frame = pd.read_parquet(files[0])
                t0 = time.perf_counter()
                ref = memory_profile_errors(
                    frame["y_true"],
                    frame["y_pred"],
                    context=frame[CONTEXT],
                    split_key=frame["row_id"],
                    max_depth=args.max_depth,
                )
                mem_sec = time.perf_counter() - t0
                one = scan(files[:1], client, args.max_depth)
                same = one.to_dict() == ref.to_dict()
                out["memory_check"] = {"rows": len(frame), "seconds": mem_sec, "same": same}
                print(f"in memory, file 0 ({len(frame):,} rows): {mem_sec:.1f} s; same: {same}")
    if len(results) > 1:
        first, last = min(results), max(results)
        same = results[first].to_dict() == results[last].to_dict()
        out["same_across_workers"] = same
        out["scaling"] = out["scan"][first]["seconds"] / out["scan"][last]["seconds"]
        print(f"scaling {first} -> {last} workers: {out['scaling']:.2f}x; same results: {same}")
    out["client_peak_mib"] = status_kib()["VmHWM"] / 1024
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()

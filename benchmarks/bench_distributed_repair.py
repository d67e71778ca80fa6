"""Benchmark: the disparate-impact repair on a Dask LocalCluster, 1 then 2 workers, over Parquet.

``seawall.distributed.repair`` (fit on exact order statistics by a distributed
sort, then one task per partition that repairs and writes it) against the
single-machine path on the same rows: ``pandas.read_parquet`` of the partitions,
``DisparateImpactRemover.fit_transform`` and one ``to_parquet`` per partition.

Data: ``--rows`` rows in files of ``--rows-per-file``, file ``i`` drawn from
``numpy.random.default_rng(i)``: ``sex`` (2 groups) and ``race`` (4, unequal),
three numeric features whose distributions differ by group (``age``: whole
years, so with heavy ties; ``income``: lognormal; ``hours``: whole hours, 5%
missing) and a 0/1 label. Written once into ``--data-dir`` and reused (its
``meta.json`` says what it holds). The repair: full (``repair_level=1``), the
intersection sex x race (8 groups), 1,001 knots.

For each worker count: wall time from the call to the written partitions (the
LocalCluster is started before the clock and closed after), rows per second and
the peak resident memory of each worker process (sampled every 0.2 s, see
``bench_distributed.py``). The in-memory path runs in a fresh subprocess of
this script and reports its time and peak resident memory (``VmHWM``). Every
repaired column of the cluster's output must equal the in-memory output exactly
(checked, file by file, and printed), and the fitted knots too.

Run::

    .venv/bin/python benchmarks/bench_distributed_repair.py \
        --json benchmarks/results/distributed_repair.json
    .venv/bin/python benchmarks/bench_distributed_repair.py --quick
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from _harness import seawall_source, status_kib, versions
from bench_distributed import ensure, file_sizes, timed
from seawall.distributed import connect, repair
from seawall.mitigation import DisparateImpactRemover

SENSITIVE = ["sex", "race"]
FEATURES = ["age", "income", "hours"]


def _part(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.integers(0, 2, n)
    race = rng.choice(4, n, p=[0.6, 0.2, 0.15, 0.05])
    age = np.floor(rng.normal(38.0 + 3.0 * sex, 11.0, n).clip(18, 90))
    income = rng.lognormal(10.3 + 0.25 * sex - 0.1 * (race == 2), 0.6, n)
    hours = np.round(rng.normal(38.0 + 4.0 * sex, 8.0, n).clip(1, 99))
    hours[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "sex": pd.Categorical.from_codes(sex, ["female", "male"]),
            "race": pd.Categorical.from_codes(race, ["A", "B", "C", "D"]),
            "age": age,
            "income": income,
            "hours": hours,
            "label": (rng.random(n) < 0.3 + 0.1 * sex).astype(np.int8),
        }
    )


def ensure_data(folder: Path, n_rows: int, per_file: int) -> list[str]:
    """Write (once) ``n_rows`` rows in files of ``per_file`` rows."""

    def write(parts: Path) -> None:
        parts.mkdir(parents=True)
        for i, size in enumerate(file_sizes(n_rows, per_file)):
            _part(size, i).to_parquet(parts / f"part-{i:04d}.parquet", index=False)

    want = {"kind": "repair", "n_rows": n_rows, "rows_per_file": per_file}
    return ensure(folder, want, write, f"{n_rows:,} rows")


def in_memory(files: list[str], out: Path) -> dict[str, Any]:
    """The single-machine path (run in a subprocess): read, fit, transform, write."""
    t0 = time.perf_counter()
    frames = [pd.read_parquet(f) for f in files]
    sizes = [len(f) for f in frames]
    whole = pd.concat(frames, ignore_index=True)
    del frames
    remover = DisparateImpactRemover().set_output(transform="pandas")
    repaired = remover.fit_transform(whole[FEATURES], sensitive_features=whole[SENSITIVE])
    for c in FEATURES:
        whole[c] = repaired[c].to_numpy()
    del repaired
    out.mkdir(parents=True)
    start = 0
    for f, size in zip(files, sizes, strict=True):
        whole.iloc[start : start + size].to_parquet(out / Path(f).name, index=False)
        start += size
    seconds = time.perf_counter() - t0
    np.save(out / "quantiles.npy", remover.quantiles_)
    return {"seconds": seconds, "peak_mib": status_kib()["VmHWM"] / 1024}


def same_output(files: list[str], memory_dir: Path, cluster_files: tuple[str, ...]) -> bool:
    """Whether every repaired column equals the in-memory output, file by file."""
    for f, got in zip(files, cluster_files, strict=True):
        want = pd.read_parquet(memory_dir / Path(f).name, columns=FEATURES)
        have = pd.read_parquet(got, columns=FEATURES)
        if not all(np.array_equal(have[c], want[c], equal_nan=True) for c in FEATURES):
            print(f"  differs in {Path(f).name}")
            return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=Path("/tmp/seawall-bench-repair"))
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--rows-per-file", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--memory-limit", default="8GiB", help="per worker")
    ap.add_argument("--quick", action="store_true", help="2M rows in files of 250k")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--in-memory", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.rows, args.rows_per_file = 2_000_000, 250_000
        args.data_dir = args.data_dir.with_name(args.data_dir.name + "-quick")
    files = ensure_data(args.data_dir, args.rows, args.rows_per_file)
    if args.in_memory is not None:  # the subprocess
        print(json.dumps(in_memory(files, args.in_memory)))
        return
    runs = args.data_dir / "runs"
    shutil.rmtree(runs, ignore_errors=True)
    out: dict[str, Any] = {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "versions": versions(["numpy", "pandas", "pyarrow", "dask", "distributed"]),
        "seawall": seawall_source(),
        "repair": {},
    }
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--data-dir",
            str(args.data_dir),
            "--rows",
            str(args.rows),
            "--rows-per-file",
            str(args.rows_per_file),
            "--in-memory",
            str(runs / "memory"),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    out["memory"] = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"in memory, one process: {out['memory']['seconds']:.1f} s, "
        f"peak {out['memory']['peak_mib']:,.0f} MiB"
    )
    knots = np.load(runs / "memory" / "quantiles.npy")
    for n in args.workers:
        with connect("local", n_workers=n, memory_limit=args.memory_limit) as client:
            run, sec, peaks = timed(
                client,
                lambda c=client, n=n: repair(
                    files,
                    DisparateImpactRemover(),
                    sensitive=SENSITIVE,
                    features=FEATURES,
                    out=runs / f"cluster-{n}",
                    scheduler=c,
                ),
            )
        same = same_output(files, runs / "memory", run.files)
        same_knots = bool(np.array_equal(run.remover.quantiles_, knots))
        out["repair"][n] = {
            "seconds": sec,
            "rows_per_second": args.rows / sec,
            "worker_peak_mib": [p / 2**20 for p in peaks],
            "same_as_memory": same,
            "same_knots": same_knots,
        }
        print(
            f"repair {args.rows:,} rows x {len(FEATURES)} features, {n} worker(s): {sec:.1f} s, "
            f"{args.rows / sec / 1e6:.2f}M rows/s, worker peak {max(peaks) / 2**20:,.0f} MiB; "
            f"output equal to memory: {same}, knots equal: {same_knots}"
        )
    if len(args.workers) > 1:
        first, last = min(args.workers), max(args.workers)
        out["scaling"] = out["repair"][first]["seconds"] / out["repair"][last]["seconds"]
        print(f"scaling {first} -> {last} workers: {out['scaling']:.2f}x")
    out["memory_vs_best"] = out["memory"]["seconds"] / min(
        r["seconds"] for r in out["repair"].values()
    )
    print(f"in memory / best cluster time: {out['memory_vs_best']:.2f}x")
    out["client_peak_mib"] = status_kib()["VmHWM"] / 1024
    shutil.rmtree(runs, ignore_errors=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()

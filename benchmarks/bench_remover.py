"""Benchmark: the disparate impact remover, Seawall against AIF360.

Issue 4's target: at 1,000,000 rows x 10 numeric features and two groups,
Seawall's ``DisparateImpactRemover`` (fit + transform) is at least 60 times
faster than AIF360's ``DisparateImpactRemover(repair_level=1.0)`` and needs at
most an eighth of its peak memory.

Data (``make_data``): ``rows`` rows, a protected attribute ``s`` (two groups,
40% / 60%; three groups, 30/30/40%, for the agreement check), ten continuous
features whose distributions differ by group (normal shifts, a scale change,
lognormal and gamma shapes), and a binary label (AIF360 needs one).

Each tool runs in a fresh subprocess of this script, which builds the data,
records its resident memory as the *baseline*, resets its peak-RSS counter
(``/proc/self/clear_refs``) and times one call with ``time.perf_counter``:

(a) Seawall: ``DisparateImpactRemover(repair_level=1.0).fit(X, sensitive_features=s)``
    then ``.transform(X, sensitive_features=s)``, ``X`` an ndarray;
(b) AIF360 0.6.1: ``DisparateImpactRemover(repair_level=1.0).fit_transform(ds)`` on a
    ``BinaryLabelDataset`` built from the same data (built before the clock starts).

*Peak RSS* is the process's resident high-water mark (``VmHWM``) over the call;
*increase* is that peak minus the baseline, the memory the call itself needed.
AIF360 is killed after ``--timeout`` seconds (300 by default); the script then
halves the rows until AIF360 finishes and compares the two tools there (it
says so).

Agreement. The definitions differ: Seawall's target is the median of the
groups' quantile functions (with two groups, their midpoint); AIF360
(BlackBoxAuditing's repairer) bins each feature, splits every group into
quantile buckets and sends each bucket to the median of the groups' bucket
medians, taking the *lower* middle value when the number of groups is even,
so with two groups both are mapped onto the lower curve. The script reports
(1) how well each tool equalises the groups (largest two-sample KS statistic
between repaired groups over the features), (2) whether AIF360's repaired
distribution with two groups is the pointwise minimum of the groups' quantile
functions (the "lower curve"), and (3) with three groups, where both target
the median curve, the largest gap between the two tools' repaired quantiles.

Run in the benchmark virtual environment (``.venv-bench``, with
``aif360==0.6.1`` and ``BlackBoxAuditing==0.1.54``)::

    .venv-bench/bin/python benchmarks/bench_remover.py
    .venv-bench/bin/python benchmarks/bench_remover.py --quick
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import reset_peak, status_kib, versions  # noqa: E402

N_FEATURES = 10
RESULT_PREFIX = "RESULT "
TARGET_SPEEDUP = 60.0
TARGET_MEMORY_FRACTION = 1 / 8
LEVELS = np.linspace(0.01, 0.99, 99)


def make_data(rows: int, n_groups: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features (rows, 10), group codes 0..n_groups-1 and a binary label."""
    rng = np.random.default_rng(seed)
    p = [0.4, 0.6] if n_groups == 2 else [0.3, 0.3, 0.4]
    s = rng.choice(n_groups, size=rows, p=p)
    shift = s.astype(np.float64)
    X = np.empty((rows, N_FEATURES))
    for j in range(N_FEATURES):
        kind = j % 4
        if kind == 0:
            X[:, j] = rng.normal(size=rows) + (0.3 + 0.2 * j) * shift
        elif kind == 1:
            X[:, j] = rng.normal(size=rows) * (1.0 + 0.5 * shift)
        elif kind == 2:
            X[:, j] = rng.lognormal(0.5 * shift, 0.8, size=rows)
        else:
            X[:, j] = rng.gamma(2.0 + shift, 1.0, size=rows)
    y = (rng.random(rows) < 0.3 + 0.1 * shift / max(n_groups - 1, 1)).astype(np.float64)
    return X, s, y


# =========================================================================== child


def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    """Measure one tool on one data set in this fresh process; save its output."""
    import warnings

    warnings.filterwarnings("ignore")
    X, s, y = make_data(spec["rows"], spec["groups"], spec["seed"])
    if spec["tool"] == "seawall":
        from seawall.mitigation._remover import DisparateImpactRemover

        def call() -> np.ndarray:
            rem = DisparateImpactRemover(repair_level=1.0)
            return np.asarray(rem.fit(X, sensitive_features=s).transform(X, sensitive_features=s))

    else:
        import logging

        logging.disable(logging.WARNING)  # aif360's notes on optional extras
        import pandas as pd
        from aif360.algorithms.preprocessing import DisparateImpactRemover as AifRemover
        from aif360.datasets import BinaryLabelDataset

        frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(N_FEATURES)])
        frame["s"], frame["y"] = s.astype(np.float64), y
        ds = BinaryLabelDataset(df=frame, label_names=["y"], protected_attribute_names=["s"])
        del frame

        def call() -> np.ndarray:
            out = AifRemover(repair_level=1.0, sensitive_attribute="s").fit_transform(ds)
            return np.asarray(out.features[:, :N_FEATURES])

    gc.collect()
    base = status_kib()
    reset = reset_peak()
    t0 = time.perf_counter()
    Z = call()
    wall = time.perf_counter() - t0
    peak = status_kib()["VmHWM"]
    np.save(spec["out"], Z)
    return {
        "time_s": wall,
        "baseline_rss_bytes": base["VmRSS"] * 1024,
        "peak_rss_bytes": peak * 1024,
        "increase_bytes": (peak - base["VmRSS"]) * 1024,
        "peak_reset": reset,
    }


# =========================================================================== parent


def measure(spec: dict[str, Any], timeout: float | None) -> dict[str, Any]:
    """One configuration in a subprocess: its result, or why there is none."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"status": "timeout"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return {"status": "ok", **json.loads(line[len(RESULT_PREFIX) :])}
    return {"status": "failed", "stderr_tail": proc.stderr.strip().splitlines()[-5:]}


def max_ks(Z: np.ndarray, s: np.ndarray) -> float:
    """The largest two-sample KS statistic between any two groups, over the features."""
    from scipy.stats import ks_2samp

    groups = np.unique(s)
    return max(
        float(ks_2samp(Z[s == a, j], Z[s == b, j]).statistic)
        for j in range(Z.shape[1])
        for i, a in enumerate(groups)
        for b in groups[i + 1 :]
    )


def quantile_gap(A: np.ndarray, B: np.ndarray, X: np.ndarray) -> float:
    """Largest gap between the quantiles (levels .01 to .99) of A and B, in IQRs of X."""
    iqr = np.subtract(*np.quantile(X, [0.75, 0.25], axis=0))
    qa, qb = np.quantile(A, LEVELS, axis=0), np.quantile(B, LEVELS, axis=0)
    return float((np.abs(qa - qb) / iqr).max())


def lower_curve_gap(Z: np.ndarray, X: np.ndarray, s: np.ndarray) -> float:
    """How far a repair's quantiles are from the pointwise minimum of the groups' quantiles."""
    lower = np.minimum(*(np.quantile(X[s == g], LEVELS, axis=0) for g in (0, 1)))
    iqr = np.subtract(*np.quantile(X, [0.75, 0.25], axis=0))
    return float((np.abs(np.quantile(Z, LEVELS, axis=0) - lower) / iqr).max())


def within_group_rank_kept(Z: np.ndarray, X: np.ndarray, s: np.ndarray) -> float:
    """Share of (group, feature) pairs whose repaired values never reverse the original order."""
    kept = []
    for g in np.unique(s):
        for j in range(X.shape[1]):
            order = np.argsort(X[s == g, j], kind="stable")
            kept.append(bool((np.diff(Z[s == g, j][order]) >= -1e-9).all()))
    return float(np.mean(kept))


def fmt_bytes(b: float) -> str:
    """Bytes in MiB or GiB."""
    return f"{b / (1 << 30):.2f} GiB" if abs(b) >= 1 << 30 else f"{b / (1 << 20):.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    """Run both tools, compare their outputs and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the timed data")
    parser.add_argument("--agreement-rows", type=int, default=100_000, help="rows, 3 groups")
    parser.add_argument("--quick", action="store_true", help="100,000 and 20,000 rows")
    parser.add_argument("--timeout", type=float, default=300.0, help="AIF360's limit, seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(RESULT_PREFIX + json.dumps(run_child(json.loads(args.child))))
        return 0
    if args.quick:
        args.rows, args.agreement_rows = 100_000, 20_000

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        "versions: "
        + ", ".join(
            f"{k} {v}"
            for k, v in versions(
                ("numpy", "pandas", "scipy", "scikit-learn", "aif360", "BlackBoxAuditing")
            ).items()
        )
    )
    tmp = Path(tempfile.mkdtemp(prefix="bench_remover_"))
    report: dict[str, Any] = {
        "versions": versions(
            ("numpy", "pandas", "scipy", "scikit-learn", "aif360", "BlackBoxAuditing")
        ),
        "rows_requested": args.rows,
    }

    # Timing: AIF360 at the largest size it finishes within the timeout.
    rows = args.rows
    while True:
        spec = {"tool": "aif360", "rows": rows, "groups": 2, "seed": args.seed}
        aif = measure({**spec, "out": str(tmp / "aif.npy")}, args.timeout)
        print(f"AIF360 at {rows:,} rows: {aif['status']}", flush=True)
        if aif["status"] == "ok" or rows <= 10_000:
            break
        rows //= 2
    if aif["status"] != "ok":
        print(f"AIF360 did not finish: {aif}")
        return 1
    sw = measure(
        {
            "tool": "seawall",
            "rows": rows,
            "groups": 2,
            "seed": args.seed,
            "out": str(tmp / "sw.npy"),
        },
        None,
    )
    if sw["status"] != "ok":
        print(f"Seawall failed: {sw}")
        return 1
    if rows != args.rows:
        print(
            f"NOTE: AIF360 did not finish {args.rows:,} rows within {args.timeout:g} s; "
            f"both tools are compared at {rows:,} rows."
        )
    print(f"\n{rows:,} rows x {N_FEATURES} numeric features, two groups, repair_level=1:")
    print(f"{'tool':<8} {'fit+transform':>14} {'peak RSS':>10} {'increase':>10} {'baseline':>10}")
    for name, r in (("Seawall", sw), ("AIF360", aif)):
        print(
            f"{name:<8} {r['time_s']:>12.2f} s {fmt_bytes(r['peak_rss_bytes']):>10} "
            f"{fmt_bytes(r['increase_bytes']):>10} {fmt_bytes(r['baseline_rss_bytes']):>10}"
        )
    speedup = aif["time_s"] / sw["time_s"]
    mem_peak = sw["peak_rss_bytes"] / aif["peak_rss_bytes"]
    mem_inc = sw["increase_bytes"] / aif["increase_bytes"]
    print(f"speed-up: {speedup:.1f}x (target >= {TARGET_SPEEDUP:g}x)")
    print(f"peak RSS: Seawall / AIF360 = {mem_peak:.3f} (target <= {TARGET_MEMORY_FRACTION:.3f})")
    print(f"increase over baseline: Seawall / AIF360 = {mem_inc:.3f}")

    X, s, _ = make_data(rows, 2, args.seed)
    Z_sw, Z_aif = np.load(tmp / "sw.npy"), np.load(tmp / "aif.npy")
    agreement = {
        "ks_before": max_ks(X, s),
        "ks_seawall": max_ks(Z_sw, s),
        "ks_aif360": max_ks(Z_aif, s),
        "rank_kept_seawall": within_group_rank_kept(Z_sw, X, s),
        "rank_kept_aif360": within_group_rank_kept(Z_aif, X, s),
        "aif360_from_lower_curve_iqr": lower_curve_gap(Z_aif, X, s),
        "seawall_from_lower_curve_iqr": lower_curve_gap(Z_sw, X, s),
        "tools_apart_two_groups_iqr": quantile_gap(Z_sw, Z_aif, X),
    }
    del Z_sw, Z_aif
    print("\nagreement, two groups (largest KS between repaired groups over the features):")
    print(
        f"  KS before {agreement['ks_before']:.4f}; after Seawall {agreement['ks_seawall']:.4f}, "
        f"after AIF360 {agreement['ks_aif360']:.4f}"
    )
    print(
        f"  within-group order kept in {agreement['rank_kept_seawall']:.0%} (Seawall) and "
        f"{agreement['rank_kept_aif360']:.0%} (AIF360) of group x feature pairs"
    )
    print(
        "  largest quantile gap to the lower of the two group curves, in IQRs: "
        f"AIF360 {agreement['aif360_from_lower_curve_iqr']:.3f}, "
        f"Seawall {agreement['seawall_from_lower_curve_iqr']:.3f} (Seawall targets the midpoint)"
    )

    # Three groups: both tools target the median curve.
    n3 = args.agreement_rows
    for tool in ("seawall", "aif360"):
        r = measure(
            {
                "tool": tool,
                "rows": n3,
                "groups": 3,
                "seed": args.seed,
                "out": str(tmp / f"{tool}3.npy"),
            },
            args.timeout,
        )
        if r["status"] != "ok":
            print(f"{tool} at {n3:,} rows with 3 groups: {r}")
            return 1
    X3, s3, _ = make_data(n3, 3, args.seed)
    Z3_sw, Z3_aif = np.load(tmp / "seawall3.npy"), np.load(tmp / "aif3603.npy")
    agreement["three_groups_rows"] = n3
    agreement["three_groups_quantile_gap_iqr"] = quantile_gap(Z3_sw, Z3_aif, X3)
    agreement["three_groups_ks_seawall"] = max_ks(Z3_sw, s3)
    agreement["three_groups_ks_aif360"] = max_ks(Z3_aif, s3)
    print(f"agreement, three groups at {n3:,} rows (both target the median curve):")
    print(
        f"  largest gap between the tools' repaired quantiles (levels .01-.99): "
        f"{agreement['three_groups_quantile_gap_iqr']:.4f} IQR; KS between groups: Seawall "
        f"{agreement['three_groups_ks_seawall']:.4f}, "
        f"AIF360 {agreement['three_groups_ks_aif360']:.4f}"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    report.update(rows=rows, seawall=sw, aif360=aif, speedup=speedup)
    report.update(peak_ratio=mem_peak, increase_ratio=mem_inc, agreement=agreement)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

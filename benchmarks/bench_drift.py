"""Benchmark: feature drift, Seawall against Evidently and Alibi Detect.

The issue's target: drift on 100,000 rows x 20 features is at least 17 times
faster than Evidently's data drift report and no slower than Alibi Detect's KS
detector, measured in one run on the same data.

Data (``make_data``): a reference window and a current window of ``--rows``
rows each (100,000) x 20 float64 features, from ``numpy.random.default_rng``:
normal, lognormal, gamma, uniform and (rounded, so with ties) exponential
features. Sixteen features have the same distribution in both windows; four
drift clearly (``DRIFTED``): ``x3`` (uniform, location +0.4), ``x5`` (normal,
mean +0.25 sd), ``x11`` (lognormal, sigma 0.6 -> 0.8) and ``x17`` (gamma, scale
x1.2). Every tool gets the same numbers.

Each configuration runs in a fresh subprocess of this script. The child builds
the data and the tool's input (a DataFrame, or an ndarray for Alibi Detect),
calls the tool once on the first 1,000 rows (imports, lazy set-up), records its
resident memory as the *baseline*, resets its peak-RSS counter
(``/proc/self/clear_refs``) and times the tool: best of ``--repeat`` runs of
``time.perf_counter`` wall-clock seconds. *Peak RSS* is the resident high-water
mark (``VmHWM``) over those runs; *increase* is the peak minus the baseline.

(a) Seawall: ``seawall.monitoring.feature_drift(reference, current)`` (KS test,
    Wasserstein, PSI, Jensen-Shannon, Benjamini-Hochberg across features,
    alpha=0.05), on DataFrames (``seawall``) and on ndarrays (``seawall-array``);
(b) Evidently: ``Report([DataDriftPreset()]).run(current, reference)`` on
    DataFrames (Evidently >= 0.7 API; it returns a snapshot). The timed call
    includes everything Evidently does to produce the result: its dataset
    conversion, the column-type inference, the per-column tests (the preset
    computes each test twice: once for the drifted-columns count and once per
    column) and the widgets (plotly figures) that ``run`` always builds. Rendering
    HTML (``snapshot.save_html``) is not timed. By default Evidently tests numeric
    columns of more than 1,000 rows with the normed Wasserstein distance
    (threshold 0.1), not with a test;
(c) Evidently with ``DataDriftPreset(num_method="ks")``, for reference only: the
    KS test per column (p-value <= 0.05, no adjustment across columns);
(d) Alibi Detect: ``KSDrift(x_ref, p_val=0.05, correction="fdr")`` then
    ``.predict(x)``, both timed, on ndarrays. A feature counts as flagged when its
    p-value is below the FDR threshold that ``predict`` returns (none when
    ``is_drift`` is 0).

The targets compare like with like: Seawall on DataFrames against Evidently, and
Seawall on ndarrays against Alibi Detect (both ratios are printed for both
forms).

Agreement: which features each tool flags, against ``DRIFTED``; Seawall's KS
statistics and p-values against Alibi Detect's (both are ``scipy.stats.ks_2samp``
with the asymptotic p-value; Alibi Detect stores them as float32, so they can
only agree to float32 precision, and the script also says whether Seawall's
values rounded to float32 equal them); Seawall's Wasserstein distance over the
reference's standard deviation against Evidently's normed Wasserstein distance;
and Seawall's KS p-values against Evidently's KS variant.

Run in the benchmark virtual environment (see ``requirements-bench.txt``)::

    .venv-bench/bin/python benchmarks/bench_drift.py
    .venv-bench/bin/python benchmarks/bench_drift.py --quick
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import reset_peak, status_kib, versions  # noqa: E402

N_FEATURES = 20
NAMES = [f"x{j}" for j in range(N_FEATURES)]
DRIFTED = ("x3", "x5", "x11", "x17")
ALPHA = 0.05
TARGET_VS_EVIDENTLY = 17.0
TARGET_VS_ALIBI = 1.0
WARMUP_ROWS = 1_000
RESULT_PREFIX = "RESULT "
TOOLS = ("seawall", "seawall-array", "evidently", "evidently-ks", "alibi")
LABELS = {
    "seawall": "Seawall (DataFrame)",
    "seawall-array": "Seawall (ndarray)",
    "evidently": "Evidently preset",
    "evidently-ks": "Evidently, KS",
    "alibi": "Alibi Detect KS",
}
PACKAGES = ("numpy", "pandas", "scipy", "scikit-learn", "seawall", "evidently", "alibi-detect")


def _column(rng: np.random.Generator, j: int, rows: int, drifted: bool) -> np.ndarray:
    """Feature ``j`` of one window; ``drifted`` applies the current window's change."""
    kind = j % 5
    if kind == 0:
        shift = 0.25 * (1 + j / 20) if drifted else 0.0
        return rng.normal(j / 4 + shift, 1 + j / 20, rows)
    if kind == 1:
        return rng.lognormal(0.0, 0.8 if drifted else 0.6, rows)
    if kind == 2:
        return rng.gamma(2 + j / 10, 1.2 if drifted else 1.0, rows)
    if kind == 3:
        low = 0.4 if drifted else 0.0
        return rng.uniform(low, low + 4.0, rows)
    return np.round(rng.exponential(1.0, rows), 2)


def make_data(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference and current windows, each (rows, 20) float64; DRIFTED change."""
    rng = np.random.default_rng(seed)
    ref = np.empty((rows, N_FEATURES))
    cur = np.empty((rows, N_FEATURES))
    for j, name in enumerate(NAMES):
        ref[:, j] = _column(rng, j, rows, drifted=False)
        cur[:, j] = _column(rng, j, rows, drifted=name in DRIFTED)
    return ref, cur


# =========================================================================== child


def _seawall(ref: Any, cur: Any) -> tuple[Callable[[Any, Any], Any], Callable[[Any], dict]]:
    from seawall.monitoring import feature_drift

    def call(r: Any, c: Any) -> Any:
        return feature_drift(r, c, alpha=ALPHA, correction="bh")

    def summary(report: Any) -> dict[str, Any]:
        feats = {f.name: f for f in report.features}
        return {
            "flagged": list(report.drifted_features),
            "ks": [feats[n].statistic for n in NAMES],
            "p_value": [feats[n].p_value for n in NAMES],
            "p_adjusted": [feats[n].p_adjusted for n in NAMES],
            "wasserstein": [feats[n].wasserstein for n in NAMES],
        }

    return call, summary


def _evidently(method: str | None) -> tuple[Callable[[Any, Any], Any], Callable[[Any], dict]]:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    def call(r: Any, c: Any) -> Any:
        preset = DataDriftPreset() if method is None else DataDriftPreset(num_method=method)
        return Report([preset]).run(c, r)

    def p_value_test(method: str) -> bool:
        """Whether Evidently's ``method`` (a registered or a display name) is a p-value."""
        from evidently.legacy.calculations.stattests.registry import (
            StatTestNotFoundError,
            get_registered_stattest,
        )
        from evidently.legacy.core import ColumnType

        # A display name (the preset chose the test) is not registered; keep it.
        with contextlib.suppress(StatTestNotFoundError):
            method = get_registered_stattest(method, ColumnType.Numerical).display_name
        return "p_value" in method

    def summary(snapshot: Any) -> dict[str, Any]:
        score: dict[str, float] = {}
        flagged: list[str] = []
        methods: set[str] = set()
        count = None
        for m in snapshot.dict()["metrics"]:
            cfg = m["config"]
            if cfg["type"].endswith("DriftedColumnsCount"):
                count = int(m["value"]["count"])
            elif cfg["type"].endswith("ValueDrift"):
                name, value = cfg["column"], float(m["value"])
                score[name] = value
                methods.add(f"{cfg['method']} (threshold {cfg['threshold']:g})")
                # Evidently's rule: a p-value at or below the threshold, or a
                # distance at or above it, is drift.
                if p_value_test(cfg["method"]):
                    drift = value <= cfg["threshold"]
                else:
                    drift = value >= cfg["threshold"]
                if drift:
                    flagged.append(name)
        return {
            "flagged": flagged,
            "score": [score[n] for n in NAMES],
            "methods": sorted(methods),
            "drifted_count": count,
        }

    return call, summary


def _alibi() -> tuple[Callable[[Any, Any], Any], Callable[[Any], dict]]:
    import logging

    logging.disable(logging.WARNING)
    from alibi_detect.cd import KSDrift

    def call(r: np.ndarray, c: np.ndarray) -> Any:
        return KSDrift(r, p_val=ALPHA, correction="fdr").predict(c)

    def summary(pred: Any) -> dict[str, Any]:
        data = pred["data"]
        p = np.asarray(data["p_val"])
        flagged = [n for n, q in zip(NAMES, p, strict=True) if q < data["threshold"]]
        return {
            "flagged": flagged if data["is_drift"] else [],
            "ks": [float(d) for d in data["distance"]],
            "p_value": [float(q) for q in p],
            "dtype": str(np.asarray(data["distance"]).dtype),
            "fdr_threshold": float(data["threshold"]) if data["is_drift"] else None,
        }

    return call, summary


def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    """Time one tool on the benchmark data in this fresh process."""
    import warnings

    warnings.filterwarnings("ignore")
    import pandas as pd

    tool = spec["tool"]
    ref, cur = make_data(spec["rows"], spec["seed"])
    if tool in ("seawall-array", "alibi"):
        r_in, c_in = ref, cur
    else:
        r_in, c_in = pd.DataFrame(ref, columns=NAMES), pd.DataFrame(cur, columns=NAMES)
    if tool.startswith("seawall"):
        call, summary = _seawall(r_in, c_in)
    elif tool.startswith("evidently"):
        call, summary = _evidently("ks" if tool == "evidently-ks" else None)
    else:
        call, summary = _alibi()
    call(r_in[:WARMUP_ROWS], c_in[:WARMUP_ROWS])

    gc.collect()
    base = status_kib()
    reset = reset_peak()
    times = []
    for _ in range(spec["repeat"]):
        t0 = time.perf_counter()
        out = call(r_in, c_in)
        times.append(time.perf_counter() - t0)
    peak = status_kib()["VmHWM"]
    return {
        "time_s": min(times),
        "times_s": times,
        "baseline_rss_bytes": base["VmRSS"] * 1024,
        "peak_rss_bytes": peak * 1024,
        "increase_bytes": (peak - base["VmRSS"]) * 1024,
        "peak_reset": reset,
        **summary(out),
    }


# =========================================================================== parent


def measure(spec: dict[str, Any], timeout: float | None) -> dict[str, Any]:
    """One tool in a subprocess: its result, or why there is none."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    env = {**os.environ, "DO_NOT_TRACK": "1"}  # Evidently's usage telemetry
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, check=False, env=env
        )
    except subprocess.TimeoutExpired:
        return {"status": "timeout"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return {"status": "ok", **json.loads(line[len(RESULT_PREFIX) :])}
    return {"status": "failed", "stderr_tail": proc.stderr.strip().splitlines()[-8:]}


def fmt_bytes(b: float) -> str:
    """Bytes in MiB or GiB."""
    return f"{b / (1 << 30):.2f} GiB" if abs(b) >= 1 << 30 else f"{b / (1 << 20):.0f} MiB"


def agreement(res: dict[str, dict[str, Any]], ref: np.ndarray, cur: np.ndarray) -> dict[str, Any]:
    """Flags against the truth and the tools' statistics against each other."""
    from scipy.stats import ks_2samp

    out: dict[str, Any] = {"truth": list(DRIFTED), "flags": {}}
    for tool, r in res.items():
        if r["status"] != "ok":
            continue
        got = set(r["flagged"])
        out["flags"][tool] = {
            "flagged": r["flagged"],
            "missed": [n for n in DRIFTED if n not in got],
            "extra": [n for n in NAMES if n in got and n not in DRIFTED],
        }
    sw, al = res.get("seawall", {}), res.get("alibi", {})
    if sw.get("status") == "ok":
        # What Alibi Detect calls, kept in float64.
        tests = [ks_2samp(ref[:, j], cur[:, j], method="asymp") for j in range(N_FEATURES)]
        stat = np.array([t.statistic for t in tests])
        p = np.array([t.pvalue for t in tests])
        out["ks_max_abs_diff_vs_scipy"] = float(np.abs(np.array(sw["ks"]) - stat).max())
        out["p_max_abs_diff_vs_scipy"] = float(np.abs(np.array(sw["p_value"]) - p).max())
    if sw.get("status") == "ok" and al.get("status") == "ok":
        ks_sw, ks_al = np.array(sw["ks"]), np.array(al["ks"])
        p_sw, p_al = np.array(sw["p_value"]), np.array(al["p_value"])
        out["ks_max_abs_diff_vs_alibi"] = float(np.abs(ks_sw - ks_al).max())
        out["ks_equal_as_float32"] = bool(np.array_equal(ks_sw.astype(np.float32), ks_al))
        out["p_max_abs_diff_vs_alibi"] = float(np.abs(p_sw - p_al).max())
        out["p_equal_as_float32"] = bool(np.array_equal(p_sw.astype(np.float32), p_al))
        out["same_flags_seawall_alibi"] = sorted(sw["flagged"]) == sorted(al["flagged"])
    ev = res.get("evidently", {})
    if sw.get("status") == "ok" and ev.get("status") == "ok":
        # Evidently's normed Wasserstein: the distance over the reference's
        # standard deviation (ddof=0, at least 0.001).
        scaled = np.array(sw["wasserstein"]) / np.maximum(ref.std(axis=0), 0.001)
        ev_score = np.array(ev["score"])
        if all("Wasserstein" in m for m in ev["methods"]):
            rel = np.abs(scaled - ev_score) / np.abs(ev_score)
            out["wasserstein_normed_max_rel_diff_vs_evidently"] = float(rel.max())
    ek = res.get("evidently-ks", {})
    if sw.get("status") == "ok" and ek.get("status") == "ok":
        out["p_max_abs_diff_vs_evidently_ks"] = float(
            np.abs(np.array(sw["p_value"]) - np.array(ek["score"])).max()
        )
    return out


def main(argv: list[str] | None = None) -> int:
    """Run every tool, compare their findings and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of each window")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--quick", action="store_true", help="10,000 rows, one run")
    parser.add_argument("--timeout", type=float, default=900.0, help="per tool, seconds")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(RESULT_PREFIX + json.dumps(run_child(json.loads(args.child))))
        return 0
    if args.quick:
        args.rows, args.repeat = 10_000, 1

    load_start = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} CPUs; load average at start: "
        + " ".join(f"{x:.2f}" for x in load_start)
    )
    vers = versions(PACKAGES)
    print("versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()))
    print(
        f"data: {args.rows:,} reference + {args.rows:,} current rows x {N_FEATURES} features, "
        f"drifted {', '.join(DRIFTED)}; seed {args.seed}; best of {args.repeat}\n"
    )

    res: dict[str, dict[str, Any]] = {}
    for tool in TOOLS:
        spec = {"tool": tool, "rows": args.rows, "seed": args.seed, "repeat": args.repeat}
        res[tool] = measure(spec, args.timeout)
        r = res[tool]
        if r["status"] == "ok":
            runs = ", ".join(f"{t:.3f}" for t in r["times_s"])
            print(f"{LABELS[tool]}: {r['time_s']:.3f} s (runs: {runs})", flush=True)
        else:
            print(f"{LABELS[tool]}: {r['status']} {r.get('stderr_tail', '')}", flush=True)

    print(f"\n{'tool':<20} {'time':>10} {'peak RSS':>10} {'increase':>10} {'baseline':>10}")
    for tool in TOOLS:
        r = res[tool]
        if r["status"] != "ok":
            print(f"{LABELS[tool]:<20} {r['status']:>10}")
            continue
        print(
            f"{LABELS[tool]:<20} {r['time_s']:>8.3f} s {fmt_bytes(r['peak_rss_bytes']):>10} "
            f"{fmt_bytes(r['increase_bytes']):>10} {fmt_bytes(r['baseline_rss_bytes']):>10}"
        )

    speedups: dict[str, float] = {}
    for mine in ("seawall", "seawall-array"):
        for peer in ("evidently", "evidently-ks", "alibi"):
            if res[mine]["status"] == "ok" and res[peer]["status"] == "ok":
                speedups[f"{mine}/{peer}"] = res[peer]["time_s"] / res[mine]["time_s"]
    print("\nspeed-up of Seawall (peer's time / Seawall's time):")
    print(f"{'':<20} {'vs Evidently':>13} {'vs Evid. KS':>12} {'vs Alibi':>10}")
    for mine in ("seawall", "seawall-array"):
        cells = [speedups.get(f"{mine}/{peer}") for peer in ("evidently", "evidently-ks", "alibi")]
        text = [f"{c:.1f}x" if c is not None else "n/a" for c in cells]
        print(f"{LABELS[mine]:<20} {text[0]:>13} {text[1]:>12} {text[2]:>10}")

    targets: dict[str, Any] = {}
    vs_ev = speedups.get("seawall/evidently")
    vs_al = speedups.get("seawall-array/alibi")
    if vs_ev is not None:
        targets["vs_evidently"] = {"speedup": vs_ev, "met": vs_ev >= TARGET_VS_EVIDENTLY}
        print(
            f"target: Seawall (DataFrame) >= {TARGET_VS_EVIDENTLY:g}x Evidently's report: "
            f"{vs_ev:.1f}x, {'met' if vs_ev >= TARGET_VS_EVIDENTLY else 'MISSED'}"
        )
    if vs_al is not None:
        targets["vs_alibi"] = {"speedup": vs_al, "met": vs_al >= TARGET_VS_ALIBI}
        print(
            f"target: Seawall (ndarray) no slower than Alibi Detect's KSDrift: "
            f"{vs_al:.2f}x, {'met' if vs_al >= TARGET_VS_ALIBI else 'MISSED'}"
        )

    ref, cur = make_data(args.rows, args.seed)
    agree = agreement(res, ref, cur)
    del ref, cur
    print(f"\nagreement (truth: {', '.join(DRIFTED)}):")
    for tool, f in agree["flags"].items():
        note = (
            "all four, nothing else"
            if not f["missed"] and not f["extra"]
            else (f"missed {f['missed'] or 'none'}, extra {f['extra'] or 'none'}")
        )
        print(f"  {LABELS[tool]:<20} flags {', '.join(f['flagged']) or 'nothing'} ({note})")
    ev = res["evidently"]
    if ev["status"] == "ok":
        print(
            f"  Evidently's tests: {'; '.join(ev['methods'])}; its drifted-columns count: "
            f"{ev['drifted_count']}"
        )
    if "ks_max_abs_diff_vs_scipy" in agree:
        print(
            "  Seawall vs scipy.stats.ks_2samp(method='asymp') in float64: max |diff| "
            f"{agree['ks_max_abs_diff_vs_scipy']:.3g} (statistic), "
            f"{agree['p_max_abs_diff_vs_scipy']:.3g} (p-value)"
        )
    if "ks_max_abs_diff_vs_alibi" in agree:
        print(
            f"  KS statistic, Seawall vs Alibi Detect ({res['alibi']['dtype']}): max |diff| "
            f"{agree['ks_max_abs_diff_vs_alibi']:.3g}; equal after rounding Seawall's to "
            f"float32: {agree['ks_equal_as_float32']}"
        )
        print(
            f"  KS p-value, Seawall vs Alibi Detect: max |diff| "
            f"{agree['p_max_abs_diff_vs_alibi']:.3g}; equal after rounding to float32: "
            f"{agree['p_equal_as_float32']}"
        )
    if "wasserstein_normed_max_rel_diff_vs_evidently" in agree:
        print(
            "  Wasserstein / reference sd, Seawall vs Evidently: max relative diff "
            f"{agree['wasserstein_normed_max_rel_diff_vs_evidently']:.3g}"
        )
    if "p_max_abs_diff_vs_evidently_ks" in agree:
        print(
            "  KS p-value, Seawall vs Evidently's KS variant: max |diff| "
            f"{agree['p_max_abs_diff_vs_evidently_ks']:.3g} (Evidently uses ks_2samp's "
            "default method, exact up to 10,000 rows a window)"
        )

    load_end = os.getloadavg()
    print("load average at end: " + " ".join(f"{x:.2f}" for x in load_end))
    if args.json:
        report = {
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
            "versions": vers,
            "rows": args.rows,
            "features": N_FEATURES,
            "drifted": list(DRIFTED),
            "seed": args.seed,
            "repeat": args.repeat,
            "load_average": {"start": list(load_start), "end": list(load_end)},
            "results": res,
            "speedups": speedups,
            "targets": targets,
            "agreement": agree,
        }
        args.json.write_text(json.dumps(report, indent=2))
    return 0 if all(r["status"] == "ok" for r in res.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())

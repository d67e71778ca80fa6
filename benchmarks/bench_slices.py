"""Benchmark: weak-slice search, Seawall against sliceline (SliceLine).

DESIGN.md, "Measured targets", weak-slice / context scan row. On the data of
``seawall.datasets.make_slices(n, effects="planted", random_state=seed)``, with
the ten categorical features ``f0`` ... ``f9`` (2 to 8 values each) as the
context and ``y_true != y_pred`` as the error, both tools search conjunctions of
up to ``depth`` conditions for slices where the model errs more:

(a) Seawall, ``seawall.associations.profile_errors(y_true, y_pred, context=...,
    max_depth=depth)``, end to end: encoding, the search on one half of the rows
    with its support bound, Bonferroni over the search, the confirmation on the
    other half with exact/z tests, Holm's correction and the collapse of
    overlapping findings (defaults: ``min_support=50`` rows of the search half,
    ``alpha=0.05``);
(b) sliceline (DataDome's implementation of SliceLine, Sagadeeva & Boehm,
    SIGMOD 2021), ``Slicefinder(alpha=0.95, k=10, max_l=depth, min_sup=100)
    .fit(X, errors)``, with ``X`` the same ten columns (sliceline one-hot encodes
    them) and ``min_sup = 2 * 50``, Seawall's support on all the rows rather
    than on half of them.  ``alpha`` (``--sliceline-alpha``; the package's own
    default is 0.6) weighs a slice's error against its size in SliceLine's
    score; only slices with a positive score are returned.  sliceline runs with
    numba (``sliceline[optimized]``), as its documentation recommends.

Every configuration (tool, rows, depth) runs in a fresh subprocess of this
script, which sets an address-space limit on itself (``RLIMIT_AS``,
``--sliceline-mem-gib``, 8 GiB by default, for both tools; sliceline 0.3.0 needs
about 6.4 GiB at level 2 on 1M rows and more than the limit at level 3 on 100k
rows) and is killed after ``--timeout`` seconds, so that a peer running out of
memory is reported instead of endangering the machine.  The child makes
the data, calls the tool once on its first 20,000 rows (imports, numba's JIT
compilation), then records its resident memory as the *baseline* (interpreter,
libraries and the data), resets its peak-RSS counter (``/proc/self/clear_refs``)
and times the tool: best of ``--repeat`` runs (a single run when one takes over
10 s), ``time.perf_counter`` wall-clock seconds.  *Peak RSS* is the process's
resident high-water mark during those runs (``VmHWM``); *increase* is that peak
minus the baseline, the memory the call itself needed.

Seawall runs at ``--small-rows`` (100,000) and ``--rows`` (1,000,000) rows for
every depth; sliceline likewise, except where it already ran out of memory or
time at fewer rows and the same or a lower depth.  Both tools' top slices are
printed and checked against the two planted weak slices (``f1 = b and f4 = b``,
4% of rows, +0.15 error; ``f1 = d and f6 = c and f8 = b``, 0.5%, +0.30).

Run in the benchmark virtual environment (see ``requirements-bench.txt``)::

    .venv-bench/bin/python benchmarks/bench_slices.py
    .venv-bench/bin/python benchmarks/bench_slices.py --rows 200000 --skip-sliceline
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import reset_peak, status_kib  # noqa: E402

FEATURES = [f"f{j}" for j in range(10)]
SEAWALL_MIN_SUPPORT = 50  # profile_errors' default, in rows of the search half
SLICELINE_MIN_SUP = 2 * SEAWALL_MIN_SUPPORT  # the same support over all the rows
SLICELINE_K = 10
WARMUP_ROWS = 20_000
SINGLE_RUN_ABOVE_S = 10.0
TARGET_ROWS_PER_S = 300_000
TARGET_PEAK_BYTES = 1 << 30
RESULT_PREFIX = "RESULT "
Conditions = frozenset[tuple[str, str]]


# =========================================================================== child
# ``--child JSON`` runs one configuration and prints one RESULT line of JSON.


def _conditions(text: str) -> list[list[str]]:
    """``"f1 = b and f4 = b"`` as ``[["f1", "b"], ["f4", "b"]]``."""
    return [part.split(" = ", 1) for part in text.split(" and ")]


def _seawall_call(frame: Any, depth: int) -> Any:
    from seawall.associations import profile_errors

    return profile_errors(
        frame["y_true"], frame["y_pred"], context=frame[FEATURES], max_depth=depth
    )


def _seawall_findings(res: Any) -> list[dict[str, Any]]:
    f = res.findings
    return [
        {
            "kind": f.kind[i],
            "context": f.context[i],
            "conditions": _conditions(f.context[i]),
            "n_inside": int(f.n_inside[i]),
            "inside": float(f.inside[i]),
            "outside": float(f.outside[i]),
            "difference": float(f.difference[i]),
            "lower": float(f.difference_lower[i]),
            "upper": float(f.difference_upper[i]),
            "p_adjusted": float(f.p_adjusted[i]),
        }
        for i in range(len(f.context))
    ]


def _sliceline_call(X: Any, errors: Any, depth: int, alpha: float) -> Any:
    from sliceline.slicefinder import Slicefinder

    sf = Slicefinder(
        alpha=alpha, k=SLICELINE_K, max_l=depth, min_sup=SLICELINE_MIN_SUP, verbose=False
    )
    return sf.fit(X, errors)


def _sliceline_findings(sf: Any, n: int) -> list[dict[str, Any]]:
    out = []
    total = sf.average_error_ * n
    for row, stats in zip(sf.top_slices_, sf.top_slices_statistics_, strict=True):
        conds = [[name, str(v)] for name, v in zip(FEATURES, row, strict=True) if v is not None]
        size, err = stats["slice_size"], stats["sum_slice_error"]
        outside = (total - err) / (n - size) if n > size else float("nan")
        out.append(
            {
                "context": " and ".join(f"{c} = {v}" for c, v in conds),
                "conditions": conds,
                "n_inside": int(size),
                "inside": stats["slice_average_error"],
                "outside": outside,
                "difference": stats["slice_average_error"] - outside,
                "score": stats["slice_score"],
            }
        )
    return out


def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    """Measure one configuration in this (fresh) process."""
    limit = int(spec["mem_gib"] * (1 << 30))
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import numpy as np

    from seawall.datasets import make_slices

    tool, rows, depth, repeat = spec["tool"], spec["rows"], spec["depth"], spec["repeat"]
    data = make_slices(rows, effects="planted", random_state=spec["seed"])
    frame = data.frame[[*FEATURES, "y_true", "y_pred"]].copy()
    del data
    fn: Callable[[], Any]
    if tool == "seawall":
        _seawall_call(frame.iloc[:WARMUP_ROWS], depth)

        def fn() -> Any:
            return _seawall_call(frame, depth)

    else:
        X = frame[FEATURES]
        errors = (frame["y_true"].to_numpy() != frame["y_pred"].to_numpy()).astype(np.float64)
        # Compiles sliceline's numba kernels (used from level 2 on) before timing.
        _sliceline_call(X.iloc[:5000], errors[:5000], min(depth, 2), spec["alpha"])

        def fn() -> Any:
            return _sliceline_call(X, errors, depth, spec["alpha"])

    gc.collect()
    base = status_kib()
    reset = reset_peak()
    best, cpu, runs, res = float("inf"), float("nan"), 0, None
    status = "ok"
    try:
        for _ in range(max(1, repeat)):
            res = None
            gc.collect()
            t0, c0 = time.perf_counter(), time.process_time()
            res = fn()
            wall, used = time.perf_counter() - t0, time.process_time() - c0
            runs += 1
            if wall < best:
                best, cpu = wall, used
            if wall > SINGLE_RUN_ABOVE_S:
                break
    except MemoryError:
        res = None
        status = "oom"
    gc.collect()
    after = status_kib()
    peak_kib = after["VmHWM"] if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out: dict[str, Any] = {
        "status": status,
        "time_s": best if status == "ok" else None,
        "cpu_s": cpu if status == "ok" else None,
        "runs": runs,
        "baseline_rss_bytes": base["VmRSS"] * 1024,
        "baseline_vmsize_bytes": base["VmSize"] * 1024,
        "peak_rss_bytes": peak_kib * 1024,
        "peak_reset": reset,
        "findings": [],
    }
    if status == "ok":
        if tool == "seawall":
            out["findings"] = _seawall_findings(res)
            out["n_hypotheses"] = len(res.hypotheses.context)
        else:
            out["findings"] = _sliceline_findings(res, rows)
    return out


# =========================================================================== parent


def measure(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run one configuration in a subprocess; its result, or why there is none."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "findings": [], "elapsed_s": time.perf_counter() - t0}
    elapsed = time.perf_counter() - t0
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return {**json.loads(line[len(RESULT_PREFIX) :]), "elapsed_s": elapsed}
    err = proc.stderr.strip().splitlines()
    oom = any(s in proc.stderr for s in ("MemoryError", "bad_alloc", "Unable to allocate"))
    return {
        "status": "oom" if oom else "failed",
        "findings": [],
        "elapsed_s": elapsed,
        "returncode": proc.returncode,
        "stderr_tail": err[-5:],
    }


def status_text(r: dict[str, Any], mem_gib: float, timeout: float) -> str:
    """The status column."""
    s = r["status"]
    if s == "ok":
        return "ok"
    if s == "oom":
        return f"out of memory at the {mem_gib:g} GiB limit"
    if s == "timeout":
        return f"timed out after {timeout:g} s"
    if s == "skipped":
        return r["reason"]
    return f"failed (exit {r.get('returncode')}): {(r.get('stderr_tail') or ['?'])[-1]}"


def fmt_bytes(b: float | None) -> str:
    """Bytes in MiB or GiB."""
    if b is None:
        return "—"
    if abs(b) >= 1 << 30:
        return f"{b / (1 << 30):.2f} GiB"
    return f"{b / (1 << 20):.0f} MiB"


def fmt_seconds(t: float | None) -> str:
    """Seconds, in the unit that reads best."""
    if t is None:
        return "—"
    if t >= 1.0:
        return f"{t:.2f} s"
    return f"{t * 1e3:.1f} ms"


def planted_slices() -> dict[str, Conditions]:
    """The planted effects' contexts by kind and description (weak slices first)."""
    from seawall.datasets import make_slices

    out: dict[str, Conditions] = {}
    for e in make_slices(1000, effects="planted", random_state=0).effects:
        if e.context:
            name = " and ".join(f"{c} = {v}" for c, v in e.context)
            out[f"{e.kind}: {name}"] = frozenset(e.context)
    return out


def match_planted(findings: list[dict[str, Any]], planted: Conditions) -> str:
    """How a planted slice shows among the findings: exact, partial (which) or missed."""
    found = [(f["context"], frozenset(map(tuple, f["conditions"]))) for f in findings]
    for text, conds in found:
        if conds == planted:
            return f"found exactly ({text})"
    near = [text for text, conds in found if conds < planted or conds > planted]
    if near:
        return "partly: " + "; ".join(near)
    return "missed"


def versions() -> dict[str, str]:
    """Versions of Python and of the packages in play."""
    out = {"python": platform.python_version()}
    for pkg in ("numpy", "pandas", "scipy", "scikit-learn", "numba", "sliceline", "seawall"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def print_findings(r: dict[str, Any], tool: str, known: dict[str, Conditions]) -> None:
    """The findings of one configuration, one line each."""
    if not r["findings"]:
        if r["status"] == "ok":
            print("    no findings")
        return
    label = {conds: name.split(":")[0] for name, conds in known.items()}
    for f in r["findings"]:
        conds = frozenset(map(tuple, f["conditions"]))
        tag = f"  [planted {label[conds]}]" if conds in label else ""
        if tool == "seawall":
            print(
                f"    {f['context']:<32} n={f['n_inside']:>7,}  error {f['inside']:.3f} vs "
                f"{f['outside']:.3f}  difference {f['difference']:+.4f} "
                f"[{f['lower']:+.4f}, {f['upper']:+.4f}]{tag}"
            )
        else:
            print(
                f"    {f['context']:<32} n={f['n_inside']:>7,}  error {f['inside']:.3f} vs "
                f"{f['outside']:.3f}  difference {f['difference']:+.4f}  "
                f"score {f['score']:.3f}{tag}"
            )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the large data")
    parser.add_argument(
        "--small-rows", type=int, default=100_000, help="rows of the small data (0: skip)"
    )
    parser.add_argument("--depths", default="1,2,3", help="comma-separated depths (max_l)")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data")
    parser.add_argument(
        "--sliceline-mem-gib",
        type=float,
        default=8.0,
        help="address-space limit (RLIMIT_AS) of every measured subprocess, in GiB",
    )
    parser.add_argument(
        "--sliceline-alpha",
        type=float,
        default=0.95,
        help="sliceline's alpha, the weight of error against size in its score "
        "(its own default is 0.6)",
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds before a subprocess is killed"
    )
    parser.add_argument("--skip-sliceline", action="store_true", help="run Seawall only")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run_all(
    args: argparse.Namespace, sizes: list[int], depths: list[int], known: dict[str, Conditions]
) -> list[dict[str, Any]]:
    """Measure every configuration, printing each as it finishes."""
    tools = ["seawall"] if args.skip_sliceline else ["seawall", "sliceline"]
    weak = {k: v for k, v in known.items() if k.startswith("weak_slice")}
    results: list[dict[str, Any]] = []
    failed: list[tuple[str, int, int, str]] = []  # out of memory or time: tool, rows, depth
    for rows in sizes:
        for depth in depths:
            for tool in tools:
                prior = [
                    (n, d, why) for t, n, d, why in failed if t == tool and n < rows and d <= depth
                ]
                if prior:
                    n, d, why = prior[0]
                    reason = f"skipped: {why} at {n:,} rows, depth {d}"
                    r: dict[str, Any] = {"status": "skipped", "findings": [], "reason": reason}
                else:
                    spec = {
                        "tool": tool,
                        "rows": rows,
                        "depth": depth,
                        "repeat": args.repeat,
                        "seed": args.seed,
                        "mem_gib": args.sliceline_mem_gib,
                        "alpha": args.sliceline_alpha,
                    }
                    r = measure(spec, args.timeout)
                if r["status"] in ("oom", "timeout"):
                    why = "out of memory" if r["status"] == "oom" else "timed out"
                    failed.append((tool, rows, depth, why))
                r.update(tool=tool, rows=rows, depth=depth)
                r["status_text"] = status_text(r, args.sliceline_mem_gib, args.timeout)
                r["rows_per_s"] = rows / r["time_s"] if r.get("time_s") else None
                results.append(r)
                line = f"{tool:<9} {rows:>9,} rows depth {depth}: {r['status_text']}"
                if r["status"] == "ok":
                    line += (
                        f", {fmt_seconds(r['time_s'])} (best of {r['runs']}, CPU "
                        f"{fmt_seconds(r['cpu_s'])}), peak RSS {fmt_bytes(r['peak_rss_bytes'])}"
                        f" (+{fmt_bytes(r['peak_rss_bytes'] - r['baseline_rss_bytes'])})"
                    )
                elif "elapsed_s" in r:
                    line += f" (subprocess ran {fmt_seconds(r['elapsed_s'])})"
                print(line, flush=True)
                print_findings(r, tool, known)
                if r["status"] == "ok":
                    r["planted"] = {k: match_planted(r["findings"], v) for k, v in weak.items()}
                    for k, v in r["planted"].items():
                        print(f"    planted {k.split(': ', 1)[1]}: {v}")
    return results


def print_table(results: list[dict[str, Any]]) -> None:
    """One line per configuration (CPU: the process's CPU time in the best run)."""
    header = (
        f"{'rows':>9}  {'depth':>5}  {'tool':<9}  {'time':>9}  {'CPU':>9}  {'rows/s':>11}  "
        f"{'peak RSS':>9}  {'increase':>9}  status"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        peak = r.get("peak_rss_bytes")
        inc = peak - r["baseline_rss_bytes"] if peak is not None else None
        rate = f"{r['rows_per_s']:,.0f}" if r["rows_per_s"] else "—"
        print(
            f"{r['rows']:>9,}  {r['depth']:>5}  {r['tool']:<9}  {fmt_seconds(r.get('time_s')):>9}"
            f"  {fmt_seconds(r.get('cpu_s')):>9}  {rate:>11}  {fmt_bytes(peak):>9}"
            f"  {fmt_bytes(inc):>9}  {r['status_text']}"
        )


def speed_ratios(results: list[dict[str, Any]]) -> dict[str, float]:
    """sliceline's time over Seawall's, where both finished."""
    done = {(r["tool"], r["rows"], r["depth"]): r for r in results if r["status"] == "ok"}
    ratios: dict[str, float] = {}
    for (tool, rows, depth), sl in done.items():
        sw = done.get(("seawall", rows, depth))
        if tool == "sliceline" and sw is not None:
            ratios[f"{rows} rows, depth {depth}"] = sl["time_s"] / sw["time_s"]
            print(
                f"speed, sliceline time / Seawall time at {rows:,} rows, depth {depth}: "
                f"{sl['time_s'] / sw['time_s']:,.1f}×"
            )
    if not ratios:
        print("speed ratio: no configuration where both finished")
    return ratios


def print_target(results: list[dict[str, Any]], rows: int, depth: int) -> None:
    """Seawall against DESIGN.md's target at ``rows`` rows and ``depth``."""
    for r in results:
        if (r["tool"], r["rows"], r["depth"], r["status"]) == ("seawall", rows, depth, "ok"):
            rate, peak = r["rows_per_s"], r["peak_rss_bytes"]
            fast = "met" if rate >= TARGET_ROWS_PER_S else "MISSED"
            small = "met" if peak <= TARGET_PEAK_BYTES else "MISSED"
            print(
                f"target (Seawall, {rows:,} rows, depth {depth}): {rate:,.0f} rows/s "
                f"(target >= {TARGET_ROWS_PER_S:,}: {fast}); peak RSS {fmt_bytes(peak)} "
                f"(target <= 1 GiB: {small}), of which "
                f"{fmt_bytes(peak - r['baseline_rss_bytes'])} above the baseline"
            )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return 0 when Seawall finished every configuration."""
    args = parse_args(argv)
    if args.child:
        out = run_child(json.loads(args.child))
        print(RESULT_PREFIX + json.dumps(out))
        return 0

    depths = [int(d) for d in args.depths.split(",")]
    sizes = sorted({n for n in (args.small_rows, args.rows) if n > 0})
    vers = versions()
    print("versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()))
    load_start = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load_start[0]:.2f} "
        f"{load_start[1]:.2f} {load_start[2]:.2f} at start"
    )
    known = planted_slices()
    print(
        f"data: make_slices(n, effects='planted', random_state={args.seed}), context "
        f"{FEATURES[0]}..{FEATURES[-1]}, error = y_true != y_pred; rows {sizes}, depths {depths}"
    )
    print(
        "planted weak slices: "
        + "; ".join(k.split(": ", 1)[1] for k in known if k.startswith("weak_slice"))
    )
    print(
        f"seawall: profile_errors(max_depth=d), min_support={SEAWALL_MIN_SUPPORT}, alpha=0.05; "
        f"sliceline: Slicefinder(alpha={args.sliceline_alpha:g}, k={SLICELINE_K}, max_l=d, "
        f"min_sup={SLICELINE_MIN_SUP})"
    )
    print(
        f"each in a subprocess limited to {args.sliceline_mem_gib:g} GiB of address space "
        f"and {args.timeout:g} s; best of {args.repeat} (one run when it takes > "
        f"{SINGLE_RUN_ABOVE_S:g} s)"
    )
    print()

    results = run_all(args, sizes, depths, known)
    print()
    print_table(results)
    print()
    ratios = speed_ratios(results)
    print_target(results, args.rows, max(depths))
    if any(not r.get("peak_reset", True) for r in results):
        print("note: /proc/self/clear_refs unavailable: peaks include making the data")
    load_end = os.getloadavg()
    print(
        f"load average {load_start[0]:.2f} at start, {load_end[0]:.2f} at end "
        f"({os.cpu_count()} CPUs)"
    )

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "rows": sizes,
            "depths": depths,
            "seed": args.seed,
            "repeat": args.repeat,
            "mem_limit_gib": args.sliceline_mem_gib,
            "timeout_s": args.timeout,
            "parameters": {
                "seawall": {"min_support": SEAWALL_MIN_SUPPORT, "alpha": 0.05},
                "sliceline": {
                    "alpha": args.sliceline_alpha,
                    "k": SLICELINE_K,
                    "min_sup": SLICELINE_MIN_SUP,
                },
            },
            "versions": vers,
            "results": results,
            "speed_ratio_sliceline_over_seawall": ratios,
            "load_average_start_end": [load_start[0], load_end[0]],
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        print(f"results written to {args.json}")
    return 0 if all(r["status"] == "ok" for r in results if r["tool"] == "seawall") else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: group metrics and their gaps, Seawall against its peers.

DESIGN.md, "Measured targets", first two rows.  On one synthetic data set
(``_peers.make_data``: ``--rows`` rows, binary y_true / y_pred, a score, ``sex``
with 2 groups, ``race`` with 5 groups, and sex×race), every tool computes
selection rate, TPR, FPR, FNR, precision and accuracy per group of sex, race and
sex×race, with the difference and ratio to a reference group and the spread
(max - min, min / max) across groups:

(a) Fairlearn ``MetricFrame`` (one per grouping),
(b) Aequitas ``Group().get_crosstabs`` + ``Bias().get_disparity_predefined_groups``,
(c) a one-pass numpy ``np.bincount`` reference,
(d) Seawall (``run_seawall`` below; skipped while it raises NotImplementedError).

All run in this one process on the same data.  Times are ``time.perf_counter``
wall-clock seconds, best of ``--repeat`` runs, except Fairlearn which runs once
(tens of seconds).  The numbers of all tools are checked to agree to 1e-9.  The
cost of one Fairlearn bootstrap replicate is measured as the time of
``MetricFrame(..., n_boot=1, ci_quantiles=[0.025, 0.975])`` minus that of the
plain ``MetricFrame``, per grouping.

Aequitas needs pandas < 3: run in the benchmark virtual environment::

    python3 -m venv .venv-bench
    .venv-bench/bin/pip install -r benchmarks/requirements-bench.txt
    .venv-bench/bin/pip install -e .
    .venv-bench/bin/python benchmarks/bench_group_metrics.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _peers  # noqa: E402

TOLERANCE = 1e-9


# =========================================================================== Seawall
# ``run_seawall(data)`` is the TIMED call: everything a user gets from one call of
# ``seawall.metrics.group_metrics``: every rate of every group of sex, race and
# sex×race with its Wilson interval, every difference and ratio to the reference with
# Newcombe/Katz intervals and Fisher/z p-values, Holm-adjusted, and the spreads with
# simultaneous intervals and chi-square tests. ``tidy_seawall`` (not timed) reads the
# point estimates out of that result for the agreement check.


def run_seawall(data: pd.DataFrame) -> Any:
    """Seawall's group metrics, intervals, tests and gaps on ``data`` (timed)."""
    from seawall.metrics import group_metrics

    return group_metrics(
        data["y_true"],
        data["y_pred"],
        # A dict of columns (a DataFrame works too; selecting data[["sex", "race"]]
        # copies the columns first, which costs about 1 ms of the total).
        sensitive_features={"sex": data["sex"], "race": data["race"]},
        reference={"sex": _peers.REFERENCE["sex"], "race": _peers.REFERENCE["race"]},
    )


def run_seawall_bootstrap(data: pd.DataFrame, n_bootstrap: int) -> Any:
    """The same with scores: AUC, Brier and ECE with ``n_bootstrap`` replicates (timed)."""
    from seawall.metrics import group_metrics

    return group_metrics(
        data["y_true"],
        data["y_pred"],
        y_score=data["y_score"],
        sensitive_features={"sex": data["sex"], "race": data["race"]},
        reference={"sex": _peers.REFERENCE["sex"], "race": _peers.REFERENCE["race"]},
        n_bootstrap=n_bootstrap,
    )


def tidy_seawall(result: Any) -> pd.DataFrame:
    """Seawall's result as a ``_peers`` tidy frame (not timed)."""
    metrics = set(_peers.METRICS)
    m = result.metrics.to_frame()
    m = m[m.metric.isin(metrics)]
    parts = [m[["grouping", "group", "metric", "value"]]]
    d = result.disparities.to_frame()
    d = d[d.metric.isin(metrics)]
    suffix = {"difference": "_diff", "ratio": "_ratio"}
    parts.append(
        d.assign(metric=d.metric + d.kind.map(suffix))[["grouping", "group", "metric", "value"]]
    )
    # The reference group against itself: difference 0, ratio 1 (the peers list it).
    refs = result.groups.to_frame().query("reference")
    for grouping, group in zip(refs.grouping, refs.group, strict=True):
        for metric in _peers.METRICS:
            for kind, value in (("_diff", 0.0), ("_ratio", 1.0)):
                parts.append(
                    pd.DataFrame(
                        {
                            "grouping": [grouping],
                            "group": [group],
                            "metric": [metric + kind],
                            "value": [value],
                        }
                    )
                )
    s = result.summary.to_frame()
    s = s[s.metric.isin(metrics)]
    spread = {"difference": "_max_minus_min", "ratio": "_min_over_max"}
    parts.append(
        s.assign(group=_peers.ALL_GROUPS, metric=s.metric + s.kind.map(spread))[
            ["grouping", "group", "metric", "value"]
        ]
    )
    out = pd.concat(parts, ignore_index=True)
    out["grouping"] = out["grouping"].replace({"sex×race": _peers.INTERSECTION})
    return out[_peers.TIDY_COLUMNS]


# =========================================================================== timing


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall-clock time of ``repeat`` calls of ``fn`` and the last result."""
    best = float("inf")
    result: Any = None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def fmt_seconds(t: float | None) -> str:
    """Seconds, in the unit that reads best."""
    if t is None:
        return "—"
    if t >= 1.0:
        return f"{t:8.2f} s "
    if t >= 1e-3:
        return f"{t * 1e3:8.2f} ms"
    return f"{t * 1e6:8.1f} µs"


def fmt_ratio(num: float | None, den: float | None) -> str:
    """``num / den`` as ``123.4×``, or n/a when either side is missing."""
    if num is None or den is None or den <= 0:
        return "n/a"
    return f"{num / den:,.1f}×"


def versions() -> dict[str, str]:
    """Versions of Python and of the packages in play."""
    out = {"python": platform.python_version()}
    for pkg in ("numpy", "pandas", "scikit-learn", "scipy", "fairlearn", "aequitas", "seawall"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


# =========================================================================== main


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return 0 when all tools agree, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of data")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument(
        "--skip-fairlearn", action="store_true", help="skip Fairlearn (and its bootstrap)"
    )
    parser.add_argument(
        "--skip-bootstrap",
        action="store_true",
        help="skip the Fairlearn bootstrap-replicate measurement",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)

    vers = versions()
    print("versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()))
    load_start = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load_start[0]:.2f} at start")
    t0 = time.perf_counter()
    df = _peers.make_data(args.rows, args.seed)
    print(
        f"data: {len(df):,} rows, sex {df['sex'].cat.categories.size} groups, "
        f"race {df['race'].cat.categories.size} groups, seed {args.seed} "
        f"(made in {time.perf_counter() - t0:.2f} s)"
    )
    print(f"metrics: {', '.join(_peers.METRICS)}; reference groups: {_peers.REFERENCE}")
    # Import the peers before any timing (Aequitas pulls in altair, matplotlib, seaborn).
    imports = _peers.import_peers()
    print("imported before timing: " + ", ".join(f"{k} {v}" for k, v in imports.items()))
    print()

    times: dict[str, float | None] = {}
    tidy: dict[str, pd.DataFrame] = {}
    notes: list[str] = []
    details: dict[str, Any] = {}

    # (c) numpy bincount reference.
    times["bincount"], res = best_of(lambda: _peers.compute_bincount(df), args.repeat)
    tidy["bincount"] = _peers.tidy_bincount(res)
    print(f"bincount  done: {fmt_seconds(times['bincount'])} (best of {args.repeat})")

    # (d) Seawall: the full result (intervals, tests, adjustment), then with scores and
    # 1,000 bootstrap replicates of the count tables.
    run_seawall(df.iloc[:1000])  # first call pays for imports; not what is measured
    times["seawall"], res = best_of(lambda: run_seawall(df), max(args.repeat, 5))
    tidy["seawall"] = tidy_seawall(res)
    print(f"seawall   done: {fmt_seconds(times['seawall'])} (best of {max(args.repeat, 5)})")
    times["seawall 1,000 bootstrap replicates"], _ = best_of(
        lambda: run_seawall_bootstrap(df, 1000), args.repeat
    )
    times["seawall scores, no bootstrap"], _ = best_of(
        lambda: run_seawall_bootstrap(df, 0), args.repeat
    )
    print(
        f"seawall   with scores and 1,000 bootstrap replicates: "
        f"{fmt_seconds(times['seawall 1,000 bootstrap replicates'])} "
        f"(without the bootstrap {fmt_seconds(times['seawall scores, no bootstrap']).strip()})"
    )

    # (b) Aequitas.  The category -> object conversion of sex and race is a format
    # requirement of Aequitas (get_crosstabs raises TypeError on category columns), so
    # it is done once, outside the timed region, and its cost is reported apart.  The
    # sex×race column that Aequitas needs for an intersection is built inside the timed
    # region (see _peers.aequitas_intersection_column).
    t0 = time.perf_counter()
    aeq_input = _peers.prepare_aequitas(df)
    aeq_prepare = time.perf_counter() - t0
    aeq_steps: dict[str, float] = {}
    best_steps: dict[str, float] = {}

    def aequitas_once() -> Any:
        out = _peers.compute_aequitas(aeq_input, timings=aeq_steps)
        for k, v in aeq_steps.items():
            best_steps[k] = min(best_steps.get(k, float("inf")), v)
        return out

    times["aequitas"], res = best_of(aequitas_once, args.repeat)
    tidy["aequitas"] = _peers.tidy_aequitas(res)
    details["aequitas_untimed_format_conversion_s"] = aeq_prepare
    details["aequitas_steps_best_s"] = best_steps
    print(
        f"aequitas  done: {fmt_seconds(times['aequitas'])} (best of {args.repeat}; "
        f"untimed category->object conversion {fmt_seconds(aeq_prepare).strip()})"
    )
    for k, v in best_steps.items():
        print(f"            {k:<40} {fmt_seconds(v)}")

    # (a) Fairlearn, once.
    boot_cost: float | None = None
    if args.skip_fairlearn:
        times["fairlearn"] = None
        notes.append("Fairlearn skipped (--skip-fairlearn).")
    else:
        fl_steps: dict[str, float] = {}
        t0, c0 = time.perf_counter(), time.process_time()
        res = _peers.compute_fairlearn(df, timings=fl_steps)
        times["fairlearn"] = time.perf_counter() - t0
        fl_cpu = time.process_time() - c0
        details["fairlearn_cpu_s"] = fl_cpu
        tidy["fairlearn"] = _peers.tidy_fairlearn(res)
        del res
        details["fairlearn_per_grouping_s"] = fl_steps
        # CPU time well below wall time means other processes were competing.
        print(
            f"fairlearn done: {fmt_seconds(times['fairlearn'])} (one run; "
            f"process CPU time {fmt_seconds(fl_cpu).strip()})"
        )
        for k, v in fl_steps.items():
            print(f"            MetricFrame {k:<28} {fmt_seconds(v)}")

        if not args.skip_bootstrap:
            # One bootstrap replicate: MetricFrame with n_boot=1 (Fairlearn >= 0.10)
            # minus the plain MetricFrame of the same grouping, measured above.
            boot_steps: dict[str, float] = {}
            c0 = time.process_time()
            _peers.compute_fairlearn(
                df, timings=boot_steps, n_boot=1, ci_quantiles=[0.025, 0.975], random_state=0
            )
            boot_cpu = time.process_time() - c0
            details["fairlearn_n_boot_1_cpu_s"] = boot_cpu
            per_grouping = {k: boot_steps[k] - fl_steps[k] for k in fl_steps}
            boot_cost = sum(per_grouping.values())
            details["fairlearn_n_boot_1_per_grouping_s"] = boot_steps
            details["fairlearn_replicate_per_grouping_s"] = per_grouping
            print(
                "fairlearn one bootstrap replicate (n_boot=1 minus plain): "
                f"{fmt_seconds(boot_cost)} for the three groupings (n_boot=1 runs: "
                f"{fmt_seconds(sum(boot_steps.values())).strip()} wall, "
                f"{fmt_seconds(boot_cpu).strip()} process CPU)"
            )
            for k, v in per_grouping.items():
                print(
                    f"            {k:<40} {fmt_seconds(v)} "
                    f"(n_boot=1 run {fmt_seconds(boot_steps[k]).strip()})"
                )
    times["fairlearn bootstrap replicate"] = boot_cost
    print()

    # Agreement.
    ok = True
    names = list(tidy)
    agreement: dict[str, float] = {}
    print(f"agreement (max |difference| over {len(tidy['bincount'])} numbers, tolerance 1e-9):")
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            missing = _peers.missing_rows(tidy[a], tidy[b])
            diff = _peers.compare(tidy[a], tidy[b])
            agreement[f"{a} vs {b}"] = diff
            good = diff <= TOLERANCE and missing.empty
            ok &= good
            extra = "" if missing.empty else f"; {len(missing)} rows in only one of them"
            print(f"  {a:>9} vs {b:<9} {diff:.3g}{extra}  {'OK' if good else 'MISMATCH'}")
    print()

    # Table.
    print(f"{'tool':<32} {'time':>11}")
    for name in (
        "fairlearn",
        "aequitas",
        "bincount",
        "seawall",
        "fairlearn bootstrap replicate",
        "seawall 1,000 bootstrap replicates",
    ):
        print(f"{name:<32} {fmt_seconds(times[name]):>11}")
    print()
    fl, aq, bc, sw = times["fairlearn"], times["aequitas"], times["bincount"], times["seawall"]
    ratios = {
        "Fairlearn / Seawall": fmt_ratio(fl, sw),
        "Aequitas / Seawall": fmt_ratio(aq, sw),
        "Seawall / bincount": fmt_ratio(sw, bc),
        "Fairlearn / bincount": fmt_ratio(fl, bc),
        "Aequitas / bincount": fmt_ratio(aq, bc),
        "Fairlearn 1 replicate / Seawall 1,000": fmt_ratio(
            times["fairlearn bootstrap replicate"], times["seawall 1,000 bootstrap replicates"]
        ),
    }
    for k, v in ratios.items():
        print(f"{k:<32} {v:>11}")
    for note in notes:
        print("note: " + note)
    load_end = os.getloadavg()
    details["load_average_start_end"] = [load_start[0], load_end[0]]
    print(f"load average {load_start[0]:.2f} at start, {load_end[0]:.2f} at end")
    print("all tools agree" if ok else "TOOLS DISAGREE")

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "rows": args.rows,
            "seed": args.seed,
            "repeat": args.repeat,
            "versions": vers,
            "times_s": times,
            "ratios": ratios,
            "agreement_max_abs_diff": agreement,
            "agree": ok,
            "details": details,
            "notes": notes,
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        print(f"results written to {args.json}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

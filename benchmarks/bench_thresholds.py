"""Benchmark: group-specific threshold post-processing, Seawall against Fairlearn.

DESIGN.md, "Measured targets", post-processing row: ``ThresholdPostprocessor``
fit + predict at least 15x faster than Fairlearn's ``ThresholdOptimizer`` at 1M
rows, with an objective within 1e-3 of Fairlearn's.

Data (``numpy.random.default_rng(seed)``): ``--rows`` rows in three groups
(55/30/15%) with base rates 0.30/0.45/0.60, and a continuous score
``sigmoid(N(0, 1) + 1.2 y - 0.3 group)`` -- every score distinct, as a
``predict_proba`` column is. The groups are a pandas categorical column
(``--groups str`` for a NumPy array of strings).

Both tools get the same "model": a prefit estimator whose ``predict_proba``
returns the score (the first column of ``X``), with
``predict_method="predict_proba"`` / ``score_method="predict_proba"``:

(a) Seawall, ``ThresholdPostprocessor(model, prefit=True, constraint=c)``,
    ``.fit(X, y, sensitive_features=g)`` then ``.predict(X, sensitive_features=g,
    random_state=0)``;
(b) Fairlearn, ``ThresholdOptimizer(estimator=model, prefit=True,
    constraints=c', objective="accuracy_score")`` with ``c'`` =
    ``true_positive_rate_parity`` / ``equalized_odds`` / ``demographic_parity``,
    the same two calls (``random_state=0``).

Timed: fit + predict on all the rows. Every (tool, constraint) runs in a fresh
subprocess, which makes the data, calls the tool once on 20,000 rows (imports,
caches), records its resident memory as the *baseline*, resets its peak-RSS
counter (``/proc/self/clear_refs``) and times the calls: best of ``--repeat``
runs (one when a run takes over 10 s). *Increase* is the resident high-water mark
(``VmHWM``) during those runs minus the baseline.

Compared (not timed): the *expected* accuracy of each tool's randomised rule on
the rows it was fitted on (Seawall: ``positive_probability``; Fairlearn: the
per-row probability its ``predict`` draws from, ``_pmf_predict``), the accuracy
of the predictions actually drawn, and the largest gap between groups of the
constrained rate(s), in expectation. Seawall solves the linear program exactly,
Fairlearn on a grid of 1,001 rates, so Seawall's objective should be at least
Fairlearn's and within 1e-3 of it; the script exits non-zero otherwise.

Run in the benchmark virtual environment (see ``requirements-bench.txt``)::

    .venv-bench/bin/python benchmarks/bench_thresholds.py
    .venv-bench/bin/python benchmarks/bench_thresholds.py --quick
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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import reset_peak, status_kib, versions  # noqa: E402

RESULT_PREFIX = "RESULT "
WARMUP_ROWS = 20_000
SINGLE_RUN_ABOVE_S = 10.0
TARGET_SPEEDUP = 15.0
TARGET_OBJECTIVE_GAP = 1e-3
FAIRLEARN = {
    "equal_opportunity": "true_positive_rate_parity",
    "equalized_odds": "equalized_odds",
    "demographic_parity": "demographic_parity",
}


# =========================================================================== child


def make_data(rows: int, seed: int, groups: str) -> tuple[Any, Any, Any]:
    """Scores as a one-column X, labels, and the groups."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    code = rng.choice(3, size=rows, p=[0.55, 0.30, 0.15])
    y = (rng.random(rows) < np.array([0.30, 0.45, 0.60])[code]).astype(np.int64)
    score = 1.0 / (1.0 + np.exp(-(rng.normal(size=rows) + 1.2 * y - 0.3 * code)))
    labels = np.array(["A", "B", "C"])[code]
    g = pd.Series(pd.Categorical(labels)) if groups == "category" else labels
    return score.reshape(-1, 1), y, g


def _model() -> Any:
    import numpy as np
    from sklearn.base import BaseEstimator, ClassifierMixin

    class ScoreModel(ClassifierMixin, BaseEstimator):
        """A fitted "model" whose positive-class probability is X[:, 0]."""

        def fit(self, X: Any, y: Any) -> Any:
            self.classes_ = np.array([0, 1])
            self.n_features_in_ = 1
            return self

        def predict_proba(self, X: Any) -> Any:
            s = np.asarray(X, dtype=np.float64)[:, 0]
            return np.column_stack([1.0 - s, s])

    return ScoreModel().fit(None, None)


def _seawall(model: Any, constraint: str) -> tuple[Any, Any]:
    from seawall.mitigation._thresholds import ThresholdPostprocessor

    est = ThresholdPostprocessor(
        model, constraint=constraint, prefit=True, score_method="predict_proba"
    )

    def run(X: Any, y: Any, g: Any) -> Any:
        est.fit(X, y, sensitive_features=g)
        return est.predict(X, sensitive_features=g, random_state=0)

    def prob(X: Any, g: Any) -> Any:
        return est.positive_probability(X, sensitive_features=g)

    return run, prob


def _fairlearn(model: Any, constraint: str) -> tuple[Any, Any]:
    from fairlearn.postprocessing import ThresholdOptimizer

    est = ThresholdOptimizer(
        estimator=model,
        constraints=FAIRLEARN[constraint],
        objective="accuracy_score",
        prefit=True,
        predict_method="predict_proba",
    )

    def run(X: Any, y: Any, g: Any) -> Any:
        est.fit(X, y, sensitive_features=g)
        return est.predict(X, sensitive_features=g, random_state=0)

    def prob(X: Any, g: Any) -> Any:
        return est._pmf_predict(X, sensitive_features=g)[:, 1]

    return run, prob


def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    """Measure one (tool, constraint) in this fresh process."""
    import warnings

    import numpy as np

    warnings.simplefilter("ignore")  # Fairlearn's FutureWarnings
    X, y, g = make_data(spec["rows"], spec["seed"], spec["groups"])
    model = _model()
    make = _seawall if spec["tool"] == "seawall" else _fairlearn
    run, prob = make(model, spec["constraint"])
    w = min(WARMUP_ROWS, len(y))
    run(X[:w], y[:w], g[:w])
    gc.collect()
    base = status_kib()
    reset = reset_peak()
    best, cpu, runs, pred = float("inf"), float("nan"), 0, None
    for _ in range(max(1, spec["repeat"])):
        pred = None
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        pred = run(X, y, g)
        wall, used = time.perf_counter() - t0, time.process_time() - c0
        runs += 1
        if wall < best:
            best, cpu = wall, used
        if wall > SINGLE_RUN_ABOVE_S:
            break
    after = status_kib()
    peak_kib = after["VmHWM"] if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Not timed: what the rule achieves on the fit rows, in expectation and as drawn.
    p = np.asarray(prob(X, g), dtype=np.float64)
    codes = np.asarray(g.cat.codes if hasattr(g, "cat") else np.unique(g, return_inverse=True)[1])
    tpr = [p[(codes == k) & (y == 1)].mean() for k in range(3)]
    fpr = [p[(codes == k) & (y == 0)].mean() for k in range(3)]
    sel = [p[codes == k].mean() for k in range(3)]
    rates = {"equal_opportunity": [tpr], "equalized_odds": [tpr, fpr],
             "demographic_parity": [sel]}[spec["constraint"]]  # fmt: skip
    return {
        "status": "ok",
        "time_s": best,
        "cpu_s": cpu,
        "runs": runs,
        "baseline_rss_bytes": base["VmRSS"] * 1024,
        "peak_rss_bytes": peak_kib * 1024,
        "peak_reset": reset,
        "expected_accuracy": float(np.mean(np.where(y == 1, p, 1 - p))),
        "drawn_accuracy": float(np.mean(np.asarray(pred) == y)),
        "gap": float(max(max(r) - min(r) for r in rates)),
        "randomised_rows": int(np.count_nonzero((p > 0) & (p < 1))),
    }


# =========================================================================== parent


def measure(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run one configuration in a subprocess; its result, or why there is none."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"status": "timeout"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            out: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            return out
    return {"status": "failed", "stderr_tail": proc.stderr.strip().splitlines()[-5:]}


def fmt_bytes(b: float | None) -> str:
    if b is None:
        return "—"
    return f"{b / (1 << 30):.2f} GiB" if abs(b) >= 1 << 30 else f"{b / (1 << 20):.0f} MiB"


def fmt_seconds(t: float | None) -> str:
    if t is None:
        return "—"
    return f"{t:.2f} s" if t >= 1.0 else f"{t * 1e3:.0f} ms"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--constraints", default=",".join(FAIRLEARN))
    p.add_argument("--groups", choices=["category", "str"], default="category")
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("--quick", action="store_true", help="100,000 rows, equal opportunity only")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.rows, args.constraints = 100_000, "equal_opportunity"
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every objective agrees and Seawall met its targets."""
    args = parse_args(argv)
    if args.child:
        print(RESULT_PREFIX + json.dumps(run_child(json.loads(args.child))))
        return 0
    constraints = [c.strip() for c in args.constraints.split(",") if c.strip()]
    vers = versions(("numpy", "scipy", "pandas", "scikit-learn", "fairlearn", "seawall"))
    print("versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()))
    load0 = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load0[0]:.2f} {load0[1]:.2f} "
          f"{load0[2]:.2f} at start")  # fmt: skip
    print(f"data: {args.rows:,} rows, 3 groups ({args.groups}), continuous scores, seed "
          f"{args.seed}; timed: fit + predict, best of {args.repeat}")  # fmt: skip
    print()
    results: list[dict[str, Any]] = []
    ok = True
    for constraint in constraints:
        pair = {}
        for tool in ("seawall", "fairlearn"):
            spec = {"tool": tool, "constraint": constraint, "rows": args.rows,
                    "seed": args.seed, "repeat": args.repeat, "groups": args.groups}  # fmt: skip
            r = measure(spec, args.timeout) | {"tool": tool, "constraint": constraint}
            results.append(r)
            pair[tool] = r
            if r["status"] != "ok":
                print(f"{constraint:<19} {tool:<9} {r['status']}: {r.get('stderr_tail')}")
                ok = False
                continue
            print(
                f"{constraint:<19} {tool:<9} {fmt_seconds(r['time_s']):>8} (CPU "
                f"{fmt_seconds(r['cpu_s'])}, {r['runs']} run(s)), peak RSS "
                f"{fmt_bytes(r['peak_rss_bytes'])} (+"
                f"{fmt_bytes(r['peak_rss_bytes'] - r['baseline_rss_bytes'])}); expected "
                f"accuracy {r['expected_accuracy']:.6f}, drawn {r['drawn_accuracy']:.6f}, "
                f"gap {r['gap']:.2e}, randomised rows {r['randomised_rows']:,}",
                flush=True,
            )
        sw, fl = pair.get("seawall"), pair.get("fairlearn")
        if sw and fl and sw["status"] == fl["status"] == "ok":
            ratio = fl["time_s"] / sw["time_s"]
            diff = sw["expected_accuracy"] - fl["expected_accuracy"]
            agree = -1e-9 <= diff < TARGET_OBJECTIVE_GAP
            fast = ratio >= TARGET_SPEEDUP
            ok &= agree and (fast or args.rows < 1_000_000)
            print(
                f"{'':<19} speed-up Fairlearn / Seawall {ratio:.1f}x (target >= "
                f"{TARGET_SPEEDUP:g}x at 1M rows: {'met' if fast else 'MISSED'}); expected "
                f"accuracy Seawall - Fairlearn {diff:+.2e} (target [0, 1e-3): "
                f"{'met' if agree else 'MISSED'})"
            )
    load1 = os.getloadavg()
    print(f"\nload average {load0[0]:.2f} at start, {load1[0]:.2f} at end "
          f"({os.cpu_count()} CPUs)")  # fmt: skip
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "rows": args.rows,
            "seed": args.seed,
            "repeat": args.repeat,
            "groups": args.groups,
            "versions": vers,
            "results": results,
            "load_average_start_end": [load0[0], load1[0]],
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"results written to {args.json}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

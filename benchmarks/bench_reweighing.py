"""Benchmark: reweighing weights, Seawall against AIF360.

Both tools compute Kamiran & Calders' weights ``P(g) P(y) / P(g, y)`` per row:

(a) Seawall, ``seawall.mitigation._reweighing.reweighing_weights(y, sensitive_features)``
    with the protected attributes as a DataFrame (several are intersected);
(b) AIF360 0.6.1, ``aif360.sklearn.preprocessing.Reweighing(prot_attr=cols)
    .fit_transform(X, y)``, its scikit-learn-style implementation (any number of
    groups and intersections), with the protected attributes in ``X``'s index as
    AIF360 requires. Building that index is preparation, not timed.

Data: Adult's training file (``../shared/data/adult/adult.data``, 32,561 rows)
with ``sex`` and with ``race`` x ``sex`` (10 groups); and synthetic data from
``numpy.random.default_rng(seed)``: three attributes with 2, 5 and 4 values
intersected (40 groups) and a binary label whose rate depends on the group, at
``--small-rows`` (100,000) and ``--rows`` (1,000,000) rows.

Every configuration (tool, data) runs in a fresh subprocess of this script. The
child builds the data, calls the tool once on the first 1,000 rows (imports),
records its resident memory as the *baseline*, resets its peak-RSS counter
(``/proc/self/clear_refs``) and times the tool: best of ``--repeat`` runs,
``time.perf_counter`` wall-clock seconds. *Increase* is the resident high-water
mark during those runs (``VmHWM``) minus the baseline. The weights of both tools
are saved and compared: the script fails when they differ by more than 1e-12
(relative).

Run in the benchmark virtual environment (see ``requirements-bench.txt``)::

    .venv-bench/bin/python benchmarks/bench_reweighing.py
    .venv-bench/bin/python benchmarks/bench_reweighing.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import reset_peak, status_kib  # noqa: E402

RESULT_PREFIX = "RESULT "
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
WARMUP_ROWS = 1_000


def _data(spec: dict[str, Any]) -> tuple[Any, np.ndarray, list[str]]:
    import pandas as pd

    if spec["data"].startswith("adult"):
        frame = pd.read_csv(DATA / "adult" / "adult.data", skipinitialspace=True)
        y = frame["Y"].eq(">50K").astype(int).to_numpy()
        cols = ["sex"] if spec["data"] == "adult-sex" else ["race", "sex"]
        return frame[cols], y, cols
    rng = np.random.default_rng(spec["seed"])
    n = spec["rows"]
    frame = pd.DataFrame(
        {
            "a": rng.choice(["F", "M"], n),
            "b": rng.choice([f"b{i}" for i in range(5)], n),
            "c": rng.choice([f"c{i}" for i in range(4)], n),
        }
    )
    code = frame.a.eq("M").to_numpy() * 20 + frame.b.str[1].astype(int) * 4
    code = code + frame.c.str[1].astype(int).to_numpy()
    rate = np.linspace(0.1, 0.7, 40)[code]
    y = (rng.uniform(size=n) < rate).astype(int)
    return frame, y, ["a", "b", "c"]


def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    frame, y, cols = _data(spec)
    if spec["tool"] == "seawall":
        from seawall.mitigation._reweighing import reweighing_weights

        def call(f: pd.DataFrame, yy: np.ndarray) -> np.ndarray:
            return reweighing_weights(yy, f)

        def prepare(f: pd.DataFrame, yy: np.ndarray) -> tuple[Any, Any]:
            return f, yy
    else:
        from aif360.sklearn.preprocessing import Reweighing

        def call(f: pd.DataFrame, yy: pd.Series) -> np.ndarray:
            return np.asarray(Reweighing(prot_attr=cols).fit_transform(f, yy)[1])

        def prepare(f: pd.DataFrame, yy: np.ndarray) -> tuple[Any, Any]:
            X = f.set_index(cols, drop=False)
            return X, pd.Series(yy, index=X.index)

    call(*prepare(frame.iloc[:WARMUP_ROWS], y[:WARMUP_ROWS]))
    args = prepare(frame, y)
    baseline = status_kib()["VmRSS"]
    reset_peak()
    best = float("inf")
    weights = None
    for _ in range(spec["repeat"]):
        t0 = time.perf_counter()
        weights = call(*args)
        best = min(best, time.perf_counter() - t0)
    peak = status_kib()["VmHWM"]
    np.save(spec["out"], weights)
    return {
        "seconds": best,
        "baseline_mib": baseline / 1024,
        "increase_mib": (peak - baseline) / 1024,
    }


def _run(spec: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return dict(json.loads(line[len(RESULT_PREFIX) :]))
    raise RuntimeError(f"{spec['tool']} on {spec['data']} failed:\n{proc.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="only --small-rows synthetic rows")
    args = parser.parse_args()
    if args.child:
        print(RESULT_PREFIX + json.dumps(run_child(json.loads(args.child))), flush=True)
        return

    configs: list[tuple[str, int]] = []
    if (DATA / "adult" / "adult.data").is_file():
        configs += [("adult-sex", 32_561), ("adult-race-sex", 32_561)]
    else:
        print(f"{DATA / 'adult'} is absent: the Adult rows are skipped")
    configs += [("synthetic", args.small_rows)]
    if not args.quick:
        configs += [("synthetic", args.rows)]
    versions = {p: metadata.version(p) for p in ("aif360", "numpy", "pandas")}
    print(f"python {platform.python_version()}, {versions}, load average {os.getloadavg()}")
    header = f"{'data':<16}{'rows':>10}{'tool':>9}{'seconds':>10}{'increase MiB':>14}{'ratio':>8}"
    print(header)
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for data, rows in configs:
            results, weights = {}, {}
            for tool in ("seawall", "aif360"):
                out = str(Path(tmp) / f"{tool}.npy")
                spec = {"tool": tool, "data": data, "rows": rows, "seed": args.seed}
                results[tool] = _run({**spec, "repeat": args.repeat, "out": out})
                weights[tool] = np.load(out)
            diff = float(np.max(np.abs(weights["seawall"] - weights["aif360"]) / weights["aif360"]))
            worst = max(worst, diff)
            for tool in ("seawall", "aif360"):
                r = results[tool]
                ratio = r["seconds"] / results["seawall"]["seconds"]
                print(
                    f"{data:<16}{rows:>10,}{tool:>9}{r['seconds']:>10.4f}"
                    f"{r['increase_mib']:>14.1f}{ratio:>8.1f}"
                )
            print(f"{'':<16}max relative difference of the weights: {diff:.2e}")
    print(f"load average after: {os.getloadavg()}")
    if worst > 1e-12:
        sys.exit(f"the weights differ by {worst:.2e} (relative) > 1e-12")


if __name__ == "__main__":
    main()

"""Benchmark: one streaming tick of ``StreamingDetector`` for 1,000,000 series.

The issue's targets: one tick (score and learn one new step of every series) for
1,000,000 series in at most 1 s, with at most 1 KB of state per series. There is
no peer: the figures are printed against the targets.

Data (``Fleet``, seeded): ``--n-series`` hourly series, each ``level + daily +
weekly + noise`` with a level drawn log-uniformly in [1, 1000], Gaussian noise of
sd = level x U(0.01, 0.04), a daily sinusoid of amplitude sd x U(3, 15) and a
weekly sinusoid of amplitude sd x U(0, 3); ``WEEKLY_SHARE`` of the series instead
carry a strong weekly pattern (a weekend drop of sd x U(6, 12) on top of the daily
one), so their detected period is a week (168 steps) and the state holds weekly
slots. The draws are seeded, so every run sees the same numbers.

Steps (``time.perf_counter`` wall clock, one process):

1. warm-up fit: ``StreamingDetector(period=...).fit(W)`` on the first ``--n-warm``
   steps (504, three weeks: a period is searched up to half the warm-up, so a
   weekly season needs more than two), in blocks of ``--fit-chunk`` series
   (100,000; 0 = one block), because a one-block warm-up of 1,000,000 x 504
   float64 values is 4 GB before the detector's own copies. The
   block states are joined into one (``state_.to_arrays()`` per block, seasonal
   slots zero-padded to the widest block, ``StreamState.from_arrays``) and a fresh
   detector continues from it with ``resume``. A check on ``--check-series``
   series verifies that this path scores bit for bit like a one-block ``fit``;
2. ticks: ``det.score(x)`` then ``det.update(x)`` for ``--ticks`` consecutive
   steps (the values built before the clock starts), median and all times
   reported, first with no missing value, then with ``--missing`` of the values
   NaN (a separate code path);
3. memory: the state's bytes per series, the sum of ``nbytes`` of the arrays of
   ``det.state_`` over the number of series (the fixed-size ``step``/``n_init``
   included), next to ``det.nbytes_per_series()``; the process's resident memory
   after the fit, and its peak (``VmHWM``) over the fit and over the ticks alone.

The calls on the detector are gathered in the "adapter" section below (``make``,
``fit``, ``tick``, ``state_of``, ``join``, ``resume``) so a change of API touches
only those lines.

Run in either virtual environment::

    .venv-bench/bin/python benchmarks/bench_stream.py --json benchmarks/results/stream.json
    .venv-bench/bin/python benchmarks/bench_stream.py --quick
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import reset_peak, seawall_source, status_kib, versions  # noqa: E402

TARGET_TICK_S = 1.0
TARGET_STATE_BYTES = 1024.0
DAY, WEEK = 24, 168
WEEKLY_SHARE = 0.10
PACKAGES = ("numpy", "scipy", "seawall")


# =========================================================================== adapter
# Every call on the detector's API; edit here when the API changes.


def make(period: str | int) -> Any:
    """A new, unfitted detector."""
    from seawall.monitoring import StreamingDetector

    return StreamingDetector(period=period)


def fit(det: Any, W: np.ndarray) -> Any:
    """Learn from a warm-up block ``(n_series, n_warm)``; the fitted detector."""
    return det.fit(W)


def tick(det: Any, x: np.ndarray) -> np.ndarray:
    """Score one step of every series and learn from it; the scores."""
    scores = np.asarray(det.score(x))
    det.update(x)
    return scores


def state_of(det: Any) -> Any:
    """The detector's state object (a dataclass of arrays)."""
    return det.state_


def join(states: list[Any]) -> Any:
    """One state for all series from the states of consecutive blocks of series."""
    from seawall.monitoring import StreamState

    parts = [s.to_arrays() for s in states]
    width = max(p["season"].shape[1] for p in parts)
    out: dict[str, np.ndarray] = {}
    for name in parts[0]:
        arrays = [p[name] for p in parts]
        if arrays[0].ndim == 0:  # the step counters: equal in every block
            if any(a != arrays[0] for a in arrays):
                raise RuntimeError(f"blocks disagree on {name}")
            out[name] = arrays[0]
        elif name == "season":  # a series uses its first `period` slots; pad the rest
            out[name] = np.concatenate(
                [np.pad(a, ((0, 0), (0, width - a.shape[1]))) for a in arrays]
            )
        else:
            out[name] = np.concatenate(arrays)
    return StreamState.from_arrays(out)


def resume(period: str | int, state: Any) -> Any:
    """A detector that continues from ``state``."""
    return make(period).resume(state)


# =========================================================================== data


class Fleet:
    """Seeded parameters of every series; ``block`` draws a window of steps."""

    def __init__(self, n_series: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.n_series = n_series
        self.seed = seed
        self.level = 10.0 ** rng.uniform(0.0, 3.0, n_series)
        self.sd = self.level * rng.uniform(0.01, 0.04, n_series)
        self.daily = self.sd * rng.uniform(3.0, 15.0, n_series)
        self.weekly = self.sd * rng.uniform(0.0, 3.0, n_series)
        self.weekend = np.where(
            rng.random(n_series) < WEEKLY_SHARE, self.sd * rng.uniform(6.0, 12.0, n_series), 0.0
        )
        self.ph_d = rng.uniform(0, 2 * np.pi, n_series)
        self.ph_w = rng.uniform(0, 2 * np.pi, n_series)

    def block(self, rows: slice, t0: int, n_steps: int, rng: np.random.Generator) -> np.ndarray:
        """Steps ``t0 .. t0 + n_steps - 1`` of series ``rows``, shape (n_rows, n_steps)."""
        t = np.arange(t0, t0 + n_steps, dtype=np.float64)
        weekend = ((t // DAY) % 7 >= 5).astype(np.float64)
        X = np.sin(2 * np.pi * t / DAY + self.ph_d[rows, None])
        X *= self.daily[rows, None]
        X += self.level[rows, None]
        X += self.weekly[rows, None] * np.sin(2 * np.pi * t / WEEK + self.ph_w[rows, None])
        X -= self.weekend[rows, None] * weekend
        X += self.sd[rows, None] * rng.standard_normal(X.shape)
        return X


# =========================================================================== steps


def warm_up(fleet: Fleet, n_warm: int, chunk: int, period: str | int) -> tuple[Any, dict]:
    """Fit block by block (timed: the fits and the join), then resume one detector."""
    n = fleet.n_series
    chunk = n if chunk <= 0 else chunk
    rng = np.random.default_rng([fleet.seed, 1])
    states, fit_s, gen_s = [], 0.0, 0.0
    for lo in range(0, n, chunk):
        t0 = time.perf_counter()
        W = fleet.block(slice(lo, min(lo + chunk, n)), 0, n_warm, rng)
        gen_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        states.append(state_of(fit(make(period), W)))
        fit_s += time.perf_counter() - t0
        del W
    t0 = time.perf_counter()
    state = join(states) if len(states) > 1 else states[0]
    del states
    det = resume(period, state)
    join_s = time.perf_counter() - t0
    return det, {"fit_s": fit_s, "join_resume_s": join_s, "data_s": gen_s, "blocks": -(-n // chunk)}


def check_join(fleet: Fleet, n_check: int, n_warm: int, period: str | int) -> bool:
    """Whether block fits + join + resume score exactly like one ``fit`` (small fleet)."""
    sub = Fleet(n_check, fleet.seed + 7)
    sub.weekend[: n_check // 2] = 0.0  # the first block without weekly seasons: padding
    rng = np.random.default_rng([fleet.seed, 2])
    W = sub.block(slice(None), 0, n_warm + 24, rng)
    one = fit(make(period), W[:, :n_warm])
    half = n_check // 2
    parts = [
        state_of(fit(make(period), W[r, :n_warm])) for r in (slice(0, half), slice(half, None))
    ]
    joined = resume(period, join(parts))
    return all(
        np.array_equal(tick(one, W[:, t]), tick(joined, W[:, t]), equal_nan=True)
        for t in range(n_warm, n_warm + 24)
    )


def state_bytes(det: Any) -> float:
    """Sum of the state's array ``nbytes`` over the number of series."""
    st = state_of(det)
    arrays = [getattr(st, f.name) for f in fields(st)]
    n_series = max(a.shape[0] for a in arrays if a.ndim > 0)
    return float(sum(a.nbytes for a in arrays) / n_series)


def run_ticks(det: Any, fleet: Fleet, t0: int, n_ticks: int, missing: float) -> dict[str, Any]:
    """Time ``n_ticks`` consecutive ticks (values built before each timed call)."""
    rng = np.random.default_rng([fleet.seed, 3, t0])
    times = []
    for t in range(t0, t0 + n_ticks):
        x = fleet.block(slice(None), t, 1, rng)[:, 0]
        if missing > 0:
            x[rng.random(x.size) < missing] = np.nan
        gc.collect()
        start = time.perf_counter()
        scores = tick(det, x)
        times.append(time.perf_counter() - start)
        del x, scores
    return {"median_s": statistics.median(times), "times_s": times}


# =========================================================================== main


def main(argv: list[str] | None = None) -> int:
    """Fit, tick and measure; print the figures against the targets."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-series", type=int, default=1_000_000, help="series in the fleet")
    parser.add_argument("--n-warm", type=int, default=3 * WEEK, help="warm-up steps")
    parser.add_argument("--fit-chunk", type=int, default=100_000, help="series per fit block")
    parser.add_argument("--ticks", type=int, default=10, help="timed ticks (median; >= 5)")
    parser.add_argument("--missing", type=float, default=0.01, help="NaN share, second run")
    parser.add_argument("--period", default="auto", help='"auto" or an int for every series')
    parser.add_argument("--check-series", type=int, default=2_000, help="join check (0: skip)")
    parser.add_argument("--quick", action="store_true", help="100,000 series, 5 ticks")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.quick:
        args.n_series, args.ticks = 100_000, 5
    args.ticks = max(args.ticks, 5)
    period: str | int = args.period if args.period == "auto" else int(args.period)

    load_start = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} CPUs; load average at start: "
        + " ".join(f"{x:.2f}" for x in load_start)
    )
    vers = versions(PACKAGES)
    print("versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()))
    source = seawall_source()
    print(f"seawall source: {source}")
    n = args.n_series
    print(
        f"data: {n:,} hourly series (daily season; {WEEKLY_SHARE:.0%} with a weekly one), "
        f"warm-up {args.n_warm} steps, period={period!r}, seed {args.seed}\n"
    )

    join_ok = None
    if args.check_series > 0 and args.fit_chunk > 0 and args.fit_chunk < n:
        join_ok = check_join(Fleet(1, args.seed), args.check_series, args.n_warm, period)
        print(f"check: block fits + join + resume score like one fit: {join_ok}")

    base = status_kib()
    fleet = Fleet(n, args.seed)
    det, fit_info = warm_up(fleet, args.n_warm, args.fit_chunk, period)
    gc.collect()
    after_fit = status_kib()
    periods, counts = np.unique(det.periods_, return_counts=True)
    print(
        f"warm-up fit: {fit_info['fit_s']:.2f} s in {fit_info['blocks']} block(s) "
        f"({n / fit_info['fit_s']:,.0f} series/s) + join and resume "
        f"{fit_info['join_resume_s']:.2f} s (data generation {fit_info['data_s']:.2f} s, "
        f"untimed); periods found {dict(zip(periods.tolist(), counts.tolist(), strict=True))}"
    )

    per_series = state_bytes(det)
    reported = float(det.nbytes_per_series())
    st = state_of(det)
    layout = ", ".join(
        f"{f.name} {getattr(st, f.name).dtype}{getattr(st, f.name).shape[1:]}" for f in fields(st)
    )
    print(
        f"state: {per_series:.1f} bytes per series (sum of nbytes / n_series; "
        f"det.nbytes_per_series() = {reported:.1f}); {layout}"
    )
    print(
        f"process memory: {(after_fit['VmRSS'] - base['VmRSS']) * 1024 / n:,.0f} bytes per "
        f"series resident after the fit (the fleet's parameters {7 * 8} of them); peak so far "
        f"{after_fit['VmHWM'] / 1024:,.0f} MiB (check, data and fit)"
    )

    reset = reset_peak()
    before = status_kib()
    ticks = {"no_missing": run_ticks(det, fleet, args.n_warm, args.ticks, 0.0)}
    if args.missing > 0:
        ticks["missing"] = run_ticks(det, fleet, args.n_warm + args.ticks, args.ticks, args.missing)
    tick_peak = status_kib()["VmHWM"]
    for name, r in ticks.items():
        label = "no missing values" if name == "no_missing" else f"{args.missing:.0%} missing"
        runs = ", ".join(f"{s:.3f}" for s in r["times_s"])
        print(f"tick ({label}): median {r['median_s']:.3f} s of {args.ticks} (runs: {runs})")
    print(
        f"peak RSS over the ticks {tick_peak / 1024:,.0f} MiB, "
        f"{(tick_peak - before['VmRSS']) / 1024:,.0f} MiB above the resident set before them"
        + ("" if reset else " (peak counter could not be reset: includes the fit)")
    )

    worst = max(r["median_s"] for r in ticks.values())
    scaled = worst * 1_000_000 / n
    tick_met = scaled <= TARGET_TICK_S
    state_met = per_series <= TARGET_STATE_BYTES
    print(
        f"\ntarget: one tick for 1,000,000 series <= {TARGET_TICK_S:g} s: "
        f"{worst:.3f} s for {n:,} series"
        + (f" (x {1_000_000 / n:g} = {scaled:.3f} s, linear)" if n != 1_000_000 else "")
        + f", {'met' if tick_met else 'MISSED'}"
    )
    print(
        f"target: state <= {TARGET_STATE_BYTES:g} bytes per series: {per_series:.1f}, "
        f"{'met' if state_met else 'MISSED'}"
    )
    load_end = os.getloadavg()
    print("load average at end: " + " ".join(f"{x:.2f}" for x in load_end))
    if args.json:
        report = {
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
            "versions": vers,
            "seawall_source": source,
            "n_series": n,
            "n_warm": args.n_warm,
            "period": period,
            "fit_chunk": args.fit_chunk,
            "seed": args.seed,
            "load_average": {"start": list(load_start), "end": list(load_end)},
            "join_check": join_ok,
            "fit": fit_info,
            "periods": dict(zip(map(str, periods.tolist()), counts.tolist(), strict=True)),
            "state_bytes_per_series": per_series,
            "nbytes_per_series_reported": reported,
            "rss_after_fit_bytes": after_fit["VmRSS"] * 1024,
            "peak_rss_fit_bytes": after_fit["VmHWM"] * 1024,
            "peak_rss_ticks_bytes": tick_peak * 1024,
            "ticks": ticks,
            "targets": {
                "tick_s": {"value": scaled, "met": tick_met},
                "state_bytes": {"value": per_series, "met": state_met},
            },
        }
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

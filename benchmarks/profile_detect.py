"""Profile: where ``seawall.monitoring.detect`` spends its time on 2,000 x 1,440.

Not a benchmark against a peer: a breakdown for whoever optimises ``detect``. It
calls the *private* pieces that ``detect`` is made of (as of this writing:
``_inputs.to_matrix``, ``_stream.start`` = ``_period.period_kernel`` +
``_baseline.initial_state``, then ``_stream.Ticker.tick`` = ``_baseline.baseline_step``
+ ``_score.score_step`` once per step), so it must follow their changes.

1. stages: each stage run on its own in the order ``detect`` runs them (best of
   ``--repeat``), next to ``detect`` itself;
2. the tick's cost against the number of series: the tick loop alone for
   ``--widths`` series (same data, rows repeated), fitted as ``a + b * n_series``
   per tick: ``a`` is the fixed cost (Python and numpy call overhead), ``b`` the
   cost per series;
3. ``cProfile`` of one ``detect`` call (functions by own time);
4. with ``line_profiler`` installed (``.venv-bench`` has it): the time of every line
   of ``Ticker.tick``, ``baseline_step``, ``score_step`` and ``period_kernel``
   over one ``detect`` call;
5. minor page faults during ``detect`` (``getrusage``): the first touch of its
   large output and work matrices.

Run::

    .venv-bench/bin/python benchmarks/profile_detect.py > benchmarks/results/profile_detect.txt
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import seawall_source, versions  # noqa: E402
from bench_detect import make_data  # noqa: E402


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The shortest of ``repeat`` wall-clock times of ``fn()``, and its last result."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def tick_loop(X: np.ndarray, n_warm: int) -> Callable[[], None]:
    """The tick part of ``detect`` (state from ``start``, then every step), as a thunk."""
    from seawall.monitoring._inputs import Smoothing
    from seawall.monitoring._stream import Ticker, start

    smoothing = Smoothing.check(0.05, 0.15, 0.01, 2.0, "profile")
    state0, _, _ = start(X[:, :n_warm], "auto", "profile")
    arrays = state0.to_arrays()
    Xt = X.T.copy()
    n_steps, n_series = Xt.shape

    def run() -> None:
        from seawall.monitoring._stream import StreamState

        state = StreamState.from_arrays(arrays)
        ticker = Ticker(state, smoothing)
        score = np.empty((n_steps, n_series))
        base = np.empty((n_steps, n_series))
        for t in range(n_steps):
            ticker.tick(Xt[t], None, score[t], base[t])

    return run


def stages(X: np.ndarray, repeat: int) -> dict[str, float]:
    """Each stage of ``detect`` on its own (best of ``repeat``)."""
    from seawall.monitoring import detect
    from seawall.monitoring._baseline import initial_state
    from seawall.monitoring._inputs import to_matrix
    from seawall.monitoring._period import _autocorrelation, _prepare, period_kernel

    n_series, n_steps = X.shape
    n_warm = max(n_steps // 3, 16)
    W = X[:, :n_warm]
    out: dict[str, float] = {}
    out["detect (whole call)"], _ = best(lambda: detect(X), repeat)
    out["to_matrix (validation, copy)"], _ = best(lambda: to_matrix(X, "values", "p"), repeat)
    out["period: _prepare (detrend, centre, winsorise)"], E = best(lambda: _prepare(W), repeat)
    out["period: _autocorrelation (FFT)"], _ = best(
        lambda: _autocorrelation(E, n_warm // 2 + 1), repeat
    )
    out["period: period_kernel (all of it)"], periods = best(
        lambda: period_kernel(W, min_period=2, max_period=n_warm // 2, min_acf=0.2), repeat
    )
    n_init = (n_warm + 1) // 2
    out["initial_state (robust start, per period group)"], _ = best(
        lambda: initial_state(W[:, :n_init], periods), repeat
    )
    out["X.T.copy + isnan (time-major copy)"], _ = best(
        lambda: (X.T.copy(), np.isnan(X.T.copy())), repeat
    )
    out[f"tick loop ({n_steps} ticks, state rebuilt per run)"], _ = best(
        tick_loop(X, n_warm), repeat
    )
    score_t = np.empty((n_steps, n_series))
    out["3 output transposes (ascontiguousarray of .T)"], _ = best(
        lambda: [np.ascontiguousarray(score_t.T) for _ in range(3)], repeat
    )
    return out


def widths(X: np.ndarray, counts: list[int], repeat: int) -> list[tuple[int, float]]:
    """Seconds per tick of the tick loop for each number of series."""
    n_warm = X.shape[1] // 3
    out = []
    for w in counts:
        Xw = np.resize(X, (w, X.shape[1]))  # rows repeated: same kind of data
        t, _ = best(tick_loop(Xw, n_warm), repeat)
        out.append((w, t / X.shape[1]))
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the breakdown."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-series", type=int, default=2_000)
    parser.add_argument("--n-steps", type=int, default=1_440)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--widths", default="200,1000,2000,5000,20000")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from seawall.monitoring import detect

    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions(["numpy", "scipy"]).items()))
    print(f"seawall source: {seawall_source()}")
    X = make_data(args.n_series, args.n_steps, args.seed)["X"]
    detect(X)  # warm caches, FFT plans

    print(f"\n== 1. stages on {args.n_series} x {args.n_steps} (best of {args.repeat}) ==")
    st = stages(X, args.repeat)
    total = st["detect (whole call)"]
    for name, t in st.items():
        print(f"  {name:<52} {t * 1e3:8.1f} ms  {100 * t / total:5.1f}%")

    print("\n== 2. tick loop cost per tick against n_series ==")
    pts = widths(X, [int(w) for w in args.widths.split(",")], args.repeat)
    for w, t in pts:
        print(f"  {w:>7} series: {t * 1e6:8.1f} us per tick, {t / w * 1e9:6.1f} ns per series")
    n_arr = np.array([p[0] for p in pts], dtype=float)
    t_arr = np.array([p[1] for p in pts])
    b, a = np.polyfit(n_arr, t_arr, 1)
    print(
        f"  fit: {a * 1e6:.1f} us fixed + {b * 1e9:.1f} ns per series per tick; at "
        f"{args.n_series} series the fixed part is {100 * a / (a + b * args.n_series):.0f}% "
        f"of a tick; the loop alone caps detect at {1 / (b * args.n_steps):,.0f} series/s "
        f"for very many series"
    )

    print("\n== 3. cProfile of one detect call (top 15 by own time) ==")
    prof = cProfile.Profile()
    prof.enable()
    detect(X)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
    print("\n".join(line for line in buf.getvalue().splitlines() if line.strip())[:6000])

    print("\n== 5. minor page faults during one detect call ==")
    before = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    detect(X)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"  {after.ru_minflt - before.ru_minflt:,} minor faults "
        f"(~{(after.ru_minflt - before.ru_minflt) * 4 / 1024:,.0f} MiB first touched); "
        f"user {after.ru_utime - before.ru_utime:.3f} s, sys {after.ru_stime - before.ru_stime:.3f}"
        f" s, wall {wall:.3f} s"
    )

    try:
        from line_profiler import LineProfiler
    except ImportError:
        print("\n(line_profiler not installed: no per-line timings)")
        return 0
    from seawall.monitoring import _baseline, _period, _score, _stream

    print("\n== 4. line_profiler over one detect call ==")
    lp = LineProfiler()
    for fn in (
        _stream.Ticker.tick,
        _baseline.baseline_step,
        _score.score_step,
        _period.period_kernel,
    ):
        lp.add_function(fn)
    lp.runcall(detect, X)
    buf = io.StringIO()
    lp.print_stats(stream=buf, output_unit=1e-3, stripzeros=True)
    print(buf.getvalue())
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

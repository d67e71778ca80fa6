"""A fleet's metric series, with planted incidents, as partitioned Parquet.

:func:`write_fleet_parquet` feeds scale-out monitoring benchmarks (one task per
file). Files hold whole series. What files share is decided up front, before any
file is drawn, so that each file still depends only on the seed and its index: the
incidents from ``SeedSequence(random_state, spawn_key=(1,))``, and the hash keys of
the models' labels (source, team, region) from ``spawn_key=(2,)``. File naming, the
per-file streams (``spawn_key=(0, i)``) and the write loop are shared with the audit
writer (``seawall.datasets._parquet``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from seawall._validation import check_real, check_seed, param_error
from seawall.datasets._fleet_events import FleetEvent
from seawall.datasets._parquet import (
    ROW_GROUP_ROWS,
    Progress,
    check_directory,
    check_progress,
    dictionary_array,
    file_rng,
    write_files,
)
from seawall.datasets._parquet_result import PartitionedData

__all__ = ["write_fleet_parquet"]

I8 = npt.NDArray[np.int8]
I64 = npt.NDArray[np.int64]

_FLEET_CALLER = "write_fleet_parquet"
_FLEET_COLUMNS = ("series", "timestamp", "value", "model", "metric", "source", "team", "region")
_METRICS = ("accuracy", "positive_rate", "score_mean", "null_rate", "latency_ms")
# Per metric: level range, daily amplitude range and noise sd (latency: as shares of
# its level), the bad direction, and the bounds of the values.
_LEVEL = np.array([[0.80, 0.95], [0.10, 0.50], [0.30, 0.60], [0.02, 0.05], [50.0, 300.0]])
_AMPLITUDE = np.array([[0.005, 0.02], [0.01, 0.05], [0.01, 0.03], [0.0, 0.005], [0.1, 0.3]])
_SIGMA = np.array([0.01, 0.015, 0.01, 0.003, 0.05])
_RELATIVE = np.array([False, False, False, False, True])
_BAD = np.array([-1.0, 1.0, 1.0, 1.0, 1.0])
_UPPER = np.array([1.0, 1.0, 1.0, 1.0, np.inf])
_N_SOURCES, _N_TEAMS = 50, 20
_SOURCES = tuple(f"src-{j:02d}" for j in range(_N_SOURCES))
_TEAMS = tuple(f"team-{j:02d}" for j in range(_N_TEAMS))
_REGIONS: tuple[str, ...] = ("us-east", "us-west", "eu-west", "eu-north", "ap-south")
_REGIONS += ("ap-east", "sa-east", "af-south")
_REGION_SHARES = (0.25, 0.20, 0.15, 0.10, 0.10, 0.08, 0.07, 0.05)
# Sources are Zipf-popular: the most popular feeds about 22% of the models.
_SOURCE_SHARES = 1.0 / np.arange(1, _N_SOURCES + 1)
_SOURCE_SHARES /= _SOURCE_SHARES.sum()
_BREAK_SIZE, _SPIKE_SIZE, _N_SPIKES = 8.0, 12.0, 3


@dataclass(frozen=True, slots=True)
class _FleetPlan:
    """What every file of a fleet shares: its size, clock, label keys and incidents."""

    n_series: int
    n_steps: int
    width: int  # digits of the model number
    timestamps: npt.NDArray[np.datetime64]
    time_of_day: npt.NDArray[np.float64]  # in [0, 1)
    keys: npt.NDArray[np.uint64]  # one hash key per model label (source, team, region)
    source: int  # the broken source
    window: tuple[int, int]  # its first and last step
    spikes: tuple[tuple[int, int, int], ...]  # (series, first step, last step)

    def key(self, series: int) -> str:
        model, metric = divmod(series, len(_METRICS))
        return f"m{model:0{self.width}d}/{_METRICS[metric]}"


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64's finaliser: a bijective, well-mixing hash of 64-bit ints."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _model_labels(plan: _FleetPlan, models: I64) -> tuple[I8, I8, I8]:
    """Each model's source, team and region codes: a hash of the model, the same in any file."""
    m = _mix(models.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15))
    u = [(_mix(m ^ k) >> np.uint64(11)).astype(np.float64) * 2.0**-53 for k in plan.keys]
    source = np.searchsorted(np.cumsum(_SOURCE_SHARES)[:-1], u[0], side="right")
    team = np.minimum((u[1] * _N_TEAMS).astype(np.int64), _N_TEAMS - 1)
    region = np.searchsorted(np.cumsum(_REGION_SHARES)[:-1], u[2], side="right")
    return source.astype(np.int8), team.astype(np.int8), region.astype(np.int8)


def _plan_fleet(
    seed: int, n_series: int, n_steps: int, step: pd.Timedelta, first: pd.Timestamp
) -> _FleetPlan:
    """Decide, before any file is drawn, the labels' keys and the incidents."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    state = np.random.SeedSequence(seed, spawn_key=(2,)).generate_state(3, dtype=np.uint64)
    keys: npt.NDArray[np.uint64] = state.astype(np.uint64, copy=False)
    start = int(rng.integers(n_steps // 2, max(n_steps // 2, int(0.85 * n_steps)) + 1))
    end = min(start + int(rng.integers(6, 25)) - 1, n_steps - 1)
    source = int(rng.integers(3))  # one of the three most popular
    spikes = []
    for s in np.sort(rng.choice(n_series, size=min(_N_SPIKES, n_series), replace=False)):
        first_step = int(rng.integers(n_steps // 4, n_steps))
        spikes.append((int(s), first_step, min(first_step + int(rng.integers(3)), n_steps - 1)))
    offsets = np.arange(n_steps, dtype=np.int64) * (step // pd.Timedelta(1, "us"))
    day = 86_400_000_000  # microseconds
    since_midnight = (first - first.normalize()) // pd.Timedelta(1, "us")
    return _FleetPlan(
        n_series=n_series,
        n_steps=n_steps,
        width=max(6, len(str((n_series - 1) // len(_METRICS)))),
        timestamps=np.datetime64(first.floor("us"), "us") + offsets.astype("timedelta64[us]"),
        time_of_day=((since_midnight + offsets) % day) / day,
        keys=keys,
        source=source,
        window=(start, end),
        spikes=tuple(spikes),
    )


def _fleet_table(
    rng: np.random.Generator, plan: _FleetPlan, lo: int, hi: int
) -> tuple[pa.Table, list[str]]:
    """The series ``lo`` to ``hi - 1`` in long format, and those the source break moves.

    Kernel: assumes valid input.
    """
    k, n = hi - lo, plan.n_steps
    series = np.arange(lo, hi, dtype=np.int64)
    model, metric = np.divmod(series, len(_METRICS))
    level = _LEVEL[metric, 0] + np.diff(_LEVEL, axis=1)[metric, 0] * rng.random(k)
    scale = np.where(_RELATIVE[metric], level, 1.0)
    amp = (_AMPLITUDE[metric, 0] + np.diff(_AMPLITUDE, axis=1)[metric, 0] * rng.random(k)) * scale
    phase = 2 * np.pi * rng.random(k)
    sigma = _SIGMA[metric] * scale
    values = rng.standard_normal((k, n))
    values *= sigma[:, None]
    values += level[:, None]
    # amp * sin(2 pi tod + phase), by the angle-addition formula: two outer products
    # instead of a sine per value.
    angle = 2 * np.pi * plan.time_of_day
    values += np.outer(amp * np.cos(phase), np.sin(angle))
    values += np.outer(amp * np.sin(phase), np.cos(angle))

    source, team, region = _model_labels(plan, model)
    broken = np.flatnonzero(source == plan.source)
    a, b = plan.window
    values[broken, a : b + 1] += (_BREAK_SIZE * _BAD[metric] * sigma)[broken, None]
    for s, spike_a, spike_b in plan.spikes:
        if lo <= s < hi:
            values[s - lo, spike_a : spike_b + 1] += (
                _SPIKE_SIZE * _BAD[metric[s - lo]] * sigma[s - lo]
            )
    np.clip(values, 0.0, _UPPER[metric][:, None], out=values)

    keys = [plan.key(int(s)) for s in series]
    rows = np.repeat(np.arange(k, dtype=np.int32), n)
    models = model - model[0]
    model_names = [f"m{m:0{plan.width}d}" for m in range(int(model[0]), int(model[-1]) + 1)]
    table = pa.table(
        {
            "series": pa.array(keys, pa.string()).take(pa.array(rows)),
            "timestamp": pa.array(np.tile(plan.timestamps, k)),
            "value": pa.array(values.reshape(-1)),
            "model": dictionary_array(models.astype(np.int32)[rows], model_names),
            "metric": dictionary_array(metric.astype(np.int8)[rows], _METRICS),
            "source": dictionary_array(source[rows], _SOURCES),
            "team": dictionary_array(team[rows], _TEAMS),
            "region": dictionary_array(region[rows], _REGIONS),
        }
    )
    return table, [keys[i] for i in broken]


def _incidents(
    plan: _FleetPlan, broken: list[str], step: pd.Timedelta, first: pd.Timestamp
) -> tuple[FleetEvent, ...]:
    def at(i: int) -> pd.Timestamp:
        return first + i * step

    a, b = plan.window
    src = _SOURCES[plan.source]
    n_models = len({k.split("/")[0] for k in broken})
    out = [
        FleetEvent(
            "E1",
            "source_break",
            at(a),
            at(b),
            a,
            b,
            tuple(broken),
            {"source": src},
            float(n_models),
            f"Source {src} breaks for {b - a + 1} steps: every series of the "
            f"{n_models} models it feeds moves "
            f"{_BREAK_SIZE:g} noise sd the bad way.",
        )
    ]
    for i, (s, a, b) in enumerate(plan.spikes, start=2):
        key = plan.key(s)
        out.append(
            FleetEvent(
                f"E{i}",
                "spike",
                at(a),
                at(b),
                a,
                b,
                (key,),
                {"series": key},
                1.0,
                f"{key} jumps {_SPIKE_SIZE:g} noise sd the bad way for {b - a + 1} step(s).",
            )
        )
    return tuple(out)


def write_fleet_parquet(
    directory: str | os.PathLike[str],
    n_series: int,
    n_steps: int,
    *,
    series_per_file: int = 50_000,
    freq: str = "1h",
    start: str = "2026-01-01",
    random_state: int = 0,
    progress: Progress | None = None,
) -> PartitionedData:
    """Write a fleet's metric series in long format, with planted incidents, as Parquet.

    Series ``s`` is metric ``s % 5`` (``accuracy``, ``positive_rate``,
    ``score_mean``, ``null_rate``, ``latency_ms``) of model ``s // 5``, so there are
    about ``n_series / 5`` models. Each model has an upstream ``source`` (50,
    Zipf-popular), a ``team`` (20) and a ``region`` (8), drawn from a hash of the
    model. Each series is its own level, a daily cycle (random amplitude and phase)
    and Gaussian noise (sd 0.01 for accuracy, 5% of the level for latency), clipped
    to its range. Files hold whole series (rows sorted by series, then time), and
    every series has the same ``n_steps`` timestamps.

    Planted incidents (:attr:`PartitionedData.events`, decided from the seed before
    any file is drawn):

    - ``"E1"``, ``"source_break"``: one of the three most popular sources breaks
      for 6 to 24 steps, starting between 50% and 85% of the history. Every series
      of every model it feeds (spread over many files) moves 8 noise sd in its bad
      direction (accuracy down, every other metric up).
    - ``"E2"`` to ``"E4"``, ``"spike"``: three series each jump 12 noise sd the
      bad way for 1 to 3 steps, in the last three quarters of the history.

    Parameters
    ----------
    directory : str or os.PathLike
        Where to write; created if missing, and refused if it holds anything.
    n_series : int
        The number of series; at least 1.
    n_steps : int
        Steps per series; at least 8.
    series_per_file : int, default=50_000
        Whole series per file (the last file holds the rest); at least 1. Files are
        drawn and written a row group (whole series, about 2**20 rows) at a time, so
        memory does not grow with it.
    freq : str, default="1h"
        The step, as a pandas time delta (``"5min"``, ``"1h"``, ``"1D"``).
    start : str, default="2026-01-01"
        The first timestamp (naive; an aware one is converted to UTC).
    random_state : int, default=0
        The seed; a non-negative int. File ``i`` draws from its own stream; the
        incidents depend on the seed, ``n_series`` and ``n_steps`` only.
    progress : callable or None, default=None
        Called as ``progress(files_done, n_files)`` after each file.

    Returns
    -------
    PartitionedData
        The files, ``n_rows = n_series * n_steps``, the columns and the ``events``
        (:class:`FleetEvent`, of kind ``source_break`` or ``spike``, whose
        ``importance`` is the number of models moved; ``affected`` lists the series keys). Columns:

        ``series`` : string
            The key, ``"m000123/accuracy"`` (model, ``/``, metric).
        ``timestamp`` : timestamp[us]
            The start of each step.
        ``value`` : float64
            The metric.
        ``model``, ``metric``, ``source``, ``team``, ``region`` : dictionary of string
            The series' labels.

    Raises
    ------
    InvalidParameterError
        If a count is not an int in range, ``freq`` is not a positive time delta,
        ``start`` is not a date, ``random_state`` is not a non-negative int,
        ``progress`` is not callable, or ``directory`` is a file or is not empty.

    See Also
    --------
    simulate_fleet : a richer fleet, in memory.
    write_audit_parquet : a decision log, partitioned the same way.

    References
    ----------
    .. [1] D. Sculley et al., "Hidden technical debt in machine learning systems",
       NeurIPS 2015 (upstream data dependencies as a root cause of failures).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from seawall.datasets import write_fleet_parquet
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     data = write_fleet_parquet(Path(tmp) / "fleet", 250, 48, series_per_file=100)
    ...     frame = pd.read_parquet(data.files[0])
    >>> data.n_files, data.n_rows, len(frame)
    (3, 12000, 4800)
    >>> frame["series"].iloc[0], str(frame["timestamp"].iloc[1])
    ('m000000/accuracy', '2026-01-01 01:00:00')
    >>> [e.kind for e in data.events]
    ['source_break', 'spike', 'spike', 'spike']
    """
    n_ser = int(check_real(n_series, "n_series", _FLEET_CALLER, low=1, integer=True))
    steps = int(check_real(n_steps, "n_steps", _FLEET_CALLER, low=8, integer=True))
    per_file = int(
        check_real(series_per_file, "series_per_file", _FLEET_CALLER, low=1, integer=True)
    )
    step = _check_freq(freq)
    first = _check_start(start)
    seed = check_seed(random_state, "random_state", _FLEET_CALLER)
    callback = check_progress(progress, _FLEET_CALLER)
    path = check_directory(directory, _FLEET_CALLER)

    plan = _plan_fleet(seed, n_ser, steps, step, first)
    broken: list[str] = []

    # Row groups hold whole series too.
    per_group = max(1, ROW_GROUP_ROWS // steps)

    def make(i: int) -> Iterator[pa.Table]:
        rng = file_rng(seed, i)
        stop = min((i + 1) * per_file, n_ser)
        for lo in range(i * per_file, stop, per_group):
            table, moved = _fleet_table(rng, plan, lo, min(lo + per_group, stop))
            broken.extend(moved)
            yield table

    files = write_files(path, -(-n_ser // per_file), make, callback)
    events = _incidents(plan, broken, step, first)
    return PartitionedData(path, files, n_ser * steps, _FLEET_COLUMNS, seed, events=events)


def _check_freq(freq: object) -> pd.Timedelta:
    expected = "a positive time delta such as '1h' or '5min'"
    if not isinstance(freq, str):
        raise param_error("freq", _FLEET_CALLER, expected, freq)
    try:
        step = pd.Timedelta(freq)
    except ValueError as e:
        raise param_error("freq", _FLEET_CALLER, expected, freq) from e
    # Whole microseconds: the timestamps are stored in them.
    if pd.isna(step) or step < pd.Timedelta(1, "us") or step % pd.Timedelta(1, "us"):
        raise param_error("freq", _FLEET_CALLER, expected, freq)
    return step


def _check_start(start: object) -> pd.Timestamp:
    expected = "a date or time such as '2026-01-01'"
    if not isinstance(start, str | pd.Timestamp):
        raise param_error("start", _FLEET_CALLER, expected, start)
    try:
        first = pd.Timestamp(start)
    except ValueError as e:
        raise param_error("start", _FLEET_CALLER, expected, start) from e
    if pd.isna(first):
        raise param_error("start", _FLEET_CALLER, expected, start)
    return first.tz_convert(None) if first.tz is not None else first

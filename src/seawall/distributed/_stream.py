"""Streaming detection on Dask: each block's state in a Parquet file, one task per block per tick.

:func:`fit_stream` learns every block of a partitioned fleet history (whole
series per file) and writes each block's :class:`~seawall.monitoring.StreamState`
beside a manifest (``stream.json``). :func:`tick_stream` scores and learns one
new step of every series: one task per block reads the block's state, the
step's values of its series, scores them, learns, and writes the next state.
The client commits the tick by rewriting the manifest only when every block has
written its state, so a tick that fails half-way changes nothing and can simply
be run again; Dask reruns the tasks of a lost worker. Scores equal those of
:func:`seawall.monitoring.detect` on the whole history.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from seawall._validation import check_real, param_error
from seawall.distributed._cluster import connect
from seawall.distributed._detect import FleetSpec, block_values, scan_fleet
from seawall.distributed._files import parquet_files
from seawall.distributed._reduce import map_parts, staged
from seawall.distributed._stream_state import read_state, write_state
from seawall.exceptions import DataValidationError
from seawall.monitoring import StreamingDetector, daily_steps, fleet_threshold
from seawall.monitoring._series_table import default_warmup

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["StreamTick", "fit_stream", "tick_stream"]

FloatArray = npt.NDArray[np.float64]
_MANIFEST = "stream.json"


def _state_path(folder: Path, block: int, step: int) -> Path:
    return folder / f"block-{block:05d}.step-{step:09d}.parquet"


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / _MANIFEST
    if not path.is_file():
        raise DataValidationError(
            f"{str(folder)!r} holds no {_MANIFEST}; it is not a stream state directory. "
            f"Create one with fit_stream (seawall.distributed.fit_stream) first."
        )
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    tmp = folder / (_MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / _MANIFEST)


def _fit_block(
    item: tuple[int, str],
    spec: FleetSpec,
    grid: npt.NDArray[np.datetime64],
    warmup: int,
    folder: str,
) -> int:
    """Learn one block's history and write its state; returns its number of series."""
    index, path = item
    keys, values = block_values(path, spec, grid)
    det = StreamingDetector().fit(values[:, :warmup])
    det.update_many(values[:, warmup:])
    write_state(_state_path(Path(folder), index, grid.size), keys, det.state_)
    return len(keys)


def fit_stream(
    source: str | Path | Sequence[str | Path],
    state_dir: str | Path,
    *,
    series_col: str = "series",
    timestamp_col: str = "timestamp",
    value_col: str = "value",
    warmup: int | None = None,
    threshold: float | None = None,
    false_runs_per_day: float | None = None,
    scheduler: Client | str = "local",
    n_workers: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Learn a partitioned fleet's history into per-block streaming states.

    Parameters
    ----------
    source : str, Path or sequence of them
        The history: Parquet files of a long table (``series, timestamp,
        value``), each file holding whole series; each file becomes a block.
    state_dir : str or Path
        An empty (or new) directory for the states and ``stream.json``,
        reachable by the workers.
    series_col, timestamp_col, value_col : str
        The columns.
    warmup : int or None, default=None
        Steps that fit the starting state (the rest of the history is learned
        step by step); ``None``: 15% of the history, 32 to 750.
    threshold : float or None, default=None
        The level a tick's score must reach to be reported; ``None`` means
        :func:`~seawall.monitoring.fleet_threshold` of the fleet's size.
    false_runs_per_day : float or None, default=None
        With ``threshold=None``, the fleet's budget of false alarms a day.
    scheduler : distributed.Client or str, default="local"
        A client, a scheduler's address, or ``"local"``.
    n_workers : int or None, default=None
        Workers of a local cluster.
    progress : callable or None, default=None
        Called with ``(stage, parts_done, n_parts)``.

    Returns
    -------
    dict
        The manifest: steps learned, last timestamp, step interval, blocks,
        series, level.

    Raises
    ------
    DataValidationError
        When ``state_dir`` is not empty, the history is irregular or too short,
        or a series sits in two files.

    Examples
    --------
    >>> m = fit_stream("fleet/", "state/", n_workers=2)  # doctest: +SKIP
    >>> tick = tick_stream("state/", next_hour_frame, timestamp=m["next"])  # doctest: +SKIP
    """
    caller = "fit_stream"
    folder = Path(state_dir)
    if folder.exists() and any(folder.iterdir()):
        raise DataValidationError(
            f"state_dir {str(folder)!r} is not empty; fit_stream writes a new stream. "
            f"Pass a new directory, or empty this one first."
        )
    for role, col in (("series_col", series_col), ("timestamp_col", timestamp_col)):
        if not isinstance(col, str) or not col:
            raise param_error(role, caller, "a column name", col)
    if threshold is not None:
        threshold = check_real(threshold, "threshold", caller, low=0, high=1, high_open=True)
    spec = FleetSpec(series_col, timestamp_col, value_col, (), warmup, None)
    files = parquet_files(source)
    folder.mkdir(parents=True, exist_ok=True)

    with connect(scheduler, n_workers=n_workers) as client:
        catalog, grid = scan_fleet(client, files, spec, staged(progress, "scan"))
        steps = np.diff(grid)
        if (steps != steps[0]).any():
            raise DataValidationError(
                f"the history's timestamps are not evenly spaced (steps from {steps.min()} "
                f"to {steps.max()}); a stream needs one step interval."
            )
        w = default_warmup(grid.size) if warmup is None else warmup
        w = int(check_real(w, "warmup", caller, low=16, high=grid.size, integer=True))
        counts = map_parts(
            client,
            _fit_block,
            list(enumerate(files)),
            spec,
            grid,
            w,
            str(folder),
            progress=staged(progress, "fit"),
            key="seawall-stream-fit",
        )
    level = (
        threshold
        if threshold is not None
        else fleet_threshold(
            len(catalog), steps_per_day=daily_steps(grid), false_runs_per_day=false_runs_per_day
        )
    )
    interval = pd.Timedelta(steps[0])
    manifest = {
        "version": 1,
        "steps": int(grid.size),
        "last": pd.Timestamp(grid[-1]).isoformat(),
        "next": (pd.Timestamp(grid[-1]) + interval).isoformat(),
        "interval_seconds": interval.total_seconds(),
        "blocks": len(files),
        "series": int(sum(counts)),
        "level": float(level),
        "series_col": series_col,
        "value_col": value_col,
        "warmup": w,
    }
    _write_manifest(folder, manifest)
    return manifest


@dataclass(frozen=True, slots=True)
class StreamTick:
    """One tick of :func:`tick_stream`.

    Attributes
    ----------
    timestamp : pandas.Timestamp
        The step scored.
    anomalies : pandas.DataFrame
        ``series`` and ``score`` of every series whose score reached ``level``,
        highest first.
    level : float
        The reporting level.
    n_series : int
        Series in the stream.
    n_missing : int
        Stream series without a value at this step (scored NaN; state unchanged).
    n_unknown : int
        Values for series the stream does not know (ignored; fit them anew).
    skipped : int
        Steps between the last tick and this one, learned as missing.
    """

    timestamp: pd.Timestamp
    anomalies: pd.DataFrame
    level: float
    n_series: int
    n_missing: int
    n_unknown: int
    skipped: int


def _tick_block(
    block: int,
    folder: str,
    step: int,
    skipped: int,
    values: pa.Table,
    level: float,
) -> tuple[list[str], list[float], int, int]:
    """Score and learn one step of one block and write its next state.

    ``values`` has a ``key`` and a ``value`` column. Returns the anomalous keys
    and scores, the block's missing values and how many of the step's values
    belonged to the block.
    """
    keys, state = read_state(_state_path(Path(folder), block, step))
    det = StreamingDetector().resume(state)
    # Arrow hashes the block's keys once and looks every value of the step up in
    # them: ten times cheaper than hashing the step's keys for every block.
    at = pc.index_in(values.column("key"), value_set=pa.array(keys, pa.string()))
    pos = at.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)
    mine = pos >= 0
    x = np.full(len(keys), np.nan)
    x[pos[mine]] = values.column("value").to_numpy()[mine]
    gap = np.full(len(keys), np.nan)
    for _ in range(skipped):
        det.update(gap)
    score = det.score(x)
    det.update(x)
    write_state(_state_path(Path(folder), block, step + skipped + 1), keys, det.state_)
    hit = np.flatnonzero(score >= level)
    return (
        [keys[i] for i in hit],
        score[hit].tolist(),
        int(np.isnan(x).sum()),
        int((pos >= 0).sum()),
    )


def _step_values(values: object, series_col: str, value_col: str, caller: str) -> pa.Table:
    """The step's values as an Arrow table of ``key`` (text) and ``value`` (float64), checked."""
    if isinstance(values, pd.DataFrame):
        frame = values
    elif isinstance(values, str | Path) and Path(values).is_file():
        names = pq.read_schema(values).names
        frame = pq.read_table(
            values, columns=[c for c in (series_col, value_col) if c in names]
        ).to_pandas()
    else:
        raise DataValidationError(
            f"values passed to {caller} must be a DataFrame or a Parquet file; got "
            f"{values!r}, which is neither."
        )
    missing = [c for c in (series_col, value_col) if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"values passed to {caller} lacks the column {missing[0]!r}; it has "
            f"{list(map(str, frame.columns))!r}."
        )
    raw = frame[series_col]
    keys = pa.array(raw) if pd.api.types.is_string_dtype(raw) else pa.array(raw.astype(str))
    keys = keys.cast(pa.string())
    if pc.count_distinct(keys, mode="all").as_py() != len(keys):
        text = raw.astype(str)
        raise DataValidationError(
            f"values passed to {caller} has series {text[text.duplicated()].iloc[0]!r} "
            f"twice; give one value per series."
        )
    given = frame[value_col]
    numbers = given if pd.api.types.is_float_dtype(given) else pd.to_numeric(given, errors="coerce")
    junk = numbers.isna() & given.notna()
    if junk.any():
        row = int(np.flatnonzero(junk.to_numpy())[0])
        raise DataValidationError(
            f"values passed to {caller}: column {value_col!r} must hold numbers; row {row} "
            f"has {given.iloc[row]!r}. Leave a missing value empty instead."
        )
    return pa.table(
        {
            "key": keys,
            "value": pa.array(numbers.to_numpy(dtype=np.float64, na_value=np.nan)),
        }
    )


def tick_stream(
    state_dir: str | Path,
    values: pd.DataFrame | str | Path,
    *,
    timestamp: object,
    scheduler: Client | str = "local",
    n_workers: int | None = None,
) -> StreamTick:
    """Score and learn one new step of every series of a stream, one task per block.

    Parameters
    ----------
    state_dir : str or Path
        The directory :func:`fit_stream` wrote (reachable by the workers).
    values : pandas.DataFrame, str or Path
        The step's values: a frame, or one Parquet file read by the client,
        with the stream's series and value columns (one row per series; series
        without a row are missing at this step). They are sent to each worker
        once, as Arrow.
    timestamp : datetime-like
        The step's time: after the last step learned, on the stream's grid;
        steps skipped in between are learned as missing.
    scheduler : distributed.Client or str, default="local"
        A client, a scheduler's address, or ``"local"``.
    n_workers : int or None, default=None
        Workers of a local cluster.

    Returns
    -------
    StreamTick
        The anomalous series of the step and what was missing or unknown.

    Raises
    ------
    DataValidationError
        When the timestamp is not after the last step or off the grid, the
        values lack the columns, or a series appears twice.

    Examples
    --------
    >>> tick = tick_stream("state/", frame, timestamp="2026-01-08 00:00")  # doctest: +SKIP
    >>> tick.anomalies.head()  # doctest: +SKIP
    """
    caller = "tick_stream"
    folder = Path(state_dir)
    manifest = _read_manifest(folder)
    when = pd.Timestamp(timestamp)  # type: ignore[arg-type]
    if when.tzinfo is not None:
        when = when.tz_convert("UTC").tz_localize(None)
    last = pd.Timestamp(manifest["last"])
    interval = pd.Timedelta(seconds=manifest["interval_seconds"])
    ahead = (when - last) / interval
    if when <= last or ahead != int(ahead):
        raise DataValidationError(
            f"timestamp passed to {caller} must be a step of the stream after its last one "
            f"({last}, every {interval}); got {when}. The next step is {last + interval}."
        )
    skipped = int(ahead) - 1
    series_col, value_col = manifest["series_col"], manifest["value_col"]
    table = _step_values(values, series_col, value_col, caller)
    step, level = int(manifest["steps"]), float(manifest["level"])
    with connect(scheduler, n_workers=n_workers) as client:
        # One copy per worker, not one per task.
        data = client.scatter(table, broadcast=True)  # type: ignore[no-untyped-call]
        results = map_parts(
            client,
            _tick_block,
            list(range(manifest["blocks"])),
            str(folder),
            step,
            skipped,
            data,
            level,
            key="seawall-stream-tick",
        )
    new_step = step + skipped + 1
    manifest = {
        **manifest,
        "steps": new_step,
        "last": when.isoformat(),
        "next": (when + interval).isoformat(),
    }
    _write_manifest(folder, manifest)  # the commit: the tick counts from here
    for block in range(manifest["blocks"]):
        _state_path(folder, block, step).unlink(missing_ok=True)
    hit_keys = [k for r in results for k in r[0]]
    hit_scores = [s for r in results for s in r[1]]
    anomalies = (
        pd.DataFrame({"series": hit_keys, "score": hit_scores})
        .sort_values("score", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
    rows = table.num_rows
    return StreamTick(
        timestamp=when,
        anomalies=anomalies,
        level=level,
        n_series=int(manifest["series"]),
        n_missing=sum(r[2] for r in results),
        n_unknown=int(rows - sum(r[3] for r in results)),
        skipped=skipped,
    )

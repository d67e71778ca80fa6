"""Fleet detection on Dask: each worker scores whole blocks of series; the client groups.

A partition holds whole series (``series, timestamp, value`` and label
columns). A first pass reads only the keys, labels and timestamps, for the
fleet's time grid, its size (which sets the flagging level) and its label
catalogue. A second pass lays each block on the fleet's grid, runs the
vectorised detector and the fleet's flagging rules on it, writes the block's
scores back as Parquet, and returns only the flagged steps, which are few.
The client groups those into incidents against the whole catalogue. Every
series is scored alone, so the result is the single-machine one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from scipy import sparse

from seawall._validation import check_real, param_error
from seawall.distributed._cluster import connect
from seawall.distributed._files import check_columns, parquet_files, read_columns
from seawall.distributed._reduce import map_parts, staged
from seawall.exceptions import DataValidationError
from seawall.monitoring import Incidents, daily_steps, detect, fleet_flags, fleet_threshold
from seawall.monitoring import group_incidents as _group_incidents
from seawall.monitoring._series_table import default_warmup, long_table, parse_times

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["FleetDetection", "FleetSpec", "block_values", "detect_fleet", "scan_fleet"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FleetSpec:
    """The columns of a partitioned fleet table and the detector's settings.

    Attributes
    ----------
    series_col, timestamp_col, value_col : str
        The key, time and value columns.
    label_cols : tuple of str
        Columns describing each series (model, metric, source, team, ...).
    warmup : int or None
        Learning steps; ``None`` means the default for the grid's length.
    echo_days : float or None
        The echo rule's cycle (see :func:`seawall.monitoring.fleet_flags`).
    """

    series_col: str
    timestamp_col: str
    value_col: str
    label_cols: tuple[str, ...]
    warmup: int | None
    echo_days: float | None


@dataclass(frozen=True, slots=True)
class FleetDetection:
    """The result of :func:`detect_fleet`.

    Attributes
    ----------
    incidents : Incidents
        Ranked incidents, as :func:`seawall.monitoring.group_incidents` gives
        them on the whole fleet.
    series : tuple of str
        Every series' key, in the order of the partitions (rows of the fleet).
    timestamps : pandas.DatetimeIndex
        The fleet's time grid (the union of the partitions' timestamps).
    level : float
        The flagging level used for every series.
    flagged_series, flagged_steps : ndarray of int64
        Row and step of every flagged step.
    flagged_scores : ndarray of float64
        The (guardrail-raised) score of each flagged step.
    unlearned : tuple of (str, str)
        Series that could not be learned, with the reason.
    n_partitions : int
        The partitions (blocks) scored.
    scores_dir : Path or None
        Where each block's scores were written (one Parquet file per block).
    """

    incidents: Incidents
    series: tuple[str, ...]
    timestamps: pd.DatetimeIndex
    level: float
    flagged_series: IntArray
    flagged_steps: IntArray
    flagged_scores: FloatArray
    unlearned: tuple[tuple[str, str], ...]
    n_partitions: int
    scores_dir: Path | None

    @property
    def n_series(self) -> int:
        """Series scored."""
        return len(self.series)

    @property
    def n_flagged(self) -> int:
        """Flagged steps."""
        return int(self.flagged_series.size)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe summary with the incidents.

        Returns
        -------
        dict
            Sizes, level, the unlearned series and ``incidents`` (its ``to_dict``).
        """
        return {
            "n_series": self.n_series,
            "n_steps": len(self.timestamps),
            "n_partitions": self.n_partitions,
            "level": self.level,
            "n_flagged": self.n_flagged,
            "unlearned": [list(u) for u in self.unlearned],
            "scores_dir": None if self.scores_dir is None else str(self.scores_dir),
            "incidents": self.incidents.to_dict(),
        }


def _scan(path: str, spec: FleetSpec) -> tuple[pd.DataFrame, npt.NDArray[np.datetime64]]:
    """One block's label catalogue (a row per series, first appearance) and timestamps."""
    name = Path(path).name
    table = read_columns(
        path, [spec.series_col, spec.timestamp_col, *spec.label_cols], "the fleet detection"
    )
    frame = table.to_pandas()
    times = parse_times(frame[spec.timestamp_col], spec.timestamp_col, name)
    keys = frame[spec.series_col].astype(str)
    catalog = frame.assign(**{spec.series_col: keys}).drop_duplicates(spec.series_col)
    catalog = catalog[[spec.series_col, *spec.label_cols]].reset_index(drop=True)
    return catalog, np.unique(times.to_numpy(dtype="datetime64[ns]"))


def block_values(
    path: str, spec: FleetSpec, grid: npt.NDArray[np.datetime64]
) -> tuple[tuple[str, ...], FloatArray]:
    """One block's series laid on the fleet's time grid (NaN where a step is missing).

    Parameters
    ----------
    path : str
        The partition.
    spec : FleetSpec
        The columns.
    grid : ndarray of datetime64[ns]
        The fleet's sorted timestamps (a superset of the block's).

    Returns
    -------
    keys : tuple of str
        The block's series, in order of first appearance.
    values : ndarray of float64, shape (n_block_series, n_steps)
        Their values.
    """
    frame = read_columns(
        path, [spec.series_col, spec.timestamp_col, spec.value_col], "the fleet detection"
    ).to_pandas()
    table = long_table(
        frame,
        series_col=spec.series_col,
        timestamp_col=spec.timestamp_col,
        value_col=spec.value_col,
        source=Path(path).name,
    )
    values = np.full((len(table.keys), grid.size), np.nan)
    values[:, np.searchsorted(grid, table.timestamps)] = table.values
    return table.keys, values


def _score_block(
    item: tuple[int, str],
    spec: FleetSpec,
    grid: npt.NDArray[np.datetime64],
    level: float,
    out_dir: str | None,
) -> tuple[tuple[str, ...], IntArray, IntArray, FloatArray, tuple[str, ...]]:
    """Score one block on the fleet's grid; write its scores; return its flagged steps."""
    index, path = item
    keys, values = block_values(path, spec, grid)
    warmup = default_warmup(grid.size) if spec.warmup is None else spec.warmup
    res = detect(values, warmup=warmup)
    flagged = fleet_flags(res.scores, grid, threshold=level, echo_days=spec.echo_days)
    if out_dir is not None:
        rows, steps = np.nonzero(~np.isnan(values))
        pq.write_table(
            pa.table(
                {
                    "series": pa.array(np.asarray(keys, dtype=object)[rows], pa.string()),
                    "timestamp": pa.array(grid[steps]),
                    "value": values[rows, steps],
                    "anomaly_score": res.scores[rows, steps],
                    "is_anomaly": flagged.flags[rows, steps],
                }
            ),
            Path(out_dir) / f"scores-{index:05d}.parquet",
        )
    rows, steps = np.nonzero(flagged.flags)
    return (
        keys,
        rows.astype(np.int64),
        steps.astype(np.int64),
        flagged.scores[rows, steps],
        res.reasons,
    )


def detect_fleet(
    source: str | Path | Sequence[str | Path],
    *,
    series_col: str = "series",
    timestamp_col: str = "timestamp",
    value_col: str = "value",
    label_cols: Sequence[str] = (),
    warmup: int | None = None,
    threshold: float | None = None,
    false_runs_per_day: float | None = None,
    echo_days: float | None = 7.0,
    out: str | Path | None = None,
    scheduler: Client | str = "local",
    n_workers: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> FleetDetection:
    """Score a partitioned fleet of metric series on Dask and group the anomalies.

    What ``seawall detect --series-col`` does on one machine, over a Parquet
    data set whose partitions each hold whole series: :func:`seawall.monitoring.detect`
    per block, :func:`seawall.monitoring.fleet_flags` at the level of the
    whole fleet, and :func:`seawall.monitoring.group_incidents` on the
    gathered flags with every series' labels. The incidents, flags and scores
    are those of the single-machine run on the same table.

    Parameters
    ----------
    source : str, Path or sequence of them
        A directory of Parquet files, a glob or a list of files; each series
        must sit whole in one file (partition the table by series).
    series_col, timestamp_col, value_col : str
        The key, time and value columns.
    label_cols : sequence of str, default=()
        Columns describing each series; incidents group series that share one.
        With ``"model"`` among them, a model's series form one unit.
    warmup : int or None, default=None
        Learning steps of every series; ``None``: 15% of the grid, 32 to 750.
    threshold : float or None, default=None
        The flagging level; ``None`` means :func:`~seawall.monitoring.fleet_threshold`
        of the whole fleet's size.
    false_runs_per_day : float or None, default=None
        With ``threshold=None``, the fleet's budget of false-alarm runs a day.
    echo_days : float or None, default=7.0
        The echo rule's cycle in days; ``None`` turns it off.
    out : str, Path or None, default=None
        A directory for the scores, written by the workers, one
        ``scores-NNNNN.parquet`` per partition (series, timestamp, value,
        anomaly_score, is_anomaly); it must be reachable by the workers.
        ``None`` writes nothing.
    scheduler : distributed.Client or str, default="local"
        A client, a scheduler's address, or ``"local"``.
    n_workers : int or None, default=None
        Workers of a local cluster.
    progress : callable or None, default=None
        Called with ``(stage, parts_done, n_parts)``, stage ``"scan"`` then ``"score"``.

    Returns
    -------
    FleetDetection
        The incidents, the flagged steps and the sizes.

    Raises
    ------
    DataValidationError
        On a missing column, bad values (naming the partition), or a series
        split across partitions.
    InvalidParameterError
        On a parameter out of range.

    Examples
    --------
    >>> from seawall.datasets import write_fleet_parquet  # doctest: +SKIP
    >>> fleet = write_fleet_parquet("fleet", 100_000, 168)  # doctest: +SKIP
    >>> res = detect_fleet(fleet.directory, label_cols=["model", "metric", "source"],
    ...                    n_workers=2)  # doctest: +SKIP
    """
    caller = "detect_fleet"
    names = {"series_col": series_col, "timestamp_col": timestamp_col, "value_col": value_col}
    for role, col in names.items():
        if not isinstance(col, str) or not col:
            raise param_error(role, caller, "a column name", col)
    labels = tuple(label_cols)
    if warmup is not None:
        warmup = int(check_real(warmup, "warmup", caller, low=16, integer=True))
    if threshold is not None:
        threshold = check_real(threshold, "threshold", caller, low=0, high=1, high_open=True)
    spec = FleetSpec(series_col, timestamp_col, value_col, labels, warmup, echo_days)
    files = parquet_files(source)
    out_dir = None if out is None else Path(out)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)

    indexed = list(enumerate(files))
    with connect(scheduler, n_workers=n_workers) as client:
        catalog, grid = scan_fleet(client, files, spec, staged(progress, "scan"))
        level = (
            threshold
            if threshold is not None
            else fleet_threshold(
                len(catalog),
                steps_per_day=daily_steps(grid),
                false_runs_per_day=false_runs_per_day,
            )
        )
        blocks = map_parts(
            client,
            _score_block,
            indexed,
            spec,
            grid,
            level,
            None if out_dir is None else str(out_dir),
            progress=staged(progress, "score"),
            key="seawall-detect",
        )
    return _assemble(blocks, catalog, grid, level, spec, len(files), out_dir)


def scan_fleet(
    client: Client,
    files: Sequence[str],
    spec: FleetSpec,
    progress: Callable[[int, int], None] | None,
) -> tuple[pd.DataFrame, npt.NDArray[np.datetime64]]:
    """Read every block's keys, labels and timestamps: the catalogue and the time grid.

    Parameters
    ----------
    client : distributed.Client
        The cluster.
    files : sequence of str
        The partitions.
    spec : FleetSpec
        The columns.
    progress : callable or None
        Called with ``(parts_done, n_parts)``.

    Returns
    -------
    catalog : pandas.DataFrame
        One row per series (key and labels), in partition order.
    grid : ndarray of datetime64[ns]
        The union of the timestamps, sorted.

    Raises
    ------
    DataValidationError
        When a series sits in two partitions or there is no history.
    """
    check_columns(
        files[0],
        [spec.series_col, spec.timestamp_col, spec.value_col, *spec.label_cols],
        "the fleet detection",
    )
    scanned = map_parts(client, _scan, files, spec, progress=progress, key="seawall-scan")
    catalog = _catalog(scanned, files, spec.series_col)
    grid = np.unique(np.concatenate([t for _, t in scanned]))
    if grid.size < 2:
        raise DataValidationError(
            f"the fleet has {grid.size} timestamp(s); detection needs a history."
        )
    return catalog, grid


def _catalog(
    scanned: list[tuple[pd.DataFrame, Any]], files: Sequence[str], series_col: str
) -> pd.DataFrame:
    """The fleet's label catalogue in partition order; a series in two files is an error."""
    catalog = pd.concat([c for c, _ in scanned], ignore_index=True)
    dup = catalog[series_col].duplicated(keep=False).to_numpy()
    if dup.any():
        key = catalog[series_col].iloc[int(np.flatnonzero(dup)[0])]
        where = [
            Path(f).name
            for (c, _), f in zip(scanned, files, strict=True)
            if (c[series_col] == key).any()
        ]
        raise DataValidationError(
            f"series {key!r} appears in more than one partition ({', '.join(where)}); each "
            f"series must sit whole in one file. Partition the table by series."
        )
    return catalog


def _assemble(
    blocks: list[tuple[tuple[str, ...], IntArray, IntArray, FloatArray, tuple[str, ...]]],
    catalog: pd.DataFrame,
    grid: npt.NDArray[np.datetime64],
    level: float,
    spec: FleetSpec,
    n_partitions: int,
    out_dir: Path | None,
) -> FleetDetection:
    """Place every block's flagged steps on the fleet's rows and group them."""
    keys: list[str] = []
    rows, steps, scores = [], [], []
    unlearned: list[tuple[str, str]] = []
    for block_keys, r, s, v, reasons in blocks:
        rows.append(r + len(keys))
        steps.append(s)
        scores.append(v)
        unlearned += [(k, why) for k, why in zip(block_keys, reasons, strict=True) if why]
        keys += block_keys
    if keys != catalog[spec.series_col].tolist():
        raise DataValidationError(  # pragma: no cover - the scan and the scoring read one table
            "the partitions changed between the scan and the scoring; run again on data "
            "that is not being written to."
        )
    row = np.concatenate(rows)
    step = np.concatenate(steps)
    value = np.concatenate(scores)
    shape = (len(keys), grid.size)
    labels = catalog.rename(columns={spec.series_col: "series"}).reset_index(drop=True)
    incidents = _group_incidents(
        sparse.coo_array((np.ones(row.size, dtype=bool), (row, step)), shape=shape),
        sparse.coo_array((value, (row, step)), shape=shape),
        labels,
        timestamps=pd.DatetimeIndex(grid),
        unit="model" if "model" in spec.label_cols else None,
    )
    if out_dir is not None:
        (out_dir / "incidents.json").write_text(
            json.dumps(incidents.to_dict(), indent=2, default=str) + "\n", encoding="utf-8"
        )
    return FleetDetection(
        incidents=incidents,
        series=tuple(keys),
        timestamps=pd.DatetimeIndex(grid),
        level=float(level),
        flagged_series=row,
        flagged_steps=step,
        flagged_scores=value,
        unlearned=tuple(unlearned),
        n_partitions=n_partitions,
        scores_dir=out_dir,
    )

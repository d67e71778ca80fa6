"""Tables of time series at the edge: checked timestamps, one series or a long table.

The detection kernels take an ``(n_series, n_steps)`` matrix of equally spaced
steps. Users have tables: one series per file (``timestamp, value``) or a long
table of many (``series, timestamp, value``). These functions check such tables
once (timestamps that parse, values that are numbers) and turn them into what
the kernels take, saying plainly what was wrong and where.

Sampling: steps are rows. A single series whose intervals vary (a sensor that
skips readings), repeat or go backwards (a clock change) is scored row after row,
as NAB scores its files; the irregularities are counted (:class:`SeriesTable`) so
a caller can say so. A long table is laid on the union of its timestamps, so a
series missing at a timestamp another series has gets NaN there (a missing step).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall.exceptions import DataValidationError

__all__ = [
    "LongTable",
    "SeriesTable",
    "default_warmup",
    "long_table",
    "parse_times",
    "series_table",
]

FloatArray = npt.NDArray[np.float64]

#: The shortest series that can be learned and then scored.
MIN_LENGTH = 32


def default_warmup(n_steps: int) -> int:
    """The learning steps of a series of ``n_steps``: 15%, at least 32, at most 750.

    NAB's probationary period (15% of a file, at most 750 rows): long enough to
    learn a daily season of 5-minute data, short enough to start scoring early.

    Parameters
    ----------
    n_steps : int
        The series' length.

    Returns
    -------
    int
        The warm-up, never more than half the series.

    Examples
    --------
    >>> default_warmup(1000), default_warmup(100), default_warmup(20000)
    (150, 32, 750)
    """
    return int(min(max(int(0.15 * n_steps), MIN_LENGTH), 750, max(n_steps // 2, 16)))


@dataclass(frozen=True, slots=True)
class SeriesTable:
    """One checked series: parsed timestamps (in row order) and float values.

    Attributes
    ----------
    timestamps : ndarray of datetime64[ns], shape (n_steps,)
        Strictly increasing.
    values : ndarray of float64, shape (n_steps,)
        NaN where the value is missing or not a number.
    n_intervals : int
        The number of distinct positive gaps between consecutive timestamps (1 when
        the sampling is regular).
    n_repeated : int
        Rows whose timestamp equals the previous row's.
    n_backwards : int
        Rows whose timestamp is earlier than the previous row's.
    """

    timestamps: npt.NDArray[np.datetime64]
    values: FloatArray
    n_intervals: int
    n_repeated: int
    n_backwards: int


@dataclass(frozen=True, slots=True)
class LongTable:
    """Many checked series on one time grid.

    Attributes
    ----------
    keys : tuple of str
        The series, in order of first appearance.
    timestamps : ndarray of datetime64[ns], shape (n_steps,)
        The union of every series' timestamps, increasing.
    values : ndarray of float64, shape (n_series, n_steps)
        NaN where a series has no value at a timestamp.
    positions : ndarray of int64, shape (n_rows,)
        Where each row of the table landed in ``values`` (a flat index), so another
        column of the same table can be laid on the same grid without re-reading it.
    """

    keys: tuple[str, ...]
    timestamps: npt.NDArray[np.datetime64]
    values: FloatArray
    positions: npt.NDArray[np.int64]

    def lay(self, column: npt.ArrayLike) -> FloatArray:
        """Another column of the same table on the same grid (NaN where absent).

        Parameters
        ----------
        column : array-like of shape (n_rows,)
            One number per row of the table, in its row order.

        Returns
        -------
        ndarray of float64, shape (n_series, n_steps)
            The column as a matrix.

        Examples
        --------
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"series": ["a", "a"], "timestamp": ["2024-01-01", "2024-01-02"],
        ...                       "value": [1.0, 2.0], "upper": [1.5, 2.5]})
        >>> long_table(frame, series_col="series").lay(frame["upper"]).tolist()
        [[1.5, 2.5]]
        """
        out = np.full(self.values.shape, np.nan)
        out.reshape(-1)[self.positions] = np.asarray(column, dtype=np.float64)
        return out


def _require(frame: pd.DataFrame, column: str, option: str, source: str) -> None:
    if column not in frame.columns:
        raise DataValidationError(
            f"{source} has no column {column!r} (the {option}); its columns are "
            f"{list(map(str, frame.columns))!r}. Name the right column with {option}."
        )


def parse_times(raw: pd.Series[Any], column: str, source: str) -> pd.Series[Any]:
    """A column of timestamps as naive UTC ``datetime64[ns]``, or an error naming the bad row."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        times = raw
    else:
        times = pd.to_datetime(raw, errors="coerce", format="mixed")
    bad = times.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataValidationError(
            f"{source}: column {column!r} must hold timestamps; row {row + 2} (counting "
            f"the header as row 1) has {raw.iloc[row]!r}, which is not one. Fix or drop it."
        )
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times.astype("datetime64[ns]")


def _numbers(raw: pd.Series[Any], column: str, source: str) -> FloatArray:
    numbers = pd.to_numeric(raw, errors="coerce")
    values = numbers.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    junk = np.isnan(values) & raw.notna().to_numpy()
    if junk.any():
        row = int(np.flatnonzero(junk)[0])
        raise DataValidationError(
            f"{source}: column {column!r} must hold numbers; row {row + 2} (counting the "
            f"header as row 1) has {raw.iloc[row]!r}. Leave a missing value empty instead."
        )
    values[~np.isfinite(values)] = np.nan
    return values


def series_table(
    frame: pd.DataFrame,
    *,
    timestamp_col: str = "timestamp",
    value_col: str = "value",
    source: str = "the table",
) -> SeriesTable:
    """Check one series' table: timestamps parse and values are numbers.

    The rows are the steps, in file order (as NAB scores its files): repeated or
    out-of-order timestamps (a clock change, a log written twice) are counted,
    not refused, so a caller can report them; the scores stay causal in row order.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    timestamp_col, value_col : str, default="timestamp", "value"
        Its columns.
    source : str, default="the table"
        How messages name the table (e.g. its file name).

    Returns
    -------
    SeriesTable
        The checked series.

    Raises
    ------
    DataValidationError
        On a missing column, an unparsable timestamp, a non-numeric value, no
        observed value, or fewer than 32 rows.

    Examples
    --------
    >>> import pandas as pd
    >>> times = pd.date_range("2024-01-01", periods=40, freq="h")
    >>> t = series_table(pd.DataFrame({"timestamp": times.astype(str), "value": range(40)}))
    >>> t.values.shape, t.n_intervals
    ((40,), 1)
    """
    _require(frame, timestamp_col, "--timestamp-col", source)
    _require(frame, value_col, "--value-col", source)
    times = parse_times(frame[timestamp_col], timestamp_col, source)
    values = _numbers(frame[value_col], value_col, source)
    ts = times.to_numpy()
    step = np.diff(ts)
    n_repeated = int(np.count_nonzero(step == np.timedelta64(0, "ns")))
    n_backwards = int(np.count_nonzero(step < np.timedelta64(0, "ns")))
    n_intervals = int(np.unique(step[step > np.timedelta64(0, "ns")]).size)
    if len(ts) < MIN_LENGTH:
        raise DataValidationError(
            f"{source} has {len(ts)} rows; a series needs at least {MIN_LENGTH} to learn a "
            f"baseline and then score. Pass a longer history."
        )
    if np.isnan(values).all():
        raise DataValidationError(
            f"{source}: column {value_col!r} has no values (all {len(ts)} are missing); "
            f"there is nothing to score."
        )
    return SeriesTable(
        timestamps=ts,
        values=values,
        n_intervals=n_intervals,
        n_repeated=n_repeated,
        n_backwards=n_backwards,
    )


def long_table(
    frame: pd.DataFrame,
    *,
    series_col: str,
    timestamp_col: str = "timestamp",
    value_col: str = "value",
    source: str = "the table",
) -> LongTable:
    """Lay a long table (``series, timestamp, value``) on one time grid.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table, one row per series and timestamp.
    series_col, timestamp_col, value_col : str
        Its columns.
    source : str, default="the table"
        How messages name the table.

    Returns
    -------
    LongTable
        The series keys, the union of the timestamps and the matrix.

    Raises
    ------
    DataValidationError
        On a missing column, an unparsable timestamp, a non-numeric value, or a
        series with two rows at one timestamp (the message names the series).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"series": ["a", "b", "a"], "value": [1.0, 2.0, 3.0],
    ...                       "timestamp": ["2024-01-01", "2024-01-02", "2024-01-02"]})
    >>> lt = long_table(frame, series_col="series")
    >>> lt.keys, lt.values.tolist()
    (('a', 'b'), [[1.0, 3.0], [nan, 2.0]])
    """
    _require(frame, series_col, "--series-col", source)
    _require(frame, timestamp_col, "--timestamp-col", source)
    _require(frame, value_col, "--value-col", source)
    times = parse_times(frame[timestamp_col], timestamp_col, source)
    values = _numbers(frame[value_col], value_col, source)
    keys = frame[series_col].astype(str)
    codes, uniques = pd.factorize(keys, sort=False)
    grid, t_idx = np.unique(times.to_numpy(), return_inverse=True)
    flat = codes.astype(np.int64) * len(grid) + t_idx
    order = np.argsort(flat, kind="stable")
    dup = np.flatnonzero(np.diff(flat[order]) == 0)
    if dup.size:
        row = int(order[dup[0]])
        raise DataValidationError(
            f"{source}: series {keys.iloc[row]!r} has two rows at timestamp "
            f"{pd.Timestamp(times.iloc[row])}; keep one row per series and timestamp "
            f"(aggregate duplicates first)."
        )
    matrix = np.full((len(uniques), len(grid)), np.nan)
    matrix.reshape(-1)[flat] = values
    return LongTable(keys=tuple(map(str, uniques)), timestamps=grid, values=matrix, positions=flat)

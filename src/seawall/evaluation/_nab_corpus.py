"""A NAB corpus in memory: series, labelled anomaly windows and the scoring layout."""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall._validation import check_lengths, to_1d, to_float
from seawall.evaluation._nab_profiles import NAB_PROFILES, NabProfile
from seawall.evaluation._nab_windows import probationary_length, row_factors
from seawall.exceptions import DataValidationError

__all__ = ["NabCorpus", "NabFile"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def _timestamps(x: object, name: str) -> np.ndarray[Any, Any]:
    arr = to_1d(x, f"timestamps of {name!r}")
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[ns]")
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    try:
        return pd.to_datetime(pd.Series(arr)).to_numpy(dtype="datetime64[ns]")
    except (TypeError, ValueError) as e:
        raise DataValidationError(
            f"The timestamps of {name!r} must be datetimes (or integers); the values "
            f"{arr[:3].tolist()!r}... could not be parsed as dates."
        ) from e


def _limit(value: object, kind: str, name: str, k: int) -> Any:
    if kind == "M":
        try:
            return pd.Timestamp(value).as_unit("ns").to_datetime64()  # type: ignore[arg-type]
        except (TypeError, ValueError) as e:
            raise DataValidationError(
                f"Window {k} of {name!r} has the limit {value!r}, which is not a timestamp."
            ) from e
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return np.int64(int(value))
    raise DataValidationError(
        f"Window {k} of {name!r} has the limit {value!r}; the file's timestamps are "
        f"integers, so its window limits must be integers too."
    )


def _show(value: Any) -> str:
    return str(pd.Timestamp(value)) if isinstance(value, np.datetime64) else str(value)


@dataclass(frozen=True, slots=True, eq=False)
class NabFile:
    """One NAB series with its labelled anomaly windows.

    On construction the windows are located and checked, and the file's scoring
    layout is computed once (which window each row is in, and NAB's unweighted
    score of a detection at each row).

    Parameters
    ----------
    name : str
        The file's name, NAB's path relative to ``data/``
        (``"realKnownCause/nyc_taxi.csv"``).
    timestamps : array-like of shape (n_rows,)
        The rows' timestamps: datetimes (or strings that parse as dates) or integers.
    values : array-like of shape (n_rows,)
        The series' values (NaN allowed; a detector sees them as given).
    windows : sequence of (start, end), default=()
        The labelled anomaly windows. As in NAB, each limit must equal exactly one
        of the file's timestamps.

    Attributes
    ----------
    probationary_length : int
        The number of leading rows that are not scored (see
        :func:`probationary_length`).
    window_rows : ndarray of intp, shape (n_windows, 2)
        Each window's first and last row.
    in_window : ndarray of bool, shape (n_rows,)
        Whether each row lies inside a window.
    row_window : ndarray of intp, shape (n_rows,)
        The window each row lies in, -1 outside every window.
    row_factor : ndarray of float64, shape (n_rows,)
        NAB's unweighted score of a detection at each row (``scaledSigmoid`` of its
        relative position; see ``Sweeper.calcSweepScore``).

    Raises
    ------
    DataValidationError
        When the lengths differ, a window limit is not one of the timestamps (or
        appears more than once), a window ends before it starts or spans a single
        row, windows overlap or are out of order, or a window starts inside the
        probationary period.

    Notes
    -----
    NAB's labeler drops windows that start in the probationary period
    (``LabelCombiner.checkWindows``); here they are an error, so that the perfect
    score (one true positive per window) stays reachable. One-row windows are
    refused because NAB's ``Sweeper`` divides by ``width - 1`` to score the false
    positives after a window. Under these checks the first occurrence of each
    limit gives exactly the rows NAB's sequential walk assigns to each window, even
    when timestamps repeat or go backwards (as in a few NAB files).

    Examples
    --------
    >>> f = NabFile("toy.csv", np.arange(20), np.zeros(20), windows=[(10, 13)])
    >>> f.probationary_length, f.window_rows.tolist(), int(f.in_window.sum())
    (3, [[10, 13]], 4)
    """

    name: str
    timestamps: np.ndarray[Any, Any]
    values: FloatArray
    windows: tuple[tuple[Any, Any], ...] = ()
    probationary_length: int = field(init=False)
    window_rows: IntArray = field(init=False, repr=False)
    in_window: npt.NDArray[np.bool_] = field(init=False, repr=False)
    row_window: IntArray = field(init=False, repr=False)
    row_factor: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        name = self.name
        if not isinstance(name, str) or not name:
            raise DataValidationError(f"A NabFile's name must be a non-empty str; got {name!r}.")
        ts = _timestamps(self.timestamps, name)
        values = to_float(self.values, f"values of {name!r}", allow_nan=True)
        n = check_lengths({f"timestamps of {name!r}": ts.size, f"values of {name!r}": values.size})
        if n == 0:
            raise DataValidationError(f"{name!r} has no rows; a NAB file needs at least one.")
        raw_windows = self.windows
        if isinstance(raw_windows, str | bytes) or not isinstance(raw_windows, Iterable):
            raise DataValidationError(
                f"The windows of {name!r} must be a sequence of (start, end) pairs; "
                f"got {raw_windows!r}."
            )
        windows: list[tuple[Any, Any]] = []
        bounds: list[tuple[int, int]] = []
        for k, pair in enumerate(raw_windows):
            if isinstance(pair, str | bytes) or not isinstance(pair, Sequence) or len(pair) != 2:
                raise DataValidationError(
                    f"Window {k} of {name!r} must be a (start, end) pair; got {pair!r}."
                )
            limits = tuple(_limit(v, ts.dtype.kind, name, k) for v in pair)
            rows = []
            for which, lim in zip(("starts", "ends"), limits, strict=True):
                hits = np.flatnonzero(ts == lim)
                if hits.size != 1:
                    found = "is not one of" if hits.size == 0 else f"appears {hits.size} times in"
                    raise DataValidationError(
                        f"Window {k} of {name!r} {which} at {_show(lim)}, which {found} the "
                        f"file's timestamps; as in NAB, each window limit must match exactly "
                        f"one timestamp."
                    )
                rows.append(int(hits[0]))
            start, end = rows
            if end - start < 1:
                raise DataValidationError(
                    f"Window {k} of {name!r} ({_show(limits[0])} to {_show(limits[1])}) covers "
                    f"rows {start} to {end}; a window must end after it starts and span at "
                    f"least two rows."
                )
            if bounds and start <= bounds[-1][1]:
                raise DataValidationError(
                    f"Window {k} of {name!r} starts at row {start}, not after the end of "
                    f"window {k - 1} (row {bounds[-1][1]}); windows must be sorted and disjoint."
                )
            windows.append((limits[0], limits[1]))
            bounds.append((start, end))
        prob = probationary_length(n)
        if bounds and bounds[0][0] < prob:
            raise DataValidationError(
                f"Window 0 of {name!r} starts at row {bounds[0][0]}, inside the probationary "
                f"period (the first {prob} rows); NAB's labeler drops such windows, so drop it."
            )
        window_rows = np.array(bounds, dtype=np.intp).reshape(-1, 2)
        row_window, factor = row_factors(n, window_rows[:, 0], window_rows[:, 1])
        for arr in (ts, values, window_rows, row_window, factor):
            arr.setflags(write=False)
        in_window = row_window >= 0
        in_window.setflags(write=False)
        object.__setattr__(self, "timestamps", ts)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "windows", tuple(windows))
        object.__setattr__(self, "probationary_length", prob)
        object.__setattr__(self, "window_rows", window_rows)
        object.__setattr__(self, "in_window", in_window)
        object.__setattr__(self, "row_window", row_window)
        object.__setattr__(self, "row_factor", factor)

    @property
    def n_rows(self) -> int:
        """The number of rows."""
        return int(self.values.size)

    @property
    def n_windows(self) -> int:
        """The number of labelled windows."""
        return len(self.windows)


@dataclass(frozen=True, slots=True, eq=False)
class NabCorpus:
    """A set of NAB files scored together, and the profiles to score them with.

    Parameters
    ----------
    files : sequence of NabFile
        The files; their names must be unique.
    profiles : mapping of str to NabProfile, default=NAB_PROFILES
        The profiles that :func:`score_corpus` accepts by name.

    Raises
    ------
    DataValidationError
        When there is no file, an item is not a :class:`NabFile`, or two files
        share a name.

    See Also
    --------
    load_nab : Read a corpus laid out as NAB's repository.

    Examples
    --------
    >>> f = NabFile("a.csv", np.arange(20), np.zeros(20), windows=[(10, 13)])
    >>> corpus = NabCorpus([f])
    >>> corpus.names, corpus.n_windows, sorted(corpus.profiles)[0]
    (('a.csv',), 1, 'reward_low_FN_rate')
    """

    files: tuple[NabFile, ...]
    profiles: Mapping[str, NabProfile] = field(default_factory=lambda: NAB_PROFILES)

    def __post_init__(self) -> None:
        files = tuple(self.files) if isinstance(self.files, Iterable) else None
        if not files or not all(isinstance(f, NabFile) for f in files):
            raise DataValidationError(
                f"NabCorpus needs a non-empty sequence of NabFile; got {self.files!r}."
            )
        names = [f.name for f in files]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise DataValidationError(
                f"NabCorpus file names must be unique; {dupes!r} appear more than once."
            )
        if not isinstance(self.profiles, Mapping) or not all(
            isinstance(p, NabProfile) for p in self.profiles.values()
        ):
            raise DataValidationError(
                f"NabCorpus profiles must map names to NabProfile; got {self.profiles!r}."
            )
        object.__setattr__(self, "files", files)
        object.__setattr__(self, "profiles", MappingProxyType(dict(self.profiles)))

    def __len__(self) -> int:
        return len(self.files)

    @property
    def names(self) -> tuple[str, ...]:
        """The file names, in corpus order."""
        return tuple(f.name for f in self.files)

    @property
    def n_windows(self) -> int:
        """The number of labelled windows over all files."""
        return sum(f.n_windows for f in self.files)

    def file(self, name: str) -> NabFile:
        """The file called ``name``.

        Parameters
        ----------
        name : str
            A file name, e.g. ``"realKnownCause/nyc_taxi.csv"``.

        Returns
        -------
        NabFile
            The file.

        Raises
        ------
        DataValidationError
            When no file has that name.

        Examples
        --------
        >>> f = NabFile("a.csv", np.arange(20), np.zeros(20))
        >>> NabCorpus([f]).file("a.csv").n_rows
        20
        """
        for f in self.files:
            if f.name == name:
                return f
        shown = ", ".join(repr(n) for n in self.names[:5])
        more = f" and {len(self.files) - 5} more" if len(self.files) > 5 else ""
        raise DataValidationError(f"The corpus has no file {name!r}; its files are {shown}{more}.")

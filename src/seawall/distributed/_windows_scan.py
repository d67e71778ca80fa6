"""Windowed metrics on Dask, first pass: which (model, window) each partition holds.

Every partition's time and model columns are read and reduced to its keys: one
row per (model, window) with rows, and the partition's time range. From the
keys alone the client learns the models and each one's first window (for
``reference="first"``), the windows that straddle partitions (their states
are merged before their metrics are read), and the empty windows inside each
model's span. The keys number the (model, window) states, never the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall.distributed._windows_read import read_part
from seawall.exceptions import DataValidationError, InsufficientDataError
from seawall.monitoring._window_build import window_starts
from seawall.monitoring._window_columns import Columns
from seawall.monitoring._window_inputs import checked_models, to_ns
from seawall.monitoring._window_options import WindowOptions

__all__ = [
    "CALLER",
    "MAX_SPAN",
    "Extent",
    "PartKeys",
    "WindowSpec",
    "extent",
    "merge_blocks",
    "part_name",
    "scan_part",
]

CALLER = "window_metrics"
#: The most partitions a merge block's windows reach over (see :func:`merge_blocks`).
MAX_SPAN = 8

IntArray = npt.NDArray[np.int64]
ObjArray = npt.NDArray[np.object_]


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """What every task needs: the columns and the checked options.

    Attributes
    ----------
    columns : Columns
        Which column holds what.
    options : WindowOptions
        Window length, bins, caps, calibration, level and ``min_rows``.
    out : str or None
        The directory the points are written to, or ``None``.
    """

    columns: Columns
    options: WindowOptions
    out: str | None

    @property
    def read(self) -> list[str]:
        """Every column a partition is read for, each once, in a fixed order."""
        c = self.columns
        named = [c.time, c.model, c.prediction, c.score, c.label, *c.features, *c.sensitive]
        return list(dict.fromkeys(n for n in named if n is not None))

    @property
    def has_scores(self) -> bool:
        """Whether the logs have a score column."""
        return self.columns.score is not None

    @property
    def has_labels(self) -> bool:
        """Whether the logs have a label column."""
        return self.columns.label is not None


@dataclass(frozen=True, slots=True)
class PartKeys:
    """The (model, window) keys of one partition.

    Attributes
    ----------
    model : ndarray of object, shape (k,)
        Each key's model, as text.
    window : ndarray of int64, shape (k,)
        Its window start, nanoseconds since the epoch (UTC).
    rows : ndarray of int64, shape (k,)
        Its rows in the partition.
    tz : str or None
        The time zone of the partition's times.
    first_time, last_time : int
        The partition's earliest and latest time (0 without rows).
    """

    model: ObjArray
    window: IntArray
    rows: IntArray
    tz: str | None
    first_time: int
    last_time: int

    @property
    def n_rows(self) -> int:
        """The partition's rows."""
        return int(self.rows.sum())


def part_name(path: str) -> str:
    """How messages name a partition."""
    return f"the partition {Path(path).name!r}"


def scan_part(path: str, spec: WindowSpec) -> PartKeys:
    """Read one partition's times and models into its (model, window) keys.

    Parameters
    ----------
    path : str
        The partition.
    spec : WindowSpec
        The columns and window length.

    Returns
    -------
    PartKeys
        The keys.

    Raises
    ------
    DataValidationError
        On a missing column, unparsable or missing times, or a missing model.
    """
    c = spec.columns
    frame = read_part(path, [c.time, c.model])
    if len(frame) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return PartKeys(np.zeros(0, dtype=object), empty, empty, None, 0, 0)
    name = part_name(path)
    time_ns, tz = to_ns(frame[c.time], f"{name}[{c.time!r}]", CALLER)
    raw_codes, raw_models = checked_models(frame[c.model], f"{name}[{c.model!r}]", CALLER)
    # Models are named by their text, as read_logs names them.
    codes, names = pd.factorize(np.array([str(m) for m in raw_models], dtype=object)[raw_codes])
    win = window_starts(time_ns, spec.options.every)
    w0 = int(win.min())
    span = (int(win.max()) - w0) // spec.options.every + 1
    key = codes.astype(np.int64) * span + (win - w0) // spec.options.every
    unique, rows = np.unique(key, return_counts=True)
    return PartKeys(
        model=np.asarray(names, dtype=object)[unique // span],
        window=w0 + (unique % span) * spec.options.every,
        rows=rows.astype(np.int64),
        tz=tz,
        first_time=int(time_ns.min()),
        last_time=int(time_ns.max()),
    )


@dataclass(frozen=True, slots=True)
class Extent:
    """What the keys of every partition tell: models, shared windows, empty windows.

    Attributes
    ----------
    models : tuple of str
        Every model, sorted.
    keys : pandas.DataFrame
        One row per partition and key: ``part`` (index into the files),
        ``model`` (index into ``models``), ``window``, ``rows`` and ``block``
        (the merge block of a window that straddles partitions, -1 otherwise).
    first : ndarray of int64, shape (n_models,)
        Each model's first window start.
    tz : str or None
        The logs' time zone.
    n_rows : int
        Rows in all partitions.
    n_blocks : int
        Merge blocks of straddling windows.
    gap_models : ndarray of object
        The model of each empty window inside a model's span.
    gap_starts : ndarray of int64
        Its start.
    parts : tuple of int
        The partitions with rows.
    time_range : dict of int to (int, int)
        Each partition's earliest and latest time.
    """

    models: tuple[str, ...]
    keys: pd.DataFrame
    first: IntArray
    tz: str | None
    n_rows: int
    n_blocks: int
    gap_models: ObjArray
    gap_starts: IntArray
    parts: tuple[int, ...]
    time_range: dict[int, tuple[int, int]]


def extent(scanned: Sequence[PartKeys], files: Sequence[str], every: int) -> Extent:
    """Put the partitions' keys together (on the client: one row per partition and key).

    Parameters
    ----------
    scanned : sequence of PartKeys
        One per file.
    files : sequence of str
        The files, for messages.
    every : int
        The window length.

    Returns
    -------
    Extent
        The models, keys, shared windows in merge blocks, and empty windows.

    Raises
    ------
    InsufficientDataError
        When no partition has a row.
    DataValidationError
        When partitions disagree on the time zone.
    """
    parts = tuple(i for i, p in enumerate(scanned) if p.n_rows)
    if not parts:
        raise InsufficientDataError(
            f"the {len(files)} partition(s) passed to {CALLER} hold no row; there is "
            f"nothing to measure."
        )
    zones = {scanned[i].tz for i in parts}
    if len(zones) > 1:
        shown = {Path(files[i]).name: scanned[i].tz for i in parts}
        raise DataValidationError(
            f"the partitions passed to {CALLER} disagree on the time zone of their times "
            f"({dict(list(shown.items())[:4])}); write every partition's times in one time "
            f"zone (or all without one)."
        )
    keys = pd.DataFrame(
        {
            "part": np.concatenate([np.full(scanned[i].rows.size, i) for i in parts]),
            "model": np.concatenate([scanned[i].model for i in parts]),
            "window": np.concatenate([scanned[i].window for i in parts]),
            "rows": np.concatenate([scanned[i].rows for i in parts]),
        }
    )
    codes, uniques = pd.factorize(keys["model"], sort=True)
    keys["model"] = codes.astype(np.int64)
    models = tuple(str(m) for m in uniques)
    per_key = keys.groupby(["model", "window"], sort=True).agg(
        files=("part", "size"), rows=("rows", "sum"), first_part=("part", "min")
    )
    shared = per_key[per_key["files"] > 1].reorder_levels(["window", "model"]).sort_index()
    target = max(int(max(scanned[i].n_rows for i in parts)), 1)
    block = pd.Series(
        merge_blocks(shared["rows"].to_numpy(), shared["first_part"].to_numpy(), target),
        index=shared.index,
        dtype=np.int64,
    )
    keys["block"] = (
        block.reindex(pd.MultiIndex.from_frame(keys[["window", "model"]]))
        .fillna(-1)
        .to_numpy(dtype=np.int64)
    )
    m = per_key.index.get_level_values("model").to_numpy(dtype=np.int64)
    w = per_key.index.get_level_values("window").to_numpy(dtype=np.int64)
    first = np.full(len(models), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, m, w)
    gap_m, gap_s = _gaps(m, w, every)
    return Extent(
        models=models,
        keys=keys,
        first=first,
        tz=next(iter(zones)),
        n_rows=int(keys["rows"].sum()),
        n_blocks=int(block.max()) + 1 if len(block) else 0,
        gap_models=np.asarray(models, dtype=object)[gap_m] if gap_m.size else gap_m.astype(object),
        gap_starts=gap_s,
        parts=parts,
        time_range={i: (scanned[i].first_time, scanned[i].last_time) for i in parts},
    )


def merge_blocks(rows: IntArray, first_part: IntArray, target: int) -> IntArray:
    """Cut windows that straddle partitions, in time order, into merge blocks.

    A block closes before it would hold more than ``target`` rows (about one
    partition's, so a merge task holds no more than a reading task does) or
    reach back more than :data:`MAX_SPAN` partitions: then its merge starts
    as soon as the partitions of its stretch of time are read, while later
    ones are still being read, and the states it waits for stay few.

    Parameters
    ----------
    rows : ndarray of int64, shape (k,)
        Each straddling window's rows, windows in time order.
    first_part : ndarray of int64, shape (k,)
        The first partition holding each.
    target : int
        The most rows a block should hold.

    Returns
    -------
    ndarray of int64, shape (k,)
        Each window's block, from 0.

    Examples
    --------
    >>> merge_blocks(np.array([5, 5, 5, 5]), np.array([0, 0, 1, 1]), 10).tolist()
    [0, 0, 1, 1]
    >>> merge_blocks(np.array([1, 1, 1]), np.array([0, 8, 9]), 10).tolist()
    [0, 1, 1]
    """
    out = np.zeros(rows.size, dtype=np.int64)
    block, held, since = 0, 0, int(first_part[0]) if rows.size else 0
    for k, (n, part) in enumerate(zip(rows.tolist(), first_part.tolist(), strict=True)):
        if held and (held + n > target or part - since >= MAX_SPAN):
            block, held, since = block + 1, 0, part
        held += n
        out[k] = block
    return out


def _gaps(model: IntArray, window: IntArray, every: int) -> tuple[IntArray, IntArray]:
    """The empty windows between each model's windows (keys sorted by model, window)."""
    same = model[1:] == model[:-1]
    missing = np.where(same, (window[1:] - window[:-1]) // every - 1, 0)
    at = np.repeat(np.arange(missing.size), missing)
    step = np.arange(at.size) - np.repeat(np.cumsum(missing) - missing, missing) + 1
    return model[:-1][at], window[:-1][at] + step * every

"""Windowed metrics on Dask: the tasks that run on the workers.

- :func:`reference_part` reads one partition and keeps its reference rows,
  split by block of models;
- :func:`profile_block` puts a block's reference rows together (in partition
  order) and profiles each model, as the in-memory path profiles the
  reference rows of the whole logs;
- :func:`states_part` builds one partition's (model, window) states against
  the profiles, reads the metrics of the windows no other partition touches,
  and hands on the states of the windows that straddle partitions;
- :func:`merge_block` merges those states window by window (in partition
  order) and reads their metrics.

Each returns :class:`~seawall.monitoring.MetricPoints` or states, never rows;
with an ``out`` directory it also writes its points there as Parquet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seawall.distributed._windows_read import read_part
from seawall.distributed._windows_scan import CALLER, WindowSpec, part_name
from seawall.monitoring._points import MetricPoints
from seawall.monitoring._window_build import build_states, window_starts
from seawall.monitoring._window_inputs import Logs, read_logs
from seawall.monitoring._window_metrics import points_of
from seawall.monitoring._window_parts import concat_logs, take_rows
from seawall.monitoring._window_reference import ReferenceRule, build_profiles
from seawall.monitoring._window_state import (
    ReferenceProfile,
    WindowState,
    WindowStates,
    merge_all,
    utc_ns,
)

__all__ = [
    "SharedKeys",
    "merge_block",
    "pick",
    "profile_block",
    "read_logs_part",
    "reference_part",
    "states_part",
    "write_points",
]

Profiles = Mapping[str, ReferenceProfile]
#: A partition's windows that straddle partitions: (model, window start) -> merge block.
SharedKeys = Mapping[tuple[str, int], int]


def pick(result: Any, *path: Any) -> Any:
    """An item of a task's result (``None`` for a missing dict key), as a task of its own.

    Run on the worker that holds ``result``, so only the item travels on.

    Parameters
    ----------
    result : tuple or dict
        A task's result.
    *path : object
        Indices or keys, outermost first.

    Returns
    -------
    object
        ``result[path[0]][path[1]]...``, or ``None`` where a dict lacks the key.

    Examples
    --------
    >>> pick({1: "a"}, 1), pick({1: "a"}, 2), pick(("p", {3: "s"}), 1, 3)
    ('a', None, 's')
    """
    for key in path:
        if result is None:
            return None
        result = result.get(key) if isinstance(result, dict) else result[key]
    return result


def read_logs_part(path: str, spec: WindowSpec) -> Logs:
    """Read and check one partition's logs, as ``window_metrics`` checks logs in memory.

    Parameters
    ----------
    path : str
        The partition.
    spec : WindowSpec
        The columns.

    Returns
    -------
    Logs
        The checked rows.

    Raises
    ------
    DataValidationError
        On a missing column or bad values; the message names the partition.
    """
    return read_logs(read_part(path, spec.read), spec.columns, part_name(path), CALLER)


def write_points(points: MetricPoints, out: str, name: str) -> None:
    """Write points as one Parquet file (the columns of ``MetricPoints.to_frame``).

    Parameters
    ----------
    points : MetricPoints
        The points.
    out : str
        The directory.
    name : str
        The file's name.
    """
    points.to_frame().to_parquet(Path(out) / name, index=False)


def reference_part(
    path: str,
    spec: WindowSpec,
    rule: ReferenceRule,
    first: Mapping[str, int],
    block_of: Mapping[str, int],
) -> dict[int, Logs]:
    """One partition's reference rows, by block of models.

    Parameters
    ----------
    path : str
        The partition.
    spec : WindowSpec
        The columns and options.
    rule : ReferenceRule
        Which rows are reference rows.
    first : mapping of str to int
        Every model's first window start in the whole data.
    block_of : mapping of str to int
        Every model's profile block.

    Returns
    -------
    dict of int to Logs
        Per block with reference rows here, those rows in partition order.
    """
    logs = read_logs_part(path, spec)
    every = spec.options.every
    window = window_starts(logs.time_ns, every)
    first_of = np.array([first[m] for m in logs.models], dtype=np.int64)
    rows = np.flatnonzero(rule.mask(logs, window, every, first_of))
    block = np.array([block_of[m] for m in logs.models], dtype=np.int64)[logs.model[rows]]
    return {int(b): take_rows(logs, rows[block == b]) for b in np.unique(block)}


def profile_block(
    pieces: Sequence[Logs | None], models: tuple[str, ...], spec: WindowSpec
) -> dict[str, ReferenceProfile]:
    """Profile a block of models from their reference rows in every partition.

    Parameters
    ----------
    pieces : sequence of Logs or None
        The block's reference rows of each partition that may hold some, in
        partition order (``None`` where it holds none).
    models : tuple of str
        The block's models.
    spec : WindowSpec
        The columns and options.

    Returns
    -------
    dict of str to ReferenceProfile
        One per model.

    Raises
    ------
    InsufficientDataError
        When a model has no reference rows, or too few labels to calibrate.
    """
    present = [p for p in pieces if p is not None]
    ref = concat_logs(present) if present else _no_rows(spec)
    o = spec.options
    return build_profiles(
        ref,
        models,
        spec.columns.categorical,
        n_bins=o.n_bins,
        sample_cap=o.sample_cap,
        calibration=o.calibration,
        shared=False,
        caller=CALLER,
    )


def _no_rows(spec: WindowSpec) -> Logs:
    """Logs without a row (a block whose models have no reference rows)."""
    import pandas as pd

    c = spec.columns
    none = np.zeros(0)
    return Logs(
        time_ns=np.zeros(0, dtype=np.int64),
        model=np.zeros(0, dtype=np.intp),
        models=(),
        prediction=np.zeros(0, dtype=np.int8),
        score=none if c.score is not None else None,
        label=none if c.label is not None else None,
        features=pd.DataFrame({f: none for f in c.features}),
        sensitive=tuple((np.zeros(0, dtype=np.intp), ()) for _ in c.sensitive),
        tz=None,
    )


def _profiles(blocks: Sequence[Profiles]) -> dict[str, ReferenceProfile]:
    out: dict[str, ReferenceProfile] = {}
    for b in blocks:
        out.update(b)
    return out


def _points(
    states: list[WindowState], profiles: Profiles, spec: WindowSpec, tz: str | None
) -> MetricPoints:
    """The points of some states (no empty windows: the client adds those)."""
    models = sorted({s.model for s in states})
    collection = WindowStates(
        states=tuple(states),
        references=tuple(profiles[m] for m in models),
        every=spec.options.every,
        tz=tz,
        sensitive=spec.columns.sensitive,
        has_scores=spec.has_scores,
        has_labels=spec.has_labels,
    )
    return points_of(collection, spec.options.alpha, spec.options.min_rows, fill_gaps=False)


def states_part(
    item: tuple[int, str],
    spec: WindowSpec,
    profile_blocks: Sequence[Profiles],
    shared: SharedKeys,
    tz: str | None,
) -> tuple[MetricPoints, dict[int, list[WindowState]]]:
    """One partition's states; the metrics of its own windows; the states of shared ones.

    Parameters
    ----------
    item : (int, str)
        The partition's index and path.
    spec : WindowSpec
        The columns and options.
    profile_blocks : sequence of mapping of str to ReferenceProfile
        The profiles of (at least) the partition's models.
    shared : mapping of (str, int) to int
        The partition's windows that other partitions also hold, with their
        merge block.
    tz : str or None
        The logs' time zone.

    Returns
    -------
    points : MetricPoints
        The metrics of the windows only this partition holds.
    shared : dict of int to list of WindowState
        Per merge block, the states of the straddling windows.
    """
    index, path = item
    logs = read_logs_part(path, spec)
    profiles = _profiles(profile_blocks)
    o = spec.options
    states = build_states(
        logs,
        o.every,
        profiles,
        n_calibration_bins=o.n_calibration_bins,
        score_cap=o.score_cap,
        sample_cap=o.sample_cap,
    )
    own: list[WindowState] = []
    handed: dict[int, list[WindowState]] = {}
    for s in states:
        block = shared.get((s.model, utc_ns(s.start)))
        if block is None:
            own.append(s)
        else:
            handed.setdefault(block, []).append(s)
    points = _points(own, profiles, spec, tz)
    if spec.out is not None:
        write_points(points, spec.out, f"points-part-{index:05d}.parquet")
    return points, handed


def merge_block(
    index: int,
    pieces: Sequence[list[WindowState] | None],
    profile_blocks: Sequence[Profiles],
    spec: WindowSpec,
    tz: str | None,
) -> MetricPoints:
    """Merge the states of windows that straddle partitions, and read their metrics.

    Parameters
    ----------
    index : int
        The merge block (names its file).
    pieces : sequence of list of WindowState or None
        Each partition's states of the block, in partition order.
    profile_blocks : sequence of mapping of str to ReferenceProfile
        The profiles of the block's models.
    spec : WindowSpec
        The columns and options.
    tz : str or None
        The logs' time zone.

    Returns
    -------
    MetricPoints
        The metrics of the merged windows.
    """
    groups: dict[tuple[str, int], list[WindowState]] = {}
    for piece in pieces:
        for s in piece or ():
            groups.setdefault((s.model, utc_ns(s.start)), []).append(s)
    merged = [merge_all(groups[key]) for key in sorted(groups)]
    points = _points(merged, _profiles(profile_blocks), spec, tz)
    if spec.out is not None:
        write_points(points, spec.out, f"points-shared-{index:05d}.parquet")
    return points

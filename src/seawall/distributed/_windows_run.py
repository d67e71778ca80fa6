"""Windowed metrics on Dask: the task graph after the scan, and the points put together.

Given the keys of every partition (:class:`~seawall.distributed._windows_scan.Extent`),
the client submits, in one go:

1. per partition that may hold reference rows, a task that reads it and keeps
   them, split by block of models; per block, a task that profiles its models
   from those rows (only the pieces travel, not the partitions);
2. per partition, a task that builds its states against the profiles and
   returns the metric points of the windows only it holds, and the states of
   the windows it shares with other partitions, by merge block;
3. per merge block, a task that merges those states window by window and
   returns their points.

The client gathers points as tasks finish, adds the empty windows inside each
model's span (volume 0), and sorts the points as the in-memory path does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall.distributed._windows_scan import CALLER, Extent, WindowSpec
from seawall.distributed._windows_tasks import (
    merge_block,
    pick,
    profile_block,
    reference_part,
    states_part,
    write_points,
)
from seawall.monitoring._drift_sketch import read_only
from seawall.monitoring._points import MetricPoints
from seawall.monitoring._window_inputs import read_logs, to_frame
from seawall.monitoring._window_metrics import empty_window_points
from seawall.monitoring._window_reference import ReferenceRule, build_profiles, reference_rule

if TYPE_CHECKING:
    from distributed import Client, Future

__all__ = ["concat_points", "is_table", "run_windows"]

Progress = Callable[[str, int, int], None]
IntArray = npt.NDArray[np.int64]


def is_table(reference: object) -> bool:
    """Whether ``reference`` is reference logs (a data frame or table), not a rule."""
    return hasattr(reference, "columns") and (
        hasattr(reference, "iloc") or hasattr(reference, "to_pandas")
    )


class _Graph:
    """Submits tasks with unique names (a token per run, so two runs never collide)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.token = uuid.uuid4().hex[:12]

    def submit(
        self, name: str, func: Callable[..., Any], *args: Any, priority: int = 0
    ) -> Future[Any]:
        """Submit ``func(*args)``; higher ``priority`` runs first among ready tasks."""
        key = f"seawall-windows-{name}-{self.token}"
        future: Future[Any] = self.client.submit(
            func, *args, key=key, pure=False, priority=priority
        )
        return future


def _by_part(keys: pd.DataFrame) -> Iterator[tuple[int, pd.DataFrame]]:
    """The keys of each partition, partitions in order."""
    part = keys["part"].to_numpy(dtype=np.int64)
    order = np.argsort(part, kind="stable")
    cuts = np.flatnonzero(np.r_[True, part[order][1:] != part[order][:-1], True])
    for lo, hi in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
        yield int(part[order[lo]]), keys.iloc[order[lo:hi]]


def _model_blocks(n_models: int, client: Client) -> IntArray:
    """Each model's profile block: contiguous runs of sorted models, two per worker."""
    workers = max(len(client.scheduler_info().get("workers", {})), 1)
    n_blocks = max(1, min(n_models, 2 * workers))
    return (np.arange(n_models, dtype=np.int64) * n_blocks) // max(n_models, 1)


def _given_profiles(
    graph: _Graph, reference: object, spec: WindowSpec, ext: Extent
) -> list[Future[Any]]:
    """Profiles of reference logs passed as a table: built here (they are in memory), scattered."""
    c = spec.columns
    frame = to_frame(reference, "reference", CALLER)
    shared = c.model not in {str(col) for col in frame.columns}
    if shared:
        frame = frame.assign(**{c.model: "<all models>"})
    ref = read_logs(frame, c, "reference", CALLER, require_time=False)
    o = spec.options
    profiles = build_profiles(
        ref,
        ext.models,
        c.categorical,
        n_bins=o.n_bins,
        sample_cap=o.sample_cap,
        calibration=o.calibration,
        shared=shared,
        caller=CALLER,
    )
    scattered: list[Future[Any]] = graph.client.scatter([profiles], broadcast=True)  # type: ignore[no-untyped-call]
    return scattered


def _reference_keys(keys: pd.DataFrame, rule: ReferenceRule, ext: Extent, every: int) -> Any:
    """The keys whose window may hold reference rows."""
    window = keys["window"].to_numpy(dtype=np.int64)
    if rule.windows:
        limit = ext.first[keys["model"].to_numpy(dtype=np.int64)] + rule.windows * every
        return keys[window < limit]
    return keys[(window < rule.end) & (window + every > rule.start)]


def _rule_profiles(
    graph: _Graph,
    rule: ReferenceRule,
    files: Sequence[str],
    spec: WindowSpec,
    ext: Extent,
    block_of: IntArray,
) -> list[Future[Any]]:
    """Profile tasks, one per block of models, fed by the partitions' reference rows."""
    keys = _reference_keys(ext.keys, rule, ext, spec.options.every)
    first = dict(zip(ext.models, ext.first.tolist(), strict=True))
    blocks = dict(zip(ext.models, block_of.tolist(), strict=True))
    pieces: dict[int, list[Future[Any]]] = {b: [] for b in range(int(block_of.max()) + 1)}
    for part, rows in _by_part(keys):
        read = graph.submit(
            f"reference-{part}", reference_part, files[part], spec, rule, first, blocks
        )
        for b in np.unique(block_of[rows["model"].to_numpy(dtype=np.int64)]).tolist():
            pieces[b].append(graph.submit(f"reference-{part}-{b}", pick, read, b, priority=2))
    names = np.asarray(ext.models, dtype=object)
    return [
        graph.submit(
            f"profile-{b}", profile_block, pieces[b], tuple(names[block_of == b].tolist()), spec
        )
        for b in sorted(pieces)
    ]


def run_windows(
    client: Client,
    files: Sequence[str],
    spec: WindowSpec,
    ext: Extent,
    reference: object,
    progress: Progress | None,
) -> MetricPoints:
    """Submit the reference, state and merge tasks; gather and sort their points.

    Parameters
    ----------
    client : distributed.Client
        The cluster.
    files : sequence of str
        The partitions.
    spec : WindowSpec
        The columns and options.
    ext : Extent
        The scan's keys.
    reference : object
        As ``window_metrics`` takes it.
    progress : callable or None
        Called with ``(stage, done, total)``: ``"reference"``, ``"states"`` and
        ``"merge"`` as their tasks finish.

    Returns
    -------
    MetricPoints
        Every point, in the in-memory order.
    """
    graph = _Graph(client)
    every = spec.options.every
    if is_table(reference):
        profiles = _given_profiles(graph, reference, spec, ext)
        block_of = np.zeros(len(ext.models), dtype=np.int64)
    else:
        rule = reference_rule(reference, ext.tz, CALLER)
        block_of = _model_blocks(len(ext.models), client)
        profiles = _rule_profiles(graph, rule, files, spec, ext, block_of)
    names = np.asarray(ext.models, dtype=object)
    keys = ext.keys
    points: list[Future[Any]] = []
    handed: dict[int, list[Future[Any]]] = {b: [] for b in range(ext.n_blocks)}
    for i, rows in _by_part(keys):
        model = rows["model"].to_numpy(dtype=np.int64)
        window = rows["window"].to_numpy(dtype=np.int64)
        block = rows["block"].to_numpy(dtype=np.int64)
        straddle = block >= 0
        shared = dict(
            zip(
                zip(names[model[straddle]].tolist(), window[straddle].tolist(), strict=True),
                block[straddle].tolist(),
                strict=True,
            )
        )
        needed = [profiles[b] for b in np.unique(block_of[model]).tolist()]
        built = graph.submit(
            f"states-{i}", states_part, (i, files[i]), spec, needed, shared, ext.tz
        )
        # Picks and merges go first once ready: they free memory that states hold.
        points.append(graph.submit(f"points-{i}", pick, built, 0, priority=2))
        for b in np.unique(block[straddle]).tolist():
            handed[b].append(graph.submit(f"handed-{i}-{b}", pick, built, 1, b, priority=2))
    del built  # its picks keep it alive until they have run, and no longer
    # The profile blocks each merge block needs.
    straddling = keys[keys["block"] >= 0]
    pairs = np.unique(
        np.stack(
            [
                straddling["block"].to_numpy(dtype=np.int64),
                block_of[straddling["model"].to_numpy(dtype=np.int64)],
            ]
        ),
        axis=1,
    )
    merges = [
        graph.submit(
            f"merge-{b}",
            merge_block,
            b,
            handed.pop(b),
            [profiles[k] for k in pairs[1, pairs[0] == b].tolist()],
            spec,
            ext.tz,
            priority=1,
        )
        for b in range(ext.n_blocks)
    ]
    gathered = _gather(points, merges, profiles, progress)
    gaps = empty_window_points(ext.gap_models, ext.gap_starts, every, spec.options.alpha, ext.tz)
    if spec.out is not None and len(gaps):
        graph.submit("empty", write_points, gaps, spec.out, "points-empty.parquet").result()
    return concat_points([*gathered, gaps], every, spec.options.alpha, ext.tz)


def _gather(
    points: list[Future[Any]],
    merges: list[Future[Any]],
    profiles: list[Future[Any]],
    progress: Progress | None,
) -> list[MetricPoints]:
    """The points of every task, fetched as each finishes (its memory freed on the cluster)."""
    from distributed import as_completed

    stage = {f.key: "states" for f in points}
    stage.update({f.key: "merge" for f in merges})
    stage.update({f.key: "reference" for f in profiles})
    totals = {"states": len(points), "merge": len(merges), "reference": len(profiles)}
    done = dict.fromkeys(totals, 0)
    wanted = {f.key for f in (*points, *merges)}
    out: list[MetricPoints] = []
    queue = as_completed([*profiles, *points, *merges])  # type: ignore[no-untyped-call]
    points.clear()
    merges.clear()
    for future in queue:
        name = stage[future.key]
        if future.key in wanted:
            out.append(future.result())
        elif future.status == "error":
            future.result()  # raises the task's error (a reference without rows, say)
        done[name] += 1
        if progress is not None:
            progress(name, done[name], totals[name])
    return out


def concat_points(
    parts: Sequence[MetricPoints], every: int, alpha: float, tz: str | None
) -> MetricPoints:
    """Points of several tasks as one, sorted by model, metric, qualifier and window.

    Parameters
    ----------
    parts : sequence of MetricPoints
        The parts (disjoint windows).
    every : int
        The window length in nanoseconds.
    alpha : float
        The intervals' ``1 - level``.
    tz : str or None
        The logs' time zone.

    Returns
    -------
    MetricPoints
        In the order :class:`~seawall.monitoring._points.PointsBuilder` gives.

    Examples
    --------
    >>> from seawall.monitoring._window_metrics import empty_window_points
    >>> a = empty_window_points(np.array(["b"], dtype=object), np.array([0]), 10, 0.05, None)
    >>> b = empty_window_points(np.array(["a"], dtype=object), np.array([10]), 10, 0.05, None)
    >>> concat_points([a, b], 10, 0.05, None).model.tolist()
    ['a', 'b']
    """

    def joined(field: str) -> npt.NDArray[Any]:
        out: npt.NDArray[Any] = np.concatenate([getattr(p, field) for p in parts])
        return out

    codes = [pd.factorize(joined(f), sort=True)[0] for f in ("model", "metric", "qualifier")]
    order = np.lexsort((joined("window_start"), codes[2], codes[1], codes[0]))
    del codes
    # One field at a time: the parts, the result and one field's copy at most.
    fields = ("model", "metric", "qualifier", "window_start", "window_end")
    numbers = ("value", "lower", "upper", "n", "q_value")
    fixed = {f: read_only(joined(f)[order]) for f in (*fields, *numbers)}
    return MetricPoints(**fixed, every=every, alpha=alpha, tz=tz)

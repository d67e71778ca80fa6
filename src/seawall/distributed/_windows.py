"""Windowed model metrics of partitioned Parquet prediction logs, on a Dask cluster."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow.parquet as pq

from seawall._validation import param_error
from seawall.distributed._cluster import connect
from seawall.distributed._files import parquet_files
from seawall.distributed._reduce import map_parts, staged
from seawall.distributed._windows_read import check_part
from seawall.distributed._windows_run import run_windows
from seawall.distributed._windows_scan import CALLER, WindowSpec, extent, scan_part
from seawall.monitoring._points import MetricPoints
from seawall.monitoring._summarize_windows import StateOptions
from seawall.monitoring._window_columns import resolve_columns
from seawall.monitoring._window_options import check_options

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["window_metrics"]


def window_metrics(
    source: str | Path | Sequence[str | Path],
    *,
    every: object = "1h",
    reference: object = "first",
    time_col: str = "time",
    model_col: str = "model",
    prediction_col: str = "prediction",
    score_col: str | None = "score",
    label_col: str | None = "label",
    feature_cols: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    sensitive_cols: str | Sequence[str] | None = None,
    id_col: str | None = "request_id",
    positive_label: Any = 1,
    alpha: float = 0.05,
    min_rows: int = 30,
    calibration: Literal["none", "isotonic"] = "none",
    n_bins: int = 10,
    n_calibration_bins: int = 10,
    sample_cap: int | None = 10_000,
    score_sample_cap: int = 10_000,
    out: str | Path | None = None,
    scheduler: Client | str = "local",
    n_workers: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> MetricPoints:
    """:func:`seawall.monitoring.window_metrics` of partitioned Parquet logs, on Dask.

    Each task reads one partition (a time slice of the logs, of every model or
    of some; or one model's logs) and builds its (model, window) states: count
    tables, exact sums and sketches against each model's reference profile.
    A window that only one partition holds has its metrics read off its state
    by that task; the states of a window that straddles partitions (a file
    boundary that cuts through it) are merged exactly, counts and sums added
    and sketches merged, before their metrics are read. The reference is
    chosen as in memory: a first pass over the time and model columns finds
    each model's first window, the partitions that hold reference rows send
    just those rows to one profiling task per block of models. The client
    receives metric points and small keys, never rows nor states.

    The points equal those of the in-memory function on the partitions' rows
    concatenated in file order: counts exactly, everything else to
    floating-point rounding (sums of a straddling window are added in another
    order). The capped parts are not samples: a numeric feature keeps its
    exact sorted values while a window has at most ``sample_cap`` of them (and
    a merge keeps them exactly when the merged window does), and a score
    sketch snaps to a fixed grid past ``score_sample_cap`` distinct scores,
    which commutes with merging; so the result does not depend on how the
    rows are partitioned.

    Parameters
    ----------
    source : str, Path or sequence of them
        A directory of Parquet files, a glob, a file or a list of files
        (:func:`parquet_files`); workers must be able to open the paths. A
        column a file lacks is read from a ``name=value`` directory of its
        path (hive-style partitions, e.g. ``logs/model=fraud/part-0.parquet``),
        as text; such keys are never taken as features unless named in
        ``feature_cols``. Dictionary-encoded columns are read as their values.
    every, reference, time_col, model_col, prediction_col, score_col, label_col
        As :func:`seawall.monitoring.window_metrics`; ``reference`` reference
        logs (a DataFrame) are profiled on the client.
    feature_cols, categorical, sensitive_cols, id_col, positive_label
        As :func:`seawall.monitoring.window_metrics`; ``feature_cols=None``
        takes the columns of the first file that no other parameter names.
    alpha, min_rows, calibration, n_bins, n_calibration_bins
        As :func:`seawall.monitoring.window_metrics`.
    sample_cap, score_sample_cap
        As :func:`seawall.monitoring.window_metrics`.
    out : str, Path or None, default=None
        A directory the workers write the points to as Parquet (the columns of
        ``MetricPoints.to_frame()``): ``points-part-NNNNN.parquet`` with the
        windows only partition ``NNNNN`` holds, ``points-shared-NNNNN.parquet``
        with merged windows, and ``points-empty.parquet`` with the empty
        windows inside a model's span; together they are the returned points.
        It is created if need be and must not hold ``points-*.parquet`` files
        of an earlier run. ``None`` writes nothing.
    scheduler : distributed.Client or str, default="local"
        A client, a scheduler's address, or ``"local"`` (see :func:`connect`).
    n_workers : int or None, default=None
        Workers of a local cluster.
    progress : callable or None, default=None
        Called with ``(stage, done, total)`` as tasks finish, stage ``"scan"``,
        ``"reference"``, ``"states"`` or ``"merge"``.

    Returns
    -------
    MetricPoints
        As :func:`seawall.monitoring.window_metrics` returns them, in the same order.

    Raises
    ------
    DataValidationError
        On a missing column or bad values (naming the partition), or
        partitions whose times disagree on the time zone.
    InsufficientDataError
        When the partitions hold no row, or a model has no reference rows.
    InvalidParameterError
        On a bad parameter, or an ``out`` directory with earlier points.
    ConfigError
        When Dask is missing or the scheduler cannot be reached.

    See Also
    --------
    seawall.monitoring.window_metrics : The same on logs in memory.
    seawall.monitoring.window_states : The mergeable states.

    Notes
    -----
    Memory: a task holds one partition (or one merge block, about one
    partition's rows worth of states); the client holds the keys (one per
    partition and (model, window)) and the points. Partitions by time, by model
    or both leave only the windows cut by a file boundary to merge; a
    partitioning that spreads every window over many files still gives the
    same points, but then every state travels to a merge task.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile
    >>> rng = np.random.default_rng(0)
    >>> n = 600
    >>> logs = pd.DataFrame({
    ...     "time": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n) * 18, "s"),
    ...     "model": "fraud", "score": rng.random(n), "age": rng.normal(40, 10, n)})
    >>> logs["prediction"] = (logs.score > 0.5).astype(int)
    >>> folder = Path(tempfile.mkdtemp())
    >>> for i, rows in enumerate(np.array_split(np.arange(n), 2)):
    ...     logs.iloc[rows].to_parquet(folder / f"part-{i}.parquet")
    >>> points = window_metrics(folder, label_col=None, n_workers=1)  # doctest: +SKIP
    >>> points.series_matrix("volume").values.tolist()  # doctest: +SKIP
    [[200.0, 200.0, 200.0]]
    """
    options = StateOptions.from_arguments(locals())
    checked = check_options(options, alpha, min_rows, CALLER)
    files = parquet_files(source)
    # Features are the first file's columns; keys of a path serve named columns only.
    columns = resolve_columns(
        pq.read_schema(files[0]).names,
        time_col=time_col,
        model_col=model_col,
        prediction_col=prediction_col,
        score_col=score_col,
        label_col=label_col,
        feature_cols=feature_cols,
        categorical=categorical,
        sensitive_cols=sensitive_cols,
        id_col=id_col,
        positive_label=positive_label,
        caller=CALLER,
    )
    spec = WindowSpec(columns, checked, _out_dir(out))
    check_part(files[0], spec.read)

    with connect(scheduler, n_workers=n_workers) as client:
        scanned = map_parts(
            client,
            scan_part,
            files,
            spec,
            progress=staged(progress, "scan"),
            key="seawall-windows-scan",
        )
        ext = extent(scanned, files, checked.every)
        return run_windows(client, files, spec, ext, reference, progress)


def _out_dir(out: str | Path | None) -> str | None:
    """Create the output directory; refuse one that holds points of an earlier run."""
    if out is None:
        return None
    if not isinstance(out, str | Path):
        raise param_error("out", CALLER, "a directory path or None", out)
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise param_error("out", CALLER, "a directory (it is a file)", out)
    earlier = sorted(folder.glob("points-*.parquet")) if folder.is_dir() else []
    if earlier:
        raise param_error(
            "out",
            CALLER,
            f"a directory without points of an earlier run (it holds {len(earlier)} "
            f"points-*.parquet files, e.g. {earlier[0].name!r}); remove them or pick "
            f"another directory",
            str(out),
        )
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder)

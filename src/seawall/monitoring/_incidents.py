"""``group_incidents``: related anomalies across a fleet, grouped and ranked for a person."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from seawall._validation import check_real, param_error
from seawall.exceptions import DataValidationError
from seawall.monitoring._co_anomaly import co_anomaly_groups
from seawall.monitoring._incident_inputs import cell_scores, flag_cells, to_flags
from seawall.monitoring._incident_result import Incident, Incidents
from seawall.monitoring._incident_scan import build_links, scan_groups
from seawall.monitoring._ranking import metric_weight, severities
from seawall.monitoring._runs import Runs, runs_from_cells

__all__ = ["group_incidents"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_CALLER = "group_incidents"
_SHARED = 0.8  # share of the members carrying a column that must hold its value


def _specs(
    frame: pd.DataFrame, link_on: Sequence[str | Sequence[str]] | None, unit: str | None
) -> list[tuple[str, ...]]:
    if link_on is None:
        skip = {"series", "metric", unit}
        pair = ("metric",) if "metric" in frame.columns else ()
        return [(str(c), *pair) for c in frame.columns if c not in skip]
    specs: list[tuple[str, ...]] = []
    for spec in link_on:
        cols = (spec,) if isinstance(spec, str) else tuple(spec)
        missing = [c for c in cols if c not in frame.columns]
        if missing or not cols:
            raise param_error(
                "link_on",
                _CALLER,
                f"label columns (or tuples of them) of series_labels, among "
                f"{list(map(str, frame.columns))}",
                spec,
            )
        specs.append(tuple(str(c) for c in cols))
    return specs


def _label_columns(frame: pd.DataFrame) -> dict[str, tuple[npt.NDArray[Any], BoolArray]]:
    """Every label column as strings, with where it is present (converted once)."""
    out: dict[str, tuple[npt.NDArray[Any], BoolArray]] = {}
    for col in frame.columns:
        if col == "series":
            continue
        vals = frame[col].to_numpy(dtype=object)
        present = ~pd.isna(vals)
        out[str(col)] = (np.where(present, vals, "").astype(str), present)
    return out


def _shared(
    columns: dict[str, tuple[npt.NDArray[Any], BoolArray]], rows: IntArray
) -> dict[str, str]:
    """Labels held by at least 80% of the members that carry the column (themselves half)."""
    out: dict[str, str] = {}
    for col, (vals, present) in columns.items():
        here = vals[rows][present[rows]]
        if here.size == 0 or 2 * here.size < rows.size:
            continue
        uniq, counts = np.unique(here, return_counts=True)
        top = int(np.argmax(counts))
        if counts[top] >= _SHARED * here.size:
            out[col] = str(uniq[top])
    return out


def _describe(
    linked: dict[str, str], shared: dict[str, str], n_series: int, n_models: int, metrics: str
) -> str:
    core = {k: v for k, v in linked.items() if k != "metric"} or {
        k: v for k, v in shared.items() if k not in ("metric", "series")
    }
    what = ", ".join(f"{k}={v}" for k, v in list(core.items())[:2]) or "no shared label"
    models = f"{n_models} model" + ("s" if n_models != 1 else "")
    return f"{what}: {n_series} anomalous series on {models} ({metrics})"


def group_incidents(
    is_anomaly: object,
    scores: object,
    series_labels: pd.DataFrame,
    *,
    timestamps: Sequence[Any] | pd.Index | None = None,
    gap: int = 3,
    min_shared: int = 2,
    alpha: float = 1e-3,
    unit: str | None = "model",
    link_on: Sequence[str | Sequence[str]] | None = None,
    co_anomaly_history: object | None = None,
    metric_weights: Mapping[str, float] | None = None,
) -> Incidents:
    """Group related anomalies of a fleet into incidents and rank them for review.

    Runs of flagged steps of one model that overlap (within ``gap`` steps) form an
    episode. Episodes of different models join one incident when they carry a
    label that is anomalous on more models at once than chance allows: for each
    label (``source``, ``feature``, ``team``, ``region``, ``project`` paired with
    the ``metric``, and the learned ``co_anomaly`` group), the number of models
    anomalous together is tested against a binomial with the label's background
    rate, and the most significant label is taken first, explaining its members
    away before the scan repeats (see :mod:`seawall.monitoring._incident_scan`).
    Incidents are ranked by severity (:mod:`seawall.monitoring._ranking`).

    Parameters
    ----------
    is_anomaly : array-like of bool or scipy.sparse matrix, shape (n_series, n_steps)
        Flagged steps (:func:`flag_anomalies`), bool or 0/1. A ``scipy.sparse``
        matrix or array (any format) flags its stored nonzero entries (a stored
        ``False`` or 0 is no flag) and is never densified: a few flagged cells of
        a large fleet cost memory for those cells only.
    scores : array-like of float or scipy.sparse matrix, shape (n_series, n_steps)
        The calibrated scores (``Detection.scores``); used for peak scores and
        severity, and read only at the flagged cells. A ``scipy.sparse`` one must
        store a value at every flagged cell (an unstored entry is an error, not a
        score of 0); other stored entries are ignored. Dense or sparse, with
        dense or sparse flags, the result is the same.
    series_labels : pandas.DataFrame
        One row per series, in the order of the rows of ``is_anomaly``: a
        ``series`` column with its key (else the index is used), a ``metric``
        column, and label columns such as ``model``, ``feature``, ``source``,
        ``team``, ``region``, ``project`` (missing values allowed).
    timestamps : sequence of length n_steps or None, default=None
        Times of the steps, used for the incidents' ``start`` and ``end``.
    gap : int, default=3
        Most steps allowed between two runs for them to count as together (0: they
        must touch or overlap), at least 0.
    min_shared : int, default=2
        Fewest models a label must link, at least 2.
    alpha : float, default=1e-3
        Significance of a label at a step, in (0, 1).
    unit : str or None, default="model"
        The column whose series are always related when anomalous together;
        ``None`` (or a column that is absent) makes every series its own unit.
    link_on : sequence of str or tuple of str, or None, default=None
        The labels that may link units; a tuple is a joint label. ``None`` means
        every column but ``series``, ``metric`` and ``unit``, each paired with
        ``metric``.
    co_anomaly_history : array-like of bool, shape (n_series, n_past), or None
        Past flags of the same series; series that often failed together form a
        ``co_anomaly`` label (:func:`~seawall.monitoring._co_anomaly.co_anomaly_groups`),
        linked on by default (with an explicit ``link_on``, list ``"co_anomaly"``).
        Dense only: a sparse matrix is refused.
    metric_weights : mapping of str to float or None, default=None
        Metric weights of the severity; ``None`` means
        :data:`~seawall.monitoring._ranking.DEFAULT_METRIC_WEIGHTS`.

    Returns
    -------
    Incidents
        Incidents by rank, with the run-to-incident assignment.

    Raises
    ------
    DataValidationError
        When the matrices differ in shape, ``is_anomaly`` holds values other than
        booleans or 0/1, a sparse ``scores`` stores no value at a flagged cell,
        ``series_labels`` has another number of rows, ``timestamps`` another
        length, or ``co_anomaly_history`` is sparse.
    InvalidParameterError
        When a parameter is out of range or names a missing column.

    See Also
    --------
    flag_anomalies : the flags.
    seawall.monitoring.detect : the scores.

    References
    ----------
    .. [1] Z. Zhang, R. Assunção and M. Kulldorff, "Spatial scan statistics adjusted
       for multiple clusters", Journal of Probability and Statistics, 2010.

    Examples
    --------
    Two models fed by one source drift together; a third, unrelated model has a
    blip at the same time:

    >>> labels = pd.DataFrame({
    ...     "series": ["m1/drift", "m2/drift", "m3/volume"],
    ...     "model": ["m1", "m2", "m3"], "metric": ["drift", "drift", "volume"],
    ...     "source": ["crm", "crm", None], "team": ["a", "b", "c"]})
    >>> flags = np.zeros((3, 50), dtype=bool)
    >>> flags[:, 20:23] = True
    >>> res = group_incidents(flags, np.where(flags, 0.999, 0.5), labels)
    >>> [(i.members, i.shared.get("source")) for i in res]
    [(('m1/drift', 'm2/drift'), 'crm'), (('m3/volume',), None)]
    >>> res.compression
    4.5

    The flagged cells alone, as sparse matrices, give the same incidents:

    >>> from scipy import sparse
    >>> cells = sparse.coo_array(flags)
    >>> at = sparse.coo_array((np.full(cells.nnz, 0.999), (cells.row, cells.col)), shape=(3, 50))
    >>> group_incidents(cells, at, labels).to_dict() == res.to_dict()
    True
    """
    shape, rows, cols = flag_cells(is_anomaly)
    scored = cell_scores(scores, shape, rows, cols)
    n_series, n_steps = shape
    if not isinstance(series_labels, pd.DataFrame):
        raise param_error("series_labels", _CALLER, "a pandas DataFrame", type(series_labels))
    if len(series_labels) != n_series:
        raise DataValidationError(
            f"series_labels passed to {_CALLER} has {len(series_labels)} rows but is_anomaly "
            f"has {n_series} series; give one row per series, in the same order."
        )
    times = None if timestamps is None else pd.Index(timestamps)
    if times is not None and len(times) != n_steps:
        raise DataValidationError(
            f"timestamps passed to {_CALLER} has {len(times)} entries but is_anomaly has "
            f"{n_steps} steps; give one per step."
        )
    gap = int(check_real(gap, "gap", _CALLER, low=0, integer=True))
    min_shared = int(check_real(min_shared, "min_shared", _CALLER, low=2, integer=True))
    alpha = check_real(alpha, "alpha", _CALLER, low=0, high=1, low_open=True, high_open=True)
    if unit is not None and not isinstance(unit, str):
        raise param_error("unit", _CALLER, "a column name or None", unit)
    frame = series_labels.reset_index(drop=True)
    keys = (
        frame["series"].astype(str).to_numpy(dtype=object)
        if "series" in frame.columns
        else series_labels.index.astype(str).to_numpy(dtype=object)
    )
    if sparse.issparse(co_anomaly_history):
        raise DataValidationError(
            f"co_anomaly_history passed to {_CALLER} must be a dense array of shape "
            f"(n_series, n_past); got a sparse {type(co_anomaly_history).__name__}. "
            f"Pass co_anomaly_history.toarray() (co_anomaly_groups works on the dense flags)."
        )
    if co_anomaly_history is not None:
        past = to_flags(co_anomaly_history, "co_anomaly_history", _CALLER)
        if past.shape[0] != n_series:
            raise DataValidationError(
                f"co_anomaly_history passed to {_CALLER} has {past.shape[0]} series but "
                f"is_anomaly has {n_series}; give the same series' past flags."
            )
        groups = co_anomaly_groups(past, gap=gap)
        frame = frame.assign(
            co_anomaly=pd.Series([f"co-{g}" if g >= 0 else None for g in groups], dtype=object)
        )
    specs = _specs(frame, link_on, unit)
    if co_anomaly_history is not None and link_on is None:
        specs = [s for s in specs if s[0] != "co_anomaly"] + [("co_anomaly",)]
    has_unit = unit is not None and unit in frame.columns
    if has_unit:
        codes, _ = pd.factorize(frame[unit].astype(object), use_na_sentinel=True)
        lone = codes < 0  # a series without a unit is its own
        codes = np.where(lone, codes.max(initial=-1) + 1 + np.cumsum(lone), codes)
        unit_code = codes.astype(np.int64)
    else:
        unit_code = np.arange(n_series, dtype=np.int64)

    runs = runs_from_cells(rows, cols)
    empty = np.zeros(0, dtype=np.int64)
    if len(runs) == 0:
        return Incidents((), 0, 0, empty, empty, empty, empty)
    links = build_links(frame, specs, unit_code, "metric")
    run_group, group_key = scan_groups(
        runs, unit_code, links, gap=gap, n_steps=n_steps, alpha=alpha, min_shared=min_shared
    )
    built = _assemble(
        runs,
        run_group,
        group_key,
        scored,
        frame,
        keys,
        unit_code,
        unit if has_unit else None,
        links.labels,
        times,
        metric_weights,
    )
    ranked = sorted(range(len(built)), key=lambda i: built[i][:3])
    position = np.empty(len(built), dtype=np.int64)
    position[ranked] = np.arange(len(built))
    incidents = tuple(replace(built[i][3], rank=r + 1) for r, i in enumerate(ranked))
    return Incidents(
        incidents=incidents,
        n_anomalies=int(runs.length.sum()),
        n_runs=len(runs),
        run_series=runs.series,
        run_start=runs.start,
        run_end=runs.end,
        run_incident=position[run_group],
    )


def _assemble(
    runs: Runs,
    run_group: IntArray,
    group_key: list[int],
    cell: FloatArray,
    frame: pd.DataFrame,
    keys: npt.NDArray[Any],
    unit_code: IntArray,
    unit: str | None,
    key_labels: list[dict[str, str]],
    times: pd.Index | None,
    metric_weights: Mapping[str, float] | None,
) -> list[tuple[float, int, str, Incident]]:
    """Build every incident (unranked) from the runs' groups, vectorised per (group, series).

    ``cell`` holds the score of every flagged cell, row-major (by series, then step):
    each run's steps are then a contiguous slice of it, in the order of ``runs``.
    """
    offsets = np.concatenate(([0], np.cumsum(runs.length)[:-1]))
    run_peak = np.maximum.reduceat(np.nan_to_num(cell, nan=0.0), offsets)
    # Fisher's statistic of each run: -2 sum log p over its steps (p = 1 - score).
    cell_p = np.clip(1.0 - np.nan_to_num(cell, nan=0.0), 1e-300, 1.0)
    run_stat = np.add.reduceat(-2.0 * np.log(cell_p), offsets)
    # One row per (group, member series).
    order = np.lexsort((runs.series, run_group))
    g, ser = run_group[order], runs.series[order]
    first = np.flatnonzero(np.r_[True, (g[1:] != g[:-1]) | (ser[1:] != ser[:-1])])
    pair_g, pair_s = g[first], ser[first]
    pair_peak = np.maximum.reduceat(run_peak[order], first)
    pair_stat = np.add.reduceat(run_stat[order], first)
    pair_steps = np.add.reduceat(runs.length[order], first)
    n_groups = len(group_key)
    metrics = (
        frame["metric"].to_numpy(dtype=object)
        if "metric" in frame.columns
        else np.full(len(frame), None, dtype=object)
    )
    # Labels are read for the series with a flagged run only (few, of a large fleet).
    seen, pair_local = np.unique(pair_s, return_inverse=True)
    weights = metric_weight(metrics[seen], metric_weights)[pair_local]
    sev = severities(pair_g, weights, pair_stat, pair_steps, unit_code[pair_s], n_groups)
    g_start = np.full(n_groups, np.iinfo(np.int64).max)
    g_end = np.full(n_groups, -1)
    np.minimum.at(g_start, run_group, runs.start)
    np.maximum.at(g_end, run_group, runs.end)
    g_points = np.bincount(run_group, weights=runs.length, minlength=n_groups).astype(np.int64)
    g_peak = np.full(n_groups, -np.inf)
    np.maximum.at(g_peak, pair_g, pair_peak)
    bounds = np.flatnonzero(np.r_[True, pair_g[1:] != pair_g[:-1], True])
    unit_name = frame[unit].to_numpy(dtype=object) if unit else keys
    columns = _label_columns(frame.iloc[seen])
    built: list[tuple[float, int, str, Incident]] = []
    for k in range(n_groups):
        members = pair_s[bounds[k] : bounds[k + 1]]
        start, end = int(g_start[k]), int(g_end[k])
        member_keys = tuple(sorted(str(keys[s]) for s in members))
        shared = _shared(columns, pair_local[bounds[k] : bounds[k + 1]])
        key = group_key[k]
        if key >= 0:
            linked = dict(key_labels[key])
        elif unit:
            linked = {unit: str(unit_name[members[0]])}
        else:
            linked = {}
        mets = tuple(sorted({str(m) for m in metrics[members] if m is not None}))
        n_models = int(np.unique(unit_code[members]).size)
        digest = hashlib.sha1(f"{start}|{'|'.join(member_keys)}".encode()).hexdigest()[:10]
        t0 = times[start] if times is not None else start
        t1 = times[end] if times is not None else end
        peak = float(g_peak[k])
        text = _describe(linked, shared, members.size, n_models, ", ".join(mets) or "?")
        text += f", {t0} to {t1}; peak score {peak:.4f}."
        incident = Incident(
            id=f"inc-{digest}",
            rank=0,
            members=member_keys,
            start=t0,
            end=t1,
            start_step=start,
            end_step=end,
            severity=float(sev[k]),
            peak_score=peak,
            n_anomalies=int(g_points[k]),
            n_models=n_models,
            metrics=mets,
            shared=shared,
            linked_by=linked,
            summary=text,
        )
        built.append((-float(sev[k]), start, incident.id, incident))
    return built

"""Build every (model, window) state from checked logs at once.

Rows are grouped by state with one stable sort; every count is one
``np.bincount`` over ``state * n_cells + cell``, and every sketch is a slice of
one sort by ``(state, value)``. The only Python loops run over models (whose
reference bins differ), features and states, never over rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall.monitoring._cbpe import expected_sums
from seawall.monitoring._drift_inputs import column_kind, numeric_values
from seawall.monitoring._drift_sketch import (
    CategoricalSketch,
    NumericSketch,
    Sketch,
    WindowSummary,
    read_only,
)
from seawall.monitoring._score_sketch import score_sketches
from seawall.monitoring._window_inputs import Logs
from seawall.monitoring._window_state import GroupCounts, ReferenceProfile, WindowState

__all__ = ["build_states", "calibration_edges", "window_starts"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
IdxArray = npt.NDArray[np.intp]


def window_starts(time_ns: IntArray, every_ns: int) -> IntArray:
    """Each time's window start: the time floored to a multiple of ``every_ns`` since the epoch.

    Parameters
    ----------
    time_ns : ndarray of int64
        Nanoseconds since the Unix epoch.
    every_ns : int
        The window length.

    Returns
    -------
    ndarray of int64
        The window starts.

    Examples
    --------
    >>> window_starts(np.array([5, 10, 19, -1]), 10).tolist()
    [0, 10, 10, -10]
    """
    return time_ns - np.mod(time_ns, every_ns)


def calibration_edges(n_bins: int) -> FloatArray:
    """The interior edges of ``n_bins`` equal-width score bins on [0, 1].

    Parameters
    ----------
    n_bins : int
        At least 2.

    Returns
    -------
    ndarray of float64, shape (n_bins - 1,)
        Bin ``k`` holds ``edges[k - 1] <= s < edges[k]``; a score of 1 is in the last.

    Examples
    --------
    >>> calibration_edges(4).tolist()
    [0.25, 0.5, 0.75]
    """
    return np.linspace(0.0, 1.0, n_bins + 1)[1:-1]


def build_states(
    logs: Logs,
    every_ns: int,
    profiles: dict[str, ReferenceProfile],
    *,
    n_calibration_bins: int,
    score_cap: int,
    sample_cap: int | None,
) -> list[WindowState]:
    """The state of every model in every window that has rows.

    Parameters
    ----------
    logs : Logs
        The checked logs.
    every_ns : int
        The window length in nanoseconds.
    profiles : dict of str to ReferenceProfile
        Every model's reference profile.
    n_calibration_bins : int
        Equal-width score bins for the calibration error.
    score_cap : int
        The most distinct scores a window's score sketch keeps exactly.
    sample_cap : int or None
        The most sorted values a numeric feature's sketch keeps.

    Returns
    -------
    list of WindowState
        Sorted by model, then window start.
    """
    win = window_starts(logs.time_ns, every_ns)
    t0 = int(win.min())
    n_win = int((int(win.max()) - t0) // every_ns) + 1
    key = logs.model.astype(np.int64) * n_win + (win - t0) // every_ns
    # One stable sort groups the rows by (model, window), keeping their order within.
    perm = np.argsort(key, kind="stable")
    sorted_key = key[perm]
    new = np.ones(sorted_key.size, dtype=bool)
    new[1:] = sorted_key[1:] != sorted_key[:-1]
    st = (np.cumsum(new) - 1).astype(np.intp)
    keys = sorted_key[new]
    n_states = keys.size
    bounds = np.searchsorted(st, np.arange(n_states + 1))
    pred = logs.prediction[perm]
    label = logs.label[perm] if logs.label is not None else np.full(st.size, np.nan)
    state_model = (keys // n_win).astype(np.intp)
    n_positive = np.bincount(st, weights=pred, minlength=n_states).astype(np.int64)
    labelled = ~np.isnan(label)
    cell = 2 * label[labelled].astype(np.intp) + pred[labelled]
    confusion = np.bincount(st[labelled] * 4 + cell, minlength=4 * n_states).reshape(-1, 4)
    confusion = read_only(confusion.astype(np.int64))

    model_states = np.searchsorted(state_model, np.arange(len(logs.models) + 1))
    scores: list[Any] = [None] * n_states
    calib: FloatArray | None = None
    expected: FloatArray | None = None
    if logs.score is not None:
        score = logs.score[perm]
        scored = ~np.isnan(score)
        scores = score_sketches(st[scored], score[scored], label[scored], n_states, score_cap)
        calib = _calibration_sums(st, score, label, n_states, n_calibration_bins)
        prob = score.copy()
        for i, model in enumerate(logs.models):
            calibration = profiles[model].calibration
            lo, hi = bounds[model_states[i]], bounds[model_states[i + 1]]
            part = prob[lo:hi]  # a view: calibrated in place
            if calibration is not None:
                part[~np.isnan(part)] = np.interp(part[~np.isnan(part)], *calibration)
        expected = expected_sums(st, prob, pred, n_states)

    features = logs.features.take(perm).reset_index(drop=True)
    sketches: list[list[Sketch]] = [[] for _ in range(n_states)]
    out_of_range = np.zeros((n_states, features.shape[1]), dtype=np.int64)
    for i, model in enumerate(logs.models):
        s_lo, s_hi = int(model_states[i]), int(model_states[i + 1])
        if s_hi == s_lo:
            continue
        r_lo, r_hi = int(bounds[s_lo]), int(bounds[s_hi])
        local = st[r_lo:r_hi] - s_lo
        ref = profiles[model].summary
        for j, name in enumerate(ref.names):
            column = features[name].iloc[r_lo:r_hi]
            ref_sketch = ref.sketches[j]
            made: list[Sketch]
            if isinstance(ref_sketch, NumericSketch):
                made, oor = _numeric(column, local, s_hi - s_lo, ref_sketch, sample_cap)
                out_of_range[s_lo:s_hi, j] = oor
            else:
                made = list(_categorical(column, local, s_hi - s_lo))
            for k, sk in enumerate(made):
                sketches[s_lo + k].append(sk)
    read_only(out_of_range)

    fairness = [
        _group_counts(st, codes[perm], labels, pred, label, n_states)
        for codes, labels in logs.sensitive
    ]

    start_index = pd.DatetimeIndex((t0 + (keys % n_win) * every_ns).astype("datetime64[ns]"))
    if logs.tz is not None:
        start_index = start_index.tz_localize("UTC").tz_convert(logs.tz)
    starts = start_index.to_list()
    ends = (start_index + pd.Timedelta(every_ns)).to_list()
    n_rows = np.diff(bounds).tolist()
    n_pos = n_positive.tolist()
    model_of = [logs.models[m] for m in state_model.tolist()]
    names = profiles[logs.models[0]].summary.names
    out = []
    for g in range(n_states):
        out.append(
            WindowState(
                model=model_of[g],
                start=starts[g],
                end=ends[g],
                n_rows=n_rows[g],
                n_positive=n_pos[g],
                confusion=confusion[g],
                scores=scores[g],
                calibration=None if calib is None else calib[g],
                expected=None if expected is None else expected[g],
                features=WindowSummary(names, tuple(sketches[g]), n_rows[g]),
                out_of_range=out_of_range[g],
                fairness=tuple(f[g] for f in fairness),
            )
        )
    return out


def _calibration_sums(
    st: IdxArray, score: FloatArray, label: FloatArray, n_states: int, n_bins: int
) -> FloatArray:
    """Rows and score moments per state, class and calibration bin: (n_states, 5, 2, n_bins)."""
    ok = ~np.isnan(score) & ~np.isnan(label)
    s = score[ok]
    b = np.searchsorted(calibration_edges(n_bins), s, side="right")
    index = (st[ok] * 2 + label[ok].astype(np.intp)) * n_bins + b
    size = n_states * 2 * n_bins
    moments = [np.bincount(index, weights=s**k if k else None, minlength=size) for k in range(5)]
    out = np.stack([m.astype(np.float64).reshape(n_states, 2, n_bins) for m in moments], axis=1)
    return read_only(out)


def _numeric(
    column: pd.Series[Any], local: IdxArray, k: int, ref: NumericSketch, sample_cap: int | None
) -> tuple[list[Sketch], IntArray]:
    """One model's numeric sketches of one feature, per window; and out-of-range counts."""
    reason = ""
    if column_kind(column) == "categorical":
        # As summarize: numbers may serve as categories, text cannot serve as numbers.
        reason = (
            "is numeric in the reference but categorical in the current window; make the "
            "dtypes agree or declare it in categorical="
        )
        values = np.full(len(column), np.nan)
    else:
        values = numeric_values(column)
    nan = np.isnan(values)
    pos_inf, neg_inf = values == np.inf, values == -np.inf
    finite = ~(nan | pos_inf | neg_inf)
    n_missing = np.bincount(local[nan], minlength=k).tolist()
    n_pos_inf = np.bincount(local[pos_inf], minlength=k).tolist()
    n_neg_inf = np.bincount(local[neg_inf], minlength=k).tolist()
    n_cells = ref.edges.size + 1
    fl = local[finite]
    bins = np.searchsorted(ref.edges, values[finite], side="right")
    counts = np.bincount(fl * n_cells + bins, minlength=k * n_cells).reshape(k, n_cells)
    counts = read_only(counts.astype(np.int64))
    outside = finite & ((values < ref.minimum) | (values > ref.maximum))
    out_of_range = np.bincount(local[outside], minlength=k).astype(np.int64)
    bounds = np.searchsorted(local, np.arange(k + 1)).tolist()
    nan_value = float("nan")
    sketches: list[Sketch] = []
    # Rows are grouped by window: sorting each window's slice is far cheaper than one
    # sort by (window, value). The sort puts -inf first and +inf, then NaN, last.
    for i in range(k):
        lo, hi = bounds[i], bounds[i + 1]
        srt = np.sort(values[lo:hi])
        fin = srt[n_neg_inf[i] : hi - lo - n_missing[i] - n_pos_inf[i]]
        fin.flags.writeable = False
        n = fin.size
        n_inf = n_neg_inf[i] + n_pos_inf[i]
        why = reason or (f"holds {n_inf} infinite value(s); use NaN for missing" if n_inf else "")
        sketches.append(
            NumericSketch(
                edges=ref.edges,
                counts=counts[i],
                n_missing=n_missing[i],
                minimum=float(fin[0]) if n else nan_value,
                maximum=float(fin[-1]) if n else nan_value,
                sample=fin if sample_cap is None or n <= sample_cap else None,
                sample_cap=sample_cap,
                reason=why,
            )
        )
    return sketches, out_of_range


def _categorical(column: pd.Series[Any], local: IdxArray, k: int) -> list[CategoricalSketch]:
    """One model's category counts of one feature, per window."""
    codes, uniques = pd.factorize(column.astype(object), use_na_sentinel=True)
    labels = [v.item() if isinstance(v, np.generic) else v for v in uniques]
    present = codes >= 0
    n_missing = np.bincount(local[~present], minlength=k)
    n_cat = max(len(labels), 1)
    key = local[present].astype(np.int64) * n_cat + codes[present]
    uk, cnt = np.unique(key, return_counts=True)
    cnt = read_only(cnt.astype(np.int64))
    cat = uk % n_cat
    bounds = np.searchsorted(uk // n_cat, np.arange(k + 1))
    out = []
    for i in range(k):
        lo, hi = int(bounds[i]), int(bounds[i + 1])
        cats = tuple(labels[c] for c in cat[lo:hi])
        out.append(CategoricalSketch(cats, cnt[lo:hi], int(n_missing[i])))
    return out


def _group_counts(
    st: IdxArray,
    codes: IdxArray,
    labels: tuple[Any, ...],
    pred: npt.NDArray[np.int8],
    label: FloatArray,
    n_states: int,
) -> list[GroupCounts]:
    """Per state, one sensitive attribute's groups: rows, positives, labelled positives, TP."""
    ok = codes >= 0
    n_groups = max(len(labels), 1)
    key = st[ok].astype(np.int64) * n_groups + codes[ok]
    uk, inv = np.unique(key, return_inverse=True)
    positive_label = label[ok] == 1.0
    p = pred[ok]
    table = np.stack(
        [
            np.bincount(inv, minlength=uk.size),
            np.bincount(inv, weights=p, minlength=uk.size),
            np.bincount(inv, weights=positive_label, minlength=uk.size),
            np.bincount(inv, weights=positive_label & (p == 1), minlength=uk.size),
        ],
        axis=1,
    )
    table = read_only(table.astype(np.int64))
    group = uk % n_groups
    bounds = np.searchsorted(uk // n_groups, np.arange(n_states + 1))
    return [
        GroupCounts(
            tuple(labels[c] for c in group[bounds[g] : bounds[g + 1]]),
            table[bounds[g] : bounds[g + 1]],
        )
        for g in range(n_states)
    ]

"""Drift of every feature in every window against its model's reference, from sketches.

The statistics are those of :func:`~seawall.monitoring._drift.summary_drift`
(same tests, effect sizes, PSI and Jensen–Shannon distance, and
Benjamini–Hochberg across a window's features), computed for all of a model's
windows at once instead of one window at a time: the two-sample KS statistic
and the Wasserstein distance of each window against the reference, and the KS
p-values (Stephens' approximation), come from the batched kernels of
:mod:`seawall.monitoring._window_drift_kernels`. The tests check them against
``summary_drift`` window by window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from seawall.monitoring._drift_kernels import robust_scale
from seawall.monitoring._drift_sketch import CategoricalSketch, NumericSketch, Sketch
from seawall.monitoring._points import PointsBuilder
from seawall.monitoring._window_drift_kernels import (
    bh_rows,
    chi2_rows,
    js_rows,
    ks_pvalue_rows,
    ks_wasserstein_rows,
    psi_rows,
)
from seawall.monitoring._window_state import WindowState, WindowStates, model_spans

__all__ = ["DriftArrays", "TESTS", "category_cells", "drift_points", "sketch_sizes", "window_drift"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
IdxArray = npt.NDArray[np.intp]

# Test codes: not judged, KS, chi-square over categories, chi-square over numeric bins.
TESTS = ("", "ks", "chi2", "chi2_binned")


@dataclass(frozen=True, slots=True)
class DriftArrays:
    """Drift of each (state, feature), all arrays of shape (n_states, n_features).

    Attributes
    ----------
    test : ndarray of int8
        Index into ``TESTS`` (0: not judged).
    statistic, p_value, q_value, effect_size, ks, psi, js : ndarray of float64
        As :class:`~seawall.monitoring._drift_result.FeatureDrift` (``ks``: the KS
        statistic where the KS test ran); ``q_value`` is Benjamini–Hochberg
        across the window's judged features. NaN where not judged.
    n_cur : ndarray of int64
        Non-missing values in the window.
    """

    test: npt.NDArray[np.int8]
    statistic: FloatArray
    p_value: FloatArray
    q_value: FloatArray
    effect_size: FloatArray
    ks: FloatArray
    psi: FloatArray
    js: FloatArray
    n_cur: IntArray


def category_cells(
    ref: CategoricalSketch, windows: list[CategoricalSketch]
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Windows' category counts on the reference's categories, then their unseen ones.

    Parameters
    ----------
    ref : CategoricalSketch
        The reference.
    windows : list of CategoricalSketch
        The windows.

    Returns
    -------
    ref_cells, cur_cells : ndarray of float64, shape (k, n_ref + max_unseen)
        Counts per cell: the reference's categories, then each window's
        unseen categories (zero-padded; empty cells change no statistic).
    unseen : ndarray of int64, shape (k,)
        Rows of each window whose category the reference never saw.

    Examples
    --------
    >>> ref = CategoricalSketch(("a", "b"), np.array([5, 5]), 0)
    >>> r, c, u = category_cells(ref, [CategoricalSketch(("c", "a"), np.array([2, 3]), 0)])
    >>> r.tolist(), c.tolist(), u.tolist()
    ([[5.0, 5.0, 0.0]], [[3.0, 0.0, 2.0]], [2])
    """
    index = {c: i for i, c in enumerate(ref.categories)}
    n_ref = len(index)
    # Windows of one model mostly list the same categories: map each distinct list once.
    seen: dict[tuple[Any, ...], tuple[IdxArray, npt.NDArray[np.bool_]]] = {}
    cols, new = [], []
    for w in windows:
        hit = seen.get(w.categories)
        if hit is None:
            place = np.array([index.get(c, -1) for c in w.categories], dtype=np.intp)
            unseen_cat = place < 0
            place[unseen_cat] = n_ref + np.arange(int(unseen_cat.sum()))
            hit = seen[w.categories] = (place, unseen_cat)
        cols.append(hit[0])
        new.append(hit[1])
    k = len(windows)
    sizes = [c.size for c in cols]
    width = n_ref + max((int(x.sum()) for x in new), default=0)
    cur = np.zeros((k, width))
    unseen = np.zeros(k, dtype=np.int64)
    if sum(sizes):
        rows = np.repeat(np.arange(k), sizes)
        counts = np.concatenate([w.counts for w in windows]).astype(np.float64)
        flags = np.concatenate(new)
        cur[rows, np.concatenate(cols)] = counts
        unseen = np.bincount(rows[flags], weights=counts[flags], minlength=k).astype(np.int64)
    refs = np.zeros((k, width))
    refs[:, :n_ref] = ref.counts
    return refs, cur, unseen


def sketch_sizes(sketches: list[Sketch]) -> IntArray:
    """The non-missing values of each sketch (``[s.n for s in sketches]``, in one pass).

    Parameters
    ----------
    sketches : list of NumericSketch or CategoricalSketch
        The sketches.

    Returns
    -------
    ndarray of int64, shape (k,)

    Examples
    --------
    >>> a = CategoricalSketch(("x", "y"), np.array([2, 3]), 1)
    >>> sketch_sizes([a, a]).tolist()
    [5, 5]
    """
    lengths = np.array([s.counts.size for s in sketches], dtype=np.intp)
    if lengths.sum() == 0:
        return np.zeros(len(sketches), dtype=np.int64)
    flat = np.concatenate([s.counts for s in sketches])
    sums = np.add.reduceat(flat, np.minimum(np.cumsum(lengths) - lengths, flat.size - 1))
    return np.where(lengths > 0, sums, 0).astype(np.int64)


def window_drift(refs: list[Sketch], windows: list[list[Sketch]], min_rows: int) -> DriftArrays:
    """Judge every feature of one model's windows against its reference.

    Parameters
    ----------
    refs : list of Sketch
        The reference's sketches, one per feature.
    windows : list of list of Sketch
        Per window, its sketches in the same order.
    min_rows : int
        Windows with fewer non-missing values of a feature leave it unjudged.

    Returns
    -------
    DriftArrays
        Shape ``(len(windows), len(refs))``; BH is applied within each window.
    """
    k, n_feat = len(windows), len(refs)
    shape = (k, n_feat)
    test = np.zeros(shape, dtype=np.int8)
    out = {f: np.full(shape, np.nan) for f in ("statistic", "p", "effect", "ks", "psi", "js")}
    n_cur = np.zeros(shape, dtype=np.int64)
    for j, ref in enumerate(refs):
        cur = [w[j] for w in windows]
        n_cur[:, j] = sketch_sizes(cur)
        ref_ok = ref.n > 0 and not ref.reason
        ok = np.array([not c.reason for c in cur], dtype=bool) & (n_cur[:, j] >= max(min_rows, 1))
        rows = np.flatnonzero(ok) if ref_ok else np.zeros(0, dtype=np.intp)
        if rows.size == 0:
            continue
        judged = [cur[i] for i in rows]
        res = (
            _numeric(ref, judged)  # type: ignore[arg-type]
            if isinstance(ref, NumericSketch)
            else _categorical(ref, judged)  # type: ignore[arg-type]
        )
        test[rows, j] = res["test"]
        for f in out:
            out[f][rows, j] = res[f]
    q = bh_rows(out["p"])
    return DriftArrays(
        test, out["statistic"], out["p"], q, out["effect"], out["ks"], out["psi"], out["js"], n_cur
    )


def _cells(test: str, ref: FloatArray, cur: FloatArray) -> dict[str, Any]:
    """Chi-square (Cramér's V its effect), PSI and Jensen–Shannon of each row pair of cells."""
    stat, p, v = chi2_rows(ref, cur)
    k = cur.shape[0]
    return {
        "test": np.full(k, TESTS.index(test), dtype=np.int8),
        "statistic": stat,
        "p": p,
        "effect": v,
        "ks": np.full(k, np.nan),
        "psi": psi_rows(ref, cur),
        "js": js_rows(ref, cur),
    }


def _numeric(ref: NumericSketch, cur: list[NumericSketch]) -> dict[str, Any]:
    r_counts = np.broadcast_to(ref.counts.astype(np.float64), (len(cur), ref.counts.size))
    c_counts = np.stack([c.counts for c in cur]).astype(np.float64)
    res = _cells("chi2_binned", r_counts, c_counts)
    if ref.sample is None:
        return res
    exact = np.flatnonzero([c.sample is not None for c in cur])
    if exact.size == 0:
        return res
    samples = [cur[i].sample for i in exact]
    sizes = np.array([s.size for s in samples if s is not None], dtype=np.intp)
    values = np.concatenate([s for s in samples if s is not None])
    group = np.repeat(np.arange(exact.size, dtype=np.intp), sizes)
    start = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.intp)
    ks, w = ks_wasserstein_rows(ref.sample, values, group, start, exact.size)
    p_ks = ks_pvalue_rows(ks, ref.sample.size, sizes)
    scale = robust_scale(ref.sample)
    effect = w / scale if scale > 0 else np.where(w == 0, 0.0, math.inf)
    res["test"][exact] = TESTS.index("ks")
    res["statistic"][exact] = ks
    res["p"][exact] = p_ks
    res["effect"][exact] = effect
    res["ks"][exact] = ks
    return res


def _categorical(ref: CategoricalSketch, cur: list[CategoricalSketch]) -> dict[str, Any]:
    r_cells, c_cells, _ = category_cells(ref, cur)
    return _cells("chi2", r_cells, c_cells)


def drift_points(
    builder: PointsBuilder,
    states: list[WindowState],
    ws: WindowStates,
    alpha: float,
    min_rows: int,
) -> None:
    """Add every feature's drift in every window, one model at a time (its windows at once).

    Per feature: ``drift`` (the effect size), ``drift_psi``, ``drift_js`` and,
    for numbers tested by KS, ``drift_ks``, each with the feature's
    Benjamini–Hochberg ``q_value`` across the window's features; per window,
    ``drifted_features``, how many have ``q_value < alpha`` (``n``: how many
    were judged).

    Parameters
    ----------
    builder : PointsBuilder
        Where the points go.
    states : list of WindowState
        The windows, in the builder's order, sorted by model.
    ws : WindowStates
        Their collection, for each model's reference.
    alpha : float
        The level of the BH flags.
    min_rows : int
        Windows with fewer non-missing values of a feature leave it unjudged.
    """
    ks_test = TESTS.index("ks")
    for lo, hi in model_spans(states):
        ref = ws.reference(states[lo].model).summary
        if not ref.names:
            continue
        idx = np.arange(lo, hi, dtype=np.intp)
        d = window_drift(
            list(ref.sketches), [list(s.features.sketches) for s in states[lo:hi]], min_rows
        )
        nan = np.full(idx.size, np.nan)
        for j, name in enumerate(ref.names):
            n, q = d.n_cur[:, j], d.q_value[:, j]
            builder.add("drift", name, idx, d.effect_size[:, j], nan, nan, n, q)
            builder.add("drift_psi", name, idx, d.psi[:, j], nan, nan, n, q)
            builder.add("drift_js", name, idx, d.js[:, j], nan, nan, n, q)
            if ref.sketches[j].kind == "numeric":
                ks = np.where(d.test[:, j] == ks_test, d.ks[:, j], np.nan)
                builder.add("drift_ks", name, idx, ks, nan, nan, n, q)
        judged = np.isfinite(d.q_value)
        flagged = (judged & (np.nan_to_num(d.q_value, nan=1.0) < alpha)).sum(axis=1)
        builder.add(
            "drifted_features", "", idx, flagged.astype(np.float64), nan, nan, judged.sum(axis=1)
        )

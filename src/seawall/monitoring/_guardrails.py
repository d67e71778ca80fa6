"""Guardrails: fixed limits that a metric must keep, however slowly it leaves them.

The detector judges each step against the series' own recent past, so a metric
that degrades slowly (fairness creeping down over days) teaches the baseline as
it goes and never looks unusual. Some metrics have a limit that does not move
with the past: the four-fifths rule says a disparate impact below 0.8 is adverse
whatever it was last week. A guardrail flags the steps where a series has been
past its limit for ``min_run`` consecutive steps (and the rest of that run), so a
lasting breach becomes an anomaly for the incident grouping while a single noisy
window does not. The rule is causal: a flag at step ``t`` uses steps ``<= t``.

References
----------
.. [1] U.S. Equal Employment Opportunity Commission, "Uniform Guidelines on
   Employee Selection Procedures", 29 CFR 1607.4(D), 1978 (the four-fifths rule).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from seawall._validation import check_real, param_error
from seawall.exceptions import DataValidationError
from seawall.monitoring._incident_inputs import to_flags
from seawall.monitoring._inputs import to_matrix
from seawall.monitoring._runs import run_index

__all__ = [
    "FAIRNESS_GUARDRAILS",
    "PERFORMANCE_FLOORS",
    "breach_scores",
    "guardrail_bounds",
    "guardrail_flags",
    "reference_floors",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Lower limits per metric: the four-fifths rule on disparate impact.
FAIRNESS_GUARDRAILS: Mapping[str, float] = {"disparate_impact": 0.8}
#: Metrics whose drop below their own reference is a breach, and the drop tolerated.
PERFORMANCE_FLOORS: Mapping[str, float] = {"accuracy": 0.02, "auc": 0.02}


def guardrail_bounds(
    metrics: Sequence[object], rules: Mapping[str, float] = FAIRNESS_GUARDRAILS
) -> FloatArray:
    """Each series' lower limit from its metric's name (NaN where there is none).

    Parameters
    ----------
    metrics : sequence, length n_series
        The metric of each series (e.g. ``series_labels["metric"]``).
    rules : mapping of str to float, default=FAIRNESS_GUARDRAILS
        The lower limit of each guarded metric.

    Returns
    -------
    ndarray of float64, shape (n_series,)
        The limits.

    Examples
    --------
    >>> guardrail_bounds(["volume", "disparate_impact"]).tolist()
    [nan, 0.8]
    """
    return np.array([rules.get(str(m), np.nan) for m in metrics], dtype=np.float64)


def reference_floors(
    values: object,
    metrics: Sequence[object],
    n_reference: int,
    rules: Mapping[str, float] = PERFORMANCE_FLOORS,
) -> FloatArray:
    """Each series' floor from its own reference: the median of its first windows, less a margin.

    A model's accuracy has no fixed limit as disparate impact has, but it has the
    level it was accepted at. A slow decline teaches the detector's baseline as
    it goes, and a sudden one measured on a few labels per window scores only
    moderately high step after step (the noise of thin windows widens the
    residuals), so neither may make a run improbable enough to flag. Judged on
    the upper bound of each window's interval (:func:`guardrail_flags`), the floor
    flags a window only when its labels rule out the reference level less the
    margin, which thin windows cannot do by noise.

    Parameters
    ----------
    values : array-like of shape (n_series, n_steps)
        The metric series.
    metrics : sequence, length n_series
        Each series' metric.
    n_reference : int
        The first steps that make the reference (e.g. the detector's warm-up), at
        least 1.
    rules : mapping of str to float, default=PERFORMANCE_FLOORS
        The metrics that have a floor, and the drop below the reference tolerated
        (``accuracy`` and ``auc``: 0.02).

    Returns
    -------
    ndarray of float64, shape (n_series,)
        The floors; NaN for other metrics and where the reference has no value.

    Raises
    ------
    DataValidationError
        When ``metrics`` has another length than ``values`` has series.
    InvalidParameterError
        When ``n_reference`` is not a positive integer.

    Examples
    --------
    >>> v = np.array([[0.80, 0.82, 0.81, 0.60], [5.0, 6.0, 5.5, 9.0]])
    >>> reference_floors(v, ["accuracy", "volume"], n_reference=3).round(3).tolist()
    [0.79, nan]
    """
    caller = "reference_floors"
    V = to_matrix(values, "values", caller)
    if len(metrics) != V.shape[0]:
        raise DataValidationError(
            f"metrics passed to {caller} has {len(metrics)} entries but values has "
            f"{V.shape[0]} series; give one metric per series."
        )
    k = int(check_real(n_reference, "n_reference", caller, low=1, integer=True))
    margin = np.array([rules.get(str(m), np.nan) for m in metrics], dtype=np.float64)
    out = np.full(V.shape[0], np.nan)
    rows = np.flatnonzero(np.isfinite(margin))
    if rows.size:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN reference stays NaN
            out[rows] = np.nanmedian(V[rows, :k], axis=1) - margin[rows]
    return out


def _rolling_median(V: FloatArray, width: int, chunk: int = 512) -> FloatArray:
    """Causal rolling median of the last ``width`` steps, NaN ignored.

    NaN where fewer than half the window (``width // 2`` steps) is observed: the
    first steps of a series, or a long gap, are not judged on a few values.
    """
    out = np.full_like(V, np.nan)
    padded = np.concatenate([np.full((V.shape[0], width - 1), np.nan), V], axis=1)
    for lo in range(0, V.shape[0], chunk):
        windows = np.lib.stride_tricks.sliding_window_view(padded[lo : lo + chunk], width, axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows stay NaN
            med = np.nanmedian(windows, axis=2)
        med[(~np.isnan(windows)).sum(axis=2) < max(width // 2, 1)] = np.nan
        out[lo : lo + chunk] = med
    return out


def _min_runs(min_run: object, n_series: int, caller: str) -> npt.NDArray[np.int64]:
    """``min_run`` as one count per series: a positive int, or one per series."""
    if np.ndim(np.asarray(min_run)) == 0:
        k = int(check_real(min_run, "min_run", caller, low=1, integer=True))
        return np.full(n_series, k, dtype=np.int64)
    arr = np.asarray(min_run).reshape(-1)
    ok = arr.size == n_series and np.issubdtype(arr.dtype, np.integer) and (arr >= 1).all()
    if not ok:
        raise param_error(
            "min_run", caller, f"a positive int or {n_series} of them (one per series)", min_run
        )
    return arr.astype(np.int64)


def guardrail_flags(
    values: object, bounds: object, *, min_run: int | npt.ArrayLike = 3, smooth: int = 1
) -> BoolArray:
    """Flag the steps of every run of at least ``min_run`` steps below the series' limit.

    Parameters
    ----------
    values : array-like of shape (n_series, n_steps)
        The metric series; NaN (no data in a window) ends a run.
    bounds : array-like of shape (n_series,)
        Each series' lower limit; NaN means no guardrail.
    min_run : int or array-like of int of shape (n_series,), default=3
        Consecutive steps below the limit before the first flag, at least 1; one
        per series lets intervals that pool several windows wait longer.
    smooth : int, default=1
        Judge the causal rolling median of the last ``smooth`` steps instead of
        each step (e.g. 168 hourly windows: a week), so that the noise of thin
        windows (a few predictions at night) does not breach; at least 1. The
        median needs half the window observed (not judged before).

    Returns
    -------
    ndarray of bool, shape (n_series, n_steps)
        Flagged from the ``min_run``-th step of a breach to its end.

    Raises
    ------
    DataValidationError
        When ``values`` is not a numeric matrix or ``bounds`` has the wrong length.
    InvalidParameterError
        When ``min_run`` is not a positive integer (or one per series).

    See Also
    --------
    flag_anomalies : flags from the detector's scores, combined with these by ``|``.

    Examples
    --------
    >>> import numpy as np
    >>> v = np.array([[0.9, 0.7, 0.75, 0.79, 0.85, 0.7], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]])
    >>> guardrail_flags(v, [0.8, np.nan], min_run=2).astype(int).tolist()
    [[0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0]]
    """
    caller = "guardrail_flags"
    V = to_matrix(values, "values", caller)
    limits = np.asarray(bounds, dtype=np.float64).reshape(-1)
    if limits.shape[0] != V.shape[0]:
        raise DataValidationError(
            f"bounds passed to {caller} has {limits.shape[0]} entries but values has "
            f"{V.shape[0]} series; give one limit per series (NaN for none)."
        )
    runs = _min_runs(min_run, V.shape[0], caller)
    width = int(check_real(smooth, "smooth", caller, low=1, integer=True))
    guarded = np.flatnonzero(np.isfinite(limits))
    out: BoolArray = np.zeros(V.shape, dtype=bool)
    if guarded.size == 0:
        return out
    V, limits = V[guarded], limits[guarded]  # only guarded series are judged
    if width > 1:
        V = _rolling_median(V, width)
    with np.errstate(invalid="ignore"):
        below = limits[:, None] > V  # NaN values and NaN limits compare False
    starts = run_index(below)
    steps = np.arange(V.shape[1], dtype=np.int64)[None, :]
    out[guarded] = below & (steps - starts >= runs[guarded, None] - 1)
    return out


def breach_scores(scores: object, breaches: object, *, decades: float = 3.0) -> FloatArray:
    """Scores with every guardrail breach counted as a ``10 ** -decades`` tail event.

    A breach of a fixed limit is certain by rule, but the detector's score of a
    slow drift is unremarkable; the incident ranking weighs evidence by the scores,
    so a breach would rank last. Raising the score of breached steps to
    ``1 - 10 ** -decades`` makes a lasting four-fifths breach weigh like a step at
    the fleet's usual 0.999 threshold (with the default), once per breached step.

    Parameters
    ----------
    scores : array-like of shape (n_series, n_steps)
        Calibrated scores (NaN allowed).
    breaches : array-like of bool, shape (n_series, n_steps)
        :func:`guardrail_flags`.
    decades : float, default=3.0
        The evidence a breach counts as, in (0, 15].

    Returns
    -------
    ndarray of float64, shape (n_series, n_steps)
        The scores, raised where breached.

    Examples
    --------
    >>> breach_scores([[0.5, 0.2]], [[False, True]]).round(6).tolist()
    [[0.5, 0.999]]
    """
    caller = "breach_scores"
    S = to_matrix(scores, "scores", caller)
    B = to_flags(breaches, "breaches", caller)
    if B.shape != S.shape:
        raise DataValidationError(
            f"breaches passed to {caller} has shape {B.shape} but scores has {S.shape}; "
            f"they must align step for step."
        )
    level = 1.0 - 10.0 ** -check_real(decades, "decades", caller, low=0, high=15, low_open=True)
    return np.where(B, np.fmax(S, level), S)

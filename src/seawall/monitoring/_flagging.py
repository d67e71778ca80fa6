"""``flag_anomalies``: from calibrated scores to flagged steps, one evidence level per series.

Why not just ``scores >= threshold``
------------------------------------
A calibrated score is ``1 - p`` where ``p`` is a conformal tail probability
estimated from the series' own recent residuals (a few hundred of them), so the
smallest ``p`` read from the counts is about ``1 / (n + 1)``; beyond, ``p`` comes
from a tail fitted per series, which ranks extremes but resolves thresholds such
as 0.999 coarsely. Lowering the threshold instead floods a fleet with false alarms
(0.99 flags 1% of all steps). Anomalies that matter in a fleet last, though, and
several consecutive unusual steps are much stronger evidence than any one of them.

The rule
--------
Steps whose score is at least ``run_level`` form candidate runs. Within a run, the
evidence of its first ``k`` steps is combined by Fisher's method,
``X = -2 sum(log p_j)``, which is chi-square with ``2k`` degrees of freedom when
the ``p_j`` are independent uniform tail probabilities; the run's combined tail
probability is ``P(chi2_2k >= X)``. A step is flagged once its run's combined
probability has fallen to ``1 - threshold`` (and for the rest of that run). The
rule is causal (a flag at step ``t`` uses steps ``<= t`` only), it is the plain
rule ``scores >= threshold`` when ``run_level >= threshold``, and on a normal
series (independent uniform ``p``) the share of flagged steps stays of the order
of ``1 - threshold``.

References
----------
.. [1] R. A. Fisher, "Statistical Methods for Research Workers", 4th ed., 1932,
   section 21.1 (combining independent tests).
.. [2] Vovk, Gammerman and Shafer, "Algorithmic Learning in a Random World",
   Springer, 2005 (conformal p-values).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from seawall._validation import check_real, param_error
from seawall.exceptions import DataValidationError
from seawall.monitoring._inputs import to_matrix
from seawall.monitoring._runs import run_index

__all__ = [
    "FLEET_FALSE_RUNS_PER_DAY",
    "fleet_threshold",
    "flag_anomalies",
    "series_levels",
    "daily_steps",
]

#: The default nominal budget of :func:`fleet_threshold`: false-alarm runs per day
#: across the whole fleet.
FLEET_FALSE_RUNS_PER_DAY = 0.25
#: :func:`fleet_threshold` never goes below the single-series default.
_SERIES_THRESHOLD = 0.999

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def series_levels(threshold: object, n_series: int, caller: str) -> FloatArray:
    """Check a threshold: one float in (0, 1) for all series, or one per series.

    Parameters
    ----------
    threshold : float or array-like of float, shape (n_series,)
        The score each series must reach.
    n_series : int
        The number of series.
    caller : str
        Used in error messages.

    Returns
    -------
    ndarray of float64, shape (n_series,)
        The thresholds.

    Raises
    ------
    InvalidParameterError
        When a value is outside (0, 1) or the length is wrong.

    Examples
    --------
    >>> series_levels(0.999, 2, "flag_anomalies").tolist()
    [0.999, 0.999]
    """
    if not isinstance(threshold, Sequence | np.ndarray | pd.Series):
        t = check_real(threshold, "threshold", caller, low=0, high=1, low_open=True, high_open=True)
        return np.full(n_series, t)
    try:
        arr = np.asarray(threshold, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as e:
        raise param_error("threshold", caller, "a float or one float per series", threshold) from e
    if arr.size != n_series or not ((arr > 0) & (arr < 1)).all():
        raise param_error(
            "threshold",
            caller,
            f"a float in (0, 1) or {n_series} of them (one per series)",
            f"an array of {arr.size} values in [{arr.min():.3g}, {arr.max():.3g}]",
        )
    return arr


def _drop_echoes(cand: BoolArray, lag: int | None) -> BoolArray:
    """``cand`` without the steps whose step ``lag`` earlier was a candidate too."""
    out = np.asarray(cand, dtype=bool)
    if lag is not None and lag < cand.shape[1]:
        out = out.copy()
        out[:, lag:] &= ~cand[:, :-lag]
    return out


def flag_anomalies(
    scores: object,
    *,
    threshold: float | npt.ArrayLike = 0.999,
    run_level: float | None = 0.99,
    echo: int | None = None,
) -> BoolArray:
    """Flag the steps whose run of unusual scores is improbable at level ``threshold``.

    See :mod:`seawall.monitoring._flagging` for why a run's evidence is combined.

    Parameters
    ----------
    scores : array-like of shape (n_series, n_steps)
        Calibrated scores in [0, 1] (``Detection.scores``); NaN is never flagged
        and ends a run.
    threshold : float or array-like of shape (n_series,), default=0.999
        A run is flagged once its combined tail probability is at most
        ``1 - threshold``; one value per series lets feedback raise the bar of
        some series (:func:`~seawall.monitoring._feedback.series_thresholds`).
    run_level : float or None, default=0.99
        The score a step needs to extend a run, in (0, 1). ``None`` (or a value at
        least ``threshold``) gives the plain rule ``scores >= threshold``.
    echo : int or None, default=None
        The length in steps of a cycle longer than the detected season (a week of
        an hourly series whose daily season was found: 168). A step that would
        join a run while the step ``echo`` earlier did too repeats the last
        cycle's pattern (a weekly batch job) and is not flagged; it ends the run.
        Causal; ``None`` turns it off.

    Returns
    -------
    ndarray of bool, shape (n_series, n_steps)
        The flagged steps.

    Raises
    ------
    DataValidationError
        When ``scores`` is not a numeric matrix.
    InvalidParameterError
        When ``threshold`` or ``run_level`` is outside (0, 1), or ``echo`` is not a
        positive integer.

    See Also
    --------
    seawall.monitoring.detect : the calibrated scores.
    group_incidents : groups the flagged runs into incidents.

    References
    ----------
    .. [1] R. A. Fisher, "Statistical Methods for Research Workers", 1932.

    Examples
    --------
    Two steps at ``p = 0.005`` combine to about ``6e-4``; one step at ``p = 0.002``
    alone does not reach ``1e-3``:

    >>> s = np.array([[0.5, 0.995, 0.995, 0.3, 0.998, 0.2]])
    >>> flag_anomalies(s).astype(int).tolist()
    [[0, 0, 1, 0, 0, 0]]
    >>> flag_anomalies(s, run_level=None).astype(int).tolist()
    [[0, 0, 0, 0, 0, 0]]

    The same burst three steps later is an echo of the first:

    >>> s = np.array([[0.5, 0.9999, 0.5, 0.5, 0.9999, 0.5]])
    >>> flag_anomalies(s, echo=3).astype(int).tolist()
    [[0, 1, 0, 0, 0, 0]]
    """
    caller = "flag_anomalies"
    S = to_matrix(scores, "scores", caller)
    levels = series_levels(threshold, S.shape[0], caller)
    lag = None if echo is None else int(check_real(echo, "echo", caller, low=1, integer=True))
    if run_level is None:
        return _drop_echoes(np.nan_to_num(S, nan=-1.0) >= levels[:, None], lag)
    q = check_real(run_level, "run_level", caller, low=0, high=1, low_open=True, high_open=True)
    cand = _drop_echoes(np.nan_to_num(S, nan=-1.0) >= np.minimum(q, levels)[:, None], lag)
    alpha = 1.0 - levels
    rows, cols = np.nonzero(cand)
    if rows.size == 0:
        return cand
    start = run_index(cand)[rows, cols]
    # Fisher's statistic of each run's steps so far: a cumulative sum of -2 log p
    # that restarts at every run (the cumulative sum before the run is subtracted).
    logp = np.zeros(S.shape)
    logp[rows, cols] = -2.0 * np.log(np.maximum(1.0 - S[rows, cols], 1e-300))
    csum = np.cumsum(logp, axis=1)
    before = csum[rows, start] - logp[rows, start]
    stat = csum[rows, cols] - before
    k = cols - start + 1
    combined = stats.chi2.sf(stat, 2 * k)
    cross = np.zeros(S.shape, dtype=np.int64)
    cross[rows, cols] = combined <= alpha[rows]
    ccum = np.cumsum(cross, axis=1)
    crossed = ccum[rows, cols] - (ccum[rows, start] - cross[rows, start])
    out = np.zeros(S.shape, dtype=bool)
    out[rows, cols] = crossed > 0
    return out


def daily_steps(timestamps: pd.Index | npt.NDArray[Any] | Sequence[Any]) -> float:
    """How many steps of a regular grid fit in a day (from the median spacing).

    Parameters
    ----------
    timestamps : sequence of datetime-like, at least two
        The grid.

    Returns
    -------
    float
        ``1 day / median spacing``.

    Raises
    ------
    DataValidationError
        With fewer than two distinct increasing timestamps.

    Examples
    --------
    >>> daily_steps(pd.date_range("2024-01-01", periods=5, freq="h"))
    24.0
    """
    times = pd.DatetimeIndex(np.asarray(timestamps))
    gaps = np.diff(times.as_unit("ns").asi8)
    gaps = gaps[gaps > 0]
    if gaps.size == 0:
        raise DataValidationError(
            f"timestamps passed to daily_steps must hold at least two increasing times; "
            f"got {len(times)} timestamp(s). Give the grid of the scored windows."
        )
    return float(pd.Timedelta(days=1).value / np.median(gaps))


def fleet_threshold(
    n_series: int,
    *,
    steps_per_day: float = 24.0,
    false_runs_per_day: float | None = None,
) -> float:
    """The flagging level that gives a whole fleet a budget of false alarms per day.

    A threshold of ``1 - a`` lets each series start a false-alarm run at a step
    with probability about ``a`` when its scores are calibrated (the run rule of
    :func:`flag_anomalies` adds a little; see its notes). A fleet of ``n_series``
    series and ``steps_per_day`` steps a day therefore expects about
    ``a * n_series * steps_per_day`` false runs a day, and one threshold for every
    fleet size floods large fleets or deafens small ones. This level sets
    ``a = false_runs_per_day / (n_series * steps_per_day)`` (Bonferroni over a
    day's tests), and never goes below 0.999, the level of a single series.

    The budget is nominal. The realised rate is higher wherever scores are not
    calibrated that deep in the tail: consecutive residuals are correlated (the
    Fisher combination of a run then overstates its evidence), and patterns that
    recur on a cycle longer than the detected period (a weekly batch job on an
    hourly series whose daily period was detected) look new each time. On the
    simulated fleets of ``benchmarks/fleet_quality.py`` (about 13,000 hourly
    series; level ``1 - 8e-7``), the realised rate was measured at about 8 false
    runs a day, most of them one weekly batch peak seen by many models at once;
    about 2.6 once steps that echo the week before are dropped (``echo``)
    (README, "Fleet monitoring").

    Parameters
    ----------
    n_series : int
        Series watched, at least 1.
    steps_per_day : float, default=24.0
        Steps per day of every series (:func:`daily_steps` of the grid), > 0.
    false_runs_per_day : float or None, default=None
        The nominal budget of false-alarm runs per day for the whole fleet, > 0;
        ``None`` means 0.25 (:data:`FLEET_FALSE_RUNS_PER_DAY`).

    Returns
    -------
    float
        The level for :func:`flag_anomalies`, in [0.999, 1).

    Raises
    ------
    InvalidParameterError
        When a parameter is out of range.

    See Also
    --------
    flag_anomalies : flags runs at this level.
    series_thresholds : raises it for series behind false alarms.

    Examples
    --------
    >>> f"{1 - fleet_threshold(13_000):.2e}"  # 13,000 hourly series
    '8.01e-07'
    >>> fleet_threshold(5)  # a handful of series keeps the single-series level
    0.999
    """
    caller = "fleet_threshold"
    n = check_real(n_series, "n_series", caller, low=1, integer=True)
    per_day = check_real(steps_per_day, "steps_per_day", caller, low=0, low_open=True)
    budget = check_real(
        FLEET_FALSE_RUNS_PER_DAY if false_runs_per_day is None else false_runs_per_day,
        "false_runs_per_day",
        caller,
        low=0,
        low_open=True,
    )
    return max(_SERIES_THRESHOLD, 1.0 - budget / (n * per_day))

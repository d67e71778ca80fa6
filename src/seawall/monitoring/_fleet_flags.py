"""``fleet_flags``: a fleet's scores to flags, the way the library's monitoring loop does it.

Three rules, each documented where it lives:

1. runs of high scores judged together (:func:`~seawall.monitoring.flag_anomalies`)
   at a level scaled to the fleet's size (:func:`~seawall.monitoring.fleet_threshold`);
2. a step that repeats the same step a week earlier is a weekly pattern, not news
   (``echo`` of :func:`~seawall.monitoring.flag_anomalies`): the detector learns one
   season per series (a day, for hourly business metrics), and a weekly batch job
   would otherwise alarm every week;
3. limits that a slow drift never makes unusual, judged on the upper bound of each
   window's interval (:func:`~seawall.monitoring.guardrail_flags`): the four-fifths
   rule on disparate impact, and (given the values) a floor under accuracy and AUC
   at their reference level less 0.02 (:func:`~seawall.monitoring.reference_floors`),
   their breaches ranked like flagged steps (:func:`~seawall.monitoring.breach_scores`).

``seawall demo``, ``seawall detect --series-col``, ``seawall monitor detect`` and
``benchmarks/fleet_quality.py`` all call it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall._validation import check_real
from seawall.exceptions import DataValidationError
from seawall.monitoring._flagging import (
    daily_steps,
    flag_anomalies,
    fleet_threshold,
    series_levels,
)
from seawall.monitoring._guardrails import (
    breach_scores,
    guardrail_bounds,
    guardrail_flags,
    reference_floors,
)
from seawall.monitoring._inputs import to_matrix
from seawall.monitoring._series_table import default_warmup

__all__ = ["FleetFlags", "fleet_flags"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
_CALLER = "fleet_flags"
_GUARD_RUN = 3  # windows in a row past a limit, where guard_run names no other


@dataclass(frozen=True, slots=True)
class FleetFlags:
    """A fleet's flagged steps, and the scores that rank them.

    Attributes
    ----------
    flags : ndarray of bool, shape (n_series, n_steps)
        Flagged steps: runs of high scores and guardrail breaches.
    scores : ndarray of float64, shape (n_series, n_steps)
        The scores, raised where a guardrail is breached: what
        :func:`~seawall.monitoring.group_incidents` should rank by.
    levels : ndarray of float64, shape (n_series,)
        Each series' flagging level.
    echo : int or None
        The steps of a week (the echo rule's lag), ``None`` when off.
    n_breaches : int
        Steps flagged by a guardrail.
    """

    flags: BoolArray
    scores: FloatArray
    levels: FloatArray
    echo: int | None
    n_breaches: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe summary (not the matrices).

        Returns
        -------
        dict
            ``n_flagged``, ``n_breaches``, ``level`` (the lowest), ``echo``.
        """
        return {
            "n_flagged": int(self.flags.sum()),
            "n_breaches": self.n_breaches,
            "level": float(self.levels.min()) if self.levels.size else None,
            "echo": self.echo,
        }


def fleet_flags(
    scores: object,
    timestamps: pd.Index | npt.NDArray[Any] | Sequence[Any],
    *,
    threshold: float | npt.ArrayLike | None = None,
    false_runs_per_day: float | None = None,
    echo_days: float | None = 7.0,
    upper: object | None = None,
    metrics: Sequence[object] | None = None,
    values: object | None = None,
    reference_steps: int | None = None,
    guard_run: int | Mapping[str, int] = 3,
) -> FleetFlags:
    """Flag a fleet's anomalies: runs at the fleet's level, weekly echoes dropped, guardrails.

    See :mod:`seawall.monitoring._fleet_flags` for the three rules.

    Parameters
    ----------
    scores : array-like of shape (n_series, n_steps)
        Calibrated scores (``Detection.scores``).
    timestamps : sequence of datetime-like, length n_steps
        The steps' times (for the steps per day).
    threshold : float, array-like of shape (n_series,) or None, default=None
        The flagging level; ``None`` means :func:`fleet_threshold` of the fleet
        (per series, e.g. from :func:`series_thresholds`, to honour feedback).
    false_runs_per_day : float or None, default=None
        With ``threshold=None``: the fleet's nominal budget of false-alarm runs a
        day; ``None`` means 0.25 (``FLEET_FALSE_RUNS_PER_DAY``).
    echo_days : float or None, default=7.0
        The cycle of the echo rule in days (a week); ``None`` turns it off.
    upper : array-like of shape (n_series, n_steps) or None, default=None
        The upper bound of each step's interval; ``None`` judges no guardrail.
    metrics : sequence of length n_series or None, default=None
        Each series' metric, naming its guardrail (needed with ``upper``).
    values : array-like of shape (n_series, n_steps) or None, default=None
        The metric values; with ``upper``, accuracy and AUC get a floor at their
        reference level (:func:`reference_floors`). ``None``: no floors.
    reference_steps : int or None, default=None
        The steps that make the reference; ``None`` means the detector's default
        warm-up (15% of the steps, 32 to 750).
    guard_run : int or mapping of str to int, default=3
        Steps in a row past a limit before a breach is flagged; a mapping gives
        it per metric (3 for the metrics it does not name), e.g. more steps for
        intervals that pool several windows, whose neighbours share most rows.

    Returns
    -------
    FleetFlags
        The flags, the scores to rank them by, the levels and the echo lag.

    Raises
    ------
    DataValidationError
        When ``timestamps`` does not match the scores' steps, or ``upper`` is given
        without ``metrics``.
    InvalidParameterError
        When a parameter is out of range.

    See Also
    --------
    group_incidents : groups the flags into incidents.

    Examples
    --------
    A weekly batch peak on an hourly series alarms once, not every week:

    >>> times = pd.date_range("2024-01-01", periods=24 * 21, freq="h")
    >>> s = np.full((1, times.size), 0.5)
    >>> s[0, [8, 8 + 168, 8 + 336]] = 0.999999999
    >>> res = fleet_flags(s, times)
    >>> np.flatnonzero(res.flags[0]).tolist(), res.echo
    ([8], 168)
    """
    S = to_matrix(scores, "scores", _CALLER)
    times = pd.DatetimeIndex(np.asarray(timestamps))
    if len(times) != S.shape[1]:
        raise DataValidationError(
            f"timestamps passed to {_CALLER} has {len(times)} entries but scores has "
            f"{S.shape[1]} steps; give one time per step."
        )
    per_day = daily_steps(times)
    if threshold is None:
        level = fleet_threshold(
            S.shape[0], steps_per_day=per_day, false_runs_per_day=false_runs_per_day
        )
        levels = np.full(S.shape[0], level)
    else:
        levels = series_levels(threshold, S.shape[0], _CALLER)
    echo = None
    if echo_days is not None:
        days = check_real(echo_days, "echo_days", _CALLER, low=0, low_open=True)
        echo = max(round(days * per_day), 1)
    flags = flag_anomalies(S, threshold=levels, echo=echo)
    if upper is None:
        return FleetFlags(flags, S, levels, echo, 0)
    if metrics is None:
        raise DataValidationError(
            f"{_CALLER} was given upper bounds but no metrics; pass metrics= (one per "
            f"series) so that each series gets its guardrail."
        )
    bounds = guardrail_bounds(list(metrics))
    if values is not None:
        first = default_warmup(S.shape[1]) if reference_steps is None else reference_steps
        bounds = np.fmax(bounds, reference_floors(values, list(metrics), first))
    if isinstance(guard_run, Mapping):
        runs = {
            str(k): int(check_real(v, "guard_run", _CALLER, low=1, integer=True))
            for k, v in guard_run.items()
        }
        per_series = np.array([runs.get(str(m), _GUARD_RUN) for m in metrics], dtype=np.int64)
        guard = guardrail_flags(upper, bounds, min_run=per_series)
    else:
        guard = guardrail_flags(upper, bounds, min_run=guard_run)
    if guard.shape != S.shape:
        raise DataValidationError(
            f"upper passed to {_CALLER} has shape {guard.shape} but scores has {S.shape}; "
            f"give one bound per series and step (NaN where there is none)."
        )
    return FleetFlags(flags | guard, breach_scores(S, guard), levels, echo, int(guard.sum()))

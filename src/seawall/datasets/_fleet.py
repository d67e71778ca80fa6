"""``simulate_fleet``: a seeded fleet of models, its metric series and its ground truth."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall._validation import check_real, check_seed, param_error
from seawall.datasets._fleet_catalog import Catalog, make_catalog
from seawall.datasets._fleet_events import EVENT_KINDS, Effects, EventKind, FleetEvent, plan_events
from seawall.datasets._fleet_logs import prediction_logs
from seawall.datasets._fleet_signals import draw_values, parameters

__all__ = ["SimulatedFleet", "simulate_fleet"]

FloatArray = npt.NDArray[np.float64]
_CALLER = "simulate_fleet"


@dataclass(frozen=True, slots=True)
class SimulatedFleet:
    """A simulated fleet: its models, metric series and the events planted in them.

    Attributes
    ----------
    models : pandas.DataFrame
        One row per model: ``model``, ``team``, ``project``, ``region``, ``sources``
        (``"|"``-joined upstream sources), ``n_features``, ``base_volume``,
        ``label_delay_steps``, ``labelled_share``, ``accuracy``, ``positive_rate``,
        ``disparate_impact``, ``group_share``.
    series : pandas.DataFrame
        One row per metric series, in the order of :attr:`values`: ``series``
        (key, e.g. ``"m0007/drift/crm-feed.age"``), ``model``, ``metric``,
        ``feature`` and ``source`` (``None`` for model-level metrics), ``team``,
        ``region``, ``project``.
    values : ndarray of float64, shape (n_series, n_steps)
        The metric series (read-only); NaN where a window has no data (no labels
        yet, no traffic).
    upper : ndarray of float64, shape (n_series, n_steps)
        For the metrics with a fixed limit (disparate impact; NaN elsewhere,
        read-only), the upper bound of the 95% interval of the last day's counts
        (the window and the ones before it), as
        :func:`~seawall.monitoring.metric_points` computes it for a day-long
        window: what the four-fifths guardrail judges
        (:func:`~seawall.monitoring.guardrail_flags`).
    timestamps : pandas.DatetimeIndex
        The start of every window (UTC, naive).
    events : tuple of FleetEvent
        The planted ground truth.
    seed : int
        The seed it was drawn with.
    """

    models: pd.DataFrame
    series: pd.DataFrame
    values: FloatArray
    upper: FloatArray
    timestamps: pd.DatetimeIndex
    events: tuple[FleetEvent, ...]
    seed: int
    _catalog: Catalog = field(repr=False, compare=False)
    _effects: Effects = field(repr=False, compare=False)

    def metrics_long(self, *, dropna: bool = True) -> pd.DataFrame:
        """The series in long form: one row per series and window, with its labels.

        Parameters
        ----------
        dropna : bool, default=True
            Leave out windows without a value.

        Returns
        -------
        pandas.DataFrame
            Columns ``series``, ``timestamp``, ``value``, then the label columns of
            :attr:`series` (``model``, ``metric``, ``feature``, ``source``, ``team``,
            ``region``, ``project``).

        Examples
        --------
        >>> fleet = simulate_fleet(6, 8, seed=0, events=())
        >>> long = fleet.metrics_long()
        >>> list(long.columns)[:3], int(long["value"].isna().sum())
        (['series', 'timestamp', 'value'], 0)
        """
        n_series, n_steps = self.values.shape
        idx = np.repeat(np.arange(n_series), n_steps)
        out = pd.DataFrame(
            {
                "series": self.series["series"].to_numpy(dtype=object)[idx],
                "timestamp": np.tile(self.timestamps.to_numpy(), n_series),
                "value": self.values.reshape(-1),
            }
        )
        for col in self.series.columns[1:]:
            out[col] = self.series[col].to_numpy(dtype=object)[idx]
        if dropna:
            out = out[out["value"].notna()].reset_index(drop=True)
        return out

    def events_frame(self) -> pd.DataFrame:
        """The events as a table (one row per event; ``affected`` as a count).

        Returns
        -------
        pandas.DataFrame
            Columns ``id``, ``kind``, ``start``, ``end``, ``start_step``,
            ``end_step``, ``n_affected``, ``root_cause``, ``importance``,
            ``description``.

        Examples
        --------
        >>> simulate_fleet(12, 8, seed=1).events_frame()["kind"].tolist()
        ['source_break', 'region_drift', 'fairness_creep', 'accuracy_drop']
        """
        rows = []
        for e in self.events:
            row = e.to_dict()
            row["n_affected"] = len(row.pop("affected"))
            row["root_cause"] = ", ".join(f"{k}={v}" for k, v in e.root_cause.items())
            row["start"], row["end"] = e.start, e.end
            rows.append(row)
        cols = ["id", "kind", "start", "end", "start_step", "end_step", "n_affected"]
        cols += ["root_cause", "importance", "description"]
        return pd.DataFrame(rows, columns=cols)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe summary: sizes, timestamps and the events (not the values).

        Returns
        -------
        dict
            ``seed``, ``n_models``, ``n_series``, ``n_steps``, ``start``, ``end``,
            ``freq`` and ``events`` (each :meth:`FleetEvent.to_dict`).

        Examples
        --------
        >>> d = simulate_fleet(6, 8, seed=0, events=("accuracy_drop",)).to_dict()
        >>> d["n_models"], len(d["events"])
        (6, 1)
        """
        return {
            "seed": self.seed,
            "n_models": len(self.models),
            "n_series": int(self.values.shape[0]),
            "n_steps": int(self.values.shape[1]),
            "start": self.timestamps[0].isoformat(),
            "end": self.timestamps[-1].isoformat(),
            "freq": str(self.timestamps[1] - self.timestamps[0]),
            "events": [e.to_dict() for e in self.events],
        }

    def prediction_logs(
        self,
        models: Sequence[str],
        *,
        rows_per_hour: float | None = None,
        seed: int = 0,
    ) -> pd.DataFrame:
        """Row-level prediction logs of some models, consistent with the fleet's events.

        Each row is one prediction drawn from the same generating parameters as the
        metric series (traffic seasons, positive rates per group, accuracy, feature
        distributions, null rates, every event), so windowed metrics computed from
        the logs tell the same story as :attr:`values` (with other noise).

        Parameters
        ----------
        models : sequence of str
            Model names (from :attr:`models`).
        rows_per_hour : float or None, default=None
            Rescale each model's traffic to this mean number of rows per hour (its
            seasons and events kept); ``None`` keeps the simulated volume.
        seed : int, default=0
            Seed of the row draws.

        Returns
        -------
        pandas.DataFrame
            Sorted by ``timestamp``: ``timestamp``, ``model``, ``group`` (the
            sensitive attribute, ``"A"`` or ``"B"``), ``y_score``, ``y_pred``,
            ``y_true`` (NaN until the label arrives: the newest rows have none),
            then one float column per feature of the models (NaN when null or
            when the model does not read that feature).

        Raises
        ------
        InvalidParameterError
            When a model is unknown, or ``rows_per_hour`` or ``seed`` is invalid.

        Examples
        --------
        >>> fleet = simulate_fleet(6, 8, seed=0)
        >>> logs = fleet.prediction_logs(["m0001"], rows_per_hour=20, seed=1)
        >>> list(logs.columns)[:6]
        ['timestamp', 'model', 'group', 'y_score', 'y_pred', 'y_true']
        >>> bool(logs["y_true"].tail(5).isna().all())
        True
        """
        return prediction_logs(
            self._catalog, self._effects, self.timestamps, list(models), rows_per_hour, seed
        )


def _check_freq(freq: object) -> tuple[pd.Timedelta, int]:
    if not isinstance(freq, str):
        raise param_error("freq", _CALLER, "a pandas frequency string such as '1h'", freq)
    try:
        step = pd.Timedelta(freq)
    except (TypeError, ValueError) as e:
        raise param_error("freq", _CALLER, "a pandas frequency such as '1h'", freq) from e
    day = pd.Timedelta(days=1)
    if step < pd.Timedelta(minutes=5) or step > day or day % step != pd.Timedelta(0):
        raise param_error(
            "freq", _CALLER, "a frequency from '5min' to '1D' that divides a day", freq
        )
    return step, int(day // step)


def simulate_fleet(
    n_models: int = 1000,
    n_days: int = 30,
    *,
    freq: str = "1h",
    seed: int = 0,
    events: Sequence[EventKind] = EVENT_KINDS,
    n_sources: int | None = None,
    n_teams: int | None = None,
    start: str = "2024-01-01",
) -> SimulatedFleet:
    """Simulate a fleet of deployed models, its metric series and planted events.

    Each model belongs to a team, a project and a region and reads three to five
    features from upstream sources of Zipf-distributed popularity. Its traffic has
    a daily cycle in its region's local time, quieter weekends, growth over the
    history and, for one model in ten, a Monday-morning batch job (a predictable
    weekly peak); labels arrive after a delay of 6 to 72 hours. Per window, every
    model has five series (``volume``, ``positive_rate``, ``score_mean``,
    ``accuracy``, ``disparate_impact``) and every feature two (``drift``: PSI
    against the reference; ``null_rate``), all computed from simulated counts (see
    :mod:`seawall.datasets._fleet_signals`). Planted events are described in
    :mod:`seawall.datasets._fleet_events`.

    Parameters
    ----------
    n_models : int, default=1000
        Number of models, at least 5.
    n_days : int, default=30
        Length of the history in days, at least 7.
    freq : str, default="1h"
        Window length, a pandas frequency from ``"5min"`` to ``"1D"`` dividing a day.
    seed : int, default=0
        Seed of ``numpy.random.default_rng``; a non-negative int.
    events : sequence of str, default=all four kinds
        The events to plant, among ``"source_break"``, ``"region_drift"``,
        ``"fairness_creep"`` and ``"accuracy_drop"`` (a kind may repeat; ``()`` for
        none).
    n_sources : int or None, default=None
        Number of upstream sources; ``None`` means ``max(3, n_models // 25)``.
    n_teams : int or None, default=None
        Number of teams; ``None`` means ``max(2, n_models // 50)``.
    start : str, default="2024-01-01"
        The first window's start (a Monday by default).

    Returns
    -------
    SimulatedFleet
        Models, series, values, timestamps and events. The same arguments give the
        same fleet.

    Raises
    ------
    InvalidParameterError
        When a size, ``freq``, ``seed``, ``events`` or ``start`` is invalid.

    See Also
    --------
    seawall.monitoring.detect : scores every series.

    References
    ----------
    .. [1] D. Sculley et al., "Hidden technical debt in machine learning systems",
       NeurIPS 2015 (upstream data dependencies as a root cause of failures).
    .. [2] B. Yurdakul, "Statistical properties of population stability index",
       Western Michigan University, 2018.

    Examples
    --------
    >>> fleet = simulate_fleet(20, 10, seed=0)
    >>> fleet.values.shape == (len(fleet.series), 240)
    True
    >>> [e.kind for e in fleet.events]
    ['source_break', 'region_drift', 'fairness_creep', 'accuracy_drop']
    >>> sorted(fleet.series["metric"].unique())  # doctest: +NORMALIZE_WHITESPACE
    ['accuracy', 'disparate_impact', 'drift', 'null_rate', 'positive_rate',
     'score_mean', 'volume']
    """
    n_models = int(check_real(n_models, "n_models", _CALLER, low=5, integer=True))
    n_days = int(check_real(n_days, "n_days", _CALLER, low=7, integer=True))
    seed = check_seed(seed, "seed", _CALLER)
    step, per_day = _check_freq(freq)
    if isinstance(events, str) or any(e not in EVENT_KINDS for e in events):
        raise param_error(
            "events", _CALLER, f"a sequence of event kinds among {list(EVENT_KINDS)}", events
        )
    sources = max(3, n_models // 25) if n_sources is None else n_sources
    sources = int(check_real(sources, "n_sources", _CALLER, low=1, integer=True))
    teams = max(2, n_models // 50) if n_teams is None else n_teams
    teams = int(check_real(teams, "n_teams", _CALLER, low=1, integer=True))
    try:
        first = pd.Timestamp(start)
    except (TypeError, ValueError) as e:
        raise param_error("start", _CALLER, "a date such as '2024-01-01'", start) from e
    if first.tz is not None:
        first = first.tz_convert(None)
    timestamps = pd.date_range(first, periods=n_days * per_day, freq=step)
    rng = np.random.default_rng(seed)
    cat = make_catalog(rng, n_models, sources, teams, per_day)
    planted, eff = plan_events(rng, cat, tuple(events), timestamps, per_day)
    values, upper, series = draw_values(
        rng, cat, eff, parameters(cat, eff, timestamps), pool=per_day
    )
    values.setflags(write=False)
    upper.setflags(write=False)
    return SimulatedFleet(
        models=cat.models,
        series=series,
        values=values,
        upper=upper,
        timestamps=timestamps,
        events=tuple(planted),
        seed=seed,
        _catalog=cat,
        _effects=eff,
    )

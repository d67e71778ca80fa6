"""Metric points: one value per model, metric, qualifier and time window, with its interval.

:class:`MetricPoints` is the frozen, long-format result of
:func:`~seawall.monitoring._window_metrics.window_metrics`;
:meth:`MetricPoints.series_matrix` lays it out as the ``(n_series, n_windows)``
matrix the anomaly detectors consume.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from seawall._json import json_value
from seawall._validation import check_choice, param_error
from seawall.metrics import wilson_interval
from seawall.monitoring._drift_sketch import read_only

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MetricPoints", "PointsBuilder", "SeriesMatrix", "masked"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ObjArray = npt.NDArray[np.object_]

_FIELDS = ("value", "lower", "upper", "n", "q_value")


def masked(
    keep: npt.NDArray[np.bool_], value: FloatArray, lower: FloatArray, upper: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """An estimate and its interval, NaN where ``keep`` is false (too few rows).

    Parameters
    ----------
    keep : ndarray of bool, shape (k,)
        Where the metric is given.
    value, lower, upper : ndarray of float64, shape (k,)
        The estimates and bounds.

    Returns
    -------
    value, lower, upper : ndarray of float64, shape (k,)

    Examples
    --------
    >>> masked(np.array([True, False]), np.ones(2), np.zeros(2), np.ones(2))[0].tolist()
    [1.0, nan]
    """
    return (
        np.where(keep, value, np.nan),
        np.where(keep, lower, np.nan),
        np.where(keep, upper, np.nan),
    )


def _timestamps(ns: IntArray, tz: str | None) -> pd.DatetimeIndex:
    import pandas as pd

    index = pd.DatetimeIndex(ns.astype("datetime64[ns]"))
    return index.tz_localize("UTC").tz_convert(tz) if tz is not None else index


@dataclass(frozen=True, slots=True)
class SeriesMatrix:
    """Metric series side by side: one row per series, one column per window.

    Attributes
    ----------
    values : ndarray of float64, shape (n_series, n_windows)
        The chosen field; NaN where the window has no point.
    keys : tuple of (str, str, str)
        Each row's ``(model, metric, qualifier)``.
    window_starts : pandas.DatetimeIndex
        Each column's window start: a regular grid from the first to the last
        window, every ``every``.
    """

    values: FloatArray
    keys: tuple[tuple[str, str, str], ...]
    window_starts: pd.DatetimeIndex


@dataclass(frozen=True, slots=True)
class MetricPoints:
    """Per-model, per-window metric points, each with its interval and sample size.

    All arrays have one entry per point and are read-only.

    Attributes
    ----------
    model, metric, qualifier : ndarray of object
        The model, the metric's name and what it is about: a feature for drift
        and data quality, a sensitive attribute for fairness, ``""`` otherwise.
    window_start, window_end : ndarray of int64
        The window ``[start, end)`` in nanoseconds since the Unix epoch (UTC);
        :meth:`to_frame` shows them as timestamps in ``tz``.
    value, lower, upper : ndarray of float64
        The estimate and its interval at level ``1 - alpha``; NaN when the
        window has fewer than ``min_rows`` rows for it (see ``n``) or when the
        metric has no interval (drift effect sizes, judged by ``q_value``).
    n : ndarray of int64
        The rows the metric rests on (e.g. labelled rows for accuracy).
    q_value : ndarray of float64
        For drift metrics, the feature's Benjamini–Hochberg adjusted p-value
        across the window's features; NaN for the others.
    every : int
        The window length in nanoseconds.
    alpha : float
        ``1 -`` the intervals' level, and the drift tests' level.
    tz : str or None
        The time zone of the input times.
    """

    model: ObjArray
    metric: ObjArray
    qualifier: ObjArray
    window_start: IntArray
    window_end: IntArray
    value: FloatArray
    lower: FloatArray
    upper: FloatArray
    n: IntArray
    q_value: FloatArray
    every: int
    alpha: float
    tz: str | None

    def __len__(self) -> int:
        """The number of points."""
        return int(self.value.size)

    @property
    def metrics(self) -> tuple[str, ...]:
        """The distinct metric names, sorted."""
        return tuple(sorted(set(self.metric.tolist())))

    def to_frame(self) -> pd.DataFrame:
        """One row per point (pandas is imported here, lazily).

        Returns
        -------
        pandas.DataFrame
            Columns ``model``, ``metric``, ``qualifier``, ``window_start``,
            ``window_end``, ``value``, ``lower``, ``upper``, ``n``, ``q_value``.
        """
        import pandas as pd

        return pd.DataFrame(
            {
                "model": self.model,
                "metric": self.metric,
                "qualifier": self.qualifier,
                "window_start": _timestamps(self.window_start, self.tz),
                "window_end": _timestamps(self.window_end, self.tz),
                "value": self.value,
                "lower": self.lower,
                "upper": self.upper,
                "n": self.n,
                "q_value": self.q_value,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """The points as JSON-safe primitives with stable keys.

        Returns
        -------
        dict
            ``every`` (ISO 8601 duration), ``alpha``, ``tz`` and ``points``: one
            dict per point with the keys of :meth:`to_frame`, times as ISO
            strings and NaN as ``None``.
        """
        import pandas as pd

        starts = _timestamps(self.window_start, self.tz)
        ends = _timestamps(self.window_end, self.tz)
        points = [
            {
                "model": str(self.model[i]),
                "metric": str(self.metric[i]),
                "qualifier": str(self.qualifier[i]),
                "window_start": starts[i].isoformat(),
                "window_end": ends[i].isoformat(),
                "value": json_value(self.value[i]),
                "lower": json_value(self.lower[i]),
                "upper": json_value(self.upper[i]),
                "n": int(self.n[i]),
                "q_value": json_value(self.q_value[i]),
            }
            for i in range(len(self))
        ]
        return {
            "every": pd.Timedelta(self.every).isoformat(),
            "alpha": self.alpha,
            "tz": self.tz,
            "points": points,
        }

    def series_matrix(
        self,
        metrics: str | tuple[str, ...] | list[str] | None = None,
        *,
        field: Literal["value", "lower", "upper", "n", "q_value"] = "value",
    ) -> SeriesMatrix:
        """Lay the points out as series: ``(n_series, n_windows)``, NaN where no point.

        Parameters
        ----------
        metrics : str or list of str or None, default=None
            Keep only these metrics; ``None`` keeps all.
        field : {"value", "lower", "upper", "n", "q_value"}, default="value"
            Which number fills the matrix.

        Returns
        -------
        SeriesMatrix
            Rows sorted by ``(model, metric, qualifier)``; columns every window
            from the first to the last point's, every ``every``.

        Raises
        ------
        InvalidParameterError
            On an unknown ``field`` or a metric name that has no points.

        Examples
        --------
        >>> import pandas as pd
        >>> from seawall.monitoring._window_metrics import window_metrics
        >>> logs = pd.DataFrame({"time": pd.to_datetime(["2024-01-01 00:10",
        ...                      "2024-01-01 02:20"]), "model": "m", "prediction": [1, 0]})
        >>> m = window_metrics(logs, every="1h", score_col=None, label_col=None,
        ...                    min_rows=1).series_matrix("positive_rate")
        >>> m.values.tolist(), m.keys
        ([[1.0, nan, 0.0]], (('m', 'positive_rate', ''),))
        """
        import pandas as pd

        name = "series_matrix"
        check_choice(field, "field", name, _FIELDS)
        keep = np.ones(len(self), dtype=bool)
        if metrics is not None:
            wanted = [metrics] if isinstance(metrics, str) else list(metrics)
            unknown = sorted(set(wanted) - set(self.metrics))
            if unknown:
                raise param_error(
                    "metrics", name, f"metric names among {list(self.metrics)}", unknown
                )
            keep = np.isin(self.metric, np.asarray(wanted, dtype=object))
        key_frame = pd.DataFrame(
            {"model": self.model[keep], "metric": self.metric[keep], "q": self.qualifier[keep]}
        )
        codes, uniques = pd.MultiIndex.from_frame(key_frame).factorize(sort=True)
        starts = self.window_start[keep]
        if starts.size == 0:
            empty = _timestamps(np.zeros(0, dtype=np.int64), self.tz)
            return SeriesMatrix(np.zeros((0, 0)), (), empty)
        t0, t1 = int(starts.min()), int(starts.max())
        n_windows = (t1 - t0) // self.every + 1
        col = (starts - t0) // self.every
        out = np.full((len(uniques), n_windows), np.nan)
        out[codes, col] = np.asarray(getattr(self, field)[keep], dtype=np.float64)
        keys = tuple((str(a), str(b), str(c)) for a, b, c in uniques)
        grid = t0 + self.every * np.arange(n_windows, dtype=np.int64)
        return SeriesMatrix(read_only(out), keys, _timestamps(grid, self.tz))


class PointsBuilder:
    """Collects blocks of points (one metric, one qualifier, many states) into MetricPoints.

    Parameters
    ----------
    models : ndarray of object, shape (n_states,)
        Each state's model.
    starts, ends : ndarray of int64, shape (n_states,)
        Each state's window, in nanoseconds.

    Examples
    --------
    >>> b = PointsBuilder(np.array(["m"], dtype=object), np.array([0]), np.array([10]))
    >>> b.add("volume", "", np.array([0]), np.array([3.0]), np.array([np.nan]),
    ...       np.array([np.nan]), np.array([3]))
    >>> b.build(10, 0.05, None).value.tolist()
    [3.0]
    """

    def __init__(self, models: ObjArray, starts: IntArray, ends: IntArray) -> None:
        self._models = models
        self._starts = starts
        self._ends = ends
        self._blocks: list[tuple[Any, ...]] = []

    def add(
        self,
        metric: str,
        qualifier: str,
        state: npt.NDArray[np.intp],
        value: FloatArray,
        lower: FloatArray,
        upper: FloatArray,
        n: npt.ArrayLike,
        q_value: FloatArray | None = None,
    ) -> None:
        """Add one point per entry of ``state`` (arrays aligned with it).

        Parameters
        ----------
        metric, qualifier : str
            The metric and what it is about.
        state : ndarray of intp, shape (k,)
            The states the points belong to.
        value, lower, upper : ndarray of float64, shape (k,)
            The estimates and intervals.
        n : array-like of int, shape (k,)
            The rows behind each.
        q_value : ndarray of float64, shape (k,), optional
            Adjusted p-values (drift only).
        """
        q = np.full(state.size, np.nan) if q_value is None else q_value
        self._blocks.append((metric, qualifier, state, value, lower, upper, n, q))

    def add_rate(
        self,
        metric: str,
        qualifier: str,
        state: npt.NDArray[np.intp],
        successes: npt.ArrayLike,
        trials: npt.ArrayLike,
        z: float,
        min_rows: int,
        *,
        defined: bool = True,
    ) -> None:
        """Add one proportion per entry of ``state``, with its Wilson interval.

        Parameters
        ----------
        metric, qualifier, state
            As :meth:`add`.
        successes, trials : array-like of float, shape (k,)
            The counts of each proportion (``trials`` is the points' ``n``).
        z : float
            The interval's normal quantile.
        min_rows : int
            Points with fewer trials get NaN.
        defined : bool, default=True
            Whether the metric is defined at all (NaN everywhere when not).
        """
        x = np.asarray(successes, dtype=np.float64)
        n = np.asarray(trials, dtype=np.float64)
        lo, hi = wilson_interval(x, n, z)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = x / n
        keep = (n >= max(min_rows, 1)) & defined
        self.add(metric, qualifier, state, *masked(keep, value, lo, hi), n.astype(np.int64))

    def build(self, every: int, alpha: float, tz: str | None) -> MetricPoints:
        """The points collected so far.

        Parameters
        ----------
        every : int
            The window length in nanoseconds.
        alpha : float
            The intervals' ``1 - level``.
        tz : str or None
            The time zone of the input times.

        Returns
        -------
        MetricPoints
            Sorted by model, metric, qualifier and window start.
        """
        if self._blocks:
            state = np.concatenate([b[2] for b in self._blocks]).astype(np.intp)
            metric = np.concatenate([np.full(b[2].size, b[0], dtype=object) for b in self._blocks])
            qual = np.concatenate([np.full(b[2].size, b[1], dtype=object) for b in self._blocks])
            cols = [
                np.concatenate([np.asarray(b[k], dtype=np.float64) for b in self._blocks])
                for k in (3, 4, 5, 7)
            ]
            n = np.concatenate([np.asarray(b[6], dtype=np.int64) for b in self._blocks])
        else:
            state = np.zeros(0, dtype=np.intp)
            metric = qual = np.zeros(0, dtype=object)
            cols = [np.zeros(0) for _ in range(4)]
            n = np.zeros(0, dtype=np.int64)
        import pandas as pd

        models = self._models[state]
        starts = self._starts[state]
        codes = [pd.factorize(a, sort=True)[0] for a in (models, metric, qual)]
        order = np.lexsort((starts, codes[2], codes[1], codes[0]))
        fixed = [
            read_only(np.asarray(a)[order])
            for a in (models, metric, qual, starts, self._ends[state], *cols, n)
        ]
        return MetricPoints(
            model=fixed[0],
            metric=fixed[1],
            qualifier=fixed[2],
            window_start=fixed[3],
            window_end=fixed[4],
            value=fixed[5],
            lower=fixed[6],
            upper=fixed[7],
            q_value=fixed[8],
            n=fixed[9],
            every=every,
            alpha=alpha,
            tz=tz,
        )

"""Windowed model metrics from prediction logs: per model, per time window, with intervals.

:func:`~seawall.monitoring._summarize_windows.window_states` turns the logs
into one mergeable state per model and window (count tables and sketches, see
:class:`~seawall.monitoring._window_state.WindowState`);
:func:`metric_points` reads every metric off those states; :func:`window_metrics`
does both. Because metrics come from states only, hourly states merged into
two-hour ones (:meth:`~seawall.monitoring._window_state.WindowStates.coarsen`)
give the metrics of the two-hour
windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import special

from seawall._validation import check_real, param_error
from seawall.monitoring._cbpe import cbpe_points
from seawall.monitoring._performance import accuracy_points, score_performance_points
from seawall.monitoring._points import MetricPoints, PointsBuilder
from seawall.monitoring._summarize_windows import StateOptions, collect_states
from seawall.monitoring._window_drift import drift_points
from seawall.monitoring._window_fairness import fairness_points
from seawall.monitoring._window_outputs import output_points, poisson_interval
from seawall.monitoring._window_quality import quality_points
from seawall.monitoring._window_state import WindowState, WindowStates, utc_ns

__all__ = ["empty_window_points", "metric_points", "points_of", "window_metrics"]

IntArray = npt.NDArray[np.int64]


def metric_points(states: WindowStates, *, alpha: float = 0.05, min_rows: int = 30) -> MetricPoints:
    """Read every metric of every model and window off their states.

    Parameters
    ----------
    states : WindowStates
        From :func:`~seawall.monitoring._summarize_windows.window_states`
        (possibly coarsened).
    alpha : float, default=0.05
        Intervals are at level ``1 - alpha``; drift is flagged at BH level ``alpha``.
    min_rows : int, default=30
        The fewest rows a window (or a group within it) needs for a metric; with
        fewer the value is NaN and ``n`` shows how many there were.

    Returns
    -------
    MetricPoints
        The points; see :func:`window_metrics` for the metrics.

    Raises
    ------
    InvalidParameterError
        On a bad ``alpha`` or ``min_rows``, or ``states`` of another type.

    See Also
    --------
    window_metrics : States and metrics in one call.
    WindowStates.coarsen : Longer windows from shorter ones' states.

    Examples
    --------
    >>> import pandas as pd
    >>> from seawall.monitoring._summarize_windows import window_states
    >>> logs = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=4, freq="30min"),
    ...                      "model": "m", "prediction": [1, 0, 1, 1]})
    >>> s = window_states(logs, every="1h", score_col=None, label_col=None)
    >>> p = metric_points(s.coarsen("2h"), min_rows=1)
    >>> p.value[p.metric == "positive_rate"].tolist()
    [0.75]
    """
    caller = "metric_points"
    if not isinstance(states, WindowStates):
        raise param_error("states", caller, "a WindowStates (from window_states)", type(states))
    level = check_real(alpha, "alpha", caller, low=0, high=1, low_open=True, high_open=True)
    least = int(check_real(min_rows, "min_rows", caller, low=1, integer=True))
    return points_of(states, level, least)


def points_of(
    states: WindowStates, alpha: float, min_rows: int, *, fill_gaps: bool = True
) -> MetricPoints:
    """:func:`metric_points` with checked parameters; optionally without the empty windows.

    A caller that holds only some of a model's windows (one partition of the
    logs) cannot tell which windows between them are empty: it passes
    ``fill_gaps=False`` and adds the empty windows of the whole data with
    :func:`empty_window_points`. The points of the states do not depend on
    which other states are passed with them.

    Parameters
    ----------
    states : WindowStates
        The states.
    alpha : float
        In (0, 1), as :func:`metric_points` takes it (not checked here).
    min_rows : int
        At least 1 (not checked here).
    fill_gaps : bool, default=True
        Add ``volume`` 0 for every empty window between a model's first and
        last state, as :func:`metric_points` does.

    Returns
    -------
    MetricPoints
        The points.

    Examples
    --------
    >>> import pandas as pd
    >>> from seawall.monitoring._summarize_windows import window_states
    >>> logs = pd.DataFrame({"time": pd.to_datetime(["2024-01-01 00:10", "2024-01-01 02:10"]),
    ...                      "model": "m", "prediction": [1, 0]})
    >>> s = window_states(logs, every="1h", score_col=None, label_col=None)
    >>> len(points_of(s, 0.05, 1)) - len(points_of(s, 0.05, 1, fill_gaps=False))
    1
    """
    z = float(special.ndtri(1.0 - alpha / 2.0))
    real = list(states.states)
    if fill_gaps:
        models, starts, ends = _gaps(real, states.every)
    else:
        models = np.array([s.model for s in real], dtype=object)
        starts = np.array([utc_ns(s.start) for s in real], dtype=np.int64)
        ends = np.array([utc_ns(s.end) for s in real], dtype=np.int64)
    builder = PointsBuilder(models, starts, ends)
    n_real = len(real)
    if starts.size > n_real:
        _add_empty(builder, np.arange(n_real, starts.size, dtype=np.intp), alpha)
    if real:
        output_points(builder, real, z, alpha, min_rows)
        if states.has_labels:
            accuracy_points(builder, real, z, min_rows)
        if states.has_scores:
            cbpe_points(builder, real, z, min_rows)
            if states.has_labels:
                score_performance_points(builder, real, z, alpha, min_rows)
        drift_points(builder, real, states, alpha, min_rows)
        quality_points(builder, real, {p.model: p for p in states.references}, z, min_rows)
        for a, attribute in enumerate(states.sensitive):
            tables = [s.fairness[a] for s in real]
            fairness_points(builder, tables, attribute, alpha, min_rows, states.has_labels)
    return builder.build(states.every, alpha, states.tz)


def empty_window_points(
    models: npt.NDArray[np.object_], starts: IntArray, every: int, alpha: float, tz: str | None
) -> MetricPoints:
    """The points of windows without rows: ``volume`` 0 with its Poisson interval.

    Parameters
    ----------
    models : ndarray of object, shape (k,)
        Each empty window's model.
    starts : ndarray of int64, shape (k,)
        Its start in nanoseconds since the epoch (UTC).
    every : int
        The window length in nanoseconds.
    alpha : float
        ``1 -`` the intervals' level, in (0, 1).
    tz : str or None
        The time zone of the logs' times.

    Returns
    -------
    MetricPoints
        One ``volume`` point per window, as :func:`metric_points` gives it.

    Examples
    --------
    >>> p = empty_window_points(np.array(["m"], dtype=object), np.array([0]), 10, 0.05, None)
    >>> p.metric.tolist(), p.value.tolist(), p.upper.round(3).tolist()
    (['volume'], [0.0], [3.689])
    """
    starts = np.asarray(starts, dtype=np.int64)
    builder = PointsBuilder(np.asarray(models, dtype=object), starts, starts + every)
    _add_empty(builder, np.arange(starts.size, dtype=np.intp), alpha)
    return builder.build(every, alpha, tz)


def _add_empty(builder: PointsBuilder, index: npt.NDArray[np.intp], alpha: float) -> None:
    """Volume 0, and its interval, for the builder's empty windows at ``index``."""
    zeros = np.zeros(index.size)
    lo, hi = poisson_interval(zeros, alpha)
    builder.add("volume", "", index, zeros, lo, hi, np.zeros(index.size, dtype=np.int64))


def _gaps(states: list[WindowState], every: int) -> tuple[Any, IntArray, IntArray]:
    """The states' models and windows, then each model's empty windows inside its span."""
    models = [s.model for s in states]
    starts = [utc_ns(s.start) for s in states]
    ends = [utc_ns(s.end) for s in states]
    extra_m: list[str] = []
    extra_s: list[int] = []
    for i in range(1, len(states)):
        if models[i] == models[i - 1] and starts[i] - starts[i - 1] > every:
            gap = range(starts[i - 1] + every, starts[i], every)
            extra_m.extend([models[i]] * len(gap))
            extra_s.extend(gap)
    all_starts = np.array(starts + extra_s, dtype=np.int64)
    all_ends = np.array(ends + [s + every for s in extra_s], dtype=np.int64)
    return np.array(models + extra_m, dtype=object), all_starts, all_ends


def window_metrics(
    logs: object,
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
) -> MetricPoints:
    """Per-model, per-window metrics of prediction logs, each with its uncertainty.

    Rows are assigned to windows ``[start, start + every)`` aligned to the Unix
    epoch (UTC), per model. Every window with rows gets:

    * ``volume`` (rows, exact Poisson interval; also 0 for an empty window
      between a model's first and last window) and ``positive_rate`` (Wilson);
    * with scores: ``score_mean`` (t interval), ``score_p10``, ``score_p50``,
      ``score_p90`` (order-statistic intervals) and ``cbpe_accuracy``, the
      label-free expected accuracy of confidence-based performance estimation
      (Poisson-binomial interval for the realised accuracy; see
      :mod:`seawall.monitoring._cbpe`);
    * with labels (rows whose label has arrived): ``accuracy`` (Wilson), and
      with scores ``auc`` (DeLong), ``ece`` (debiased, as
      :func:`seawall.metrics.group_metrics`) and ``brier``;
    * per feature (the score included): ``drift`` (the effect size of
      :func:`~seawall.monitoring.summary_drift`: scaled Wasserstein distance
      for a KS-tested number, Cramér's V for categories or binned numbers),
      ``drift_psi``, ``drift_js``, ``drift_ks`` (numbers), each with the
      feature's Benjamini–Hochberg ``q_value`` across the window's features,
      and ``drifted_features``, how many have ``q_value < alpha`` — every
      drifted feature is reported, not a share of columns;
    * per feature: ``null_rate``, and ``out_of_range_rate`` (numbers, range
      of the reference) or ``unseen_rate`` (categories the reference never
      saw), all Wilson;
    * per sensitive attribute: ``disparate_impact`` (lowest over highest
      positive rate of groups with ``min_rows`` rows) and ``tpr_gap`` (highest
      minus lowest TPR of groups with ``min_rows`` labelled positives), with
      the pairwise intervals of :func:`seawall.metrics.group_metrics`.

    Parameters
    ----------
    logs : pandas.DataFrame or pyarrow.Table
        One row per prediction (never modified; any row order).
    every : str or pandas.Timedelta, default="1h"
        The window length: fixed, e.g. ``"15min"``, ``"1h"``, ``"1d"``.
    reference : "first", int, (start, end) or DataFrame, default="first"
        What each model is compared with for drift and data quality:
        ``"first"`` its first window; ``k`` its first ``k`` windows;
        ``(start, end)`` its rows in that time range; or reference logs with
        the same columns (the time column optional; without a model column they
        serve every model).
    time_col, model_col, prediction_col : str
        The columns of the times (datetimes or ISO strings), the model
        identifiers (shown as text) and the binary decisions.
    score_col : str or None, default="score"
        The probability of the positive class, in [0, 1] (NaN: unscored);
        ``None`` when the logs have none.
    label_col : str or None, default="label"
        The true labels, NaN where not yet arrived; ``None`` when none.
    feature_cols : list of str or None, default=None
        The logged features; ``None`` takes every column not named by another
        parameter.
    categorical : list of str or None, default=None
        Features to judge as categories whatever their dtype (text, boolean
        and pandas categorical columns are categories anyway).
    sensitive_cols : str or list of str or None, default=None
        The sensitive attributes for the fairness metrics.
    id_col : str or None, default="request_id"
        A request-id column, never taken as a feature.
    positive_label : object, default=1
        The value of the decisions and labels that is positive.
    alpha : float, default=0.05
        Intervals are at level ``1 - alpha``; drift is flagged at BH level ``alpha``.
    min_rows : int, default=30
        The fewest rows a window (or group) needs for a metric: with fewer the
        value is NaN, never an error, and ``n`` shows how many there were.
    calibration : {"none", "isotonic"}, default="none"
        ``"isotonic"`` learns a map from score to probability on each model's
        labelled reference rows before estimating accuracy without labels.
    n_bins : int, default=10
        Reference-quantile bins per numeric feature (PSI, Jensen–Shannon).
    n_calibration_bins : int, default=10
        Equal-width score bins of the calibration error.
    sample_cap : int or None, default=10_000
        A window (or reference) keeps a numeric feature's exact sorted values up
        to this many, so its KS test is exact; beyond it the feature is tested
        over its bins (``chi2_binned``, Cramér's V as the effect size).
    score_sample_cap : int, default=10_000
        A window keeps up to this many distinct scores exactly; beyond it they
        are snapped to a 0.001 grid (quantiles within 0.0005).

    Returns
    -------
    MetricPoints
        ``.to_frame()`` (one row per point: model, metric, qualifier,
        window_start, window_end, value, lower, upper, n, q_value),
        ``.to_dict()`` and ``.series_matrix()`` for the detectors.

    Raises
    ------
    DataValidationError
        On missing columns, unparsable or missing times, non-binary predictions
        or labels, scores outside [0, 1], or unsupported feature dtypes.
    InsufficientDataError
        On empty logs, a model without reference rows, or too few labelled
        reference rows to calibrate.
    InvalidParameterError
        On a bad parameter.

    See Also
    --------
    seawall.monitoring._summarize_windows.window_states : The mergeable states.
    summary_drift : Drift of one window from summaries.
    seawall.metrics.group_metrics : Group fairness metrics of one data set.

    References
    ----------
    .. [1] E. R. DeLong, D. M. DeLong, D. L. Clarke-Pearson, Biometrics 44 (1988).
    .. [2] Y. Benjamini, Y. Hochberg, JRSS B 57 (1995) 289-300.
    .. [3] NannyML, "Confidence-based performance estimation" (2022).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> n = 400
    >>> score = rng.random(n)
    >>> logs = pd.DataFrame({
    ...     "time": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n) * 18, "s"),
    ...     "model": "fraud", "score": score, "prediction": (score > 0.5).astype(int),
    ...     "label": (rng.random(n) < score).astype(float), "age": rng.normal(40, 10, n)})
    >>> points = window_metrics(logs, every="1h")
    >>> frame = points.to_frame()
    >>> frame[frame.metric == "volume"].value.tolist()
    [200.0, 200.0]
    >>> points.series_matrix("accuracy").values.shape
    (1, 2)
    """
    # The state options are this function's arguments: take them by name.
    options = StateOptions.from_arguments(locals())
    check_real(alpha, "alpha", "window_metrics", low=0, high=1, low_open=True, high_open=True)
    check_real(min_rows, "min_rows", "window_metrics", low=1, integer=True)
    states = collect_states(logs, options, "window_metrics")
    return metric_points(states, alpha=alpha, min_rows=min_rows)

"""Prediction logs into one mergeable state per model and time window.

:func:`window_states` checks the logs once, picks each model's reference,
profiles it (bins, ranges, categories, calibration) and builds every
(model, window) state in one vectorised pass; the metrics are then read off
the states by :func:`~seawall.monitoring._window_metrics.metric_points`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from seawall._validation import check_choice, check_real, param_error
from seawall.monitoring._window_build import build_states, window_starts
from seawall.monitoring._window_columns import resolve_columns
from seawall.monitoring._window_inputs import Logs, parse_every, read_logs, to_frame
from seawall.monitoring._window_parts import take_rows
from seawall.monitoring._window_reference import build_profiles, reference_mask
from seawall.monitoring._window_state import WindowStates

__all__ = ["StateOptions", "check_state_options", "collect_states", "window_states"]

_CALIBRATIONS = ("none", "isotonic")


@dataclass(frozen=True, slots=True)
class StateOptions:
    """The options of :func:`window_states` (and of ``window_metrics``), as passed.

    The public functions spell the options out, with their defaults, in their
    signatures; this is how they hand them on, unchecked (:func:`collect_states`
    checks them, naming the public function).

    Attributes
    ----------
    every, reference, time_col, model_col, prediction_col, score_col, label_col
        As :func:`window_states`.
    feature_cols, categorical, sensitive_cols, id_col, positive_label
        As :func:`window_states`.
    calibration, n_bins, n_calibration_bins, sample_cap, score_sample_cap
        As :func:`window_states`.
    """

    every: object
    reference: object
    time_col: str
    model_col: str
    prediction_col: str
    score_col: str | None
    label_col: str | None
    feature_cols: Sequence[str] | None
    categorical: Sequence[str] | None
    sensitive_cols: str | Sequence[str] | None
    id_col: str | None
    positive_label: Any
    calibration: Literal["none", "isotonic"]
    n_bins: int
    n_calibration_bins: int
    sample_cap: int | None
    score_sample_cap: int

    @classmethod
    def from_arguments(cls, arguments: Mapping[str, Any]) -> StateOptions:
        """Pick the options out of a public function's arguments.

        Parameters
        ----------
        arguments : mapping of str to object
            The function's ``locals()`` before it binds any other name: its
            arguments by parameter name (others, e.g. ``alpha``, are ignored).

        Returns
        -------
        StateOptions
            The options.

        Examples
        --------
        >>> from dataclasses import fields
        >>> arguments = dict.fromkeys(f.name for f in fields(StateOptions))
        >>> StateOptions.from_arguments({**arguments, "every": "2h", "alpha": 0.05}).every
        '2h'
        """
        return cls(**{f.name: arguments[f.name] for f in fields(cls)})


def window_states(
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
    calibration: Literal["none", "isotonic"] = "none",
    n_bins: int = 10,
    n_calibration_bins: int = 10,
    sample_cap: int | None = 10_000,
    score_sample_cap: int = 10_000,
) -> WindowStates:
    """Summarise prediction logs into one mergeable state per model and time window.

    Rows go to windows ``[start, start + every)`` aligned to the Unix epoch
    (UTC), per model. Each state holds counts (rows, decisions, confusion
    table, group tables, out-of-range values), exact sums (scores, calibration
    bins, expected accuracy) and sketches (feature summaries on the model's
    reference bins, a score sketch), so states merge without the rows
    (:meth:`WindowState.merge`, :meth:`WindowStates.coarsen`) and
    :func:`~seawall.monitoring._window_metrics.metric_points` reads every metric
    off them.

    Parameters
    ----------
    logs : pandas.DataFrame or pyarrow.Table
        One row per prediction (never modified; any row order).
    every : str or pandas.Timedelta, default="1h"
        The window length: fixed, e.g. ``"15min"``, ``"1h"``, ``"1d"``.
    reference : "first", int, (start, end) or DataFrame, default="first"
        Each model's reference: its first window, its first ``k`` windows, its
        rows in ``[start, end)``, or reference logs with the same columns (time
        optional; without a model column they serve every model).
    time_col, model_col, prediction_col : str
        The columns of the times, model identifiers and binary decisions.
    score_col, label_col : str or None, default="score", "label"
        The positive-class probability (in [0, 1], NaN: unscored) and the true
        label (NaN: not arrived yet); ``None`` when the logs have none.
    feature_cols : list of str or None, default=None
        The features; ``None`` takes every column no other parameter names.
    categorical : list of str or None, default=None
        Features to judge as categories whatever their dtype.
    sensitive_cols : str or list of str or None, default=None
        The sensitive attributes.
    id_col : str or None, default="request_id"
        A request-id column, never a feature.
    positive_label : object, default=1
        The positive value of decisions and labels.
    calibration : {"none", "isotonic"}, default="none"
        Whether to learn, per model, an isotonic map from score to probability
        on its labelled reference rows (for the label-free accuracy estimate).
    n_bins : int, default=10
        Reference-quantile bins per numeric feature.
    n_calibration_bins : int, default=10
        Equal-width score bins of the calibration error.
    sample_cap : int or None, default=10_000
        The most sorted values a numeric feature's sketch keeps (exact KS).
    score_sample_cap : int, default=10_000
        The most distinct scores a score sketch keeps exactly.

    Returns
    -------
    WindowStates
        The states, sorted by model and window, and each model's reference
        profile.

    Raises
    ------
    DataValidationError
        On missing columns, unparsable or missing times, non-binary predictions
        or labels, scores outside [0, 1], or unsupported feature dtypes.
    InsufficientDataError
        On logs without rows, a model without reference rows, or too few
        labelled reference rows to calibrate.
    InvalidParameterError
        On a bad parameter.

    See Also
    --------
    seawall.monitoring._window_metrics.window_metrics : States and metrics in one call.
    seawall.monitoring._window_metrics.metric_points : Metrics from states.

    Examples
    --------
    >>> import pandas as pd
    >>> logs = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=6, freq="20min"),
    ...                      "model": "m", "prediction": [1, 0, 1, 1, 0, 0]})
    >>> states = window_states(logs, every="1h", score_col=None, label_col=None)
    >>> [(str(s.start), s.n_rows) for s in states.states]
    [('2024-01-01 00:00:00', 3), ('2024-01-01 01:00:00', 3)]
    """
    return collect_states(logs, StateOptions.from_arguments(locals()), "window_states")


def check_state_options(
    options: StateOptions, caller: str
) -> tuple[int, str, int, int, int | None, int]:
    """Check the state options that do not need the logs.

    Parameters
    ----------
    options : StateOptions
        The options, as passed.
    caller : str
        The public function, for messages.

    Returns
    -------
    tuple
        The window length in nanoseconds, the calibration method, the numeric
        and calibration bins, the sample cap and the score cap.

    Raises
    ------
    InvalidParameterError
        On an option out of range, or ``calibration="isotonic"`` without a
        score or label column.
    """
    every_ns = parse_every(options.every, caller)
    method = check_choice(options.calibration, "calibration", caller, _CALIBRATIONS)
    bins = int(check_real(options.n_bins, "n_bins", caller, low=2, integer=True))
    calib_bins = int(
        check_real(options.n_calibration_bins, "n_calibration_bins", caller, low=2, integer=True)
    )
    sample_cap = options.sample_cap
    if sample_cap is not None:
        sample_cap = int(check_real(sample_cap, "sample_cap", caller, low=0, integer=True))
    score_cap = int(
        check_real(options.score_sample_cap, "score_sample_cap", caller, low=1, integer=True)
    )
    if method == "isotonic" and (options.score_col is None or options.label_col is None):
        raise param_error(
            "calibration",
            caller,
            "'none' when the logs have no score or label column",
            options.calibration,
        )
    return every_ns, method, bins, calib_bins, sample_cap, score_cap


def collect_states(logs: object, options: StateOptions, caller: str) -> WindowStates:
    """The body of :func:`window_states`, naming ``caller`` in its messages.

    Parameters
    ----------
    logs : pandas.DataFrame or pyarrow.Table
        The logs.
    options : StateOptions
        The other arguments, as passed.
    caller : str
        The public function, for messages.

    Returns
    -------
    WindowStates
        The states.
    """
    every_ns, method, bins, calib_bins, sample_cap, score_cap = check_state_options(options, caller)
    frame = to_frame(logs, "logs", caller)
    columns = resolve_columns(
        [str(c) for c in frame.columns],
        time_col=options.time_col,
        model_col=options.model_col,
        prediction_col=options.prediction_col,
        score_col=options.score_col,
        label_col=options.label_col,
        feature_cols=options.feature_cols,
        categorical=options.categorical,
        sensitive_cols=options.sensitive_cols,
        id_col=options.id_col,
        positive_label=options.positive_label,
        caller=caller,
    )
    checked = read_logs(frame, columns, "logs", caller)
    if _is_table(options.reference):
        ref_frame = to_frame(options.reference, "reference", caller)
        shared = options.model_col not in {str(c) for c in ref_frame.columns}
        if shared:
            ref_frame = ref_frame.assign(**{options.model_col: "<all models>"})
        ref_logs = read_logs(ref_frame, columns, "reference", caller, require_time=False)
    else:
        shared = False
        mask = reference_mask(
            checked, window_starts(checked.time_ns, every_ns), options.reference, every_ns, caller
        )
        ref_logs = _subset(checked, mask)
    profiles = build_profiles(
        ref_logs,
        checked.models,
        columns.categorical,
        n_bins=bins,
        sample_cap=sample_cap,
        calibration=method,  # type: ignore[arg-type]
        shared=shared,
        caller=caller,
    )
    states = build_states(
        checked,
        every_ns,
        profiles,
        n_calibration_bins=calib_bins,
        score_cap=score_cap,
        sample_cap=sample_cap,
    )
    return WindowStates(
        states=tuple(states),
        references=tuple(profiles[m] for m in sorted(profiles)),
        every=every_ns,
        tz=checked.tz,
        sensitive=columns.sensitive,
        has_scores=options.score_col is not None,
        has_labels=options.label_col is not None,
    )


def _is_table(x: object) -> bool:
    return hasattr(x, "columns") and (hasattr(x, "iloc") or hasattr(x, "to_pandas"))


def _subset(logs: Logs, mask: npt.NDArray[np.bool_]) -> Logs:
    """The logs' rows where ``mask`` holds (for the reference)."""
    return take_rows(logs, np.flatnonzero(mask))

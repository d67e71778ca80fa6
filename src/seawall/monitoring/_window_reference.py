"""Each model's reference: which rows it is, and its profile (bins, ranges, calibration).

The reference is chosen per model from the logs (its first window, its first
``k`` windows, or a time range) or given as separate reference logs. Its
profile is a :class:`~seawall.monitoring._drift_sketch.WindowSummary` of its
features (made by :func:`~seawall.monitoring._drift_summarize.summarize_table`,
so numeric bins are the reference's quantiles) and, optionally, an isotonic map
from score to calibrated probability learned on its labelled rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall._validation import check_real, param_error
from seawall.exceptions import DataValidationError, InsufficientDataError
from seawall.monitoring._cbpe import fit_calibration
from seawall.monitoring._drift_inputs import to_table
from seawall.monitoring._drift_sketch import WindowSummary
from seawall.monitoring._drift_summarize import summarize_table
from seawall.monitoring._window_inputs import Logs
from seawall.monitoring._window_state import ReferenceProfile

__all__ = ["ReferenceRule", "build_profiles", "reference_mask", "reference_rule"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_EXPECTED = (
    "'first', a positive int (each model's first k windows), a (start, end) pair of "
    "times, or reference logs as a DataFrame or pyarrow Table"
)


def _bound_ns(value: object, tz: str | None, caller: str) -> int:
    """A time bound as int64 nanoseconds on the logs' clock."""
    if not isinstance(value, str | dt.datetime | dt.date | pd.Timestamp | np.datetime64):
        raise param_error("reference", caller, _EXPECTED, value)
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as e:
        raise param_error("reference", caller, _EXPECTED, value) from e
    if (ts.tzinfo is None) != (tz is None):
        raise DataValidationError(
            f"the reference bounds passed to {caller} and the logs' times must both carry a "
            f"time zone or both not; got the bound {value!r} and logs in time zone {tz!r}."
        )
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return int(ts.value)


@dataclass(frozen=True, slots=True)
class ReferenceRule:
    """Which rows of the logs are their model's reference, with the parameter checked.

    Attributes
    ----------
    windows : int
        Each model's first ``windows`` windows (from its first); 0 for a time
        range.
    start, end : int
        The time range ``[start, end)`` in nanoseconds on the logs' clock (UTC
        for time-zone-aware logs); unused with ``windows``.
    """

    windows: int
    start: int = 0
    end: int = 0

    def mask(
        self,
        logs: Logs,
        window_ns: npt.NDArray[np.int64],
        every_ns: int,
        first: npt.NDArray[np.int64] | None = None,
    ) -> BoolArray:
        """The reference rows of ``logs``.

        Parameters
        ----------
        logs : Logs
            The checked logs.
        window_ns : ndarray of int64, shape (n_rows,)
            Each row's window start.
        every_ns : int
            The window length.
        first : ndarray of int64, shape (len(logs.models),) or None, default=None
            Each model's first window start in the whole data, when ``logs``
            are a part of it; ``None`` takes it from ``logs``.

        Returns
        -------
        ndarray of bool, shape (n_rows,)
            The reference rows.

        Examples
        --------
        >>> from seawall.monitoring._window_columns import Columns
        >>> from seawall.monitoring._window_inputs import read_logs
        >>> cols = Columns("time", "model", "prediction", None, None, (), frozenset(), (), 1)
        >>> logs = read_logs(pd.DataFrame({"time": ["2024-01-01 01:10"], "model": "m",
        ...                  "prediction": [1]}), cols, "logs", "f")
        >>> hour = 3_600_000_000_000
        >>> window = logs.time_ns // hour * hour
        >>> rule = ReferenceRule(1)
        >>> rule.mask(logs, window, hour).tolist()
        [True]
        >>> rule.mask(logs, window, hour, first=window - hour).tolist()
        [False]
        """
        if self.windows:
            if first is None:
                first = np.full(len(logs.models), np.iinfo(np.int64).max)
                np.minimum.at(first, logs.model, window_ns)
            return window_ns < first[logs.model] + self.windows * every_ns
        return (logs.time_ns >= self.start) & (logs.time_ns < self.end)


def reference_rule(reference: object, tz: str | None, caller: str) -> ReferenceRule:
    """Check ``reference`` (``"first"``, ``k`` or ``(start, end)``) into a :class:`ReferenceRule`.

    Parameters
    ----------
    reference : "first", int or (start, end)
        As :func:`reference_mask` takes it.
    tz : str or None
        The time zone of the logs' times (the bounds must carry one exactly
        when the logs do).
    caller : str
        Used in messages.

    Returns
    -------
    ReferenceRule
        The rule.

    Raises
    ------
    InvalidParameterError
        On another kind of ``reference``, ``k < 1`` or ``end <= start``.
    DataValidationError
        When the bounds and the logs disagree on carrying a time zone.

    Examples
    --------
    >>> reference_rule("first", None, "f"), reference_rule(3, None, "f").windows
    (ReferenceRule(windows=1, start=0, end=0), 3)
    >>> reference_rule(("2024-01-01", "2024-01-02"), None, "f").end
    1704153600000000000
    """
    if isinstance(reference, str):
        if reference != "first":
            raise param_error("reference", caller, _EXPECTED, reference)
        reference = 1
    if isinstance(reference, int | np.integer) and not isinstance(reference, bool):
        return ReferenceRule(int(check_real(reference, "reference", caller, low=1, integer=True)))
    if isinstance(reference, tuple) and len(reference) == 2:
        lo, hi = (_bound_ns(b, tz, caller) for b in reference)
        if hi <= lo:
            raise param_error(
                "reference", caller, "a (start, end) pair with start < end", reference
            )
        return ReferenceRule(0, lo, hi)
    raise param_error("reference", caller, _EXPECTED, reference)


def reference_mask(
    logs: Logs, window_ns: npt.NDArray[np.int64], reference: object, every_ns: int, caller: str
) -> BoolArray:
    """Which rows of the logs are their model's reference.

    Parameters
    ----------
    logs : Logs
        The checked logs.
    window_ns : ndarray of int64, shape (n_rows,)
        Each row's window start.
    reference : "first", int or (start, end)
        ``"first"``: each model's first window; ``k``: each model's first ``k``
        windows (by time, from its first); ``(start, end)``: rows with
        ``start <= time < end``.
    every_ns : int
        The window length.
    caller : str
        Used in messages.

    Returns
    -------
    ndarray of bool, shape (n_rows,)
        The reference rows.

    Raises
    ------
    InvalidParameterError
        On another kind of ``reference``.

    Examples
    --------
    >>> from seawall.monitoring._window_columns import Columns
    >>> from seawall.monitoring._window_inputs import read_logs
    >>> cols = Columns("time", "model", "prediction", None, None, (), frozenset(), (), 1)
    >>> logs = read_logs(pd.DataFrame({"time": ["2024-01-01 00:10", "2024-01-01 01:10"],
    ...                  "model": "m", "prediction": [1, 0]}), cols, "logs", "f")
    >>> hour = 3_600_000_000_000
    >>> reference_mask(logs, logs.time_ns // hour * hour, "first", hour, "f").tolist()
    [True, False]
    """
    return reference_rule(reference, logs.tz, caller).mask(logs, window_ns, every_ns)


def build_profiles(
    ref: Logs,
    models: tuple[str, ...],
    categorical: frozenset[str],
    *,
    n_bins: int,
    sample_cap: int | None,
    calibration: Literal["none", "isotonic"],
    shared: bool,
    caller: str,
) -> dict[str, ReferenceProfile]:
    """Summarise each model's reference rows.

    Parameters
    ----------
    ref : Logs
        The reference rows (of the logs, or separate reference logs).
    models : tuple of str
        Every model that needs a profile.
    categorical : frozenset of str
        Features declared categorical.
    n_bins : int
        Quantile bins per numeric feature.
    sample_cap : int or None
        The most sorted values a numeric sketch keeps (exact KS while kept).
    calibration : {"none", "isotonic"}
        Whether to learn a calibration map per model.
    shared : bool
        Whether ``ref``'s rows serve every model (reference logs without a model
        column).
    caller : str
        Used in messages.

    Returns
    -------
    dict of str to ReferenceProfile
        One per model.

    Raises
    ------
    InsufficientDataError
        When a model has no reference rows, or too few labels to calibrate.

    Examples
    --------
    >>> from seawall.monitoring._window_columns import Columns
    >>> from seawall.monitoring._window_inputs import read_logs
    >>> cols = Columns("time", "model", "prediction", None, None, ("x",), frozenset(), (), 1)
    >>> ref = read_logs(pd.DataFrame({"time": ["2024-01-01"] * 3, "model": "m",
    ...                 "prediction": [1, 0, 1], "x": [1.0, 2.0, 3.0]}), cols, "logs", "f")
    >>> p = build_profiles(ref, ("m",), frozenset(), n_bins=2, sample_cap=None,
    ...                    calibration="none", shared=False, caller="f")
    >>> p["m"].summary["x"].counts.tolist(), p["m"].n_rows
    ([1, 2], 3)
    """
    rows_of: dict[str, npt.NDArray[np.intp]] = {}
    if shared:
        everything = np.arange(ref.n_rows)
        rows_of = dict.fromkeys(models, everything)
    else:
        code = {m: i for i, m in enumerate(ref.models)}
        order = np.argsort(ref.model, kind="stable")
        bounds = np.searchsorted(ref.model[order], np.arange(len(ref.models) + 1))
        for m in models:
            i = code.get(m)
            rows_of[m] = order[bounds[i] : bounds[i + 1]] if i is not None else order[:0]
    empty = [m for m in models if rows_of[m].size == 0]
    if empty:
        shown = ", ".join(repr(m) for m in empty[:5]) + (" ..." if len(empty) > 5 else "")
        raise InsufficientDataError(
            f"reference passed to {caller} has no rows for {len(empty)} model(s): {shown}; "
            f"every model needs reference rows to judge drift and data quality. Widen the "
            f"reference time range, or pass reference='first' to use each model's first window."
        )
    cache: dict[int, ReferenceProfile] = {}
    out = {}
    for m in models:
        rows = rows_of[m]
        key = id(rows)
        if key not in cache:
            cache[key] = _profile(
                ref, rows, m, categorical, n_bins, sample_cap, calibration, caller
            )
        p = cache[key]
        out[m] = ReferenceProfile(m, p.summary, p.calibration, p.n_rows)
    return out


def _profile(
    ref: Logs,
    rows: npt.NDArray[np.intp],
    model: str,
    categorical: frozenset[str],
    n_bins: int,
    sample_cap: int | None,
    calibration: str,
    caller: str,
) -> ReferenceProfile:
    """One model's profile from its reference rows."""
    frame: Any = ref.features.iloc[rows]
    if frame.shape[1]:
        table = to_table(frame.reset_index(drop=True), "reference", caller)
        summary = summarize_table(table, None, categorical, n_bins, sample_cap, caller)
    else:
        summary = WindowSummary((), (), int(rows.size))
    calib = None
    if calibration == "isotonic":
        if ref.score is None or ref.label is None:
            raise DataValidationError(
                f"calibration='isotonic' passed to {caller} needs score and label columns in "
                f"the reference; pass score_col= and label_col=, or calibration='none'."
            )
        calib = fit_calibration(ref.score[rows], ref.label[rows], model, caller)
    return ReferenceProfile(model, summary, calib, int(rows.size))

"""The edge of windowed metrics: prediction logs in, checked and time-sorted columns out.

Every check of the logs happens here, once; the builders downstream assume what
:func:`read_logs` guarantees (parsed times, binary predictions, scores in [0, 1],
labels 0/1 or NaN, known feature kinds). Rows keep their order: nothing
downstream depends on it.
"""

from __future__ import annotations

import datetime as dt
import numbers
import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall._validation import module_of, param_error, to_1d, to_float
from seawall.exceptions import DataValidationError, InsufficientDataError
from seawall.monitoring._drift_inputs import column_kind
from seawall.monitoring._window_columns import Columns

__all__ = [
    "Logs",
    "check_columns",
    "checked_models",
    "parse_every",
    "read_logs",
    "to_frame",
    "to_ns",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_UNIT_ONLY = re.compile(r"^\s*([a-zA-Z]+)\s*$")
_LOWER_DAYS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*d\s*$")


@dataclass(frozen=True, slots=True)
class Logs:
    """Checked prediction logs, rows in their input order.

    Attributes
    ----------
    time_ns : ndarray of int64, shape (n_rows,)
        Nanoseconds since the Unix epoch (UTC for time-zone-aware input); all
        zero when the logs have no time column (a reference frame).
    model : ndarray of intp, shape (n_rows,)
        Each row's index into ``models``.
    models : tuple of str
        The model identifiers, as text.
    prediction : ndarray of int8, shape (n_rows,)
        1 where the decision is ``positive_label``.
    score : ndarray of float64 or None
        Probabilities in [0, 1], NaN where missing.
    label : ndarray of float64 or None
        1.0, 0.0, or NaN where the label has not arrived.
    features : pandas.DataFrame
        The feature columns (score included), index 0..n_rows-1.
    sensitive : tuple of (ndarray of intp, tuple)
        Per sensitive attribute: each row's group code (-1 when missing) and
        the group labels.
    tz : str or None
        The time zone of the input times, for the windows shown.
    """

    time_ns: IntArray
    model: npt.NDArray[np.intp]
    models: tuple[str, ...]
    prediction: npt.NDArray[np.int8]
    score: FloatArray | None
    label: FloatArray | None
    features: pd.DataFrame
    sensitive: tuple[tuple[npt.NDArray[np.intp], tuple[Any, ...]], ...]
    tz: str | None

    @property
    def n_rows(self) -> int:
        """The number of rows."""
        return int(self.prediction.size)


def parse_every(every: object, caller: str) -> int:
    """The window length in nanoseconds from ``"1h"``, ``"1d"``, a Timedelta or an offset.

    Parameters
    ----------
    every : str, datetime.timedelta, pandas.Timedelta or pandas fixed offset
        The window length; it must be fixed (hours, days, minutes...), not a
        calendar unit such as a month.
    caller : str
        Used in the message.

    Returns
    -------
    int
        The length in nanoseconds, positive.

    Raises
    ------
    InvalidParameterError
        On anything else.

    Examples
    --------
    >>> parse_every("1h", "f"), parse_every("1d", "f") // 3_600_000_000_000
    (3600000000000, 24)
    """
    expected = "a positive fixed length such as '1h', '15min', '1d' or pandas.Timedelta(hours=6)"
    try:
        if isinstance(every, str):
            text = every.strip()
            unit = _UNIT_ONLY.match(text)
            days = _LOWER_DAYS.match(text)
            # "h" means one hour; a lowercase "d" is deprecated in pandas, so say "D".
            text = f"1{unit.group(1)}" if unit else text
            text = f"{days.group(1)}D" if days else text
            with warnings.catch_warnings():
                # Deprecated aliases ("MS" is milliseconds to pandas, a month to people).
                warnings.simplefilter("error")
                ns = int(pd.Timedelta(text).value)
        elif isinstance(every, pd.DateOffset):
            ns = int(every.nanos)  # calendar offsets (months, weeks anchored...) raise
        elif isinstance(every, dt.timedelta | np.timedelta64):
            ns = int(pd.Timedelta(every).value)
        else:
            raise param_error("every", caller, expected, every)
    except (ValueError, TypeError, AttributeError, Warning) as e:
        raise param_error("every", caller, expected, every) from e
    if ns <= 0:
        raise param_error("every", caller, expected, every)
    return ns


def to_frame(logs: object, name: str, caller: str) -> pd.DataFrame:
    """A pandas DataFrame from a DataFrame, a pyarrow Table or a polars DataFrame.

    Parameters
    ----------
    logs : pandas.DataFrame, pyarrow.Table or polars.DataFrame
        The logs.
    name, caller : str
        Used in the message.

    Returns
    -------
    pandas.DataFrame
        The logs (pandas input is returned as is, never modified).

    Raises
    ------
    InvalidParameterError
        On any other type.
    DataValidationError
        On duplicate column names.

    Examples
    --------
    >>> import pyarrow as pa
    >>> to_frame(pa.table({"a": [1]}), "logs", "f").columns.tolist()
    ['a']
    """
    frame: Any = logs
    if module_of(frame) in ("pyarrow", "polars") and hasattr(frame, "to_pandas"):
        frame = frame.to_pandas()
    if not isinstance(frame, pd.DataFrame):
        raise param_error(name, caller, "a pandas DataFrame or a pyarrow Table", type(logs))
    names = [str(c) for c in frame.columns]
    if len(set(names)) < len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise DataValidationError(
            f"{name} passed to {caller} has duplicate column names {dup}; each column needs "
            f"a unique name."
        )
    return frame


def check_columns(
    frame: pd.DataFrame, wanted: dict[str, str | None], name: str, caller: str
) -> None:
    """Check that every named column is present.

    Parameters
    ----------
    frame : pandas.DataFrame
        The logs.
    wanted : dict of str to str or None
        Parameter name to the column it names (``None``: not used).
    name, caller : str
        Used in the message.

    Raises
    ------
    DataValidationError
        Naming each missing column, the parameter that named it and the columns
        there are.

    Examples
    --------
    >>> check_columns(pd.DataFrame({"time": []}), {"time_col": "time"}, "logs", "f")
    """
    have = {str(c) for c in frame.columns}
    missing = [(param, col) for param, col in wanted.items() if col is not None and col not in have]
    if missing:
        named = ", ".join(f"{param}={col!r}" for param, col in missing)
        optional = [p for p, _ in missing if p in ("score_col", "label_col")]
        hint = f"; pass {optional[0]}=None when the logs have none" if optional else ""
        raise DataValidationError(
            f"{name} passed to {caller} has no column for {named}; its columns are "
            f"{sorted(have)}. Name the right columns{hint}."
        )


def to_ns(times: Any, name: str, caller: str) -> tuple[IntArray, str | None]:
    """Parse a column of times to int64 nanoseconds (UTC when time-zone aware).

    Parameters
    ----------
    times : pandas.Series
        Datetimes or ISO strings; numbers are refused (their unit is unknown).
    name, caller : str
        Used in the message.

    Returns
    -------
    ns : ndarray of int64
        The times.
    tz : str or None
        Their time zone.

    Raises
    ------
    DataValidationError
        On numbers, missing or unparsable times, naming the first bad row.

    Examples
    --------
    >>> to_ns(pd.Series(["2024-01-01T01:00"]), "time", "f")[0].tolist()
    [1704070800000000000]
    """
    series = pd.Series(times).reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        raise DataValidationError(
            f"{name} passed to {caller} holds numbers ({series.dtype}); it must hold datetimes "
            f"or ISO strings. Convert it first, e.g. pd.to_datetime(logs[{name!r}], unit='s')."
        )
    try:
        parsed = pd.to_datetime(series)
    except (ValueError, TypeError, OverflowError) as e:
        coerced = pd.to_datetime(series, errors="coerce", format="mixed")
        bad = np.flatnonzero(coerced.isna().to_numpy() & series.notna().to_numpy())
        where = f"the first at row {bad[0]}: {series.iloc[bad[0]]!r}" if bad.size else str(e)
        raise DataValidationError(
            f"{name} passed to {caller} has times that cannot be parsed ({where}); use "
            f"datetimes or ISO 8601 strings with one time-zone convention."
        ) from e
    if not isinstance(parsed.dtype, pd.DatetimeTZDtype) and parsed.dtype.kind != "M":
        raise DataValidationError(
            f"{name} passed to {caller} mixes time zones or types (parsed as {parsed.dtype}); "
            f"convert it with pd.to_datetime(..., utc=True) first."
        )
    missing = np.flatnonzero(parsed.isna().to_numpy())
    if missing.size:
        raise DataValidationError(
            f"{name} passed to {caller} has {missing.size} missing time(s), the first at row "
            f"{missing[0]}; every logged prediction needs a time. Drop those rows first."
        )
    tz = None
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        tz = str(parsed.dtype.tz)
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.to_numpy(dtype="datetime64[ns]").view(np.int64), tz


def _binary(col: Any, positive: Any, name: str, caller: str, *, allow_missing: bool) -> FloatArray:
    """1.0 where ``col == positive``, 0.0 for the one other value, NaN where missing."""
    arr = to_1d(col, name)
    missing = np.asarray(pd.isna(arr), dtype=bool)
    if missing.any() and not allow_missing:
        first = int(np.flatnonzero(missing)[0])
        raise DataValidationError(
            f"{name} passed to {caller} has {int(missing.sum())} missing value(s), the first at "
            f"row {first}; every logged prediction needs a decision."
        )
    present = arr[~missing]
    numeric = present.dtype.kind in "biuf" and isinstance(positive, numbers.Real)
    values = np.unique(present) if numeric else pd.unique(pd.Series(present, dtype=object))
    shown = sorted(repr(v.item() if isinstance(v, np.generic) else v) for v in values[:6])
    if len(values) > 2 or (len(values) == 2 and not any(v == positive for v in values)):
        raise DataValidationError(
            f"{name} passed to {caller} must be binary with positive_label={positive!r} as "
            f"one of its values; got the values {{{', '.join(shown)}}}. Pass the right "
            f"positive_label= or map the classes to 0/1 first."
        )
    out = np.full(arr.size, np.nan)
    if numeric:
        out[~missing] = present == positive
    else:
        out[~missing] = (pd.Series(present, dtype=object) == positive).to_numpy(dtype=np.float64)
    return out


def checked_models(
    values: pd.Series[Any], name: str, caller: str
) -> tuple[npt.NDArray[np.intp], npt.NDArray[Any]]:
    """Factorise a model column, refusing a missing model (it would join another's rows).

    Parameters
    ----------
    values : pandas.Series
        The model column.
    name : str
        How messages name it, e.g. ``"logs['model']"``.
    caller : str
        The public function, for messages.

    Returns
    -------
    codes : ndarray of intp
        Each row's model, in order of first appearance.
    models : ndarray
        The distinct models.

    Raises
    ------
    DataValidationError
        When a row has no model.

    Examples
    --------
    >>> checked_models(pd.Series(["a", None]), "logs['model']", "f")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    seawall.exceptions.DataValidationError: logs['model'] passed to f has 1 missing model(s), ...
    """
    codes, models = pd.factorize(values)
    if (codes < 0).any():
        raise DataValidationError(
            f"{name} passed to {caller} has {int((codes < 0).sum())} missing model(s), the "
            f"first at row {int(np.flatnonzero(codes < 0)[0])}; every row needs its model. "
            f"Drop or fill those rows."
        )
    return codes.astype(np.intp, copy=False), np.asarray(models)


def read_logs(
    logs: object, columns: Columns, name: str, caller: str, *, require_time: bool = True
) -> Logs:
    """Check prediction logs and return their columns as arrays (in the input's order).

    Parameters
    ----------
    logs : pandas.DataFrame or pyarrow.Table
        The logs (never modified).
    columns : Columns
        Which column holds what.
    name, caller : str
        Used in messages.
    require_time : bool, default=True
        Whether a time column is needed (a reference frame may lack one; its
        rows then all get time 0).

    Returns
    -------
    Logs
        The checked columns.

    Raises
    ------
    DataValidationError
        On missing columns, unparsable times, missing or non-binary
        predictions, non-binary labels, scores outside [0, 1], or a feature
        that is neither numeric nor categorical.
    InsufficientDataError
        When the logs have no rows.

    Examples
    --------
    >>> cols = Columns("time", "model", "prediction", None, None, (), frozenset(), (), 1)
    >>> frame = pd.DataFrame({"time": ["2024-01-01 02:00", "2024-01-01 01:00"],
    ...                       "model": ["m", "m"], "prediction": [1, 0]})
    >>> read_logs(frame, cols, "logs", "f").prediction.tolist()
    [1, 0]
    """
    frame = to_frame(logs, name, caller)
    has_time = columns.time in {str(c) for c in frame.columns}
    wanted: dict[str, str | None] = {
        "time_col": columns.time if require_time or has_time else None,
        "model_col": columns.model,
        "prediction_col": columns.prediction,
        "score_col": columns.score,
        "label_col": columns.label,
    }
    wanted.update({f"feature_cols[{f!r}]": f for f in columns.features})
    wanted.update({f"sensitive_cols[{s!r}]": s for s in columns.sensitive})
    check_columns(frame, wanted, name, caller)
    if len(frame) == 0:
        raise InsufficientDataError(
            f"{name} passed to {caller} has no rows; there is nothing to measure."
        )
    frame = frame.reset_index(drop=True)
    tz: str | None = None
    if has_time:
        time_ns, tz = to_ns(frame[columns.time], f"{name}[{columns.time!r}]", caller)
    else:
        time_ns = np.zeros(len(frame), dtype=np.int64)
    raw_codes, raw_models = checked_models(
        frame[columns.model], f"{name}[{columns.model!r}]", caller
    )
    # Models are named by their text (sorted); values with the same text are one model.
    model_codes, model_names = pd.factorize(np.array([str(m) for m in raw_models]), sort=True)
    model_codes = model_codes[raw_codes]
    pred = _binary(
        frame[columns.prediction], columns.positive_label, "prediction", caller, allow_missing=False
    )
    label = None
    if columns.label is not None:
        label = _binary(
            frame[columns.label], columns.positive_label, "label", caller, allow_missing=True
        )
    score = None
    if columns.score is not None:
        score = to_float(frame[columns.score], f"{name}[{columns.score!r}]", allow_nan=True)
        bad = np.flatnonzero((score < 0.0) | (score > 1.0))
        if bad.size:
            raise DataValidationError(
                f"{name}[{columns.score!r}] passed to {caller} must be the probability of the "
                f"positive class, in [0, 1]; {bad.size} value(s) are outside, the first "
                f"{float(score[bad[0]])!r}. Pass calibrated probabilities, not raw margins."
            )
    for feature in columns.features:
        kind = column_kind(frame[feature])
        if kind == "unsupported" and feature not in columns.categorical:
            raise DataValidationError(
                f"feature {feature!r} of {name} passed to {caller} has dtype "
                f"{frame[feature].dtype}, neither numeric nor categorical; drop it from "
                f"feature_cols or convert it."
            )
    sensitive = []
    for attr in columns.sensitive:
        codes, uniques = pd.factorize(frame[attr].astype(object), use_na_sentinel=True)
        labels = tuple(v.item() if isinstance(v, np.generic) else v for v in uniques)
        sensitive.append((codes.astype(np.intp), labels))
    return Logs(
        time_ns=time_ns,
        model=model_codes.astype(np.intp),
        models=tuple(str(m) for m in model_names),
        prediction=pred.astype(np.int8),
        score=score,
        label=label,
        features=frame.loc[:, list(columns.features)],
        sensitive=tuple(sensitive),
        tz=tz,
    )

"""Which column of the prediction logs plays which role, checked once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from seawall._validation import param_error
from seawall.exceptions import InvalidParameterError

__all__ = ["Columns", "resolve_columns"]


@dataclass(frozen=True, slots=True)
class Columns:
    """Which column of the logs holds what (names checked against the logs).

    Attributes
    ----------
    time, model, prediction : str
        The timestamp, model identifier and binary decision columns.
    score, label : str or None
        The positive-class probability and the (possibly late) true label.
    features : tuple of str
        The logged features, in order; the score is appended as a last feature
        (for its drift and quality) unless already named.
    categorical : frozenset of str
        The features judged as categories.
    sensitive : tuple of str
        The sensitive attributes.
    positive_label : object
        The value of ``prediction`` and ``label`` that means "positive".
    """

    time: str
    model: str
    prediction: str
    score: str | None
    label: str | None
    features: tuple[str, ...]
    categorical: frozenset[str]
    sensitive: tuple[str, ...]
    positive_label: Any


def resolve_columns(
    frame_columns: Sequence[str],
    *,
    time_col: str,
    model_col: str,
    prediction_col: str,
    score_col: str | None,
    label_col: str | None,
    feature_cols: Sequence[str] | None,
    categorical: Sequence[str] | None,
    sensitive_cols: str | Sequence[str] | None,
    id_col: str | None,
    positive_label: Any,
    caller: str,
) -> Columns:
    """Check the column parameters and settle the feature list.

    Parameters
    ----------
    frame_columns : sequence of str
        The logs' column names.
    time_col, model_col, prediction_col, score_col, label_col : str or None
        As in :func:`~seawall.monitoring._window_metrics.window_metrics`.
    feature_cols : sequence of str or None
        The features; ``None`` takes every column not named by another
        parameter (nor ``id_col``).
    categorical : sequence of str or None
        Features to judge as categories whatever their dtype.
    sensitive_cols : str, sequence of str or None
        The sensitive attributes.
    id_col : str or None
        A request-id column, never a feature.
    positive_label : object
        The positive class.
    caller : str
        Used in messages.

    Returns
    -------
    Columns
        The resolved names; the score is the last feature.

    Raises
    ------
    InvalidParameterError
        On a name that is not a string, or a column named twice.

    Examples
    --------
    >>> c = resolve_columns(["time", "model", "prediction", "score", "age"], time_col="time",
    ...     model_col="model", prediction_col="prediction", score_col="score", label_col=None,
    ...     feature_cols=None, categorical=None, sensitive_cols=None, id_col="request_id",
    ...     positive_label=1, caller="f")
    >>> c.features
    ('age', 'score')
    """
    for param, value in (
        ("time_col", time_col),
        ("model_col", model_col),
        ("prediction_col", prediction_col),
    ):
        if not isinstance(value, str):
            raise param_error(param, caller, "a column name (str)", value)
    for param, opt in (("score_col", score_col), ("label_col", label_col), ("id_col", id_col)):
        if opt is not None and not isinstance(opt, str):
            raise param_error(param, caller, "a column name (str) or None", opt)
    sensitive = _names(sensitive_cols, "sensitive_cols", caller)
    roles = [time_col, model_col, prediction_col, score_col, label_col, *sensitive]
    used = [r for r in roles if r is not None]
    dup = sorted({r for r in used if used.count(r) > 1})
    if dup:
        raise InvalidParameterError(
            f"{caller}: the column(s) {dup} are named for two roles (time, model, prediction, "
            f"score, label, sensitive); each column can play one."
        )
    if feature_cols is None:
        skip = {*used, id_col}
        features = [str(c) for c in frame_columns if str(c) not in skip]
    else:
        features = list(_names(feature_cols, "feature_cols", caller))
        clash = [f for f in features if f in used and f != score_col]
        if clash:
            raise InvalidParameterError(
                f"{caller}: feature_cols names {clash}, which already play another role "
                f"(time, model, prediction, label or sensitive); drop them from feature_cols."
            )
    if score_col is not None and score_col not in features:
        features.append(score_col)
    declared = frozenset(_names(categorical, "categorical", caller))
    unknown = sorted(declared - set(features))
    if unknown:
        raise InvalidParameterError(
            f"{caller}: categorical names {unknown}, which are not features (features: "
            f"{features}); fix the names or drop them."
        )
    return Columns(
        time_col,
        model_col,
        prediction_col,
        score_col,
        label_col,
        tuple(features),
        declared,
        sensitive,
        positive_label,
    )


def _names(value: object, param: str, caller: str) -> tuple[str, ...]:
    """A tuple of column names from None, one name or a sequence of names."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Sequence | pd.Index) or not all(isinstance(v, str) for v in value):
        raise param_error(param, caller, "None, a column name or a list of column names", value)
    return tuple(value)

"""The protected groups of the mitigation estimators, learned in ``fit`` and reused later.

Every estimator takes the protected attribute(s) as ``sensitive_features=`` at
``fit``, ``transform`` and ``predict`` (routed by scikit-learn's metadata routing
inside a ``Pipeline``), or reads them from columns of ``X`` named by its
``sensitive_column`` parameter, which works in any pipeline without routing.
Several attributes are intersected. The groups seen in ``fit`` are fixed: a
group that appears later is an error, never silently merged into another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall._groups import combine_groups, to_group_columns
from seawall._validation import module_of, param_error
from seawall.exceptions import DataValidationError, InvalidParameterError

__all__ = ["GroupEncoder", "SensitiveColumn", "split_sensitive", "split_sensitive_sparse"]

IntArray = npt.NDArray[np.intp]

#: Which columns of ``X`` hold the protected attribute(s): a name, a position, or several.
SensitiveColumn = str | int | Sequence[str | int] | None


def _as_list(column: SensitiveColumn) -> list[str | int]:
    if column is None:
        return []
    if isinstance(column, str | int | np.integer):
        return [column.item() if isinstance(column, np.integer) else column]
    return list(column)


def split_sensitive(
    X: Any, sensitive_features: object, sensitive_column: SensitiveColumn, caller: str
) -> tuple[Any, object]:
    """The features without the sensitive columns, and the sensitive features.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        The features.
    sensitive_features : array-like, table or None
        The protected attribute(s) given directly.
    sensitive_column : str, int, sequence of them, or None
        The columns of ``X`` that hold them instead (names for a DataFrame,
        positions otherwise). They are removed from the returned features.
    caller : str
        The estimator's method, for messages.

    Returns
    -------
    X : DataFrame or ndarray
        ``X`` without the sensitive columns (``X`` itself when they were given
        directly).
    sensitive_features : object
        The protected attribute(s).

    Raises
    ------
    InvalidParameterError
        When both or neither are given, or a column is not in ``X``.

    Examples
    --------
    >>> X = pd.DataFrame({"sex": ["F", "M"], "age": [30, 40]})
    >>> rest, s = split_sensitive(X, None, "sex", "fit")
    >>> list(rest.columns), s.tolist()
    (['age'], ['F', 'M'])
    """
    columns = _as_list(sensitive_column)
    if sensitive_features is not None and columns:
        raise InvalidParameterError(
            f"{caller}: got both sensitive_features= and sensitive_column={sensitive_column!r}; "
            "pass the protected attribute one way only."
        )
    if sensitive_features is not None:
        return X, sensitive_features
    if not columns:
        raise InvalidParameterError(
            f"{caller}: no protected attribute; pass sensitive_features= (one value per row) "
            "or set sensitive_column to the column(s) of X that hold it."
        )
    if isinstance(X, pd.DataFrame):
        missing = [c for c in columns if c not in X.columns]
        if missing:
            raise InvalidParameterError(
                f"{caller}: sensitive_column {missing[0]!r} is not a column of X "
                f"(columns: {list(X.columns)[:10]}); name one of them."
            )
        sensitive = X[columns[0]] if len(columns) == 1 else X[columns]
        return X.drop(columns=columns), sensitive
    if module_of(X) == "polars":
        raise InvalidParameterError(
            f"{caller}: sensitive_column needs a pandas DataFrame or a 2-D array; convert "
            "the polars frame with .to_pandas(), or pass sensitive_features=."
        )
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise DataValidationError(
            f"{caller}: X must be 2-D (n_samples, n_features) to read sensitive_column from it; "
            f"got shape {arr.shape}."
        )
    positions = []
    for c in columns:
        if isinstance(c, str) or not -arr.shape[1] <= c < arr.shape[1]:
            raise InvalidParameterError(
                f"{caller}: sensitive_column {c!r} must be a column position in "
                f"[0, {arr.shape[1]}) for an array X (names need a DataFrame)."
            )
        positions.append(c % arr.shape[1])
    keep = np.setdiff1d(np.arange(arr.shape[1]), positions)
    from_array = arr[:, positions[0]] if len(positions) == 1 else arr[:, positions]
    return arr[:, keep], from_array


def split_sensitive_sparse(
    X: Any, sensitive_column: SensitiveColumn, caller: str
) -> tuple[Any, Any]:
    """Split the sensitive column(s), named by position, off a sparse matrix.

    The sparse counterpart of :func:`split_sensitive` for ``sensitive_column``
    (``sensitive_features`` not given): column slicing of a sparse matrix.

    Parameters
    ----------
    X : scipy sparse matrix or array of shape (n_samples, n_features)
        The features.
    sensitive_column : int or sequence of int
        The positions of the columns that hold the protected attribute(s); they
        are removed from the returned features.
    caller : str
        The estimator's method, for messages.

    Returns
    -------
    X : scipy sparse matrix or array, CSR
        ``X`` without the sensitive columns.
    sensitive_features : ndarray of shape (n_samples,) or (n_samples, k)
        The protected attribute(s), dense.

    Raises
    ------
    InvalidParameterError
        When a column is not a position, or not one of ``X``'s.

    Examples
    --------
    >>> from scipy import sparse
    >>> X = sparse.csr_array(np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0]]))
    >>> rest, s = split_sensitive_sparse(X, 1, "fit")
    >>> rest.toarray().tolist(), s.tolist()
    ([[1.0, 2.0], [0.0, 0.0]], [0.0, 1.0])
    """
    column = sensitive_column
    positions = _as_list(column)
    if any(not isinstance(c, int | np.integer) for c in positions):
        raise param_error("sensitive_column", caller, "column position(s) for a sparse X", column)
    width = X.shape[1]
    picked = [int(c) % width for c in positions if -width <= int(c) < width]
    if len(picked) != len(positions):
        raise param_error("sensitive_column", caller, f"positions in [0, {width})", column)
    values = X.tocsc()[:, picked].toarray()
    keep = np.setdiff1d(np.arange(width), picked)
    return X.tocsr()[:, keep], values[:, 0] if values.shape[1] == 1 else values


@dataclass(frozen=True, slots=True)
class GroupEncoder:
    """The protected groups seen in ``fit``: feature names and each group's label.

    Attributes
    ----------
    names : tuple of str
        The sensitive features, in order.
    labels : tuple of str
        Each group's label; an intersection joins its values with ``" & "``.

    Examples
    --------
    >>> enc, codes = GroupEncoder.fit(["a", "b", "a"], 3, "fit")
    >>> enc.labels, codes.tolist()
    (('a', 'b'), [0, 1, 0])
    >>> enc.encode(["b", "b"], 2, "transform").tolist()
    [1, 1]
    """

    names: tuple[str, ...]
    labels: tuple[str, ...]

    @property
    def n_groups(self) -> int:
        """The number of groups."""
        return len(self.labels)

    @classmethod
    def fit(cls, sensitive_features: object, n: int, caller: str) -> tuple[GroupEncoder, IntArray]:
        """Learn the groups of ``sensitive_features`` (n rows); return them and each row's code."""
        columns = to_group_columns(sensitive_features, n)
        codes, labels = combine_groups(columns)
        return cls(tuple(c.name for c in columns), labels), codes

    def encode(self, sensitive_features: object, n: int, caller: str) -> IntArray:
        """Each row's group code among those seen in ``fit``.

        Raises
        ------
        DataValidationError
            When the features differ from those of ``fit`` or a group was not seen there.
        """
        columns = to_group_columns(sensitive_features, n)
        names = tuple(c.name for c in columns)
        if len(names) != len(self.names):
            raise DataValidationError(
                f"{caller}: got {len(names)} sensitive feature(s) {list(names)}, but fit saw "
                f"{len(self.names)} {list(self.names)}; pass the same protected attributes."
            )
        codes, labels = combine_groups(columns)
        index = {label: i for i, label in enumerate(self.labels)}
        unseen = [label for label in labels if label not in index]
        if unseen:
            raise DataValidationError(
                f"{caller}: group {unseen[0]!r} of the sensitive features was not seen in fit "
                f"(fit saw {list(self.labels)[:10]}); refit on data that includes it, or "
                "map it to a known group."
            )
        mapping = np.array([index[label] for label in labels], dtype=np.intp)
        return mapping[codes]

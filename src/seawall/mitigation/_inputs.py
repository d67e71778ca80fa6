"""The input checks that the mitigation estimators share: arrays, labels and ``X``.

:class:`~seawall.mitigation.Reweighing`, :class:`~seawall.mitigation.ReweighingClassifier`
and :class:`~seawall.mitigation.ThresholdPostprocessor` convert their inputs once,
at the boundary, through these helpers, so that the same input gets the same
message from each of them. Splitting the protected attribute off ``X`` is
``_sensitive.py``'s; :func:`split_features` adds the feature checks around it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse
from sklearn.utils.validation import validate_data

from seawall._validation import module_of, to_1d
from seawall.exceptions import DataValidationError
from seawall.mitigation._sensitive import split_sensitive, split_sensitive_sparse

__all__ = [
    "as_array_like",
    "binary_labels",
    "check_2d",
    "check_features",
    "check_features_left",
    "check_labels",
    "check_n_features",
    "n_rows",
    "split_features",
]

_TABLE_MODULES = frozenset({"pandas", "polars", "pyarrow"})

# --------------------------------------------------------------------------- #
# arrays
# --------------------------------------------------------------------------- #


def as_array_like(x: Any, *, pandas_only: bool = False) -> Any:
    """An object that only offers ``__array__`` as a numpy array; anything else as is.

    Lists, tuples, ndarrays, sparse matrices, ``None`` and objects without
    ``__array__`` pass through, and so do tables and columns, which the checks
    downstream read natively.

    Parameters
    ----------
    x : object
        The input.
    pandas_only : bool, default=False
        Which tables and columns pass through: ``False``, any object of pandas,
        polars or pyarrow; ``True``, only a pandas ``Series``, ``Index`` or
        ``DataFrame`` (a polars frame, an Arrow array or a ``pandas.Categorical``
        then becomes a numpy array too).

    Returns
    -------
    object
        ``np.asarray(x)``, or ``x`` itself.

    Examples
    --------
    >>> class Wrapped:
    ...     def __array__(self, dtype=None, copy=None):
    ...         return np.array([1, 0])
    >>> as_array_like(Wrapped())
    array([1, 0])
    >>> as_array_like(pd.Categorical(["a", "b"]), pandas_only=True)
    array(['a', 'b'], dtype=object)
    """
    known = isinstance(x, np.ndarray | list | tuple) or sparse.issparse(x)
    if pandas_only:
        table = isinstance(x, pd.Series | pd.Index | pd.DataFrame)
    else:
        table = module_of(x) in _TABLE_MODULES
    if x is None or known or table or not hasattr(x, "__array__"):
        return x
    return np.asarray(x)


def n_rows(X: Any) -> int:
    """The number of rows of a 2-D array-like, DataFrame or sparse matrix.

    Parameters
    ----------
    X : array-like, DataFrame or sparse matrix of shape (n_samples, n_features)
        The input.

    Returns
    -------
    int
        ``n_samples``.

    Examples
    --------
    >>> n_rows(sparse.csr_array((3, 2)))
    3
    """
    return int(np.shape(X)[0]) if not sparse.issparse(X) else int(X.shape[0])


# --------------------------------------------------------------------------- #
# labels
# --------------------------------------------------------------------------- #


def check_labels(y: object, caller: str, *, binary: bool = False) -> np.ndarray[Any, Any]:
    """Class labels as a 1-D array; refuses missing values and continuous targets.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The labels.
    caller : str
        The estimator's method, for messages.
    binary : bool, default=False
        ``True`` for the first step of :func:`binary_labels`: the messages ask
        for binary labels, only pandas columns pass through unconverted (see
        :func:`as_array_like`) and the dtype is not checked (any two orderable
        classes will do). ``False``: class labels of a boolean, numeric, text or
        object dtype.

    Returns
    -------
    ndarray of shape (n_samples,)
        The labels.

    Raises
    ------
    DataValidationError
        When ``y`` is ``None``, complex, has missing values or non-integer
        floats, or (``binary=False``) has another dtype.

    Examples
    --------
    >>> check_labels([1, 0, 2], "fit")
    array([1, 0, 2])
    """
    kind = "binary labels" if binary else "class labels"
    if y is None:
        raise DataValidationError(
            f"{caller} requires y to be passed, but the target y is None; pass the {kind}, "
            "one per row."
        )
    arr = to_1d(as_array_like(y, pandas_only=binary), "y")
    if arr.dtype.kind == "c":
        raise DataValidationError(
            f"{caller}: y holds complex numbers. Complex data not supported; pass {kind}."
        )
    missing = pd.isna(arr)
    if missing.any():
        raise DataValidationError(
            f"{caller}: y has {int(missing.sum())} missing value(s), the first at row "
            f"{int(np.flatnonzero(missing)[0])}; every row needs a "
            f"{'label' if binary else 'class label'}."
        )
    if arr.dtype.kind == "f" and not np.array_equal(arr, np.round(arr)):
        if binary:
            raise DataValidationError(
                f"{caller}: Unknown label type: y looks continuous; it must hold two classes."
            )
        raise DataValidationError(
            f"{caller}: Unknown label type: y looks continuous (non-integer floats such as "
            f"{float(arr[arr != np.round(arr)][0])!r}); reweighing needs class labels."
        )
    if not binary and arr.dtype.kind not in "biufUSO":
        raise DataValidationError(f"{caller}: y must hold class labels; got dtype {arr.dtype}.")
    return arr


def binary_labels(y: object, caller: str) -> tuple[np.ndarray[Any, Any], npt.NDArray[np.int8]]:
    """The two classes of ``y`` (sorted) and each row's label as 0/1 (1: the second class).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The labels, checked by :func:`check_labels` with ``binary=True``.
    caller : str
        The estimator's method, for messages.

    Returns
    -------
    classes : ndarray of shape (2,)
        The two classes, sorted.
    y01 : ndarray of int8, shape (n_samples,)
        1 where a row holds ``classes[1]``, else 0.

    Raises
    ------
    DataValidationError
        As :func:`check_labels`, and when ``y`` does not hold exactly two
        classes, or classes that cannot be ordered.

    Examples
    --------
    >>> classes, y01 = binary_labels(["no", "yes", "no"], "fit")
    >>> classes.tolist(), y01.tolist()
    (['no', 'yes'], [0, 1, 0])
    """
    arr = check_labels(y, caller, binary=True)
    if arr.dtype.kind in "iu" and arr.size:
        # Small-range integers (0/1 labels): a bincount beats np.unique's sort.
        lo, hi = int(arr.min()), int(arr.max())
        if hi - lo < 1024:
            shifted = arr.astype(np.intp) - lo if lo else arr
            present = np.flatnonzero(np.bincount(shifted))
            if present.size == 2:
                lookup = np.zeros(hi - lo + 1, dtype=np.int8)
                lookup[present[1]] = 1
                return (present + lo).astype(arr.dtype), lookup[shifted]
    try:
        classes, inverse = np.unique(arr, return_inverse=True)
    except TypeError as e:
        raise DataValidationError(
            f"{caller}: y mixes label types that cannot be ordered; use one type."
        ) from e
    if classes.size != 2:
        raise DataValidationError(
            f"{caller}: Only binary classification is supported. y must hold exactly two "
            f"classes; got {classes.size} class(es): {classes.tolist()[:10]}."
        )
    return classes, inverse.reshape(-1).astype(np.int8)


# --------------------------------------------------------------------------- #
# features
# --------------------------------------------------------------------------- #


def check_2d(X: Any, caller: str) -> Any:
    """``X`` (array-likes that only offer ``__array__`` as numpy), refusing 1-D input.

    Parameters
    ----------
    X : array-like, DataFrame or sparse matrix
        The features.
    caller : str
        The estimator's method, for messages.

    Returns
    -------
    object
        ``X``, through :func:`as_array_like`.

    Raises
    ------
    DataValidationError
        When a dense ``X`` is not two-dimensional.

    Examples
    --------
    >>> check_2d([[1.0], [2.0]], "fit")
    [[1.0], [2.0]]
    """
    X = as_array_like(X)
    if not sparse.issparse(X) and np.ndim(X) != 2:
        raise DataValidationError(
            f"{caller}: X must be 2-D (n_samples, n_features); got {np.ndim(X)} dimension(s). "
            "Reshape your data with X.reshape(-1, 1) for a single feature or "
            "X.reshape(1, -1) for a single sample."
        )
    return X


def check_features(estimator: Any, X: Any, caller: str, *, reset: bool) -> Any:
    """``X`` checked to be 2-D, with its feature count and names set or checked.

    Parameters
    ----------
    estimator : estimator
        The estimator whose ``n_features_in_`` (and ``feature_names_in_``) are
        set (``reset=True``, in fit) or checked against.
    X : array-like, DataFrame or sparse matrix of shape (n_samples, n_features)
        The features.
    caller : str
        The estimator's method, for messages.
    reset : bool
        Whether this is fit.

    Returns
    -------
    object
        ``X``, through :func:`check_2d`.

    Raises
    ------
    DataValidationError
        When ``X`` is not 2-D.
    ValueError
        From scikit-learn, when the features differ from those of fit.
    """
    X = check_2d(X, caller)
    validate_data(estimator, X, reset=reset, skip_check_array=True)
    return X


def check_n_features(X: Any, caller: str, *, hint: str = "") -> None:
    """Refuse an ``X`` without columns.

    Parameters
    ----------
    X : array-like, DataFrame or sparse matrix of shape (n_samples, n_features)
        The features.
    caller : str
        The estimator's method, for messages.
    hint : str, default=""
        Appended to the message (before its full stop).

    Raises
    ------
    DataValidationError
        When ``n_features`` is 0.

    Examples
    --------
    >>> check_n_features(np.zeros((2, 0)), "fit")
    Traceback (most recent call last):
    ...
    seawall.exceptions.DataValidationError: fit: X has 0 feature(s) (shape=(2, 0)) while a \
minimum of 1 is required.
    """
    if np.shape(X)[1] == 0:
        raise DataValidationError(
            f"{caller}: X has 0 feature(s) (shape={np.shape(X)}) while a minimum of 1 is "
            f"required{hint}."
        )


def check_features_left(
    rest: Any, n_features: int, sensitive_column: object, caller: str, *, purpose: str
) -> None:
    """Refuse an ``X`` whose every column is a sensitive one.

    Parameters
    ----------
    rest : array-like, DataFrame or sparse matrix of shape (n_samples, n_rest)
        ``X`` without the sensitive column(s).
    n_features : int
        The columns of ``X``.
    sensitive_column : object
        The estimator's ``sensitive_column``, for the message.
    caller : str
        The estimator's method, for messages.
    purpose : str
        What the remaining columns are for and what to do, completing
        "nothing is left ...".

    Raises
    ------
    DataValidationError
        When ``n_rest`` is 0.
    """
    if np.shape(rest)[1] == 0:
        raise DataValidationError(
            f"{caller}: X has {n_features} feature(s), all of them in "
            f"sensitive_column={sensitive_column!r}; nothing is left {purpose}"
        )


def split_features(
    estimator: Any, X: Any, sensitive_features: object, caller: str, *, reset: bool
) -> tuple[Any, object]:
    """Check ``X``'s shape and feature names, then split off the sensitive column(s).

    Parameters
    ----------
    estimator : estimator
        An estimator with a ``sensitive_column`` parameter (see :func:`check_features`).
    X : array-like, DataFrame or sparse matrix of shape (n_samples, n_features), or None
        The features; ``None`` is allowed with ``sensitive_features`` and skips
        the feature checks.
    sensitive_features : array-like, table or None
        The protected attribute(s) given directly.
    caller : str
        The estimator's method, for messages.
    reset : bool
        Whether this is fit.

    Returns
    -------
    X : object
        ``X`` without the sensitive column(s) (CSR for a sparse ``X``).
    sensitive_features : object
        The protected attribute(s).

    Raises
    ------
    InvalidParameterError
        When the protected attribute is given both ways or neither, or a
        column is not in ``X``.
    DataValidationError
        When ``X`` is not 2-D, or has no columns while ``sensitive_column`` is set.
    """
    column = estimator.sensitive_column
    if X is None:
        # Without X the attribute must come as sensitive_features (split_sensitive says so).
        return split_sensitive(None, sensitive_features, column, caller)
    X = check_features(estimator, X, caller, reset=reset)
    if column is not None:
        check_n_features(X, caller, hint=f": sensitive_column={column!r} must name a column of X")
    if column is not None and sensitive_features is None and sparse.issparse(X):
        return split_sensitive_sparse(X, column, caller)
    return split_sensitive(X, sensitive_features, column, caller)

"""Reweighing (Kamiran & Calders 2012): weights that make group and label independent.

Each (group, class) cell of the training data gets the weight

    w(g, y) = P(g) P(y) / P(g, y),

the expected frequency of the cell under independence over its observed
frequency, with (sample-weighted) empirical frequencies. Weighted by ``w``, every
cell with rows holds N P(g) P(y), its mass under independence with the original
marginals. When every cell has rows, the weighted data therefore have
P(g, y) = P(g) P(y) exactly and the weights sum to N, the number of rows (or the
total sample weight). A cell without rows cannot receive its expected mass: the
weights then sum to less than N and independence is only approximate. Several
sensitive features are intersected; any number of groups and classes is allowed.

:class:`Reweighing` learns the cell weights and returns them per row;
:func:`reweighing_weights` does both in one call. The meta-estimator that fits a
classifier with them lives in ``_reweighing_classifier``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted

from seawall._json import json_value
from seawall._validation import check_lengths, to_weights
from seawall.exceptions import DataValidationError, InvalidParameterError
from seawall.mitigation._inputs import as_array_like, check_labels, n_rows, split_features
from seawall.mitigation._sensitive import GroupEncoder, SensitiveColumn

__all__ = ["Reweighing", "ReweighingTable", "reweighing_weights"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

# --------------------------------------------------------------------------- #
# kernel
# --------------------------------------------------------------------------- #


def _cell_table(
    group: IntArray, label: IntArray, n_groups: int, n_classes: int, weight: FloatArray | None
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
    """Row counts, observed P(g, y), expected P(g) P(y) and weights of every cell.

    Private kernel: ``group`` in ``range(n_groups)``, ``label`` in ``range(n_classes)``,
    ``weight`` non-negative with a positive sum, all of shape (n,). Every output has
    shape (n_groups, n_classes); a cell with no (weighted) mass has weight NaN.
    """
    cell = group * n_classes + label
    size = n_groups * n_classes
    n = np.bincount(cell, minlength=size).reshape(n_groups, n_classes)
    mass = n.astype(np.float64) if weight is None else np.bincount(cell, weight, size)
    mass = mass.reshape(n_groups, n_classes)
    total = mass.sum()
    observed = mass / total
    # P(g) and P(y) from the same masses, so that observed * weight = expected up to
    # rounding: each occupied cell gets its mass under independence.
    expected = np.outer(mass.sum(axis=1) / total, mass.sum(axis=0) / total)
    with np.errstate(divide="ignore", invalid="ignore"):
        weights = np.where(observed > 0, expected / observed, np.nan)
    return n.astype(np.intp), observed, expected, weights


def _row_weights(
    cell_weights: FloatArray, group: IntArray, label: IntArray, weight: FloatArray | None
) -> FloatArray:
    """Each row's cell weight times its sample weight (0 where the sample weight is 0)."""
    w = cell_weights[group, label]
    if weight is None:
        return w
    return np.where(weight > 0, w * weight, 0.0)


# --------------------------------------------------------------------------- #
# result
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, slots=True)
class ReweighingTable:
    """The weight of every (group, class) cell, with the frequencies behind it.

    One entry per cell, groups in the order of ``groups`` and, within a group,
    classes in the order of ``classes``.

    Attributes
    ----------
    features : tuple of str
        The sensitive features (intersected when several).
    groups : tuple of str
        The groups seen in fit.
    classes : tuple
        The class labels seen in fit.
    group, label : tuple
        Each cell's group and class label, length ``n_groups * n_classes``.
    n : tuple of int
        Rows in each cell.
    observed : tuple of float
        The cell's observed (weighted) frequency P(g, y).
    expected : tuple of float
        The frequency under independence, P(g) P(y).
    weight : tuple of float
        ``expected / observed``; NaN for a cell with no rows (or no sample weight)
        in fit: no row of it can be weighted.
    weighted : bool
        Whether the frequencies were computed with sample weights.

    Examples
    --------
    >>> t = Reweighing().fit(None, [1, 1, 0, 0], sensitive_features=["a", "b", "b", "b"]).weights_
    >>> t.to_frame()[["group", "label", "n", "weight"]]
      group  label  n  weight
    0     a      0  0     NaN
    1     a      1  1    0.50
    2     b      0  2    0.75
    3     b      1  1    1.50
    """

    features: tuple[str, ...]
    groups: tuple[str, ...]
    classes: tuple[Any, ...]
    group: tuple[str, ...]
    label: tuple[Any, ...]
    n: tuple[int, ...]
    observed: tuple[float, ...]
    expected: tuple[float, ...]
    weight: tuple[float, ...]
    weighted: bool

    _COLUMNS = ("group", "label", "n", "observed", "expected", "weight")

    def records(self) -> list[dict[str, Any]]:
        """One JSON-safe dict per cell (NaN becomes ``None``).

        Returns
        -------
        list of dict
            Keys ``group``, ``label``, ``n``, ``observed``, ``expected``, ``weight``.
        """
        columns = [getattr(self, c) for c in self._COLUMNS]
        return [
            {c: json_value(v) for c, v in zip(self._COLUMNS, row, strict=True)}
            for row in zip(*columns, strict=True)
        ]

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-safe primitives with stable keys.

        Returns
        -------
        dict
            ``features``, ``groups``, ``classes``, ``weighted`` and ``cells`` (the records).
        """
        return {
            "features": list(self.features),
            "groups": list(self.groups),
            "classes": [json_value(c) for c in self.classes],
            "weighted": self.weighted,
            "cells": self.records(),
        }

    def to_frame(self) -> pd.DataFrame:
        """The cells as a DataFrame, one row each.

        Returns
        -------
        pandas.DataFrame
            Columns ``group``, ``label``, ``n``, ``observed``, ``expected``, ``weight``.
        """
        return pd.DataFrame({c: list(getattr(self, c)) for c in self._COLUMNS})


# --------------------------------------------------------------------------- #
# fitting
# --------------------------------------------------------------------------- #


def _scalar(v: object) -> object:
    """A numpy scalar as a Python one, for messages (``7``, not ``np.int64(7)``)."""
    return v.item() if isinstance(v, np.generic) else v


def fit_cells(
    arr: np.ndarray[Any, Any], sensitive_features: object, sample_weight: object, caller: str
) -> tuple[GroupEncoder, np.ndarray[Any, Any], ReweighingTable, FloatArray, FloatArray]:
    """Learn groups, classes and cell weights; return them and each row's weight.

    ``arr`` holds the class labels as checked by :func:`check_labels`.
    """
    n = arr.size
    if n == 0:
        raise DataValidationError(f"{caller}: y is empty; reweighing needs at least one row.")
    if sensitive_features is None:
        raise InvalidParameterError(
            f"{caller}: no protected attribute; pass sensitive_features= (one value per row)."
        )
    sw = to_weights(as_array_like(sample_weight), n)
    encoder, group = GroupEncoder.fit(sensitive_features, n, caller)
    try:
        classes, label = np.unique(arr, return_inverse=True)
    except TypeError as e:
        raise DataValidationError(
            f"{caller}: y mixes label types that cannot be ordered (e.g. numbers and text); "
            "use one type for the class labels."
        ) from e
    label = label.reshape(-1).astype(np.intp)
    counts, observed, expected, weights = _cell_table(
        group, label, encoder.n_groups, classes.size, sw
    )
    class_list = tuple(classes.tolist())
    table = ReweighingTable(
        features=encoder.names,
        groups=encoder.labels,
        classes=class_list,
        group=tuple(g for g in encoder.labels for _ in class_list),
        label=class_list * encoder.n_groups,
        n=tuple(counts.ravel().tolist()),
        observed=tuple(observed.ravel().tolist()),
        expected=tuple(expected.ravel().tolist()),
        weight=tuple(weights.ravel().tolist()),
        weighted=sw is not None,
    )
    return encoder, classes, table, weights, _row_weights(weights, group, label, sw)


def reweighing_weights(
    y: object, sensitive_features: object, sample_weight: object = None
) -> FloatArray:
    """Kamiran & Calders' reweighing weights for each row, ready for ``sample_weight``.

    Row i in cell (g, y) gets ``P(g) P(y) / P(g, y)`` times its sample weight,
    with frequencies weighted by ``sample_weight``. The rows of a cell then weigh
    ``N P(g) P(y)`` together, N being the number of rows (the total sample weight
    when given); when every (group, class) combination occurs, group and label are
    independent in the weighted data and the weights sum to N.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels (binary or multiclass; any hashable, orderable labels).
    sensitive_features : array-like of shape (n_samples,) or table of shape (n_samples, k)
        The protected attribute(s); several columns are intersected.
    sample_weight : array-like of shape (n_samples,), default=None
        Prior weights of the rows; ``None`` means 1 each.

    Returns
    -------
    ndarray of float64, shape (n_samples,)
        The weights.

    Raises
    ------
    DataValidationError
        On misaligned lengths, missing labels, continuous ``y`` or bad weights.

    See Also
    --------
    Reweighing : The same weights, learned once and applied to new rows.
    ReweighingClassifier : A classifier fitted with these weights.

    References
    ----------
    .. [1] F. Kamiran and T. Calders, "Data preprocessing techniques for
       classification without discrimination", Knowledge and Information
       Systems 33(1):1-33, 2012.

    Examples
    --------
    >>> reweighing_weights([1, 1, 0, 0], ["a", "b", "b", "b"])
    array([0.5 , 1.5 , 0.75, 0.75])
    """
    caller = "reweighing_weights"
    return fit_cells(check_labels(y, caller), sensitive_features, sample_weight, caller)[4]


# --------------------------------------------------------------------------- #
# estimators
# --------------------------------------------------------------------------- #


class Reweighing(BaseEstimator):  # type: ignore[misc]
    """Learn Kamiran & Calders' weights, which make group and label independent.

    ``fit`` learns the weight ``P(g) P(y) / P(g, y)`` of each (group, class)
    cell; :meth:`compute_weights` returns it for each row of (possibly new)
    data, to pass as ``sample_weight`` to any learner. ``X`` is only read for
    ``sensitive_column``; its other columns are not used. To fit a classifier
    with the weights inside a ``Pipeline`` or ``GridSearchCV``, use
    :class:`ReweighingClassifier`.

    Parameters
    ----------
    sensitive_column : str, int, sequence of them, or None, default=None
        The column(s) of ``X`` that hold the protected attribute(s), used when
        ``sensitive_features`` is not given.

    Attributes
    ----------
    groups_ : ndarray of str, shape (n_groups,)
        The groups seen in fit (intersections joined by ``" & "``).
    classes_ : ndarray of shape (n_classes,)
        The class labels seen in fit, sorted.
    weights_ : ReweighingTable
        Each cell's rows, observed and expected frequency, and weight. A cell with
        no rows in fit has no weight (NaN); a row of it in :meth:`compute_weights`
        is an error.
    n_features_in_ : int
        Columns of ``X`` in fit (when ``X`` is given).

    See Also
    --------
    reweighing_weights : The per-row weights in one call.
    ReweighingClassifier : A classifier fitted with these weights.

    Notes
    -----
    A single group or a single class is allowed: every weight is then 1
    (group and label are already independent). When some (group, class)
    combination has no rows, its expected mass cannot be given to any row, so
    the weighted data are independent only approximately; ``weights_`` shows
    such cells with ``n == 0``.

    References
    ----------
    .. [1] F. Kamiran and T. Calders, "Data preprocessing techniques for
       classification without discrimination", Knowledge and Information
       Systems 33(1):1-33, 2012.

    Examples
    --------
    >>> rw = Reweighing().fit(None, [1, 1, 0, 0], sensitive_features=["a", "b", "b", "b"])
    >>> rw.compute_weights(None, [0, 1], sensitive_features=["b", "a"])
    array([0.75, 0.5 ])
    """

    def __init__(self, *, sensitive_column: SensitiveColumn = None) -> None:
        self.sensitive_column = sensitive_column

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        # X is read only for sensitive_column: its other values are never used.
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags

    def fit(
        self, X: Any, y: object, *, sensitive_features: object = None, sample_weight: object = None
    ) -> Self:
        """Learn the weight of each (group, class) cell.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), or None
            Read only for ``sensitive_column``; may be ``None`` when
            ``sensitive_features`` is given.
        y : array-like of shape (n_samples,)
            Class labels.
        sensitive_features : array-like or table, default=None
            The protected attribute(s), one value per row (several columns are
            intersected); required unless ``sensitive_column`` is set.
        sample_weight : array-like of shape (n_samples,), default=None
            Prior weights; the frequencies are weighted by them.

        Returns
        -------
        self : Reweighing
            The fitted estimator.

        Raises
        ------
        InvalidParameterError
            When the protected attribute is given both ways or neither.
        DataValidationError
            On misaligned lengths, missing labels or a continuous ``y``.
        """
        caller = "Reweighing.fit"
        rest, sf = split_features(self, X, sensitive_features, caller, reset=True)
        arr = check_labels(y, caller)
        if rest is not None:
            check_lengths({"X": n_rows(rest), "y": arr.size})
        self._fit_rows(arr, sf, sample_weight, caller)
        return self

    def _fit_rows(
        self,
        y: np.ndarray[Any, Any],
        sensitive_features: object,
        sample_weight: object,
        caller: str,
    ) -> FloatArray:
        """Set the fitted attributes; return each training row's weight.

        ``y`` holds the class labels as checked by :func:`check_labels`.
        """
        encoder, classes, table, _, weights = fit_cells(
            y, sensitive_features, sample_weight, caller
        )
        self.encoder_ = encoder
        self.groups_ = np.asarray(encoder.labels, dtype=object)
        self.classes_ = classes
        self.weights_ = table
        return weights

    def compute_weights(
        self, X: Any, y: object, *, sensitive_features: object = None, sample_weight: object = None
    ) -> FloatArray:
        """Each row's weight, from the cell weights learned in fit.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), or None
            Read only for ``sensitive_column``.
        y : array-like of shape (n_samples,)
            Class labels, all seen in fit.
        sensitive_features : array-like or table, default=None
            The protected attribute(s), all groups seen in fit.
        sample_weight : array-like of shape (n_samples,), default=None
            Multiplies the weights; a row with sample weight 0 gets weight 0.

        Returns
        -------
        ndarray of float64, shape (n_samples,)
            The weight of each row's cell, times its sample weight.

        Raises
        ------
        DataValidationError
            On an unseen group or class, or a row in a cell that had no rows in fit.
        """
        check_is_fitted(self)
        caller = "Reweighing.compute_weights"
        rest, sf = split_features(self, X, sensitive_features, caller, reset=False)
        arr = check_labels(y, caller)
        if rest is not None:
            check_lengths({"X": n_rows(rest), "y": arr.size})
        sw = to_weights(as_array_like(sample_weight), arr.size)
        group = self.encoder_.encode(sf, arr.size, caller)
        label = self._encode_classes(arr, caller)
        n_classes = self.classes_.size
        cells = np.asarray(self.weights_.weight).reshape(-1, n_classes)
        bad = np.isnan(cells[group, label])
        if sw is not None:
            bad &= sw > 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataValidationError(
                f"{caller}: row {i} is in group {self.groups_[group[i]]!r} with class "
                f"{_scalar(self.classes_[label[i]])!r}, a combination with no rows in fit, "
                "so it has no weight; refit on data that includes it."
            )
        return _row_weights(cells, group, label, sw)

    def _encode_classes(self, arr: np.ndarray[Any, Any], caller: str) -> IntArray:
        try:
            pos = np.searchsorted(self.classes_, arr)
        except TypeError as e:
            raise DataValidationError(
                f"{caller}: y holds labels of another type than fit's classes "
                f"{self.classes_.tolist()[:10]}."
            ) from e
        pos = np.minimum(pos, self.classes_.size - 1).astype(np.intp)
        unseen = self.classes_[pos] != arr
        if unseen.any():
            raise DataValidationError(
                f"{caller}: class {_scalar(arr[np.flatnonzero(unseen)[0]])!r} of y was not "
                f"seen in fit (fit saw {self.classes_.tolist()[:10]}); refit on data that "
                "includes it."
            )
        return pos

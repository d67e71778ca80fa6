"""A classifier fitted with Kamiran & Calders' reweighing weights (a meta-estimator).

Wrapping the learner, rather than handing weights from one pipeline step to the
next, keeps reweighing inside scikit-learn's contract: ``Pipeline`` and
``GridSearchCV`` fit it like any classifier, recomputing the weights on each
training fold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self, TypeVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone, is_classifier
from sklearn.utils import Tags, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from seawall._validation import check_lengths, param_error
from seawall.mitigation._inputs import (
    check_features,
    check_features_left,
    check_labels,
    n_rows,
    split_features,
)
from seawall.mitigation._reweighing import FloatArray, Reweighing
from seawall.mitigation._sensitive import SensitiveColumn

__all__ = ["ReweighingClassifier"]

_Method = TypeVar("_Method", bound=Callable[..., Any])


def _delegates(name: str) -> Callable[[_Method], _Method]:
    """Expose a method only when the (fitted, else given) inner estimator has ``name``."""

    def check(self: ReweighingClassifier) -> bool:
        inner = self.estimator_ if hasattr(self, "estimator_") else self.estimator
        return hasattr(inner, name)

    decorator: Callable[[_Method], _Method] = available_if(check)
    return decorator


class ReweighingClassifier(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):  # type: ignore[misc]
    """A classifier fitted with Kamiran & Calders' reweighing weights.

    ``fit`` computes the weights ``P(g) P(y) / P(g, y)`` of the training rows
    (times any ``sample_weight``) and fits a clone of ``estimator`` with them as
    ``sample_weight``. Prediction delegates to the fitted clone and does not need
    the protected attribute. With ``sensitive_column``, those column(s) are
    removed from ``X`` before the inner estimator sees it, in fit and in
    prediction alike; with ``sensitive_features=`` (routed by metadata routing in
    a pipeline), ``X`` goes to the inner estimator whole.

    Parameters
    ----------
    estimator : classifier
        A scikit-learn classifier whose ``fit`` accepts ``sample_weight``.
    sensitive_column : str, int, sequence of them, or None, default=None
        The column(s) of ``X`` that hold the protected attribute(s); they are
        removed from ``X`` in fit and prediction.

    Attributes
    ----------
    estimator_ : classifier
        The clone of ``estimator`` fitted with the weights.
    reweighing_ : Reweighing
        The fitted weights (``reweighing_.weights_`` shows them).
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_features_in_ : int
        Columns of ``X`` in fit, the sensitive column(s) included.

    See Also
    --------
    Reweighing : The weights on their own.

    Notes
    -----
    ``estimator`` cannot itself be a ``Pipeline``, whose ``fit`` takes no
    ``sample_weight`` keyword: put the preprocessing steps and then
    ``ReweighingClassifier`` in the pipeline instead. The weights are
    recomputed on every fit, so in cross-validation each training fold is
    reweighed on its own rows. With a single class in ``y`` every weight is 1
    and the inner estimator decides (most classifiers refuse one class).

    References
    ----------
    .. [1] F. Kamiran and T. Calders, "Data preprocessing techniques for
       classification without discrimination", Knowledge and Information
       Systems 33(1):1-33, 2012.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[0, 1.0], [0, 2.0], [1, 3.0], [1, 4.0], [1, 5.0], [0, 0.5]])
    >>> clf = ReweighingClassifier(LogisticRegression(), sensitive_column=0)
    >>> clf.fit(X, [0, 1, 1, 1, 0, 0]).predict(X).shape
    (6,)
    >>> clf.estimator_.n_features_in_
    1
    """

    def __init__(self, estimator: Any, *, sensitive_column: SensitiveColumn = None) -> None:
        self.estimator = estimator
        self.sensitive_column = sensitive_column

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        return tags

    def _features(self, X: Any, caller: str) -> Any:
        """``X`` without the sensitive column(s), after the feature-count check."""
        check_is_fitted(self)
        if self.sensitive_column is None:
            return check_features(self, X, caller, reset=False)
        return split_features(self, X, None, caller, reset=False)[0]

    def fit(
        self, X: Any, y: object, *, sensitive_features: object = None, sample_weight: object = None
    ) -> Self:
        """Fit a clone of ``estimator`` with the reweighing weights.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The features (with the sensitive column(s) when ``sensitive_column`` is set).
        y : array-like of shape (n_samples,)
            Class labels.
        sensitive_features : array-like or table, default=None
            The protected attribute(s), one value per row; required unless
            ``sensitive_column`` is set.
        sample_weight : array-like of shape (n_samples,), default=None
            Prior weights: they weight the frequencies and multiply the weights.

        Returns
        -------
        self : ReweighingClassifier
            The fitted estimator.

        Raises
        ------
        InvalidParameterError
            When ``estimator`` is not a classifier or its ``fit`` takes no
            ``sample_weight``, or the protected attribute is given both ways or neither.
        DataValidationError
            On misaligned lengths, missing labels or a continuous ``y``.
        """
        caller = "ReweighingClassifier.fit"
        if not is_classifier(self.estimator):
            raise param_error("estimator", "ReweighingClassifier", "a classifier", self.estimator)
        if not has_fit_parameter(self.estimator, "sample_weight"):
            raise param_error(
                "estimator",
                "ReweighingClassifier",
                "a classifier whose fit accepts sample_weight (reweighing works through it)",
                self.estimator,
            )
        arr = check_labels(y, caller)
        rest, sf = split_features(self, X, sensitive_features, caller, reset=True)
        if self.sensitive_column is not None:
            column, width = self.sensitive_column, self.n_features_in_
            check_features_left(rest, width, column, caller, purpose="for the estimator.")
        check_lengths({"X": n_rows(rest), "y": arr.size})
        self.reweighing_ = Reweighing()
        weights = self.reweighing_._fit_rows(arr, sf, sample_weight, caller)
        self.estimator_ = clone(self.estimator).fit(rest, y, sample_weight=weights)
        self.classes_ = self.estimator_.classes_
        return self

    @_delegates("predict")
    def predict(self, X: Any) -> np.ndarray[Any, Any]:
        """Predict class labels with the fitted estimator.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The features, as in fit (the sensitive column(s) are dropped).

        Returns
        -------
        ndarray of shape (n_samples,)
            The predicted labels.
        """
        X = self._features(X, "ReweighingClassifier.predict")
        out: np.ndarray[Any, Any] = self.estimator_.predict(X)
        return out

    @_delegates("predict_proba")
    def predict_proba(self, X: Any) -> FloatArray:
        """Class probabilities from the fitted estimator.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The features, as in fit.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            The probabilities, columns in the order of ``classes_``.
        """
        X = self._features(X, "ReweighingClassifier.predict_proba")
        out: FloatArray = self.estimator_.predict_proba(X)
        return out

    @_delegates("predict_log_proba")
    def predict_log_proba(self, X: Any) -> FloatArray:
        """Log class probabilities from the fitted estimator.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The features, as in fit.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            The log-probabilities, columns in the order of ``classes_``.
        """
        X = self._features(X, "ReweighingClassifier.predict_log_proba")
        out: FloatArray = self.estimator_.predict_log_proba(X)
        return out

    @_delegates("decision_function")
    def decision_function(self, X: Any) -> FloatArray:
        """Decision scores from the fitted estimator.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The features, as in fit.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            The scores.
        """
        X = self._features(X, "ReweighingClassifier.decision_function")
        out: FloatArray = self.estimator_.decision_function(X)
        return out

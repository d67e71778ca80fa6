"""Group-specific (randomised) thresholds on a model's scores (Hardt, Price & Srebro 2016).

:class:`ThresholdPostprocessor` learns, for every protected group, a rule on a
score -- "predict 1 above ``t_high``, with probability ``p`` between ``t_low``
and ``t_high``, 0 below" -- that maximises accuracy (or balanced accuracy)
subject to equal opportunity, equalized odds or demographic parity within a
tolerance. The rules are found exactly by one linear program over the vertices
of each group's ROC hull (``_derived_lp.py``), or, for plain thresholds, by an
exact search (``_plain_thresholds.py``); :class:`ThresholdTable`
(``_threshold_table.py``) shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import Tags, get_tags
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from seawall._validation import (
    check_choice,
    check_lengths,
    check_real,
    check_seed,
    param_error,
    to_1d,
    to_float,
    to_weights,
)
from seawall.exceptions import DataValidationError, InvalidParameterError
from seawall.mitigation._derived_lp import objective_weights, randomized_rules, rate_coefficients
from seawall.mitigation._inputs import (
    as_array_like,
    binary_labels,
    check_features,
    check_features_left,
    check_n_features,
    n_rows,
)
from seawall.mitigation._plain_thresholds import plain_gap, plain_rules
from seawall.mitigation._roc import group_rocs, rule_probability
from seawall.mitigation._sensitive import GroupEncoder, SensitiveColumn, split_sensitive
from seawall.mitigation._threshold_table import GroupThreshold, ThresholdTable

__all__ = ["ThresholdPostprocessor"]

FloatArray = npt.NDArray[np.float64]
Constraint = Literal["equal_opportunity", "equalized_odds", "demographic_parity"]
Objective = Literal["accuracy", "balanced_accuracy"]
ScoreMethod = Literal["auto", "predict_proba", "decision_function"]
CONSTRAINTS = ("equal_opportunity", "equalized_odds", "demographic_parity")
OBJECTIVES = ("accuracy", "balanced_accuracy")
SCORE_METHODS = ("auto", "predict_proba", "decision_function")
# An arbitrary constant that salts the seed of predict's draws.
_SALT = 0x5EA3A11


@dataclass(frozen=True, slots=True)
class _Setup:
    """The checked parameters of one fit."""

    constraint: str
    objective: str
    tolerance: float
    score_method: str


class ThresholdPostprocessor(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):  # type: ignore[misc]
    """Group-specific, possibly randomised thresholds on a score, under a fairness constraint.

    Hardt, Price & Srebro's derived predictor. Every group's ROC curve of the
    score (one point per distinct threshold) is reduced to its upper convex
    hull; randomising between two thresholds reaches any point of it. One linear
    program (HiGHS) chooses a mix of hull vertices for every group that
    maximises the expected ``objective`` on the fit data while the constrained
    rate(s) differ between groups by at most ``tolerance``:

    - ``"equal_opportunity"``: the true positive rate;
    - ``"equalized_odds"``: the true and the false positive rates;
    - ``"demographic_parity"``: the selection rate P(prediction = 1 | group).

    The solution is exact (no grid). Each group's rule reads "score >=
    ``threshold_high`` -> 1; ``threshold_low`` <= score < ``threshold_high`` -> 1
    with probability ``p_between``; below -> 0" (see :class:`GroupThreshold`);
    :attr:`thresholds_` lists them with their rates on the fit data.

    Parameters
    ----------
    estimator : estimator or None, default=None
        The scoring model. ``None``: ``X`` is the score itself (a 1-D array, or
        ``X`` with one column besides ``sensitive_column``). Otherwise a clone is
        fitted on ``(X, y)`` (unless ``prefit``) and its scores are used.
    constraint : {"equal_opportunity", "equalized_odds", "demographic_parity"}, \
default="equal_opportunity"
        The fairness constraint.
    objective : {"accuracy", "balanced_accuracy"}, default="accuracy"
        What to maximise: accuracy, or the balanced accuracy (TPR + TNR) / 2 over
        all rows.
    tolerance : float in [0, 1], default=0.0
        The largest allowed difference of a constrained rate between any two
        groups (max minus min over the groups, on the fit data; for
        ``"equalized_odds"`` for each of TPR and FPR).
    prefit : bool, default=False
        Whether ``estimator`` is already fitted (it is used as is, not cloned).
    randomized : bool, default=True
        ``False``: the best plain thresholds instead, one per group, strictly
        inside the group's range of scores (a rule that predicts one class for
        the whole group is not considered); an error when none meets the tolerance.
    score_method : {"auto", "predict_proba", "decision_function"}, default="auto"
        How to get the estimator's score: the positive column of
        ``predict_proba``, or ``decision_function``; ``"auto"`` takes the first
        that exists.
    sensitive_column : str, int, sequence of them, or None, default=None
        The column(s) of ``X`` that hold the protected attribute(s), used when
        ``sensitive_features`` is not given; removed from ``X`` before scoring.

    Attributes
    ----------
    thresholds_ : ThresholdTable
        Every group's rule, its expected TPR, FPR and selection rate on the fit
        data, the objective achieved and the largest remaining gap.
    classes_ : ndarray of shape (2,)
        The two classes, sorted; the second is the positive one.
    groups_ : ndarray of str, shape (n_groups,)
        The groups seen in fit.
    estimator_ : estimator
        The fitted scoring model (absent when ``estimator`` is ``None``).
    n_features_in_ : int
        Columns of ``X`` in fit (the sensitive column(s) included), for a 2-D ``X``.

    See Also
    --------
    ThresholdTable : The learned rules.

    Notes
    -----
    Every group needs both classes in fit (else its TPR or FPR is undefined).
    Objectives reward true positives and penalise false positives, so the upper
    hull suffices. With ``tolerance = 0`` the rates are equal up to rounding.
    ``predict`` draws the randomisation from ``random_state`` (0 by default, so
    that repeated calls agree); :meth:`positive_probability` gives the
    probabilities themselves. There is no ``predict_proba``: these probabilities
    are the rule's, not estimates of P(y = 1 | x). :meth:`score` is the exact
    expected accuracy.

    Fit costs one sort of the scores plus a linear program whose size is the
    number of hull vertices (about 0.3 s at 1M rows). ``randomized=False``
    searches every threshold of every group exactly: for one rate in
    O(G A log P) (G groups, A distinct rates, P thresholds per group; 0.1 s at 1M
    rows); for equalized odds in O(G W log P), W the pairs of a TPR anchor and
    a point inside its window of width ``tolerance`` -- quadratic in the number
    of distinct scores (0.5 s at 10,000 rows of distinct scores, 37 s at
    100,000, 3 groups, tolerance 0.02; 0.1 s at 100,000 rows with scores
    rounded to 3 decimals). Round the scores to bound it.

    References
    ----------
    .. [1] M. Hardt, E. Price and N. Srebro, "Equality of opportunity in
       supervised learning", Advances in Neural Information Processing Systems
       29 (NeurIPS), 2016.

    Examples
    --------
    Group ``a`` reaches a TPR of 1/2 with one threshold; ``b`` (TPRs 1/3, 1 on
    its hull) randomises to match it:

    >>> scores = [0.9, 0.7, 0.65, 0.5, 0.3, 0.25, 0.8, 0.6, 0.4, 0.2, 0.1]
    >>> y = [1, 0, 0, 1, 0, 0, 1, 0, 1, 1, 0]
    >>> groups = list("aaaaaabbbbb")
    >>> clf = ThresholdPostprocessor().fit(scores, y, sensitive_features=groups)
    >>> print(clf.thresholds_.describe())
    a: score >= 0.8 -> 1; score < 0.8 -> 0
    b: score >= 0.7 -> 1; 0.15 <= score < 0.7 -> 1 with probability 0.25; score < 0.15 -> 0
    >>> clf.positive_probability(scores, sensitive_features=groups)[6:]
    array([1.  , 0.25, 0.25, 0.25, 0.  ])
    >>> clf.predict(scores, sensitive_features=groups, random_state=1)[6:]
    array([1, 1, 0, 0, 0])
    """

    def __init__(
        self,
        estimator: Any = None,
        *,
        constraint: Constraint = "equal_opportunity",
        objective: Objective = "accuracy",
        tolerance: float = 0.0,
        prefit: bool = False,
        randomized: bool = True,
        score_method: ScoreMethod = "auto",
        sensitive_column: SensitiveColumn = None,
    ) -> None:
        self.estimator = estimator
        self.constraint = constraint
        self.objective = objective
        self.tolerance = tolerance
        self.prefit = prefit
        self.randomized = randomized
        self.score_method = score_method
        self.sensitive_column = sensitive_column

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        if tags.classifier_tags is not None:
            tags.classifier_tags.multi_class = False
        tags.non_deterministic = bool(self.randomized)
        # Sparse X goes to the estimator untouched, with sensitive_features= only.
        inner = self.estimator
        tags.input_tags.sparse = (
            inner is not None
            and self.sensitive_column is None
            and get_tags(inner).input_tags.sparse
        )
        return tags

    # ------------------------------------------------------------------ input

    def _setup(self) -> _Setup:
        name = type(self).__name__
        for flag in ("prefit", "randomized"):
            if not isinstance(getattr(self, flag), bool | np.bool_):
                raise param_error(flag, name, "a bool", getattr(self, flag))
        if self.estimator is not None and not hasattr(self.estimator, "fit"):
            raise param_error("estimator", name, "None or an estimator with fit", self.estimator)
        return _Setup(
            check_choice(self.constraint, "constraint", name, CONSTRAINTS),
            check_choice(self.objective, "objective", name, OBJECTIVES),
            check_real(self.tolerance, "tolerance", name, low=0, high=1),
            check_choice(self.score_method, "score_method", name, SCORE_METHODS),
        )

    def _inputs(
        self, X: Any, sensitive_features: object, caller: str, *, reset: bool
    ) -> tuple[Any, object]:
        """``X`` without the sensitive column(s), and the protected attribute(s)."""
        X = as_array_like(X, pandas_only=True)
        if self.estimator is None and np.ndim(X) == 1:
            if self.sensitive_column is not None:
                raise DataValidationError(
                    f"{caller}: sensitive_column={self.sensitive_column!r} needs a 2-D X (the "
                    "score and the protected attribute as columns); X is 1-D. Pass "
                    "sensitive_features= instead."
                )
            return X, split_sensitive(X, sensitive_features, None, caller)[1]
        if sparse.issparse(X) and (self.estimator is None or sensitive_features is None):
            raise DataValidationError(
                f"{caller}: sparse input is not supported for the score or with "
                "sensitive_column; pass a dense X (X.toarray()), or pass "
                "sensitive_features= with an estimator that accepts sparse X."
            )
        X = check_features(self, X, caller, reset=reset)
        if sparse.issparse(X):
            return X, sensitive_features
        check_n_features(X, caller)
        rest, sf = split_sensitive(X, sensitive_features, self.sensitive_column, caller)
        check_features_left(
            rest, int(np.shape(X)[1]), self.sensitive_column, caller,
            purpose="to score. Add the score (or the features) as column(s) of X.",
        )  # fmt: skip
        return rest, sf

    def _scores(self, est: Any, X: Any, caller: str) -> FloatArray:
        """The score of every row: ``X`` itself, or the estimator's output."""
        if est is None:
            if np.ndim(X) == 2:
                if np.shape(X)[1] != 1:
                    raise DataValidationError(
                        f"{caller}: without an estimator, X is the score and must have one "
                        f"column (besides sensitive_column); got {np.shape(X)[1]} columns. Pass "
                        "an estimator to score several features."
                    )
                X = X.iloc[:, 0] if isinstance(X, pd.DataFrame) else np.asarray(X)[:, 0]
            if np.iscomplexobj(X):
                raise DataValidationError(
                    f"{caller}: X (the scores) holds complex numbers. Complex data not "
                    "supported; pass real scores."
                )
            return to_float(X, "X (the scores)")
        method: str = self.score_method
        if method == "auto":
            found = [m for m in ("predict_proba", "decision_function") if hasattr(est, m)]
            if not found:
                raise param_error(
                    "estimator", type(self).__name__,
                    "an estimator with predict_proba or decision_function", est,
                )  # fmt: skip
            method = found[0]
        out = np.asarray(getattr(est, method)(X))
        if method == "predict_proba":
            known = list(getattr(est, "classes_", self.classes_))
            if self.classes_[1] not in known or out.ndim != 2:
                raise DataValidationError(
                    f"{caller}: {type(est).__name__}.predict_proba has no column for the "
                    f"positive class {self.classes_[1]!r} (its classes: {known[:10]})."
                )
            out = out[:, known.index(self.classes_[1])]
        elif out.ndim != 1 or list(getattr(est, "classes_", self.classes_)) != list(self.classes_):
            raise DataValidationError(
                f"{caller}: {type(est).__name__}.decision_function returned shape {out.shape} "
                f"for classes {list(getattr(est, 'classes_', []))[:10]}; a binary classifier's "
                f"score for the classes {self.classes_.tolist()} of y is needed."
            )
        return to_float(out, f"the scores of {type(est).__name__}.{method}")

    # ------------------------------------------------------------------ fit

    def fit(
        self, X: Any, y: object, *, sensitive_features: object = None, sample_weight: object = None
    ) -> Self:
        """Learn every group's rule.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, n_features), or DataFrame
            The features for ``estimator``, or the score itself when ``estimator``
            is ``None`` (plus the ``sensitive_column`` when set).
        y : array-like of shape (n_samples,)
            Binary labels (two classes; the second in sorted order is positive).
        sensitive_features : array-like or table, default=None
            The protected attribute(s), one value per row (several columns are
            intersected); required unless ``sensitive_column`` is set.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights for the rates and the objective (and for fitting a clone
            of ``estimator``).

        Returns
        -------
        self : ThresholdPostprocessor
            The fitted post-processor.

        Raises
        ------
        InvalidParameterError
            On a bad parameter, or when ``randomized=False`` and no plain
            thresholds meet the tolerance.
        DataValidationError
            On scores that are not finite numbers, labels that are not binary, a
            group with a single class, or misaligned inputs.
        NotFittedError
            When ``prefit=True`` and ``estimator`` is not fitted.
        """
        caller = "ThresholdPostprocessor.fit"
        setup = self._setup()
        classes, y01 = binary_labels(y, caller)
        rest, sf = self._inputs(X, sensitive_features, caller, reset=True)
        n = check_lengths({"y": y01.size, "X": n_rows(rest)})
        sw = to_weights(as_array_like(sample_weight, pandas_only=True), n)
        self.classes_ = classes
        est = self.estimator
        if est is not None and self.prefit:
            try:
                check_is_fitted(est)
            except NotFittedError as e:
                raise NotFittedError(
                    f"{caller}: prefit=True but the estimator {type(est).__name__} is not "
                    "fitted; fit it first, or pass prefit=False to fit a clone here."
                ) from e
        elif est is not None:
            est = clone(est)
            if sw is None:
                est.fit(rest, y)
            elif has_fit_parameter(est, "sample_weight"):
                est.fit(rest, y, sample_weight=sw)
            else:
                raise param_error(
                    "estimator", type(self).__name__,
                    "an estimator whose fit accepts sample_weight (sample_weight was given)", est,
                )  # fmt: skip
        if est is not None:
            self.estimator_ = est
        score = self._scores(est, rest, caller)
        encoder, codes = GroupEncoder.fit(sf, n, caller)
        rocs = group_rocs(score, y01, codes, encoder.n_groups, sw)
        for label, roc in zip(encoder.labels, rocs, strict=True):
            if roc.positives <= 0 or roc.negatives <= 0:
                missing = "positive" if roc.positives <= 0 else "negative"
                weighted = " with a positive sample_weight" if sw is not None else ""
                raise DataValidationError(
                    f"{caller}: group {label!r} has no {missing} rows{weighted} (class "
                    f"{classes.tolist()[1 if missing == 'positive' else 0]!r}) in y, so its "
                    f"{'true' if missing == 'positive' else 'false'} positive rate is undefined; "
                    "merge it with another group or drop its rows."
                )
            if not self.randomized and roc.tp.size < 3:
                raise DataValidationError(
                    f"{caller}: group {label!r} has a single distinct score, so no plain "
                    "threshold splits it; use randomized=True."
                )
        pos, neg = np.array([r.positives for r in rocs]), np.array([r.negatives for r in rocs])
        coef = rate_coefficients(setup.constraint, pos, neg)
        gain, cost, constant = objective_weights(setup.objective, pos, neg)
        if self.randomized:
            rules = randomized_rules(rocs, coef, gain, cost, setup.tolerance)
            if rules is None:  # pragma: no cover - (0, 0) and (1, 1) are always feasible
                raise DataValidationError(
                    f"{caller}: the linear program for constraint={setup.constraint!r} with "
                    f"tolerance={setup.tolerance!r} has no solution; please report this data."
                )
        else:
            rules = plain_rules(rocs, coef, gain, cost, setup.tolerance)
            if rules is None:
                smallest = plain_gap(rocs, coef)
                raise InvalidParameterError(
                    f"{caller}: no plain (non-randomised) thresholds meet "
                    f"constraint={setup.constraint!r} within tolerance={setup.tolerance!r}; the "
                    f"smallest gap between groups that plain thresholds reach is {smallest:.4g}. "
                    f"Pass tolerance >= {smallest:.4g}, or randomized=True (which meets any "
                    "tolerance)."
                )
        # The rates the rules achieve in expectation, from the rules themselves.
        p = rule_probability(score, codes, rules)
        w = np.ones(n) if sw is None else sw
        k = encoder.n_groups
        tp = np.bincount(codes, w * p * y01, minlength=k)
        fp = np.bincount(codes, w * p * (1 - y01), minlength=k)
        tpr, fpr, sel = tp / pos, fp / neg, (tp + fp) / (pos + neg)
        rates = np.einsum("kgc,cg->kg", coef, np.stack([tpr, fpr]))
        groups = tuple(
            GroupThreshold(
                label,
                float(rules.t_low[g]),
                float(rules.t_high[g]),
                float(rules.p_below[g]),
                float(rules.p_between[g]),
                float(rules.p_above[g]),
                float(tpr[g]),
                float(fpr[g]),
                float(sel[g]),
                roc.n,
            )  # fmt: skip
            for g, (label, roc) in enumerate(zip(encoder.labels, rocs, strict=True))
        )
        self.thresholds_ = ThresholdTable(
            constraint=setup.constraint,
            objective=setup.objective,
            tolerance=setup.tolerance,
            randomized=bool(self.randomized),
            objective_value=float(constant + np.sum(gain * tpr - cost * fpr)),
            gap=float(np.max(rates.max(axis=1) - rates.min(axis=1))),
            groups=groups,
        )
        self.encoder_ = encoder
        self.groups_ = np.asarray(encoder.labels, dtype=object)
        return self

    # ------------------------------------------------------------------ predict

    def positive_probability(self, X: Any, *, sensitive_features: object = None) -> FloatArray:
        """The probability that :meth:`predict` returns the positive class, per row.

        Parameters
        ----------
        X : array-like or DataFrame
            As in :meth:`fit`.
        sensitive_features : array-like or table, default=None
            The protected attribute(s); every group must have been seen in fit.

        Returns
        -------
        ndarray of float64, shape (n_samples,)
            0 or 1 where a rule does not randomise, ``p_between`` (etc.) where it does.

        Raises
        ------
        DataValidationError
            On scores that are not finite numbers or a group not seen in fit.
        """
        check_is_fitted(self, "thresholds_")
        caller = f"{type(self).__name__}.positive_probability"
        rest, sf = self._inputs(X, sensitive_features, caller, reset=False)
        score = self._scores(getattr(self, "estimator_", None), rest, caller)
        codes = self.encoder_.encode(sf, score.size, caller)
        return rule_probability(score, codes, self.thresholds_.rule_arrays())

    def predict(
        self,
        X: Any,
        *,
        sensitive_features: object = None,
        random_state: int | np.random.Generator = 0,
    ) -> np.ndarray[Any, Any]:
        """Predict classes, randomising where a group's rule says so.

        Parameters
        ----------
        X : array-like or DataFrame
            As in :meth:`fit`.
        sensitive_features : array-like or table, default=None
            The protected attribute(s); every group must have been seen in fit.
        random_state : int or numpy.random.Generator, default=0
            The source of the randomisation: a seed (the same seed gives the same
            predictions; it seeds ``SeedSequence([seed, salt])``, a stream apart
            from ``default_rng(seed)``) or a generator (used and advanced).

        Returns
        -------
        ndarray of shape (n_samples,)
            Predicted classes (values of ``classes_``).

        Raises
        ------
        InvalidParameterError
            When ``random_state`` is neither a non-negative int nor a Generator.
        DataValidationError
            On scores that are not finite numbers or a group not seen in fit.
        """
        if not isinstance(random_state, np.random.Generator):
            random_state = check_seed(
                random_state, "random_state", "ThresholdPostprocessor.predict"
            )
        p = self.positive_probability(X, sensitive_features=sensitive_features)
        if isinstance(random_state, np.random.Generator):
            rng = random_state
        else:
            # Salted: default_rng(seed) would replay, row for row, the uniforms of a
            # simulation drawn with the same seed (and so correlate with its data).
            rng = np.random.default_rng(np.random.SeedSequence([random_state, _SALT]))
        out: np.ndarray[Any, Any] = self.classes_[(rng.random(p.size) < p).astype(np.intp)]
        return out

    def score(
        self,
        X: Any,
        y: object,
        *,
        sensitive_features: object = None,
        sample_weight: object = None,
    ) -> float:
        """The expected accuracy of :meth:`predict` on ``(X, y)``, exactly (no draw).

        Parameters
        ----------
        X : array-like or DataFrame
            As in :meth:`fit`.
        y : array-like of shape (n_samples,)
            The true classes.
        sensitive_features : array-like or table, default=None
            The protected attribute(s).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        float
            Mean over rows of P(prediction = true class).
        """
        p = self.positive_probability(X, sensitive_features=sensitive_features)
        arr = to_1d(as_array_like(y, pandas_only=True), "y")
        check_lengths({"X": p.size, "y": arr.size})
        hit = np.where(arr == self.classes_[1], p, 1.0 - p)
        w = to_weights(as_array_like(sample_weight, pandas_only=True), arr.size)
        return float(np.average(hit, weights=w))

"""The effect of a disparate impact repair on a retrained model (Feldman et al., KDD 2015).

A :class:`~seawall.mitigation.DisparateImpactRemover` changes the *features*,
never the labels: a model's decisions change only once it is retrained on
repaired features. :func:`repair_effect` trains one model on the original and
one on the repaired features and compares their decisions on held-out rows:
disparate impact and accuracy, before and after, with intervals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from seawall._json import json_value
from seawall._validation import check_lengths, check_real, to_binary
from seawall.metrics import Estimate, GroupMetrics, group_metrics
from seawall.metrics._estimates import accuracy_estimate, summary_estimate
from seawall.mitigation._certify import estimator_name
from seawall.mitigation._remover import DisparateImpactRemover

__all__ = ["RepairEffect", "repair_effect"]


@dataclass(frozen=True, slots=True)
class RepairEffect:
    """The result of :func:`repair_effect`: a model retrained on repaired features.

    Attributes
    ----------
    repair_level : float
        The remover's ``λ``.
    estimator : str
        The model's class.
    disparate_impact_before, disparate_impact_after : Estimate
        Lowest over highest group selection rate of the model's test-split
        decisions, trained on the original and on the repaired features, with
        intervals (from :func:`seawall.metrics.group_metrics`).
    accuracy_before, accuracy_after : Estimate
        Test-split accuracy of the two models, with Wilson intervals.
    lowest_group_before, lowest_group_after : str
        The group with the lowest selection rate.
    before, after : GroupMetrics
        Every group metric of the two models on the test split.
    n_train, n_test : int
        Rows of the two splits.
    confidence_level : float
        The level of every interval.
    """

    repair_level: float
    estimator: str
    disparate_impact_before: Estimate
    disparate_impact_after: Estimate
    accuracy_before: Estimate
    accuracy_after: Estimate
    lowest_group_before: str
    lowest_group_after: str
    before: GroupMetrics
    after: GroupMetrics
    n_train: int
    n_test: int
    confidence_level: float

    def to_dict(self) -> dict[str, Any]:
        """The headline numbers as JSON-safe primitives (the group metrics are left out).

        Returns
        -------
        dict
            Scalars, and ``{"value", "lower", "upper"}`` for each estimate.
        """
        out: dict[str, Any] = {}
        for name in self.__slots__:
            v = getattr(self, name)
            if isinstance(v, Estimate):
                out[name] = {k: json_value(getattr(v, k)) for k in ("value", "lower", "upper")}
            elif not isinstance(v, GroupMetrics):
                out[name] = json_value(v)
        return out


def repair_effect(
    estimator: Any,
    X_train: Any,
    y_train: object,
    X_test: Any,
    y_test: object,
    *,
    sensitive_train: object,
    sensitive_test: object,
    repair_level: float = 1.0,
    remover: DisparateImpactRemover | None = None,
    confidence_level: float = 0.95,
    min_group_size: int = 30,
) -> RepairEffect:
    """Train a model on original and on repaired features; compare their test decisions.

    The remover changes the *features*, never the labels: a model's decisions
    change only once it is retrained on repaired features (and is fed repaired
    features at prediction time). So this function fits the remover on the
    training features, trains one clone of ``estimator`` on the original and one
    on the repaired training features (same labels), and scores both on the
    test split (the second on the test features repaired with the training
    quantiles): disparate impact (lowest over highest group selection rate)
    and accuracy, with intervals.

    Parameters
    ----------
    estimator : scikit-learn classifier
        Predicts binary labels 0/1; cloned twice.
    X_train, X_test : array-like or DataFrame
        Features without the protected attribute (a DataFrame in gives the
        model a DataFrame of repaired features).
    y_train, y_test : array-like of shape (n,)
        Binary labels 0/1.
    sensitive_train, sensitive_test : array-like or table
        The protected attribute(s) of each split.
    repair_level : float, default=1.0
        ``λ`` of the remover.
    remover : DisparateImpactRemover, default=None
        A configured remover (cloned; its ``repair_level`` is replaced by
        ``repair_level``); ``None`` uses the defaults.
    confidence_level : float, default=0.95
        Level of the intervals.
    min_group_size : int, default=30
        Groups smaller than this on the test split are left out of the
        disparate impact (as in :func:`seawall.metrics.group_metrics`).

    Returns
    -------
    RepairEffect
        Disparate impact and accuracy before and after, with intervals.

    Raises
    ------
    DataValidationError
        On misaligned inputs or non-binary labels.

    See Also
    --------
    DisparateImpactRemover : The repair.
    certify : Whether the repaired features still reveal the groups.

    References
    ----------
    .. [1] M. Feldman, S. A. Friedler, J. Moeller, C. Scheidegger,
       S. Venkatasubramanian, "Certifying and removing disparate impact", KDD 2015.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> s = rng.choice(["a", "b"], 4000)
    >>> X = rng.normal(size=(4000, 2)) + np.c_[(s == "b") * 1.5, np.zeros(4000)]
    >>> y = (X[:, 0] + X[:, 1] + rng.normal(size=4000) > 1).astype(int)
    >>> eff = repair_effect(LogisticRegression(), X[:3000], y[:3000], X[3000:], y[3000:],
    ...                     sensitive_train=s[:3000], sensitive_test=s[3000:])
    >>> eff.disparate_impact_before.value < 0.5 < 0.8 < eff.disparate_impact_after.value
    True
    """
    caller = "repair_effect"
    level = check_real(
        confidence_level, "confidence_level", caller, low=0, high=1, low_open=True, high_open=True
    )
    rem = clone(remover) if remover is not None else DisparateImpactRemover()
    rem.set_params(repair_level=repair_level, sensitive_column=None)
    if isinstance(X_train, pd.DataFrame):
        rem.set_output(transform="pandas")
    yt = to_binary(y_train, "y_train")
    ys = to_binary(y_test, "y_test")
    rem.fit(X_train, sensitive_features=sensitive_train)
    R_train = rem.transform(X_train, sensitive_features=sensitive_train)
    R_test = rem.transform(X_test, sensitive_features=sensitive_test)
    n_test = check_lengths({"y_test": ys.size, "X_test": len(R_test)})
    groups = pd.Series(
        rem.groups_[rem.encoder_.encode(sensitive_test, n_test, caller)], name="group"
    )
    results = []
    for train_X, test_X in ((X_train, X_test), (R_train, R_test)):
        model = clone(estimator).fit(train_X, yt)
        pred = to_binary(np.asarray(model.predict(test_X)), "the estimator's predictions")
        res = group_metrics(
            ys,
            pred,
            sensitive_features=groups,
            confidence_level=level,
            min_group_size=min_group_size,
            n_bootstrap=0,
        )
        di, lowest = summary_estimate(res, "disparate_impact", "group")
        results.append((res, di, lowest, accuracy_estimate(ys, pred, level)))
    (before, di0, low0, acc0), (after, di1, low1, acc1) = results
    return RepairEffect(
        repair_level=float(rem.repair_level),
        estimator=estimator_name(estimator),
        disparate_impact_before=di0,
        disparate_impact_after=di1,
        accuracy_before=acc0,
        accuracy_after=acc1,
        lowest_group_before=low0,
        lowest_group_after=low1,
        before=before,
        after=after,
        n_train=int(yt.size),
        n_test=n_test,
        confidence_level=level,
    )

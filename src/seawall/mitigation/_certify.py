"""Certifying disparate impact (Feldman et al., KDD 2015).

:func:`certify` asks the paper's question: can the protected attribute be
predicted from the other features? It measures the balanced error rate (BER) of
a classifier that tries, on held-out rows, and compares it with the paper's
threshold. What a repair changes for a model retrained on the repaired
features is measured by :func:`~seawall.mitigation.repair_effect`.

Why the threshold is ``1/2 - β/8``: take any decision ``C`` made from the
features, with positive rates ``β = P(C=1 | protected)`` and
``α = P(C=1 | other)``, and disparate impact ``β / α <= τ``. Predicting "other"
when ``C = 1`` and "protected" when ``C = 0`` has
``BER = (1 - α + β) / 2 = 1/2 - (α - β)/2 <= 1/2 - β (1 - τ) / (2 τ)``, which
for the four-fifths rule ``τ = 0.8`` is ``1/2 - β/8``. So features from which
no classifier predicts the protected attribute with a BER at or below
``1/2 - β/8`` admit no decision with disparate impact whose protected-group
positive rate is ``β`` (the paper's "ε-fair", ``ε = 1/2 - β/8``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import train_test_split

from seawall._json import json_value
from seawall._validation import check_lengths, check_real, check_seed, module_of, to_binary
from seawall.exceptions import DataValidationError, InsufficientDataError, InvalidParameterError
from seawall.metrics import wilson_interval
from seawall.metrics._intervals import normal_quantile
from seawall.mitigation._sensitive import GroupEncoder

__all__ = ["Certification", "CertificationTest", "certify", "estimator_name"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

_REST = "(all other groups)"


# --------------------------------------------------------------------------- #
# kernels
# --------------------------------------------------------------------------- #


def _ber_interval(
    truth: npt.NDArray[np.bool_], pred: npt.NDArray[np.bool_], z: float
) -> tuple[float, float, float]:
    """Balanced error rate with a MOVER interval from the two classes' Wilson intervals.

    Private kernel: both classes present in ``truth``. ``BER = (e1 + e0) / 2``
    with ``e1`` the miss rate of class 1 and ``e0`` the false-alarm rate of
    class 0, independent binomials; the bounds recover the variance of each
    from its Wilson bound (Zou & Donner's method of variance estimates recovery).
    """
    n1, n0 = int(truth.sum()), int((~truth).sum())
    x1, x0 = int((truth & ~pred).sum()), int((~truth & pred).sum())
    e = np.array([x1 / n1, x0 / n0])
    lo, hi = wilson_interval(np.array([x1, x0]), np.array([n1, n0]), z)
    ber = float(e.mean())
    lower = ber - 0.5 * math.sqrt(float(((e - lo) ** 2).sum()))
    upper = ber + 0.5 * math.sqrt(float(((hi - e) ** 2).sum()))
    return ber, max(lower, 0.0), min(upper, 1.0)


# --------------------------------------------------------------------------- #
# results
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, slots=True)
class CertificationTest:
    """One group against all the others: whether the features tell them apart.

    Attributes
    ----------
    group : str
        The group tested (with two groups, the one with the lower positive rate).
    protected : str
        The side whose positive rate is ``beta``: ``group`` or ``"(all other groups)"``.
    n_test : int
        Held-out rows the error rates are measured on.
    balanced_error_rate, lower, upper : float
        The classifier's BER on the held-out rows and its interval.
    beta, beta_lower, beta_upper : float
        The protected side's positive rate and its Wilson interval (the given
        ``beta`` three times when it was passed directly).
    threshold, threshold_lower, threshold_upper : float
        ``1/2 - beta/8`` and the same at the bounds of ``beta``.
    certified : bool
        ``lower > threshold``: the BER exceeds the threshold with confidence.
    """

    group: str
    protected: str
    n_test: int
    balanced_error_rate: float
    lower: float
    upper: float
    beta: float
    beta_lower: float
    beta_upper: float
    threshold: float
    threshold_lower: float
    threshold_upper: float
    certified: bool

    def to_dict(self) -> dict[str, Any]:
        """Every field as a JSON-safe primitive (NaN becomes ``None``).

        Returns
        -------
        dict
            One key per attribute.
        """
        return {name: json_value(getattr(self, name)) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class Certification:
    """The result of :func:`certify`.

    The headline numbers are those of the test closest to failing (smallest
    ``lower - threshold``); ``tests`` holds every group's.

    Attributes
    ----------
    balanced_error_rate, lower, upper : float
        That test's balanced error rate on held-out rows and its interval.
        0.5 means the protected attribute cannot be predicted at all.
    beta, beta_lower, beta_upper : float
        That test's protected positive rate and its interval.
    threshold : float
        That test's threshold ``1/2 - beta/8``.
    certified : bool
        Whether every test certifies: the BER's lower bound exceeds the
        threshold, so no decision with disparate impact (four-fifths rule) at
        that positive rate can be made from these features, as far as this
        classifier can tell.
    group : str
        That test's group.
    classifier : str
        The classifier used.
    n_rows, n_test : int
        Rows given, and rows held out.
    confidence_level : float
        The level of every interval.
    tests : tuple of CertificationTest
        One per group (one in all with two groups).
    """

    balanced_error_rate: float
    lower: float
    upper: float
    beta: float
    beta_lower: float
    beta_upper: float
    threshold: float
    certified: bool
    group: str
    classifier: str
    n_rows: int
    n_test: int
    confidence_level: float
    tests: tuple[CertificationTest, ...]

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-safe primitives with stable keys.

        Returns
        -------
        dict
            The headline fields, then ``tests`` as a list of dicts.
        """
        out = {name: json_value(getattr(self, name)) for name in self.__slots__ if name != "tests"}
        out["tests"] = [t.to_dict() for t in self.tests]
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per test.

        Returns
        -------
        pandas.DataFrame
            The fields of :class:`CertificationTest`.
        """
        return pd.DataFrame([t.to_dict() for t in self.tests])


# --------------------------------------------------------------------------- #
# certify
# --------------------------------------------------------------------------- #


def _frame(X: Any, caller: str) -> Any:
    """``X`` as a DataFrame (kept) or a 2-D ndarray."""
    if module_of(X) in ("polars", "pyarrow") and hasattr(X, "to_pandas"):
        X = X.to_pandas()
    if isinstance(X, pd.DataFrame):
        return X
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise DataValidationError(
            f"{caller}: X must be 2-D (n_samples, n_features); got shape {arr.shape}."
        )
    return arr


def _encoded(X: Any) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Features as floats for the default classifier; non-numeric columns as category codes."""
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    out = np.empty(frame.shape, dtype=np.float64)
    categorical = np.zeros(frame.shape[1], dtype=bool)
    for j in range(frame.shape[1]):
        col = frame.iloc[:, j]
        numeric = pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(
            col.dtype
        )
        if numeric or (
            col.dtype == object
            and pd.api.types.infer_dtype(col, skipna=True) in ("integer", "floating")
        ):
            out[:, j] = col.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            codes, _ = pd.factorize(col.astype(object), sort=False)
            out[:, j] = np.where(codes < 0, np.nan, codes)
            categorical[j] = True
    return out, categorical


def _default_classifier(categorical: npt.NDArray[np.bool_], seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        categorical_features=categorical if categorical.any() else None, random_state=seed
    )


def estimator_name(estimator: Any) -> str:
    """An estimator's class name; a pipeline's lists its steps' classes.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> estimator_name(make_pipeline(StandardScaler()))
    'Pipeline(StandardScaler)'
    """
    steps = getattr(estimator, "steps", None)
    if steps:
        return f"Pipeline({', '.join(type(s).__name__ for _, s in steps)})"
    return type(estimator).__name__


def _predict_member(model: Any, X_train: Any, b_train: Any, X_test: Any) -> Any:
    """Fit ``model`` to tell group members (1) from the rest; predict on ``X_test``.

    With probabilities, a row is called a member when ``P(member | x)`` exceeds the
    training share of members: the rule that minimises the balanced error rate
    for calibrated probabilities (each class weighted by the inverse of its size).
    """
    model.fit(X_train, b_train)
    if hasattr(model, "predict_proba"):
        classes = list(model.classes_)
        proba = model.predict_proba(X_test)[:, classes.index(1)]
        return proba > b_train.mean()
    return np.asarray(model.predict(X_test)).astype(bool)


def certify(
    X: Any,
    sensitive_features: object,
    *,
    y: object = None,
    beta: float | None = None,
    classifier: Any = None,
    test_size: float = 0.3,
    random_state: int = 0,
    confidence_level: float = 0.95,
) -> Certification:
    """Test whether the protected attribute can be predicted from the features.

    Feldman et al.'s certification: a data set whose features let no classifier
    predict the protected attribute with a balanced error rate (BER) at or below
    ``1/2 - β/8`` admits no decision with disparate impact under the
    four-fifths rule, where ``β`` is the protected group's positive rate (see
    the module docstring for the derivation). A classifier is trained on a
    stratified, seeded split to tell the groups apart and its BER is measured on
    the held-out rows, with a 95% interval (Wilson per class, combined by
    MOVER). With more than two groups each group is tested against all the
    others (one-vs-rest; ``β`` is then the lower of that group's and the rest's
    positive rates) and every test must pass.

    The verdict is conservative: it certifies only when the BER's lower
    confidence bound exceeds the threshold, which takes a held-out split of a
    few thousand rows (the interval's half-width is about
    ``z / (2 sqrt(2 m))`` with ``m`` held-out rows per group, while the margin
    ``β/8`` is a few percent).
    And it certifies only as far as the classifier can see: a stronger one
    might predict the attribute better. A BER near 0.5 means the features hide
    the protected attribute from this classifier.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        The features, without the protected attribute.
    sensitive_features : array-like of shape (n_samples,) or table
        The protected attribute(s); several columns are intersected.
    y : array-like of shape (n_samples,), default=None
        Binary outcomes (labels or decisions), from which ``β`` is estimated as
        the protected side's positive rate. Give ``y`` or ``beta``.
    beta : float, default=None
        ``β`` directly, in (0, 1].
    classifier : scikit-learn classifier, default=None
        Cloned and fitted once per test; ``None`` uses
        ``HistGradientBoostingClassifier(random_state=random_state)`` with the
        non-numeric columns as categorical features. With ``predict_proba``, a
        row is predicted a member when its probability exceeds the training
        share of members (the BER-optimal rule for calibrated probabilities).
    test_size : float, default=0.3
        Share of the rows held out, in (0, 1).
    random_state : int, default=0
        Seed of the split and of the default classifier.
    confidence_level : float, default=0.95
        Level of the intervals.

    Returns
    -------
    Certification
        The BER, threshold and verdict, with every test.

    Raises
    ------
    InvalidParameterError
        On a parameter out of range, or neither (or both) of ``y`` and ``beta``.
    DataValidationError
        On misaligned inputs, a single group or non-binary ``y``.
    InsufficientDataError
        When a group has too few rows to appear on both sides of the split.

    See Also
    --------
    DisparateImpactRemover : Repairs the features so that they certify.

    References
    ----------
    .. [1] M. Feldman, S. A. Friedler, J. Moeller, C. Scheidegger,
       S. Venkatasubramanian, "Certifying and removing disparate impact",
       KDD 2015 (section 3: disparate impact and the balanced error rate).
    .. [2] G. Y. Zou, A. Donner, "Construction of confidence limits about
       effect measures: a general approach", Statistics in Medicine 27 (2008).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> sex = rng.choice(["F", "M"], 10_000)
    >>> X = np.c_[rng.normal(size=10_000) + (sex == "M"), rng.normal(size=10_000)]
    >>> y = rng.random(10_000) < 0.3
    >>> cert = certify(X, sex, y=y)
    >>> cert.certified, round(cert.threshold, 2)
    (False, 0.46)
    >>> fair = certify(X[:, 1:], sex, y=y)
    >>> fair.certified, fair.lower > fair.threshold
    (True, True)
    """
    caller = "certify"
    frac = check_real(test_size, "test_size", caller, low=0, high=1, low_open=True, high_open=True)
    seed = check_seed(random_state, "random_state", caller)
    level = check_real(
        confidence_level, "confidence_level", caller, low=0, high=1, low_open=True, high_open=True
    )
    if (y is None) == (beta is None):
        raise InvalidParameterError(
            "certify needs the outcome's positive rate to set the paper's threshold "
            "1/2 - beta/8: pass y= (binary labels or decisions, one per row) or beta= (the "
            "protected group's positive rate), not both and not neither."
        )
    given_beta = None
    if beta is not None:
        given_beta = check_real(beta, "beta", caller, low=0, high=1, low_open=True)
    frame = _frame(X, caller)
    n = frame.shape[0]
    encoder, codes = GroupEncoder.fit(sensitive_features, n, caller)
    if encoder.n_groups < 2:
        raise DataValidationError(
            f"{caller}: the sensitive features hold a single group {encoder.labels[:1]}; "
            "certification needs at least two groups."
        )
    outcome = None
    if y is not None:
        outcome = to_binary(y, "y")
        check_lengths({"sensitive_features": n, "y": outcome.size})
    sizes = np.bincount(codes, minlength=encoder.n_groups)
    if sizes.min() < 2:
        small = encoder.labels[int(np.argmin(sizes))]
        raise InsufficientDataError(
            f"{caller}: group {small!r} has {int(sizes.min())} row(s); every group needs at "
            "least 2 to appear in both the training and the held-out rows."
        )
    train, test = train_test_split(np.arange(n), test_size=frac, random_state=seed, stratify=codes)
    if classifier is None:
        values, categorical = _encoded(frame)
        model_X: Any = values
        template = _default_classifier(categorical, seed)
    else:
        model_X, template = frame, classifier

    def rows(idx: IntArray) -> Any:
        return model_X.iloc[idx] if isinstance(model_X, pd.DataFrame) else model_X[idx]

    X_train, X_test = rows(train), rows(test)
    z = normal_quantile(level)
    tested = range(encoder.n_groups) if encoder.n_groups > 2 else [None]
    tests = []
    for g in tested:
        tests.append(
            _one_test(
                g, codes, outcome, given_beta, encoder, train, test, z, template, X_train, X_test
            )
        )
    worst = min(tests, key=lambda t: t.lower - t.threshold)
    return Certification(
        balanced_error_rate=worst.balanced_error_rate,
        lower=worst.lower,
        upper=worst.upper,
        beta=worst.beta,
        beta_lower=worst.beta_lower,
        beta_upper=worst.beta_upper,
        threshold=worst.threshold,
        certified=all(t.certified for t in tests),
        group=worst.group,
        classifier=estimator_name(template),
        n_rows=n,
        n_test=int(test.size),
        confidence_level=level,
        tests=tuple(tests),
    )


def _one_test(
    g: int | None,
    codes: IntArray,
    outcome: npt.NDArray[np.int8] | None,
    given_beta: float | None,
    encoder: GroupEncoder,
    train: IntArray,
    test: IntArray,
    z: float,
    template: Any,
    X_train: Any,
    X_test: Any,
) -> CertificationTest:
    """One group (None: the pair of two groups) against the rest."""
    if g is None:
        # Two groups: the BER is the same whichever is called the member; the
        # protected one is the one with the lower positive rate.
        g = 0
        if outcome is not None:
            rates = [outcome[codes == c].mean() for c in (0, 1)]
            g = int(np.argmin(rates))
    member = codes == g
    if outcome is not None:
        pos = np.array([outcome[member].sum(), outcome[~member].sum()], dtype=np.float64)
        tot = np.array([member.sum(), (~member).sum()], dtype=np.float64)
        lo, hi = wilson_interval(pos, tot, z)
        side = int(np.argmin(pos / tot))
        beta, beta_lo, beta_hi = float(pos[side] / tot[side]), float(lo[side]), float(hi[side])
        protected = encoder.labels[g] if side == 0 else _REST
    else:
        beta = beta_lo = beta_hi = math.nan if given_beta is None else given_beta
        protected = encoder.labels[g]
    pred = _predict_member(clone(template), X_train, member[train].astype(np.int8), X_test)
    ber, lower, upper = _ber_interval(member[test], np.asarray(pred, dtype=bool), z)
    threshold = 0.5 - beta / 8.0
    return CertificationTest(
        group=encoder.labels[g],
        protected=protected,
        n_test=int(test.size),
        balanced_error_rate=ber,
        lower=lower,
        upper=upper,
        beta=beta,
        beta_lower=beta_lo,
        beta_upper=beta_hi,
        threshold=threshold,
        threshold_lower=0.5 - beta_hi / 8.0,
        threshold_upper=0.5 - beta_lo / 8.0,
        certified=bool(lower > threshold),
    )

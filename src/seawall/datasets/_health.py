"""A synthetic readmission history in which a rare group is served worse by one model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from seawall._validation import check_real, check_seed

__all__ = ["make_health"]

_CALLER = "make_health"

_AGE_GROUPS = np.array(["18-39", "40-64", "65+"], dtype=object)
# Seniors are rare in the data, as in many clinical training sets.
_AGE_GROUP_SHARES = (0.55, 0.385, 0.065)
_SEXES = np.array(["female", "male"], dtype=object)
_MALE_SHARE = 0.48
_SMOKER_SHARE = np.array([0.22, 0.18, 0.10])
# Share of senior labels flipped: their outcomes are recorded less reliably.
_SENIOR_LABEL_NOISE = 0.06


def make_health(n_samples: int = 20_000, *, random_state: int = 0) -> pd.DataFrame:
    """Generate a hospital readmission history in which seniors are rare and different.

    Each row is a discharged patient. Seniors (``age_group == "65+"``) are about 6.5%
    of the rows, and their outcome follows a different logistic model from everyone
    else's. Below 65, readmission rises with BMI, blood pressure, glucose, cholesterol
    and smoking. From 65, frailty dominates: risk rises with age and with distance from
    a healthy BMI in *either* direction (underweight is a risk), *falls* with systolic
    blood pressure (low pressure signals hypotension or over-treatment), depends less
    on glucose, and 6% of the labels are flipped (outcomes after discharge to care
    homes are recorded less reliably). A model fitted to the whole history learns the
    majority's pattern, so its error rate for ``"65+"`` is far higher than for
    ``"18-39"``: a standardised logistic regression on the clinical features errs on
    about 13% of ``"18-39"``, 20% of ``"40-64"`` and 42% of ``"65+"`` test patients
    (seeds 0-2, 20,000 rows, 70/30 split).

    For a demo, train on the clinical features ``sex`` (encoded), ``smoker``, ``bmi``,
    ``systolic_bp``, ``glucose`` and ``cholesterol``, and audit with
    ``sensitive_features=df["age_group"]``. Adding the numeric ``age`` as a feature is
    realistic too and lets a flexible model (gradient boosting) recover part of the
    seniors' pattern, but the ``"65+"`` error rate stays about twice that of
    ``"18-39"``; a weak-slice scan should then point at the seniors.

    Rows are independent draws, so any split of the rows is a random split. The
    data are identical for the same ``n_samples``, ``random_state`` and numpy version.

    Parameters
    ----------
    n_samples : int, default=20_000
        The number of patients (rows); at least 100.
    random_state : int, default=0
        The seed of the ``numpy.random.default_rng`` generator; a non-negative int.

    Returns
    -------
    pandas.DataFrame of shape (n_samples, 9)
        One row per patient, with the columns, in order:

        ``age_group`` : str
            The sensitive feature, ``"18-39"`` (about 55%), ``"40-64"`` (38.5%) or
            ``"65+"`` (6.5%).
        ``age`` : int64
            Age in years, uniform within ``"18-39"`` and ``"40-64"``; 65 plus an
            exponential tail (mean about 72) capped at 99 for ``"65+"``.
        ``sex`` : str
            ``"female"`` (about 52%) or ``"male"``.
        ``smoker`` : int64
            1 for a current smoker, else 0; about 22%, 18% and 10% by age group.
        ``bmi`` : float64
            Body-mass index in kg/m², in [15, 55], one decimal; rises slightly with
            age.
        ``systolic_bp`` : int64
            Systolic blood pressure in mmHg, in [80, 220]; rises with age and BMI.
        ``glucose`` : int64
            Fasting plasma glucose in mg/dL, in [50, 400]; rises with age and BMI.
        ``cholesterol`` : int64
            Total serum cholesterol in mg/dL, in [100, 350]; rises with age.
        ``readmitted`` : int64
            The outcome, 1 if readmitted within 30 days and 0 otherwise; about 17%,
            34% and 48% ones by age group.

        String columns have pandas' default string dtype (``str`` from pandas 3,
        ``object`` before); they are never ``category``.

    Raises
    ------
    InvalidParameterError
        If ``n_samples`` is not an int of at least 100, or ``random_state`` is not a
        non-negative int.

    See Also
    --------
    make_lending : a lending history in which a proxy for income drives disparate
        impact.

    References
    ----------
    .. [1] I. Y. Chen, F. D. Johansson and D. Sontag, "Why Is My Classifier
       Discriminatory?", Advances in Neural Information Processing Systems 31
       (NeurIPS), pp. 3539-3550, 2018.
    .. [2] Z. Obermeyer, B. Powers, C. Vogeli and S. Mullainathan, "Dissecting racial
       bias in an algorithm used to manage the health of populations", Science,
       vol. 366, no. 6464, pp. 447-453, 2019.

    Examples
    --------
    >>> from seawall.datasets import make_health
    >>> df = make_health(1_000, random_state=0)
    >>> df.shape
    (1000, 9)
    >>> list(df.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['age_group', 'age', 'sex', 'smoker', 'bmi', 'systolic_bp', 'glucose',
     'cholesterol', 'readmitted']
    >>> sorted(df["age_group"].unique())
    ['18-39', '40-64', '65+']
    """
    n = int(check_real(n_samples, "n_samples", _CALLER, low=100, integer=True))
    seed = check_seed(random_state, "random_state", _CALLER)
    rng = np.random.default_rng(seed)

    # Every draw covers all n rows, in a fixed order, so a row's values do not depend
    # on how the other rows fall into groups.
    group = rng.choice(len(_AGE_GROUPS), size=n, p=_AGE_GROUP_SHARES)
    senior = group == 2
    u = rng.random(n)
    tail = np.minimum(65.0 + np.floor(rng.exponential(8.0, n)), 99.0)
    age = np.where(group == 0, 18.0 + np.floor(u * 22.0), 40.0 + np.floor(u * 25.0))
    age = np.where(senior, tail, age)
    male = rng.random(n) < _MALE_SHARE
    smoker = rng.random(n) < _SMOKER_SHARE[group]
    bmi = np.round(np.clip(26.5 + 0.04 * (age - 40.0) + 5.0 * rng.standard_normal(n), 15, 55), 1)
    sbp_raw = 105.0 + 0.45 * age + 0.4 * (bmi - 26.5) + 4.0 * male + 13.0 * rng.standard_normal(n)
    sbp = np.round(np.clip(sbp_raw, 80, 220))
    log_glucose = np.log(92.0 + 0.25 * (age - 40.0) + 1.2 * (bmi - 26.5))
    glucose_raw = np.exp(log_glucose + 0.18 * rng.standard_normal(n))
    glucose = np.round(np.clip(glucose_raw, 50, 400))
    chol_raw = 185.0 + 0.6 * (age - 40.0) - 6.0 * male + 35.0 * rng.standard_normal(n)
    chol = np.round(np.clip(chol_raw, 100, 350))

    logit_majority = (
        -1.6
        + 0.18 * (bmi - 27.0)
        + 0.07 * (sbp - 125.0)
        + 0.045 * (glucose - 100.0)
        + 0.018 * (chol - 190.0)
        + 1.4 * smoker
    )
    logit_senior = (
        -0.2
        + 0.08 * (age - 75.0)
        + 0.3 * (np.abs(bmi - 26.0) - 4.0)
        - 0.05 * (sbp - 140.0)
        + 0.03 * (glucose - 100.0)
        + 0.01 * (chol - 190.0)
        + 1.0 * smoker
    )
    logit = np.where(senior, logit_senior, logit_majority)
    # Glucose is capped at 400, so the logits stay below about 30: no overflow in exp.
    readmitted = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    readmitted ^= senior & (rng.random(n) < _SENIOR_LABEL_NOISE)

    return pd.DataFrame(
        {
            "age_group": _AGE_GROUPS[group],
            "age": age.astype(np.int64),
            "sex": _SEXES[male.astype(np.intp)],
            "smoker": smoker.astype(np.int64),
            "bmi": bmi,
            "systolic_bp": sbp.astype(np.int64),
            "glucose": glucose.astype(np.int64),
            "cholesterol": chol.astype(np.int64),
            "readmitted": readmitted.astype(np.int64),
        }
    )

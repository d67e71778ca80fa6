"""A synthetic lending history in which a proxy for income drives disparate impact."""

from __future__ import annotations

import numpy as np
import pandas as pd

from seawall._validation import check_real, check_seed

__all__ = ["make_lending"]

_CALLER = "make_lending"

# Share of applicants in the low-income group.
_LOW_SHARE = 0.35
_REGIONS = np.array(["north", "south", "east", "west"], dtype=object)
_REGION_SHARES = (0.30, 0.30, 0.20, 0.20)
# Small, legitimate differences in repayment between regional economies (log-odds).
_REGION_EFFECT = np.array([0.0, 0.10, -0.10, 0.05])
_INCOME_GROUPS = np.array(["high", "low"], dtype=object)
# The weight of log-distance in the historical label: the biased part of the process.
# With 0.85 a model that uses distance_km gives the low-income group a selection-rate
# ratio of about 0.6, and one that leaves it out about 0.87 (seeds 0-2, 20,000 rows).
_DISTANCE_WEIGHT = 0.85


def make_lending(n_samples: int = 20_000, *, random_state: int = 0) -> pd.DataFrame:
    """Generate a lending history in which distance to a branch is a proxy for income.

    Each row is a loan applicant. The protected attribute ``income_group`` is not meant
    to be a model input, but ``distance_km`` (how far the applicant lives from the
    city-centre branch) is strongly associated with it: low-income applicants live
    about 2.7 times farther away on average. The historical label ``repaid`` follows a
    logistic model of the legitimate credit features *and* of log-distance, as a
    biased historical process (loans to far-away neighbourhoods serviced worse,
    redlining) would leave it. A model trained on this history with ``distance_km`` as
    a feature therefore reproduces the bias: with a standardised logistic regression
    and the default 0.5 threshold, the low-income group's selection-rate ratio to the
    high-income group is about 0.6 (below the four-fifths rule's 0.8), while the same
    model without ``distance_km`` gives about 0.87. The legitimate features differ only
    slightly between the groups.

    Rows are independent draws, so any split of the rows is a random split. The
    data are identical for the same ``n_samples``, ``random_state`` and numpy version.

    Parameters
    ----------
    n_samples : int, default=20_000
        The number of applicants (rows); at least 100.
    random_state : int, default=0
        The seed of the ``numpy.random.default_rng`` generator; a non-negative int.

    Returns
    -------
    pandas.DataFrame of shape (n_samples, 8)
        One row per applicant, with the columns, in order:

        ``income_group`` : str
            The protected attribute, ``"low"`` (about 35%) or ``"high"``.
        ``region`` : str
            ``"north"``, ``"south"`` (30% each), ``"east"`` or ``"west"`` (20% each);
            independent of income, with a small legitimate effect on repayment.
        ``credit_score`` : int64
            A FICO-like score in [300, 850]; mean about 688 (low) and 700 (high).
        ``debt_to_income`` : float64
            Monthly debt payments over monthly income, in (0, 1), three decimals;
            mean about 0.32 (low) and 0.30 (high).
        ``loan_amount`` : float64
            The amount asked for, in currency units, rounded to 100, at least 1,000;
            median about 17,000 (low) and 20,000 (high).
        ``years_employed`` : float64
            Years with the current employer, in [0, 45], one decimal.
        ``distance_km`` : float64
            The proxy: distance from the city-centre branch in km, at least 0.1, one
            decimal; log-normal with median about 16 (low) and 6 (high).
        ``repaid`` : int64
            The historical label, 1 if the loan was repaid and 0 otherwise; about 59%
            ones.

        String columns have pandas' default string dtype (``str`` from pandas 3,
        ``object`` before); they are never ``category``.

    Raises
    ------
    InvalidParameterError
        If ``n_samples`` is not an int of at least 100, or ``random_state`` is not a
        non-negative int.

    See Also
    --------
    make_health : a health-care history in which a rare group is served worse.

    References
    ----------
    .. [1] M. Feldman, S. A. Friedler, J. Moeller, C. Scheidegger and
       S. Venkatasubramanian, "Certifying and Removing Disparate Impact", Proceedings
       of the 21st ACM SIGKDD International Conference on Knowledge Discovery and Data
       Mining, pp. 259-268, 2015.
    .. [2] S. Barocas and A. D. Selbst, "Big Data's Disparate Impact", California Law
       Review, vol. 104, pp. 671-732, 2016.

    Examples
    --------
    >>> from seawall.datasets import make_lending
    >>> df = make_lending(1_000, random_state=0)
    >>> df.shape
    (1000, 8)
    >>> list(df.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['income_group', 'region', 'credit_score', 'debt_to_income', 'loan_amount',
     'years_employed', 'distance_km', 'repaid']
    >>> sorted(df["income_group"].unique())
    ['high', 'low']
    """
    n = int(check_real(n_samples, "n_samples", _CALLER, low=100, integer=True))
    seed = check_seed(random_state, "random_state", _CALLER)
    rng = np.random.default_rng(seed)

    # Every draw covers all n rows, in a fixed order, so a row's values do not depend
    # on how the other rows fall into groups.
    low = rng.random(n) < _LOW_SHARE
    region = rng.choice(len(_REGIONS), size=n, p=_REGION_SHARES)
    distance = np.exp(np.where(low, np.log(16.0), np.log(6.0)) + 0.55 * rng.standard_normal(n))
    distance = np.maximum(np.round(distance, 1), 0.1)
    credit = np.clip(np.where(low, 688.0, 700.0) + 55.0 * rng.standard_normal(n), 300, 850)
    credit = np.round(credit)
    # Beta(3, 7) has mean 0.30; Beta(3.2, 6.8) has mean 0.32.
    dti = rng.beta(np.where(low, 3.2, 3.0), np.where(low, 6.8, 7.0))
    dti = np.clip(np.round(dti, 3), 0.001, 0.999)
    years = np.round(np.minimum(rng.gamma(2.0, 3.5, n), 45.0), 1)
    loan = np.exp(np.where(low, np.log(17_000.0), np.log(20_000.0)) + 0.5 * rng.standard_normal(n))
    loan = np.maximum(np.round(loan, -2), 1_000.0)

    logit = (
        0.25
        + 0.018 * (credit - 690.0)
        - 4.0 * (dti - 0.32)
        + 0.04 * (years - 7.0)
        - 0.3 * np.log(loan / 18_000.0)
        + _REGION_EFFECT[region]
        - _DISTANCE_WEIGHT * np.log(distance / 9.0)
    )
    # The logits stay within about +-20 here, far from overflow in exp.
    repaid = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))

    return pd.DataFrame(
        {
            "income_group": _INCOME_GROUPS[low.astype(np.intp)],
            "region": _REGIONS[region],
            "credit_score": credit.astype(np.int64),
            "debt_to_income": dti,
            "loan_amount": loan,
            "years_employed": years,
            "distance_km": distance,
            "repaid": repaid.astype(np.int64),
        }
    )

"""The frozen results of :func:`feature_drift`: one record per feature, and the report."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from seawall._json import json_record, json_value

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DriftReport", "FeatureDrift"]


@dataclass(frozen=True, slots=True)
class FeatureDrift:
    """Drift of one feature between the reference and the current window.

    Attributes
    ----------
    name : str
        The feature.
    kind : {"numeric", "categorical"}
        How it was judged.
    test : str
        ``"ks"`` (two-sample Kolmogorov–Smirnov), ``"chi2"`` (chi-square over
        categories), ``"chi2_binned"`` (chi-square over the numeric bins, when a
        summary no longer holds the values) or ``""`` when not judged.
    n_ref, n_cur : int
        Non-missing values in each window.
    statistic : float
        The KS statistic ``D`` in [0, 1] or the chi-square statistic.
    p_value : float
        The test's p-value (KS: Smirnov's asymptotic distribution).
    p_adjusted : float
        ``p_value`` adjusted across every judged feature of the report.
    drifted : bool
        ``p_adjusted < alpha``.
    effect_size : float
        For ``"ks"``: the Wasserstein-1 distance over the reference's robust scale
        (interquartile range / 1.349, or its standard deviation when that is 0),
        i.e. roughly "standard deviations moved" (``inf`` when the reference is
        constant and the current window is not); for ``"chi2"`` and
        ``"chi2_binned"``: Cramér's V in [0, 1].
    effect_name : str
        ``"wasserstein_scaled"`` or ``"cramers_v"``.
    wasserstein : float
        The Wasserstein-1 distance in the feature's units (numeric ``"ks"`` only).
    psi : float
        Population stability index over the reference's quantile bins (numeric) or
        the categories; empty cells count as proportion 1e-4.
    js : float
        Jensen–Shannon distance (base 2, in [0, 1]) over the same cells.
    missing_ref, missing_cur : float
        The share of each window's rows that are missing.
    unseen_count : int
        Current non-missing rows whose category never occurs in the reference
        (0 for numeric features).
    unseen_share : float
        ``unseen_count / n_cur``.
    reason : str
        Why the feature was not judged (its statistics are NaN); ``""`` when it was.
    """

    name: str
    kind: str
    test: str
    n_ref: int
    n_cur: int
    statistic: float
    p_value: float
    p_adjusted: float
    drifted: bool
    effect_size: float
    effect_name: str
    wasserstein: float
    psi: float
    js: float
    missing_ref: float
    missing_cur: float
    unseen_count: int
    unseen_share: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-safe primitives (NaN becomes ``None``).

        Returns
        -------
        dict
            Every field, in declaration order.
        """
        return json_record(self)


@dataclass(frozen=True, slots=True)
class DriftReport:
    """Drift of every feature, each judged on its own and adjusted across features.

    Attributes
    ----------
    features : tuple of FeatureDrift
        One per feature, in column order.
    alpha : float
        The level ``p_adjusted`` is compared with.
    correction : str
        ``"bh"`` (Benjamini–Hochberg, false discovery rate) or ``"holm"``
        (family-wise error rate).
    n_ref_rows, n_cur_rows : int
        Rows in each window.
    """

    features: tuple[FeatureDrift, ...]
    alpha: float
    correction: str
    n_ref_rows: int
    n_cur_rows: int

    @property
    def n_drifted(self) -> int:
        """The number of features flagged as drifted."""
        return sum(f.drifted for f in self.features)

    @property
    def drifted_features(self) -> tuple[str, ...]:
        """The names of the features flagged as drifted, in column order."""
        return tuple(f.name for f in self.features if f.drifted)

    def __getitem__(self, name: str) -> FeatureDrift:
        """The record of the feature called ``name``."""
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-safe primitives with stable keys.

        Returns
        -------
        dict
            ``alpha``, ``correction``, ``n_ref_rows``, ``n_cur_rows``,
            ``n_drifted`` and ``features`` (a list of :meth:`FeatureDrift.to_dict`).
        """
        return {
            "alpha": json_value(self.alpha),
            "correction": self.correction,
            "n_ref_rows": self.n_ref_rows,
            "n_cur_rows": self.n_cur_rows,
            "n_drifted": self.n_drifted,
            "features": [f.to_dict() for f in self.features],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per feature, one column per field (pandas is imported lazily).

        Returns
        -------
        pandas.DataFrame
            The columns of :class:`FeatureDrift`, in order.
        """
        import pandas as pd

        columns = [f.name for f in fields(FeatureDrift)]
        rows = [[getattr(rec, c) for c in columns] for rec in self.features]
        return pd.DataFrame(rows, columns=columns)

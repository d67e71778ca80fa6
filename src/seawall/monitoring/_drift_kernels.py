"""Pure kernels of drift statistics over sorted samples and count vectors.

Every function here assumes valid input (finite floats, sorted where it says so,
non-negative integer counts) and checks nothing; :func:`feature_drift` and
:func:`summary_drift` validate first. They use numpy and scipy only.

The statistics and the reference implementation each one agrees with:

========================  ==========================================================
two-sample KS statistic   ``scipy.stats.ks_2samp(a, b).statistic`` (to 1e-12)
KS p-value                ``scipy.stats.ks_2samp(a, b, method="asymp").pvalue``
Wasserstein-1             ``scipy.stats.wasserstein_distance(a, b)``
Jensen–Shannon distance   ``scipy.spatial.distance.jensenshannon(r, c, base=2)``
chi-square homogeneity    ``scipy.stats.chi2_contingency([r, c], correction=False)``
========================  ==========================================================
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special, stats

__all__ = [
    "PSI_EPSILON",
    "binned_counts",
    "chi2_homogeneity",
    "js_distance",
    "ks_pvalue",
    "ks_wasserstein",
    "psi",
    "quantile_edges",
    "robust_scale",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: The proportion that stands in for an empty bin (or category) in the PSI, so that
#: ``log(q / p)`` stays finite; the other proportions are not renormalised.
PSI_EPSILON = 1e-4

# A normal distribution's interquartile range is 1.349 standard deviations.
_IQR_TO_SIGMA = 1.3489795003921634


def quantile_edges(ref_sorted: FloatArray, n_bins: int) -> FloatArray:
    """Interior bin edges at the reference's ``j / n_bins`` quantiles, duplicates removed.

    The outer bins are open, so every finite value falls in a bin: bin ``i`` holds
    ``edges[i - 1] <= x < edges[i]``. Heavy ties merge edges, so a feature may get
    fewer than ``n_bins`` bins.

    Parameters
    ----------
    ref_sorted : ndarray of float64, shape (n,)
        The reference's non-missing values, sorted, ``n >= 1``.
    n_bins : int
        The number of bins wanted, at least 2.

    Returns
    -------
    ndarray of float64, shape (n_edges,)
        Increasing edges, ``n_edges <= n_bins - 1`` (numpy's linear quantiles).

    Examples
    --------
    >>> quantile_edges(np.arange(11.0), 4).tolist()
    [2.5, 5.0, 7.5]
    >>> quantile_edges(np.array([1.0, 1.0, 1.0, 2.0]), 4).tolist()
    [1.0, 1.25]
    """
    probs = np.arange(1, n_bins) / n_bins
    return np.unique(np.quantile(ref_sorted, probs))


def binned_counts(values: FloatArray, edges: FloatArray, *, is_sorted: bool = False) -> IntArray:
    """Count values per bin of ``edges`` (bin ``i``: ``edges[i - 1] <= x < edges[i]``).

    Parameters
    ----------
    values : ndarray of float64, shape (n,)
        Finite values.
    edges : ndarray of float64, shape (n_edges,)
        Increasing interior edges.
    is_sorted : bool, default=False
        Whether ``values`` is sorted; then the counts take ``O(n_edges log n)``
        binary searches instead of a pass over the values.

    Returns
    -------
    ndarray of int64, shape (n_edges + 1,)
        The count in each bin.

    Examples
    --------
    >>> binned_counts(np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 2.5])).tolist()
    [1, 2, 1]
    """
    if is_sorted:
        cuts = np.searchsorted(values, edges, side="left")
        return np.diff(cuts, prepend=0, append=values.size).astype(np.int64)
    bins = np.searchsorted(edges, values, side="right")
    return np.bincount(bins, minlength=edges.size + 1).astype(np.int64)


def ks_wasserstein(a_sorted: FloatArray, b_sorted: FloatArray) -> tuple[float, float]:
    """The two-sample Kolmogorov–Smirnov statistic and Wasserstein-1 distance.

    Both come from one stable merge of the two sorted samples: the empirical
    CDFs are integer counts divided by the sample sizes, exactly as
    ``scipy.stats.ks_2samp`` and ``scipy.stats.wasserstein_distance`` form them,
    so the results agree to rounding.

    Parameters
    ----------
    a_sorted, b_sorted : ndarray of float64, shapes (n1,) and (n2,)
        Finite sorted samples, each non-empty.

    Returns
    -------
    ks : float
        ``max |F_a(x) - F_b(x)|``.
    wasserstein : float
        ``integral |F_a(x) - F_b(x)| dx``.

    References
    ----------
    .. [1] N. Smirnov, "Table for estimating the goodness of fit of empirical
       distributions", Ann. Math. Statist. 19 (1948) 279-281.
    .. [2] A. Ramdas, N. Garcia Trillos, M. Cuturi, "On Wasserstein two-sample
       testing and related families of nonparametric tests", Entropy 19 (2017) 47.

    Examples
    --------
    >>> ks_wasserstein(np.array([0.0, 1.0, 3.0]), np.array([5.0, 6.0, 8.0]))
    (1.0, 5.0)
    """
    n1, n2 = a_sorted.size, b_sorted.size
    merged = np.concatenate((a_sorted, b_sorted))
    # Two sorted runs: a stable (tim)sort merges them in linear time.
    order = np.argsort(merged, kind="stable")
    values = merged[order]
    count_a = np.cumsum(order < n1)
    count_b = np.arange(1, n1 + n2 + 1) - count_a
    diff = count_a / n1 - count_b / n2
    # The CDFs are only defined after the last of a run of tied values.
    last = np.empty(values.size, dtype=bool)
    np.not_equal(values[1:], values[:-1], out=last[:-1])
    last[-1] = True
    ks = float(np.max(np.abs(diff[last])))
    wasserstein = float(np.vecdot(np.abs(diff[:-1]), np.diff(values)))
    return ks, wasserstein


def ks_pvalue(statistic: float, n1: int, n2: int) -> float:
    """The two-sided KS p-value by Smirnov's asymptotic formula (scipy's ``"asymp"``).

    ``P(D >= d)`` under the one-sample Kolmogorov distribution with
    ``round(n1 n2 / (n1 + n2))`` observations, as ``scipy.stats.ks_2samp(...,
    method="asymp")`` computes it. scipy's default ``"auto"`` uses the exact
    distribution when both samples have at most 10,000 values; the two differ
    little there, and the asymptotic one is what large windows need.

    Parameters
    ----------
    statistic : float
        The KS statistic in [0, 1].
    n1, n2 : int
        The sample sizes, both positive.

    Returns
    -------
    float
        The p-value in [0, 1].

    Examples
    --------
    >>> round(ks_pvalue(0.1, 1000, 1000), 6)
    8.3e-05
    """
    m, n = float(max(n1, n2)), float(min(n1, n2))
    en = m * n / (m + n)
    return float(np.clip(stats.kstwo.sf(statistic, np.round(en)), 0.0, 1.0))


def robust_scale(ref_sorted: FloatArray) -> float:
    """A robust spread of the reference: its interquartile range over 1.349.

    This equals the standard deviation for normal data. When the interquartile
    range is zero (more than half the values tied), the standard deviation is used
    instead; it is zero only for a constant feature.

    Parameters
    ----------
    ref_sorted : ndarray of float64, shape (n,)
        The reference's sorted non-missing values, ``n >= 1``.

    Returns
    -------
    float
        The scale, ``>= 0``.

    Examples
    --------
    >>> robust_scale(np.array([0.0, 1.0, 2.0, 3.0, 4.0]))
    1.482...
    """
    q1, q3 = np.quantile(ref_sorted, [0.25, 0.75])
    iqr = float(q3 - q1)
    if iqr > 0:
        return iqr / _IQR_TO_SIGMA
    return float(np.std(ref_sorted))


def psi(ref_counts: IntArray, cur_counts: IntArray) -> float:
    """The population stability index of two count vectors over the same bins.

    ``PSI = sum_i (q_i - p_i) log(q_i / p_i)`` with ``p`` the reference's
    proportions and ``q`` the current window's; an empty bin's proportion is
    replaced by :data:`PSI_EPSILON`.

    Parameters
    ----------
    ref_counts, cur_counts : ndarray of int, shape (n_bins,)
        Counts per bin (or category); each sums to a positive number.

    Returns
    -------
    float
        The PSI, ``>= 0``.

    References
    ----------
    .. [1] B. Yurdakul, "Statistical properties of population stability index",
       PhD thesis, Western Michigan University (2018).

    Examples
    --------
    >>> round(psi(np.array([50, 50]), np.array([25, 75])), 6)
    0.274653
    """
    p = ref_counts / ref_counts.sum()
    q = cur_counts / cur_counts.sum()
    p = np.where(p == 0, PSI_EPSILON, p)
    q = np.where(q == 0, PSI_EPSILON, q)
    return float(np.sum((q - p) * np.log(q / p)))


def js_distance(ref_counts: IntArray, cur_counts: IntArray) -> float:
    """The Jensen–Shannon distance (base 2, in [0, 1]) of two count vectors.

    Parameters
    ----------
    ref_counts, cur_counts : ndarray of int, shape (n_bins,)
        Counts per bin (or category); each sums to a positive number.

    Returns
    -------
    float
        The square root of the Jensen–Shannon divergence in bits.

    References
    ----------
    .. [1] D. M. Endres, J. E. Schindelin, "A new metric for probability
       distributions", IEEE Trans. Inf. Theory 49 (2003) 1858-1860.

    Examples
    --------
    >>> js_distance(np.array([1, 0]), np.array([0, 1]))
    1.0
    """
    p = ref_counts / np.sum(ref_counts)
    q = cur_counts / np.sum(cur_counts)
    m = (p + q) / 2.0
    js = np.sum(special.rel_entr(p, m)) + np.sum(special.rel_entr(q, m))
    js /= np.log(2.0)
    return float(np.sqrt(js / 2.0))


def chi2_homogeneity(ref_counts: IntArray, cur_counts: IntArray) -> tuple[float, int, float, float]:
    """Pearson's chi-square test that two windows share one categorical distribution.

    The 2 x k contingency table ``[ref_counts, cur_counts]`` without continuity
    correction; columns empty in both windows are dropped first.

    Parameters
    ----------
    ref_counts, cur_counts : ndarray of int, shape (k,)
        Counts per category; each sums to a positive number.

    Returns
    -------
    statistic : float
        The chi-square statistic.
    dof : int
        Its degrees of freedom, ``k - 1`` over the non-empty columns.
    p_value : float
        The upper tail probability; 1 when ``dof == 0``.
    cramers_v : float
        Cramér's V, ``sqrt(statistic / n)`` for two rows; 0 when ``dof == 0``.

    References
    ----------
    .. [1] H. Cramér, *Mathematical Methods of Statistics*, Princeton (1946), 282.

    Examples
    --------
    >>> stat, dof, p, v = chi2_homogeneity(np.array([30, 20]), np.array([20, 30]))
    >>> round(stat, 6), dof, round(p, 6), round(v, 6)
    (4.0, 1, 0.0455, 0.2)
    """
    table = np.stack((ref_counts, cur_counts)).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    dof = table.shape[1] - 1
    if dof == 0:
        return 0.0, 0, 1.0, 0.0
    n = table.sum()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    statistic = float(np.sum((table - expected) ** 2 / expected))
    p_value = float(special.chdtrc(dof, statistic))
    return statistic, dof, p_value, float(np.sqrt(statistic / n))

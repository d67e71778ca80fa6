"""Normalised mutual information between a group and a categorical output, with intervals.

For a categorical output (several classes, e.g. "approve", "refer", "decline")
the association of one protected group (against the rest of a context) with
the output is measured by the mutual information of the two, normalised by
the smaller of their entropies as FairTest does, so 0 means independence and
1 means one determines the other. With explanatory strata the mutual
information is conditional on the stratum, ``I(G; Y | E)``.

* **Test**: the likelihood-ratio (G) test of independence, summed over strata;
  where an expected cell count is below 5, an exact conditional test by Monte
  Carlo (tables drawn with the observed margins, seeded).
* **Interval**: ``G = 2 N I`` (in nats) is close to a noncentral chi-square
  with noncentrality ``2 N I``; inverting its distribution function gives the
  interval of ``I``, which is divided by the (fixed) normalising entropy. It
  ends at 0 when the test does not reject, unlike a normal interval.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

from seawall.associations._effects import EXACT_BELOW, Effect

__all__ = ["information_effect"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

#: Tables drawn for each Monte Carlo exact test.
N_DRAWS = 1999
#: Hypotheses whose tables are drawn at once (memory of N_DRAWS x this).
_BLOCK = 256


def _xlogx_ratio(obs: FloatArray, exp: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(obs > 0, obs * np.log(obs / exp), 0.0)


def _entropy(counts: FloatArray, axis: int) -> FloatArray:
    """Entropy (nats) of the distribution of ``counts`` along ``axis``."""
    total = counts.sum(axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = counts / total
        h = np.where(p > 0, -p * np.log(p), 0.0).sum(axis=axis)
    return np.where(total.squeeze(axis) > 0, h, 0.0)


def _g_statistic(c1: FloatArray, c2: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """G, degrees of freedom and the smallest expected count, per table (summed over strata).

    ``c1``, ``c2`` have shape (..., n_strata, K): the class counts of the two
    rows of each stratum's 2 x K table.
    """
    r1, r2 = c1.sum(axis=-1, keepdims=True), c2.sum(axis=-1, keepdims=True)
    col = c1 + c2
    n = r1 + r2
    with np.errstate(divide="ignore", invalid="ignore"):
        e1, e2 = r1 * col / n, r2 * col / n
    g = 2.0 * (_xlogx_ratio(c1, e1) + _xlogx_ratio(c2, e2)).sum(axis=-1)
    live_cols = (col > 0).sum(axis=-1)
    both_rows = (r1[..., 0] > 0) & (r2[..., 0] > 0)
    df = np.where(both_rows, np.maximum(live_cols - 1, 0), 0)
    exp = np.where(col > 0, np.minimum(e1, e2), np.inf)
    smallest = np.where(df > 0, exp.min(axis=-1), np.inf)
    return g.sum(axis=-1), df.sum(axis=-1).astype(np.float64), smallest.min(axis=-1)


def _monte_carlo_p(
    c1: FloatArray, c2: FloatArray, g_obs: FloatArray, rng: np.random.Generator
) -> FloatArray:
    """Exact conditional p-values by drawing tables with the observed margins.

    Within each stratum the first row's counts given both margins are
    multivariate hypergeometric, drawn class by class from univariate
    hypergeometric draws (for all hypotheses and draws at once).
    """
    m, n_strata, k = c1.shape
    out = np.empty(m)
    for start in range(0, m, _BLOCK):
        sl = slice(start, min(start + _BLOCK, m))
        b1, b2 = c1[sl], c2[sl]
        size = (b1.shape[0], N_DRAWS)
        g = np.zeros(size)
        for s in range(n_strata):
            col = np.round(b1[:, s] + b2[:, s]).astype(np.int64)
            left = np.round(b1[:, s].sum(axis=1)).astype(np.int64)[:, None] * np.ones(
                size, dtype=np.int64
            )
            remaining = col[:, ::-1].cumsum(axis=1)[:, ::-1]
            draws1 = np.empty((*size, k))
            for j in range(k):
                good = np.broadcast_to(col[:, j, None], size)
                bad = np.broadcast_to((remaining[:, j] - col[:, j])[:, None], size)
                x = np.where(
                    good + bad > 0, rng.hypergeometric(good, bad, np.minimum(left, good + bad)), 0
                )
                draws1[..., j] = x
                left = left - x
            d1 = draws1[:, :, None, :]
            d2 = (col[:, None, :] - draws1)[:, :, None, :]
            g += _g_statistic(d1, d2)[0]
        # Ties within rounding count as at least as extreme.
        hits = (g >= g_obs[sl, None] * (1.0 - 1e-9) - 1e-9).sum(axis=1)
        out[sl] = (1.0 + hits) / (1.0 + N_DRAWS)
    return out


def information_effect(
    counts1: npt.ArrayLike,
    counts2: npt.ArrayLike,
    *,
    confidence_level: float | FloatArray = 0.95,
    random_state: int = 0,
) -> Effect:
    """Normalised mutual information between side and class, per hypothesis.

    Parameters
    ----------
    counts1, counts2 : array-like of float, shape (m, n_strata, K)
        Class counts of the two sides (a group and the rest of its context) in
        each stratum.
    confidence_level : float or ndarray of shape (m,), default=0.95
        The level of the intervals.
    random_state : int, default=0
        The seed of the Monte Carlo exact tests.

    Returns
    -------
    Effect
        ``difference`` holds the normalised mutual information and its
        interval; ``first`` and ``second`` the two sides' rates of the class
        whose rate differs most (``category``), averaged over strata with
        Mantel-Haenszel weights; ratios are NaN.

    References
    ----------
    .. [1] F. Tramèr et al., "FairTest: discovering unwarranted associations in
       data-driven applications", IEEE EuroS&P 2017 (the normalisation).
    .. [2] T. M. Cover, J. A. Thomas, "Elements of Information Theory", 2nd ed.,
       Wiley 2006, §11.8 (G = 2N I).

    Examples
    --------
    >>> group_b = [[[40, 40, 20]]]   # approve, refer, decline
    >>> rest = [[[300, 150, 50]]]
    >>> e = information_effect(group_b, rest)
    >>> round(float(e.difference[0]), 4), int(e.category[0]), round(float(e.p_value[0]), 5)
    (0.0278, 0, 0.00054)
    """
    c1 = np.asarray(counts1, dtype=np.float64)
    c2 = np.asarray(counts2, dtype=np.float64)
    if c1.ndim != 3 or c1.shape != c2.shape:
        raise ValueError("counts1 and counts2 must have the same shape (m, n_strata, K)")
    m = c1.shape[0]
    g, df, smallest = _g_statistic(c1, c2)
    n_s = (c1 + c2).sum(axis=-1)
    n = n_s.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = n_s / n[:, None]
        h_side = (w * _entropy(np.stack([c1.sum(-1), c2.sum(-1)], axis=-1), axis=-1)).sum(-1)
        h_class = (w * _entropy(c1 + c2, axis=-1)).sum(-1)
        norm = np.minimum(h_side, h_class)
        scale = 1.0 / (2.0 * n * norm)
        nmi = np.where(norm > 0, g * scale, 0.0)
    level = np.broadcast_to(np.asarray(confidence_level, dtype=np.float64), (m,))
    tail = (1.0 - level) / 2.0
    live = (df > 0) & (norm > 0)
    gl, dfl = np.where(live, g, 1.0), np.where(live, df, 1.0)
    p = np.where(live, special.chdtrc(dfl, gl), 1.0)
    exact = live & (smallest < EXACT_BELOW)
    if exact.any():
        p[exact] = _monte_carlo_p(
            c1[exact], c2[exact], g[exact], np.random.default_rng(random_state)
        )
    # The noncentrality 2 N I at which G sits at each tail of its distribution.
    lam_lo = np.where(
        live & (special.chdtr(dfl, gl) > 1.0 - tail),
        special.chndtrinc(gl, dfl, 1.0 - tail),
        0.0,
    )
    lam_hi = np.where(live, special.chndtrinc(gl, dfl, tail), 0.0)
    lower = np.where(live, lam_lo * scale, 0.0)
    upper = np.where(live, np.minimum(lam_hi * scale, 1.0), 0.0)
    nmi = np.minimum(nmi, 1.0)
    # The class whose rate differs most between the sides, Mantel-Haenszel weighted.
    r1, r2 = c1.sum(-1), c2.sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mh = np.where((r1 > 0) & (r2 > 0), r1 * r2 / (r1 + r2), 0.0)
        wsum = mh.sum(-1, keepdims=True)
        rate1 = (mh[..., None] * c1 / r1[..., None]).sum(1) / wsum
        rate2 = (mh[..., None] * c2 / r2[..., None]).sum(1) / wsum
    gap = np.nan_to_num(np.abs(rate1 - rate2), nan=-1.0)
    category = gap.argmax(axis=1).astype(np.intp)
    rows = np.arange(m)
    nan = np.full(m, np.nan)
    valid = (r1.sum(-1) > 0) & (r2.sum(-1) > 0)
    return Effect(
        rate1[rows, category],
        rate2[rows, category],
        np.where(valid, nmi, np.nan),
        np.where(valid, lower, np.nan),
        np.where(valid, upper, np.nan),
        nan,
        nan.copy(),
        nan.copy(),
        np.where(valid, p, np.nan),
        exact,
        category,
    )

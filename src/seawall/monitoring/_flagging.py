"""``flag_anomalies``: from calibrated scores to flagged steps, one evidence level per series.

Why not just ``scores >= threshold``
------------------------------------
A calibrated score is ``1 - p`` where ``p`` is a conformal tail probability
estimated from the series' own recent residuals (a few hundred of them), so the
smallest ``p`` read from the counts is about ``1 / (n + 1)``; beyond, ``p`` comes
from a tail fitted per series, which ranks extremes but resolves thresholds such
as 0.999 coarsely. Lowering the threshold instead floods a fleet with false alarms
(0.99 flags 1% of all steps). Anomalies that matter in a fleet last, though, and
several consecutive unusual steps are much stronger evidence than any one of them.

The rule
--------
Steps whose score is at least ``run_level`` form candidate runs. Within a run, the
evidence of its first ``k`` steps is combined by Fisher's method,
``X = -2 sum(log p_j)``, which is chi-square with ``2k`` degrees of freedom when
the ``p_j`` are independent uniform tail probabilities; the run's combined tail
probability is ``P(chi2_2k >= X)``. A step is flagged once its run's combined
probability has fallen to ``1 - threshold`` (and for the rest of that run). The
rule is causal (a flag at step ``t`` uses steps ``<= t`` only), it is the plain
rule ``scores >= threshold`` when ``run_level >= threshold``, and on a normal
series (independent uniform ``p``) the share of flagged steps stays of the order
of ``1 - threshold``.

References
----------
.. [1] R. A. Fisher, "Statistical Methods for Research Workers", 4th ed., 1932,
   section 21.1 (combining independent tests).
.. [2] Vovk, Gammerman and Shafer, "Algorithmic Learning in a Random World",
   Springer, 2005 (conformal p-values).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from seawall._validation import check_real, param_error
from seawall.monitoring._inputs import to_matrix
from seawall.monitoring._runs import run_index

__all__ = ["flag_anomalies", "series_levels"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def series_levels(threshold: object, n_series: int, caller: str) -> FloatArray:
    """Check a threshold: one float in (0, 1) for all series, or one per series.

    Parameters
    ----------
    threshold : float or array-like of float, shape (n_series,)
        The score each series must reach.
    n_series : int
        The number of series.
    caller : str
        Used in error messages.

    Returns
    -------
    ndarray of float64, shape (n_series,)
        The thresholds.

    Raises
    ------
    InvalidParameterError
        When a value is outside (0, 1) or the length is wrong.

    Examples
    --------
    >>> series_levels(0.999, 2, "flag_anomalies").tolist()
    [0.999, 0.999]
    """
    if not isinstance(threshold, Sequence | np.ndarray | pd.Series):
        t = check_real(threshold, "threshold", caller, low=0, high=1, low_open=True, high_open=True)
        return np.full(n_series, t)
    try:
        arr = np.asarray(threshold, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as e:
        raise param_error("threshold", caller, "a float or one float per series", threshold) from e
    if arr.size != n_series or not ((arr > 0) & (arr < 1)).all():
        raise param_error(
            "threshold",
            caller,
            f"a float in (0, 1) or {n_series} of them (one per series)",
            f"an array of {arr.size} values in [{arr.min():.3g}, {arr.max():.3g}]",
        )
    return arr


def flag_anomalies(
    scores: object,
    *,
    threshold: float | npt.ArrayLike = 0.999,
    run_level: float | None = 0.99,
) -> BoolArray:
    """Flag the steps whose run of unusual scores is improbable at level ``threshold``.

    See :mod:`seawall.monitoring._flagging` for why a run's evidence is combined.

    Parameters
    ----------
    scores : array-like of shape (n_series, n_steps)
        Calibrated scores in [0, 1] (``Detection.scores``); NaN is never flagged
        and ends a run.
    threshold : float or array-like of shape (n_series,), default=0.999
        A run is flagged once its combined tail probability is at most
        ``1 - threshold``; one value per series lets feedback raise the bar of
        some series (:func:`~seawall.monitoring._feedback.series_thresholds`).
    run_level : float or None, default=0.99
        The score a step needs to extend a run, in (0, 1). ``None`` (or a value at
        least ``threshold``) gives the plain rule ``scores >= threshold``.

    Returns
    -------
    ndarray of bool, shape (n_series, n_steps)
        The flagged steps.

    Raises
    ------
    DataValidationError
        When ``scores`` is not a numeric matrix.
    InvalidParameterError
        When ``threshold`` or ``run_level`` is outside (0, 1).

    See Also
    --------
    seawall.monitoring.detect : the calibrated scores.
    group_incidents : groups the flagged runs into incidents.

    References
    ----------
    .. [1] R. A. Fisher, "Statistical Methods for Research Workers", 1932.

    Examples
    --------
    Two steps at ``p = 0.005`` combine to about ``6e-4``; one step at ``p = 0.002``
    alone does not reach ``1e-3``:

    >>> s = np.array([[0.5, 0.995, 0.995, 0.3, 0.998, 0.2]])
    >>> flag_anomalies(s).astype(int).tolist()
    [[0, 0, 1, 0, 0, 0]]
    >>> flag_anomalies(s, run_level=None).astype(int).tolist()
    [[0, 0, 0, 0, 0, 0]]
    """
    caller = "flag_anomalies"
    S = to_matrix(scores, "scores", caller)
    levels = series_levels(threshold, S.shape[0], caller)
    if run_level is None:
        return np.asarray(np.nan_to_num(S, nan=-1.0) >= levels[:, None], dtype=bool)
    q = check_real(run_level, "run_level", caller, low=0, high=1, low_open=True, high_open=True)
    cand = np.nan_to_num(S, nan=-1.0) >= np.minimum(q, levels)[:, None]
    alpha = 1.0 - levels
    rows, cols = np.nonzero(cand)
    if rows.size == 0:
        return cand
    start = run_index(cand)[rows, cols]
    # Fisher's statistic of each run's steps so far: a cumulative sum of -2 log p
    # that restarts at every run (the cumulative sum before the run is subtracted).
    logp = np.zeros(S.shape)
    logp[rows, cols] = -2.0 * np.log(np.maximum(1.0 - S[rows, cols], 1e-300))
    csum = np.cumsum(logp, axis=1)
    before = csum[rows, start] - logp[rows, start]
    stat = csum[rows, cols] - before
    k = cols - start + 1
    combined = stats.chi2.sf(stat, 2 * k)
    cross = np.zeros(S.shape, dtype=np.int64)
    cross[rows, cols] = combined <= alpha[rows]
    ccum = np.cumsum(cross, axis=1)
    crossed = ccum[rows, cols] - (ccum[rows, start] - cross[rows, start])
    out = np.zeros(S.shape, dtype=bool)
    out[rows, cols] = crossed > 0
    return out

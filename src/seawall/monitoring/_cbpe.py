"""Label-free estimated accuracy: confidence-based performance estimation (CBPE).

If a score ``p`` is the calibrated probability that a row is positive, a
decision is right with probability ``c = p`` when it is positive and ``c = 1 - p``
when it is negative, so a window's expected accuracy is the mean of ``c`` and
its number of right decisions is Poisson-binomial with variance
``sum c (1 - c)``. The interval ``mean(c) +- z sqrt(sum c (1 - c)) / n`` is
therefore where the window's *realised* accuracy should fall, before any label
arrives. It holds only for calibrated scores: miscalibrated scores bias the
estimate (overconfident scores overstate accuracy), which an isotonic map
learned on the reference's labelled rows corrects as long as the
miscalibration is the same after the reference as in it. Neither corrects a
change in the relation between features and labels (concept drift).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from seawall.exceptions import InsufficientDataError
from seawall.monitoring._drift_sketch import read_only
from seawall.monitoring._points import PointsBuilder, masked
from seawall.monitoring._window_state import WindowState

__all__ = ["cbpe_points", "expected_sums", "fit_calibration"]

FloatArray = npt.NDArray[np.float64]
IdxArray = npt.NDArray[np.intp]


def fit_calibration(
    scores: FloatArray, label: FloatArray, model: str, caller: str
) -> tuple[FloatArray, FloatArray]:
    """Isotonic regression of label on score over a reference's labelled scored rows.

    Parameters
    ----------
    scores, label : ndarray of float64, shape (n,)
        Scores (NaN: unscored) and labels (NaN: unlabelled).
    model : str
        The model, for messages.
    caller : str
        Used in messages.

    Returns
    -------
    x, y : ndarray of float64
        The map's knots, applied as ``np.interp(score, x, y)`` (which is what
        ``IsotonicRegression(out_of_bounds="clip").predict`` does).

    Raises
    ------
    InsufficientDataError
        When the reference lacks labelled scored rows of both classes.

    References
    ----------
    .. [1] B. Zadrozny, C. Elkan, "Transforming classifier scores into accurate
       multiclass probability estimates", KDD 2002.

    Examples
    --------
    >>> x, y = fit_calibration(np.array([0.1, 0.4, 0.6, 0.9]),
    ...                        np.array([0.0, 1.0, 0.0, 1.0]), "m", "f")
    >>> np.interp([0.1, 0.5, 0.9], x, y).tolist()
    [0.0, 0.5, 1.0]
    """
    from sklearn.isotonic import IsotonicRegression

    ok = ~np.isnan(scores) & ~np.isnan(label)
    s, y = scores[ok], label[ok]
    if s.size < 2 or y.min(initial=1.0) == y.max(initial=0.0):
        raise InsufficientDataError(
            f"calibration='isotonic' passed to {caller} needs labelled scored reference rows "
            f"of both classes, but model {model!r} has {s.size} labelled scored reference "
            f"row(s) with classes {sorted(set(y.tolist()))}; widen the reference or pass "
            f"calibration='none'."
        )
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(s, y)
    x = np.asarray(iso.X_thresholds_, dtype=np.float64)
    return x, np.asarray(iso.y_thresholds_, dtype=np.float64)


def expected_sums(
    state: IdxArray, prob: FloatArray, pred: npt.NDArray[np.int8], n_states: int
) -> FloatArray:
    """Per state: scored rows, ``sum c`` and ``sum c (1 - c)``, ``c`` = P(decision right).

    Parameters
    ----------
    state : ndarray of intp, shape (n,)
        Each row's state.
    prob : ndarray of float64, shape (n,)
        The (calibrated) probability of the positive class; NaN: unscored.
    pred : ndarray of int8, shape (n,)
        The decisions.
    n_states : int
        The number of states.

    Returns
    -------
    ndarray of float64, shape (n_states, 3)
        Read-only.

    Examples
    --------
    >>> expected_sums(np.array([0, 0, 1]), np.array([0.9, 0.2, np.nan]),
    ...               np.array([1, 0, 1], dtype=np.int8), 2).round(2).tolist()
    [[2.0, 1.7, 0.25], [0.0, 0.0, 0.0]]
    """
    ok = ~np.isnan(prob)
    c = np.where(pred[ok] == 1, prob[ok], 1.0 - prob[ok])
    sums = [
        np.bincount(state[ok], minlength=n_states).astype(np.float64),
        np.bincount(state[ok], weights=c, minlength=n_states),
        np.bincount(state[ok], weights=c * (1.0 - c), minlength=n_states),
    ]
    return read_only(np.stack(sums, axis=1))


def cbpe_points(builder: PointsBuilder, states: list[WindowState], z: float, min_rows: int) -> None:
    """Add each window's estimated accuracy (``cbpe_accuracy``) over its scored rows.

    Parameters
    ----------
    builder : PointsBuilder
        Where the points go.
    states : list of WindowState
        The windows (with scores), in the builder's order.
    z : float
        The interval's normal quantile.
    min_rows : int
        Windows with fewer scored rows get NaN.

    References
    ----------
    .. [1] NannyML, "Confidence-based performance estimation (CBPE)",
       https://nannyml.readthedocs.io (2022).
    .. [2] Y. H. Wang, "On the number of successes in independent trials",
       Statistica Sinica 3 (1993) 295-312 (the Poisson-binomial distribution).
    """
    sums = np.stack([s.expected for s in states if s.expected is not None])
    n = sums[:, 0].astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = sums[:, 1] / sums[:, 0]
        half = z * np.sqrt(sums[:, 2]) / sums[:, 0]
    lo, hi = np.clip(value - half, 0.0, 1.0), np.clip(value + half, 0.0, 1.0)
    small = n < max(min_rows, 1)
    idx = np.arange(len(states), dtype=np.intp)
    builder.add("cbpe_accuracy", "", idx, *masked(~small, value, lo, hi), n)

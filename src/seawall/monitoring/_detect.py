"""``detect``: seasonal baselines and calibrated anomaly scores for many series at once."""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from seawall._validation import check_real
from seawall.exceptions import InsufficientDataError
from seawall.monitoring._inputs import Smoothing, to_matrix
from seawall.monitoring._result import Detection
from seawall.monitoring._stream import MIN_OBSERVED, MIN_WARMUP, Ticker, start

__all__ = ["MIN_WARMUP", "MIN_OBSERVED", "detect"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def detect(
    values: object,
    *,
    period: Literal["auto"] | int | npt.ArrayLike | None = "auto",
    warmup: int | None = None,
    level_rate: float = 0.05,
    season_rate: float = 0.15,
    scale_rate: float = 0.01,
    clip: float = 2.0,
) -> Detection:
    """Score every step of every series by how unusual it is, causally and calibrated.

    The first ``warmup`` steps are for learning and are not scored: the period is
    detected on all of them (:func:`detect_period`), the robust starting state
    (level, seasonal slots, scale) is fitted on their first half, and the second
    half's out-of-sample residuals seed each series' residual distribution. From
    then on a robust Holt–Winters recursion (:mod:`seawall.monitoring._baseline`)
    gives each step a baseline and scale from the steps before it, and the score is
    one minus the tail probability of the step's standardised residual under the
    series' own past residuals (:mod:`seawall.monitoring._score`). Every score at
    step ``t`` depends only on steps ``<= t``: ``detect`` is a loop of the same
    one-step kernel that :class:`~seawall.monitoring._stream.StreamingDetector`
    runs per arriving step, so the two give identical scores.

    Parameters
    ----------
    values : array-like of shape (n_series, n_steps)
        One series per row, equally spaced steps; NaN marks a missing value (its
        score is NaN and the state carries over it unchanged).
    period : {"auto", None}, int or array-like of int of shape (n_series,), default="auto"
        The seasonal period in steps. ``"auto"`` (or ``None``) detects it per
        series from the warm-up; ``1`` means no season. At most ``warmup // 2``.
    warmup : int or None, default=None
        The learning steps; ``None`` means ``max(n_steps // 3, 16)``. At least 16.
    level_rate : float, default=0.05
        Smoothing rate of the level, in (0, 1).
    season_rate : float, default=0.15
        Smoothing rate of a seasonal slot per visit, in [0, 1).
    scale_rate : float, default=0.01
        Smoothing rate of the robust scale, in (0, 1).
    clip : float, default=2.0
        Residuals beyond ``clip`` scales are clipped before they update the state
        (Huber's constant), in (0, inf).

    Returns
    -------
    Detection
        Scores, baselines, scales, periods, the warm-up mask and, per series, the
        reason it could not be learned (a bad series never stops the others).

    Raises
    ------
    DataValidationError
        When ``values`` is not a finite-or-NaN numeric matrix (e.g. 1-D).
    InsufficientDataError
        When the matrix has fewer than ``2 * 16`` steps (too short to learn from).
    InvalidParameterError
        When a parameter is out of range, or a period exceeds ``warmup // 2``.

    Notes
    -----
    A series whose first half of warm-up has fewer than 8 observed values (e.g. an
    all-missing series) gets NaN scores, baselines and scales, period 0 and a
    reason. A constant warm-up gets a tiny floor scale: staying constant scores 0,
    and the first change scores as high as its past allows.

    See Also
    --------
    detect_period : the period detector used when ``period="auto"``.

    References
    ----------
    .. [1] Gelper, Fried and Croux, "Robust forecasting with exponential and
       Holt-Winters smoothing", Journal of Forecasting 29(3), 2010.
    .. [2] Vovk, Gammerman and Shafer, "Algorithmic Learning in a Random World",
       Springer, 2005.

    Examples
    --------
    >>> import numpy as np
    >>> from seawall.monitoring import detect
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(600)
    >>> X = 10 + np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.1, (3, 600))
    >>> X[1, 500] += 3.0                      # a spike
    >>> res = detect(X)
    >>> res.periods.tolist()
    [24, 24, 24]
    >>> bool(res.scores[1, 500] > 0.99), bool(np.isnan(res.scores[1, 0]))
    (True, True)
    """
    caller = "detect"
    X = to_matrix(values, "values", caller)
    n_series, n_steps = X.shape
    if n_steps < 2 * MIN_WARMUP:
        raise InsufficientDataError(
            f"values passed to {caller} has {n_steps} steps; at least {2 * MIN_WARMUP} are "
            f"needed to learn a baseline and then score. Pass a longer history."
        )
    if warmup is None:
        n_warm = max(n_steps // 3, MIN_WARMUP)
    else:
        n_warm = int(
            check_real(warmup, "warmup", caller, low=MIN_WARMUP, high=n_steps, integer=True)
        )
    smoothing = Smoothing.check(level_rate, season_rate, scale_rate, clip, caller)
    state, reasons, _ = start(X[:, :n_warm], period, caller, smoothing)
    bad = ~state.learned
    if bad.any():  # series that cannot be learned run as zeros (NaN results)
        X = X.copy()
        X[bad] = 0.0

    # The same tick as the stream, time-major: every step reads contiguous rows.
    ticker = Ticker(state, smoothing)
    Xt = X.T.copy()
    missing = np.isnan(Xt)
    any_missing: BoolArray = np.asarray(missing.any(axis=1), dtype=bool)
    score_t = np.empty((n_steps, n_series))
    base_t = np.empty((n_steps, n_series))
    scale_t = np.empty((n_steps, n_series))
    for t in range(n_steps):
        scale_t[t] = state.scale  # the scale in force at step t
        ticker.tick(Xt[t], missing[t] if any_missing[t] else None, score_t[t], base_t[t])
    score_t[:n_warm] = np.nan
    scores, baselines, scales = (np.ascontiguousarray(m.T) for m in (score_t, base_t, scale_t))
    for arr in (scores, baselines, scales):
        arr[bad] = np.nan
    periods = np.where(bad, 0, state.periods)
    warm = np.broadcast_to(np.arange(n_steps) < n_warm, X.shape).copy()
    periods.setflags(write=False)
    for arr in (scores, baselines, scales, warm):
        arr.setflags(write=False)
    return Detection(
        scores=scores,
        baselines=baselines,
        scales=scales,
        periods=periods,
        warmup=warm,
        reasons=reasons,
    )

"""Streaming anomaly scores: the state of :func:`~seawall.monitoring.detect`, one tick at a time.

The batch and the stream run the same code. :func:`start` learns the period and the
starting state from a warm-up block, and :class:`Ticker` advances the state by one
step for every series at once: :func:`~seawall.monitoring._baseline.baseline_step`
(baseline, residual, robust update) then
:func:`~seawall.monitoring._score.score_step` (calibrated score, counters), fused in
one pass. :func:`~seawall.monitoring.detect` is ``start`` plus a loop of
``Ticker.tick`` over the columns of the matrix; :class:`StreamingDetector` is the
same ``start`` plus the warm-up ticks, then one ``Ticker.tick`` per ``update``. The
scores are therefore bit-for-bit those of the batch.

The state per series is O(1): level, scale, scale floor and period (8 bytes each),
``max_period`` seasonal slots (float32), 18 counters (int32) and a flag, that is
``106 + 4 * max_period`` bytes: 778 bytes for weekly seasons of hourly data.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

import numpy as np
import numpy.typing as npt

from seawall._validation import check_real, param_error
from seawall.exceptions import DataValidationError
from seawall.monitoring._baseline import BaselineState, Rates, baseline_step, initial_state
from seawall.monitoring._inputs import Smoothing, to_matrix, to_periods
from seawall.monitoring._period import period_candidates
from seawall.monitoring._score import MEMORY, N_COUNTERS, log_table, score_step

__all__ = [
    "MIN_OBSERVED",
    "MIN_WARMUP",
    "StreamState",
    "StreamingDetector",
    "Ticker",
    "select_period",
    "start",
]

FloatArray = npt.NDArray[np.float64]
Float32Array = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]
Period = Literal["auto"] | int | npt.ArrayLike | None

#: The shortest warm-up (steps) that ``detect`` accepts.
MIN_WARMUP = 16
#: The fewest observed values a series needs in the first half of its warm-up.
MIN_OBSERVED = 8


@dataclass(frozen=True, slots=True)
class StreamState:
    """Everything a stream carries from one tick to the next (arrays updated in place).

    Attributes
    ----------
    level, scale, floor : ndarray of float64, shape (n_series,)
        The deseasonalised level, the robust scale and its floor.
    season : ndarray of float32, shape (n_series, max_period)
        The seasonal slots; a series with period ``P`` uses its first ``P``.
    periods : ndarray of int64, shape (n_series,)
        The period run by the recursion (``1`` for none and for unlearned series).
    counts : ndarray of int32, shape (n_series, 18)
        The survival counters of the calibrated score (int32: they overflow after
        2**31 counted steps, 68 years at one step per second).
    learned : ndarray of bool, shape (n_series,)
        Which series could be learned (the others score NaN).
    extreme : ndarray of bool, shape (n_series,)
        Whether the last counted step was extreme (see
        :func:`~seawall.monitoring._score.score_step`).
    step : ndarray of int64, shape ()
        The index of the next step since the start of the warm-up (its phase is
        ``step mod period``).
    n_init : ndarray of int64, shape ()
        The first step whose residual enters the score's counters.
    """

    level: FloatArray
    scale: FloatArray
    floor: FloatArray
    season: Float32Array
    periods: IntArray
    counts: Int32Array
    learned: BoolArray
    extreme: BoolArray
    step: IntArray
    n_init: IntArray

    def to_arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        """Copies of the state's arrays, by field name (for ``np.savez`` and the like).

        Returns
        -------
        dict of str to ndarray
            One entry per attribute; :meth:`from_arrays` rebuilds the state.

        Examples
        --------
        >>> st = StreamState.from_arrays(_tiny_state().to_arrays())
        >>> int(st.step), st.season.dtype.name
        (0, 'float32')
        """
        return {f.name: np.array(getattr(self, f.name), copy=True) for f in fields(self)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.ArrayLike]) -> StreamState:
        """Rebuild a state saved with :meth:`to_arrays` (the arrays are copied).

        Parameters
        ----------
        arrays : mapping of str to array-like
            The entries of :meth:`to_arrays`.

        Returns
        -------
        StreamState
            The state, with the dtypes the kernels expect.

        Raises
        ------
        DataValidationError
            When an entry is missing or the shapes do not agree.

        Examples
        --------
        >>> StreamState.from_arrays(_tiny_state().to_arrays()).counts.shape
        (1, 18)
        """
        dtypes: dict[str, type[np.generic]] = {
            "season": np.float32,
            "learned": np.bool_,
            "extreme": np.bool_,
        }
        dtypes |= {"periods": np.int64, "counts": np.int32, "step": np.int64, "n_init": np.int64}
        names = [f.name for f in fields(cls)]
        missing = [n for n in names if n not in arrays]
        if missing:
            raise DataValidationError(
                f"arrays passed to StreamState.from_arrays lacks {missing}; pass the "
                f"dict that StreamState.to_arrays returned."
            )
        got = {n: np.array(arrays[n], dtype=dtypes.get(n, np.float64), copy=True) for n in names}
        n = got["level"].shape
        per_series = [k for k in names if k not in ("step", "n_init")]
        if len(n) != 1 or any(got[k].shape[:1] != n for k in per_series):
            shapes = {k: got[k].shape for k in names}
            raise DataValidationError(
                f"arrays passed to StreamState.from_arrays must share one n_series; got "
                f"shapes {shapes!r}. Pass the dict that StreamState.to_arrays returned."
            )
        return cls(**got)

    def nbytes_per_series(self) -> float:
        """The memory the state takes per series, in bytes.

        Returns
        -------
        float
            The bytes of every per-series array, divided by the number of series.

        Examples
        --------
        >>> _tiny_state().nbytes_per_series()  # 4 float64/int64, 1 float32 slot, 18 int32, 2 bool
        110.0
        """
        total = sum(getattr(self, f.name).nbytes for f in fields(self))
        total -= self.step.nbytes + self.n_init.nbytes
        return float(total / self.level.shape[0])


def _tiny_state() -> StreamState:
    """A one-series state without season, for the doctests."""
    state, _, _ = start(np.zeros((1, 16)), 1, "example")
    return state


def start(
    X: FloatArray, period: Period, caller: str, smoothing: Smoothing | None = None
) -> tuple[StreamState, tuple[str, ...], FloatArray]:
    """Learn the periods and the starting state from a warm-up block.

    The period is detected on the whole block (or checked against it), the robust
    starting state fitted on its first half; series with fewer than 8 observed
    values there are set aside (a reason, NaN scores) and run as zeros so the
    kernels stay branch-free. The state is *before* the block's first step: the
    caller ticks through the block next.

    Parameters
    ----------
    X : ndarray of float64, shape (n_series, n_warm)
        The warm-up block, checked by :func:`~seawall.monitoring._inputs.to_matrix`;
        ``n_warm >= 16``.
    period : {"auto", None}, int or array-like of int of shape (n_series,)
        As in :func:`~seawall.monitoring.detect`.
    caller : str
        Used in error messages.
    smoothing : Smoothing or None, default=None
        The recursion's parameters, used to compare candidate periods when
        ``period="auto"``; ``None`` means the defaults of
        :func:`~seawall.monitoring.detect`.

    Returns
    -------
    state : StreamState
        The state before step 0.
    reasons : tuple of str
        Why each series could not be learned (``""`` when it was).
    X : ndarray of float64, shape (n_series, n_warm)
        The block as the kernels see it (unlearned series as zeros; a copy then).

    Raises
    ------
    InvalidParameterError
        When a period is invalid or exceeds ``n_warm // 2``.

    Examples
    --------
    >>> state, reasons, _ = start(np.tile([0.0, 1.0], (2, 10)), 2, "example")
    >>> state.periods.tolist(), state.season.tolist(), int(state.n_init)
    ([2, 2], [[-0.5, 0.5], [-0.5, 0.5]], 10)
    """
    n_series, n_warm = X.shape
    n_init = (n_warm + 1) // 2
    n_obs = (~np.isnan(X[:, :n_init])).sum(axis=1)
    bad = n_obs < MIN_OBSERVED
    reasons = ["" for _ in range(n_series)]
    for i in np.flatnonzero(bad):
        if np.isnan(X[i]).all():
            reasons[i] = "all values are missing"
        else:
            reasons[i] = (
                f"only {int(n_obs[i])} observed values in the first {n_init} steps "
                f"(half the warm-up); at least {MIN_OBSERVED} are needed to learn a baseline"
            )
    if bad.any():
        X = X.copy()
        X[bad] = 0.0
    if period is None or (isinstance(period, str) and period == "auto"):
        cands = period_candidates(X, min_period=2, max_period=n_warm // 2, min_acf=0.2)
        periods = select_period(X, cands, smoothing or Smoothing())
    else:
        periods = to_periods(period, n_series, caller)
        if periods.max() > n_warm // 2:
            raise param_error(
                "period",
                caller,
                f"at most warmup // 2 = {n_warm // 2} (a season must repeat in the warm-up; "
                f"raise warmup)",
                int(periods.max()),
            )
    periods = np.where(bad, 1, periods).astype(np.int64)
    init = initial_state(X[:, :n_init], periods)
    state = StreamState(
        level=init.level,
        scale=init.scale,
        floor=init.floor,
        season=init.season,
        periods=periods,
        counts=np.zeros((n_series, N_COUNTERS), dtype=np.int32),
        learned=~bad,
        extreme=np.zeros(n_series, dtype=bool),
        step=np.array(0, dtype=np.int64),
        n_init=np.array(n_init, dtype=np.int64),
    )
    return state, tuple(reasons), X


def select_period(X: FloatArray, candidates: IntArray, smoothing: Smoothing) -> IntArray:
    """Per series, the candidate period whose recursion forecasts the warm-up best.

    Each candidate runs the robust recursion of
    :mod:`~seawall.monitoring._baseline` exactly as the detector will: its state is
    fitted on the first half of the warm-up block, then it forecasts the second
    half one step ahead (and learns from it). The candidate with the smallest mean
    absolute forecast error wins (ties go to the earlier column: no season, then
    the autocorrelation rule's choice). The distinct candidates of all series run
    as one matrix, so the cost is a few warm-ups, once.

    Parameters
    ----------
    X : ndarray of float64, shape (n_series, n_warm)
        The warm-up block, NaN where missing (series that cannot be learned are
        zeros here).
    candidates : ndarray of int64, shape (n_series, n_candidates)
        The periods to try per series (:func:`~seawall.monitoring._period.period_candidates`).
    smoothing : Smoothing
        The recursion's parameters.

    Returns
    -------
    ndarray of int64, shape (n_series,)
        The chosen period of each series.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(200)
    >>> X = np.sin(2 * np.pi * t / 10) + rng.normal(0, 0.1, (2, 200))
    >>> select_period(X, np.array([[1, 10, 7], [1, 1, 1]]), Smoothing()).tolist()
    [10, 1]
    """
    n_series, n_warm = X.shape
    cands = np.asarray(candidates, dtype=np.int64)
    n_cand = cands.shape[1]
    n_init = (n_warm + 1) // 2
    # Each distinct candidate of a series runs once: a column repeating an earlier
    # one (the rule's choice is often among the strongest lags) is skipped.
    fresh = np.ones(cands.shape, dtype=bool)
    for k in range(1, n_cand):
        fresh[:, k] = ~(cands[:, :k] == cands[:, k : k + 1]).any(axis=1)
    col, who = np.nonzero(fresh.T)  # run r is candidate col[r] of series who[r]
    periods = cands[who, col]
    fits = [
        initial_state(X[fresh[:, k], :n_init], cands[fresh[:, k], k])
        for k in range(n_cand)
        if fresh[:, k].any()
    ]
    p_max = max(f.season.shape[1] for f in fits)
    season = np.zeros((periods.size, p_max), dtype=np.float32)
    at = 0
    for f in fits:
        season[at : at + f.level.size, : f.season.shape[1]] = f.season
        at += f.level.size
    state = BaselineState(
        level=np.concatenate([f.level for f in fits]),
        season=season,
        scale=np.concatenate([f.scale for f in fits]),
        floor=np.concatenate([f.floor for f in fits]),
    )
    s = smoothing
    rates = Rates.make(periods.size, s.level_rate, s.season_rate, s.scale_rate, s.clip, periods)
    rows = np.arange(0, periods.size * p_max, p_max, dtype=np.int64)
    base, a = np.empty(periods.size), np.empty(periods.size)
    total, seen = np.zeros(periods.size), np.zeros(periods.size)
    for t in range(n_warm):
        x = X[who, t]
        miss = np.isnan(x)
        any_miss = bool(miss.any())
        if any_miss:
            x[miss] = 0.0
        slots = rows + np.remainder(t, periods)
        baseline_step(x, miss if any_miss else None, state, slots, rates, base, a)
        if t >= n_init:
            np.subtract(x, base, out=a)
            np.abs(a, out=a)
            if any_miss:
                a[miss] = 0.0
            total += a
            seen += ~miss
    with np.errstate(invalid="ignore", divide="ignore"):
        run_err = total / seen
    err = np.full(cands.shape, np.inf)
    err[who, col] = np.where(np.isfinite(run_err), run_err, np.inf)
    pick = np.argmin(err, axis=1)
    return np.asarray(candidates[np.arange(n_series), pick], dtype=np.int64)


class Ticker:
    """Advance a :class:`StreamState` by one step of every series: the shared kernel.

    Parameters
    ----------
    state : StreamState
        The state, updated in place by :meth:`tick`.
    smoothing : Smoothing
        The checked smoothing parameters.

    Examples
    --------
    >>> state, _, X = start(np.tile([0.0, 1.0], (1, 10)), 2, "example")
    >>> ticker = Ticker(state, Smoothing(0.05, 0.15, 0.01, 2.0))
    >>> score, base = np.empty(1), np.empty(1)
    >>> for x in X.T:
    ...     ticker.tick(x, None, score, base)
    >>> ticker.tick(np.array([5.0]), None, score, base)
    >>> base.tolist(), int(state.step)
    ([0.0], 21)
    """

    def __init__(self, state: StreamState, smoothing: Smoothing) -> None:
        self.state = state
        n_series, p_max = state.season.shape
        self._baseline = BaselineState(
            level=state.level, season=state.season, scale=state.scale, floor=state.floor
        )
        s = smoothing
        self._rates = Rates.make(
            n_series, s.level_rate, s.season_rate, s.scale_rate, s.clip, state.periods
        )
        rows = np.arange(0, n_series * p_max, p_max, dtype=np.int64)
        # The slot index, advanced by one and wrapped each tick (cheaper than a mod).
        self._slots = np.remainder(int(state.step), state.periods) + rows
        self._end = rows + state.periods
        self._wrap = np.empty(n_series, dtype=bool)
        self._log_n = log_table(64)
        self._a = np.empty(n_series)

    def tick(
        self,
        x: FloatArray,
        missing: BoolArray | None,
        score: FloatArray,
        base: FloatArray,
        *,
        learn: bool = True,
    ) -> None:
        """One step for every series: baseline, calibrated score, state update.

        The kernel assumes valid input (values finite or NaN, shapes matching).
        With ``learn=False`` it only scores: the state is left exactly as it was.

        Parameters
        ----------
        x : ndarray of float64, shape (n_series,)
            The step's values.
        missing : ndarray of bool, shape (n_series,), or None
            Where ``x`` is NaN (they score NaN and leave the state unchanged);
            ``None`` when nothing is missing.
        score : ndarray of float64, shape (n_series,)
            Output: the calibrated score ``1 - p``.
        base : ndarray of float64, shape (n_series,)
            Output: the one-step-ahead baseline.
        learn : bool, default=True
            Update the state with the step (``False``: score only).
        """
        st = self.state
        step = int(st.step)
        if self._log_n.shape[0] < step + 2:  # counts never exceed the steps so far
            self._log_n = log_table(2 * (step + 2))
        slots = self._slots
        baseline_step(x, missing, self._baseline, slots, self._rates, base, self._a, learn=learn)
        counted = step >= int(st.n_init)
        score_step(self._a, missing, st.counts, counted and learn, self._log_n, score, st.extreme)
        if not learn:
            return
        if counted and (step + 1 - int(st.n_init)) % MEMORY == 0:
            # Halve the counts every MEMORY counted steps: residuals from long ago
            # (an early, poorly converged baseline; a regime since left) fade out.
            np.right_shift(st.counts, 1, out=st.counts)
        st.step[...] = step + 1
        slots += 1
        np.greater_equal(slots, self._end, out=self._wrap)
        np.subtract(slots, st.periods, out=slots, where=self._wrap)


class StreamingDetector:
    """Score many series one step at a time, exactly as :func:`detect` would.

    Parameters
    ----------
    period : {"auto", None}, int or array-like of int of shape (n_series,), default="auto"
        The seasonal period in steps; ``"auto"`` detects it per series from the
        warm-up; at most ``n_warm // 2``.
    level_rate : float, default=0.05
        Smoothing rate of the level, in (0, 1).
    season_rate : float, default=0.15
        Smoothing rate of a seasonal slot per visit, in [0, 1).
    scale_rate : float, default=0.01
        Smoothing rate of the robust scale, in (0, 1).
    clip : float, default=2.0
        Residuals beyond ``clip`` scales are clipped before they update the state.

    Attributes
    ----------
    state_ : StreamState
        The state after the last step (save it with ``state_.to_arrays()``).
    periods_ : ndarray of int64, shape (n_series,)
        The period of each series (``0`` for a series that could not be learned).
    reasons_ : tuple of str
        Why a series could not be learned (``""`` when it was).

    See Also
    --------
    seawall.monitoring.detect : the batch form; ``detect(X, warmup=w).scores[:, t]``
        equals ``score(X[:, t])`` after ``fit(X[:, :w])`` and ``update`` with the
        steps before ``t``.

    Notes
    -----
    ``score`` is pure: the score of a step comes from the state before it, as in
    the batch; ``update`` then learns from the step. Anomalous steps move the
    state by at most ``clip`` scales times a small rate; a lasting level shift is
    the new normal after a few hundred steps (see :mod:`seawall.monitoring._baseline`).

    References
    ----------
    .. [1] Gelper, Fried and Croux, "Robust forecasting with exponential and
       Holt-Winters smoothing", Journal of Forecasting 29(3), 2010.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(600)
    >>> X = 10 + np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.1, (3, 600))
    >>> det = StreamingDetector().fit(X[:, :200])
    >>> det.periods_.tolist(), det.nbytes_per_series()
    ([24, 24, 24], 202.0)
    >>> x = X[:, 200].copy()
    >>> x[1] += 3.0                                  # a spike
    >>> x[2] = np.nan                                # a gap
    >>> s = det.score(x)
    >>> bool(s[1] > 0.99), bool(np.isnan(s[2]))
    (True, True)
    >>> det.update(x)                                # then learn from the step
    """

    def __init__(
        self,
        *,
        period: Period = "auto",
        level_rate: float = 0.05,
        season_rate: float = 0.15,
        scale_rate: float = 0.01,
        clip: float = 2.0,
    ) -> None:
        self.period = period
        self.level_rate = level_rate
        self.season_rate = season_rate
        self.scale_rate = scale_rate
        self.clip = clip

    def _smoothing(self) -> Smoothing:
        return Smoothing.check(
            self.level_rate, self.season_rate, self.scale_rate, self.clip, "StreamingDetector"
        )

    def fit(self, X: object) -> StreamingDetector:
        """Learn periods and state from a warm-up block, then run through it.

        Parameters
        ----------
        X : array-like of shape (n_series, n_warm)
            The warm-up, ``n_warm >= 16``; NaN marks a missing value. Its steps
            are not scored (the first half fits the state, the second seeds the
            residual distribution).

        Returns
        -------
        StreamingDetector
            ``self``.

        Raises
        ------
        DataValidationError
            When ``X`` is not a finite-or-NaN numeric matrix.
        InvalidParameterError
            When a parameter is out of range, or a period exceeds ``n_warm // 2``.
        """
        caller = "StreamingDetector.fit"
        smoothing = self._smoothing()
        W = to_matrix(X, "X", caller)
        check_real(W.shape[1], "n_warm (X.shape[1])", caller, low=MIN_WARMUP, integer=True)
        state, reasons, W = start(W, self.period, caller, smoothing)
        ticker = Ticker(state, smoothing)
        Wt = W.T.copy()
        missing = np.isnan(Wt)
        any_missing: BoolArray = np.asarray(missing.any(axis=1), dtype=bool)
        score, base = np.empty(W.shape[0]), np.empty(W.shape[0])
        for t in range(Wt.shape[0]):
            ticker.tick(Wt[t], missing[t] if any_missing[t] else None, score, base)
        self._set(ticker, reasons)
        return self

    def resume(self, state: StreamState) -> StreamingDetector:
        """Carry on from a saved state (e.g. ``StreamState.from_arrays(saved)``).

        Parameters
        ----------
        state : StreamState
            A state saved from a detector with the same parameters.

        Returns
        -------
        StreamingDetector
            ``self``, which continues exactly where the saved one stopped.
        """
        reasons = tuple("" if ok else "not learned" for ok in state.learned)
        self._set(Ticker(state, self._smoothing()), reasons)
        return self

    def _set(self, ticker: Ticker, reasons: tuple[str, ...]) -> None:
        self._ticker = ticker
        self.state_ = ticker.state
        self.periods_ = np.where(ticker.state.learned, ticker.state.periods, 0)
        self.reasons_ = reasons
        self._unlearned = ~ticker.state.learned if not ticker.state.learned.all() else None

    def _step(self, x: object, caller: str, *, learn: bool) -> FloatArray:
        """Check one step's values, then score it (and learn from it with ``learn``)."""
        ticker = self._fitted_ticker()
        n_series = ticker.state.level.shape[0]
        v = np.array(x, dtype=np.float64, copy=True)
        if v.shape != (n_series,):
            raise DataValidationError(
                f"x passed to StreamingDetector.{caller} must have shape ({n_series},), one "
                f"value per series; got shape {v.shape}."
            )
        if np.isinf(v).any():
            raise DataValidationError(
                f"x passed to StreamingDetector.{caller} holds infinite values (the first at "
                f"series {int(np.flatnonzero(np.isinf(v))[0])}); mark missing values with NaN."
            )
        if self._unlearned is not None:
            v[self._unlearned] = 0.0
        missing = np.isnan(v)
        score, base = np.empty(n_series), np.empty(n_series)
        ticker.tick(v, missing if missing.any() else None, score, base, learn=learn)
        if self._unlearned is not None:
            score[self._unlearned] = np.nan
        return score

    def score(self, x: object) -> FloatArray:
        """Score one step of every series against the current state (pure).

        Parameters
        ----------
        x : array-like of shape (n_series,)
            The step's values; NaN marks a missing value (its score is NaN).

        Returns
        -------
        ndarray of float64, shape (n_series,)
            The calibrated scores ``1 - p`` in [0, 1]; NaN at missing values and
            for series that could not be learned. The state does not change.

        Raises
        ------
        NotFittedError
            Before :meth:`fit` or :meth:`resume`.
        DataValidationError
            When ``x`` has the wrong shape or holds infinities.
        """
        return self._step(x, "score", learn=False)

    def update(self, x: object) -> None:
        """Learn one step of every series (advance the state).

        ``score(x)`` then ``update(x)``, step after step, gives exactly the scores
        of :func:`detect`.

        Parameters
        ----------
        x : array-like of shape (n_series,)
            The step's values; NaN marks a missing value (that series' state is
            unchanged).

        Raises
        ------
        NotFittedError
            Before :meth:`fit` or :meth:`resume`.
        DataValidationError
            When ``x`` has the wrong shape or holds infinities.
        """
        self._step(x, "update", learn=True)

    def score_many(self, X: object) -> FloatArray:
        """:meth:`score` of each column of ``X``, all against the current state (pure).

        Parameters
        ----------
        X : array-like of shape (n_series, n_steps)
            Candidate steps.

        Returns
        -------
        ndarray of float64, shape (n_series, n_steps)
            Column ``t`` is ``score(X[:, t])``.
        """
        M = self._matrix(X, "score_many")
        out = np.empty(M.shape)
        for t in range(M.shape[1]):
            out[:, t] = self._step(M[:, t], "score_many", learn=False)
        return out

    def update_many(self, X: object) -> None:
        """:meth:`update` with each column of ``X``, in order.

        Parameters
        ----------
        X : array-like of shape (n_series, n_steps)
            Consecutive steps.
        """
        M = self._matrix(X, "update_many")
        for t in range(M.shape[1]):
            self._step(M[:, t], "update_many", learn=True)

    def _matrix(self, X: object, caller: str) -> FloatArray:
        M = to_matrix(X, "X", f"StreamingDetector.{caller}")
        n_series = self._fitted_ticker().state.level.shape[0]
        if M.shape[0] != n_series:
            raise DataValidationError(
                f"X passed to StreamingDetector.{caller} has {M.shape[0]} series but the "
                f"detector has {n_series}; give one row per series."
            )
        return M

    def clone(self) -> StreamingDetector:
        """A new, unfitted detector with the same parameters.

        Returns
        -------
        StreamingDetector
            Without state: :meth:`fit` or :meth:`resume` it.
        """
        return StreamingDetector(
            period=self.period,
            level_rate=self.level_rate,
            season_rate=self.season_rate,
            scale_rate=self.scale_rate,
            clip=self.clip,
        )

    def nbytes_per_series(self) -> float:
        """The streaming state's memory per series, in bytes.

        Returns
        -------
        float
            See :meth:`StreamState.nbytes_per_series`; about ``106 + 4 * max_period``.

        Raises
        ------
        NotFittedError
            Before :meth:`fit` or :meth:`resume`.
        """
        return self._fitted_ticker().state.nbytes_per_series()

    def _fitted_ticker(self) -> Ticker:
        ticker: Ticker | None = getattr(self, "_ticker", None)
        if ticker is None:
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(
                "This StreamingDetector is not fitted yet; call fit(warmup_block) or "
                "resume(state) before score or update."
            )
        return ticker

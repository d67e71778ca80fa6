"""Onset scores: keep a score only where it is new evidence, not the echo of an anomaly.

A lasting anomaly (a level shift, a failing machine) scores high for many steps in
a row; a person wants one alert when it starts, and an evaluation such as NAB
counts every later step outside the labelled window as a false positive. The
onset score of a step is its calibrated score when that score is higher than every
score of the recent past, and 0 otherwise: the first step of an episode keeps its
score, its echoes drop to 0, and a step that is more unusual than anything recent
(the anomaly getting worse) still comes through.

"The recent past" is tracked in two blocks of ``hold // 2`` steps aligned on the
step index (the block before the current one and the current one up to the step
before), so the memory spans between ``hold // 2`` and ``hold`` steps with two
numbers of state per series; :func:`onset_scores` (batch) and
:class:`OnsetFilter` (one step at a time) compute exactly the same thing.

References
----------
.. [1] Lavin and Ahmad, "Evaluating Real-Time Anomaly Detection Algorithms -- the
   Numenta Anomaly Benchmark", IEEE ICMLA 2015 (the scoring that rewards the
   first detection of a window and counts later ones outside it as false).
.. [2] Smirnov, "CAD: Contextual Anomaly Detector", 2016 (a rest period after each
   detection, of a fifth of NAB's probationary period: 150 steps).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from seawall._validation import check_real
from seawall.exceptions import DataValidationError
from seawall.monitoring._inputs import to_matrix

__all__ = ["DEFAULT_HOLD", "OnsetFilter", "onset_scores"]

FloatArray = npt.NDArray[np.float64]

#: Default memory of :func:`onset_scores`, in steps.
DEFAULT_HOLD = 150


def _check_hold(hold: object, caller: str) -> int:
    return int(check_real(hold, "hold", caller, low=2, integer=True))


def onset_scores(scores: object, *, hold: int = DEFAULT_HOLD) -> FloatArray:
    """Keep each score only where it exceeds every score of the recent past.

    Parameters
    ----------
    scores : array-like of shape (n_series, n_steps)
        Calibrated anomaly scores (e.g. ``Detection.scores``); NaN (warm-up,
        missing values) stays NaN and does not count as past evidence.
    hold : int, default=150
        The memory in steps, at least 2: a score must beat the highest score of
        the previous ``hold // 2`` to ``hold`` steps (two blocks of ``hold // 2``
        steps aligned on the step index).

    Returns
    -------
    ndarray of float64, shape (n_series, n_steps)
        The score where it is higher than every score in the memory, else 0.

    Raises
    ------
    DataValidationError
        When ``scores`` is not a numeric 2-D matrix.
    InvalidParameterError
        When ``hold`` is not an integer of at least 2.

    See Also
    --------
    OnsetFilter : the same, one step at a time.
    seawall.monitoring.detect : the calibrated scores this filters.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.array([[0.1, 0.99, 0.98, 0.999, 0.2, 0.3, 0.1, 0.5]])
    >>> onset_scores(s, hold=4).tolist()
    [[0.1, 0.99, 0.0, 0.999, 0.0, 0.0, 0.0, 0.5]]
    """
    caller = "onset_scores"
    S = to_matrix(scores, "scores", caller)
    half = max(_check_hold(hold, caller) // 2, 1)
    n_series, n_steps = S.shape
    n_blocks = -(-n_steps // half)
    filled = np.zeros((n_series, n_blocks * half))
    filled[:, :n_steps] = np.nan_to_num(S, nan=0.0)
    blocks = filled.reshape(n_series, n_blocks, half)
    # Within a block: the highest score strictly before each step (0 at its start).
    before = np.zeros_like(blocks)
    np.maximum.accumulate(blocks[:, :, :-1], axis=2, out=before[:, :, 1:])
    # The whole previous block (0 before the first).
    previous = np.zeros((n_series, n_blocks, 1))
    previous[:, 1:, 0] = blocks[:, :-1, :].max(axis=2)
    memory = np.maximum(before, previous).reshape(n_series, -1)[:, :n_steps]
    out = np.where(memory < S, S, 0.0)
    out[np.isnan(S)] = np.nan
    return out


class OnsetFilter:
    """:func:`onset_scores` one step at a time, for every series at once.

    Parameters
    ----------
    hold : int, default=150
        The memory in steps (see :func:`onset_scores`).

    Attributes
    ----------
    n_series_ : int
        The number of series, fixed by the first step.
    step_ : int
        The number of steps seen.

    Examples
    --------
    >>> import numpy as np
    >>> f = OnsetFilter(hold=4)
    >>> [float(f.filter(np.array([v]))[0]) for v in [0.1, 0.99, 0.98, 0.999, 0.2]]
    [0.1, 0.99, 0.0, 0.999, 0.0]
    """

    def __init__(self, *, hold: int = DEFAULT_HOLD) -> None:
        self.hold = hold

    def filter(self, scores: object) -> FloatArray:
        """Filter one step of scores, then remember them.

        Parameters
        ----------
        scores : array-like of shape (n_series,)
            One step's calibrated scores; NaN stays NaN.

        Returns
        -------
        ndarray of float64, shape (n_series,)
            The onset scores of this step.

        Raises
        ------
        DataValidationError
            When the step's length differs from the first step's.
        """
        caller = "OnsetFilter.filter"
        row = np.atleast_1d(np.asarray(scores, dtype=np.float64))[None, :]
        s = to_matrix(row, "scores", caller)[0]
        if not hasattr(self, "step_"):
            half = max(_check_hold(self.hold, caller) // 2, 1)
            self._half = half
            self.n_series_ = s.shape[0]
            self.step_ = 0
            self._previous = np.zeros(self.n_series_)
            self._current = np.zeros(self.n_series_)
        elif s.shape[0] != self.n_series_:
            raise DataValidationError(
                f"scores passed to {caller} has {s.shape[0]} series but the filter has "
                f"seen {self.n_series_}; pass one score per series, in the same order."
            )
        if self.step_ % self._half == 0:
            self._previous, self._current = self._current, np.zeros(self.n_series_)
        value = np.nan_to_num(s, nan=0.0)
        out = np.where(value > np.maximum(self._previous, self._current), s, 0.0)
        out[np.isnan(s)] = np.nan
        np.maximum(self._current, value, out=self._current)
        self.step_ += 1
        return out

"""``series_scores``: one series in, the alert score ``seawall detect`` writes out."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from seawall.exceptions import DataValidationError
from seawall.monitoring._detect import detect
from seawall.monitoring._inputs import to_matrix
from seawall.monitoring._onset import DEFAULT_HOLD, onset_scores
from seawall.monitoring._series_table import default_warmup

__all__ = ["series_scores"]

FloatArray = npt.NDArray[np.float64]


def series_scores(
    values: object, *, warmup: int | None = None, hold: int = DEFAULT_HOLD
) -> FloatArray:
    """Score one series step by step: where an anomaly starts, how improbable it is.

    :func:`~seawall.monitoring.detect` (a robust seasonal baseline and the
    calibrated tail probability of each step under the series' own past), then
    :func:`~seawall.monitoring.onset_scores` (the score kept only where it beats
    the recent past). Causal: the score of step ``t`` uses steps ``<= t`` only.
    One configuration for every series: no labels, no per-series tuning.

    Parameters
    ----------
    values : array-like of shape (n_steps,)
        The series, NaN where missing; at least 32 steps.
    warmup : int or None, default=None
        Steps learned before scoring; ``None`` means 15% of the series, 32 to 750
        (NAB's probationary period), never more than half of it.
    hold : int, default=150
        The memory of :func:`~seawall.monitoring.onset_scores`.

    Returns
    -------
    ndarray of float64, shape (n_steps,)
        Scores in [0, 1]; 0 in the warm-up (not scored) and where the step does not
        beat the recent past.

    Raises
    ------
    DataValidationError
        When ``values`` is not one numeric series, or cannot be learned (e.g. every
        value of the warm-up's first half is missing).
    InsufficientDataError
        When the series has fewer than 32 steps.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = 10 + np.sin(2 * np.pi * np.arange(600) / 24) + rng.normal(0, 0.1, 600)
    >>> x[400:] += 3.0                              # a lasting level shift
    >>> s = series_scores(x)
    >>> np.flatnonzero(s > 0.99).tolist()           # where it starts, not all along
    [400, 401, 403]
    """
    caller = "series_scores"
    row = to_matrix(np.atleast_2d(np.asarray(values, dtype=np.float64)), "values", caller)
    if row.shape[0] != 1:
        raise DataValidationError(
            f"values passed to {caller} must be one series (1-D); got shape {row.shape}. "
            f"Use detect for a matrix of series."
        )
    n_steps = row.shape[1]
    res = detect(row, warmup=default_warmup(n_steps) if warmup is None else warmup)
    if res.reasons[0]:
        raise DataValidationError(f"values passed to {caller} cannot be learned: {res.reasons[0]}.")
    onset = onset_scores(res.scores, hold=hold)[0]
    return np.where(np.isnan(onset), 0.0, onset)

"""The frozen result of :func:`seawall.monitoring.detect`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from seawall._json import json_value

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Detection"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Detection:
    """Scores, baselines and scales of every step of every series (arrays are read-only).

    Attributes
    ----------
    scores : ndarray of float64, shape (n_series, n_steps)
        The calibrated anomaly score in [0, 1]: ``1 - p`` where ``p`` is the
        estimated share of the series' normal steps whose standardised residual is
        at least this large (see :mod:`seawall.monitoring._score`). NaN in the
        warm-up, at missing values and on series that could not be learned.
    baselines : ndarray of float64, shape (n_series, n_steps)
        The one-step-ahead expected value of each step, from the steps before it.
    scales : ndarray of float64, shape (n_series, n_steps)
        The robust scale (a Gaussian standard deviation for Gaussian noise) in
        force at each step.
    periods : ndarray of int64, shape (n_series,)
        The seasonal period used; ``1`` means no season, ``0`` a series that could
        not be learned.
    warmup : ndarray of bool, shape (n_series, n_steps)
        The steps used to learn the period, the starting state and the residual
        distribution; they are not scored.
    reasons : tuple of str, length n_series
        Why a series could not be learned (its scores are all NaN); ``""`` when it
        was.
    """

    scores: FloatArray
    baselines: FloatArray
    scales: FloatArray
    periods: IntArray
    warmup: BoolArray
    reasons: tuple[str, ...]

    @property
    def valid(self) -> BoolArray:
        """Which series were learned and scored.

        Returns
        -------
        ndarray of bool, shape (n_series,)
            ``True`` where ``reasons`` is empty.
        """
        return np.array([not r for r in self.reasons], dtype=bool)

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-safe nested lists with stable keys.

        Returns
        -------
        dict
            ``scores``, ``baselines`` and ``scales`` as lists of rows (NaN becomes
            ``None``), ``periods``, ``warmup`` and ``reasons``.
        """
        out: dict[str, Any] = {}
        for name in ("scores", "baselines", "scales"):
            arr = getattr(self, name)
            out[name] = [[json_value(v) for v in row] for row in arr]
        out["periods"] = [int(p) for p in self.periods]
        out["warmup"] = [[bool(v) for v in row] for row in self.warmup]
        out["reasons"] = list(self.reasons)
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per series and step (pandas is imported here, lazily).

        Returns
        -------
        pandas.DataFrame
            Columns ``series``, ``step``, ``score``, ``baseline``, ``scale``,
            ``warmup``.
        """
        import pandas as pd

        n_series, n_steps = self.scores.shape
        return pd.DataFrame(
            {
                "series": np.repeat(np.arange(n_series), n_steps),
                "step": np.tile(np.arange(n_steps), n_series),
                "score": self.scores.reshape(-1),
                "baseline": self.baselines.reshape(-1),
                "scale": self.scales.reshape(-1),
                "warmup": self.warmup.reshape(-1),
            }
        )

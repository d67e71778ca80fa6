"""Frozen results of NAB scoring: per file, per corpus, the threshold curve, per profile."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from seawall._json import json_record, json_value
from seawall._validation import check_real
from seawall.evaluation._nab_profiles import NabProfile

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["NabBenchmark", "NabCurve", "NabFileScore", "NabResult"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class NabFileScore:
    """One file's NAB score at the corpus threshold, with NAB's counts.

    Attributes
    ----------
    file : str
        The file's name.
    score : float
        Its raw NAB score (NAB's per-file ``Score`` column).
    n_windows, n_detected_windows : int
        Its windows, and those with at least one detection.
    tp, fp, fn, tn : int
        NAB's row counts past the probationary period: detections inside and
        outside windows, and the other rows inside and outside windows.
    n_scored : int
        The rows past the probationary period (NAB's ``Total_Count``).
    """

    file: str
    score: float
    n_windows: int
    n_detected_windows: int
    tp: int
    fp: int
    fn: int
    tn: int
    n_scored: int


@dataclass(frozen=True, slots=True)
class NabResult:
    """A detector's NAB score on a corpus for one profile.

    Attributes
    ----------
    profile : NabProfile
        The profile's weights.
    threshold : float
        The threshold used: rows scoring ``>= threshold`` are detections. 1.1
        (NAB's starting point) means nothing is detected.
    threshold_optimized : bool
        Whether the threshold was chosen to maximise the raw score.
    raw_score : float
        The sum of the files' scores.
    null_score : float
        The score of NAB's null detector (a constant score, threshold optimised):
        ``-fn_weight`` per window unless detecting every row scores higher.
    perfect_score : float
        ``tp_weight`` per window: every window detected at its first row.
    normalized_score : float
        ``100 * (raw - null) / (perfect - null)``; NaN when the corpus has no window.
    files : tuple of NabFileScore
        The per-file details, in corpus order.
    """

    profile: NabProfile
    threshold: float
    threshold_optimized: bool
    raw_score: float
    null_score: float
    perfect_score: float
    normalized_score: float
    files: tuple[NabFileScore, ...]

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-safe primitives, with stable keys.

        Returns
        -------
        dict
            ``profile`` (a dict), the scalar fields, and ``files`` (a list of dicts).

        Examples
        --------
        >>> r = NabResult(NabProfile("p", 1.0, 0.1, 1.0), 0.5, True, 0.0, -1.0, 1.0,
        ...               50.0, ())
        >>> r.to_dict()["normalized_score"]
        50.0
        """
        return {
            "profile": self.profile.to_dict(),
            "threshold": json_value(self.threshold),
            "threshold_optimized": self.threshold_optimized,
            "raw_score": json_value(self.raw_score),
            "null_score": json_value(self.null_score),
            "perfect_score": json_value(self.perfect_score),
            "normalized_score": json_value(self.normalized_score),
            "files": [json_record(f) for f in self.files],
        }

    def file_interval(
        self, *, confidence: float = 0.95, n_resamples: int = 2000, random_state: int = 0
    ) -> tuple[float, float]:
        """A bootstrap interval of the normalised score over the choice of files.

        The files are resampled with replacement (the threshold kept) and the score
        renormalised each time against that sample's null (``-fn_weight`` per
        window) and perfect detectors: how much the score owes to which series
        happen to be in the corpus, the question behind "also on series that were
        not used for tuning".

        Parameters
        ----------
        confidence : float, default=0.95
            The interval's coverage, in (0, 1).
        n_resamples : int, default=2000
            Bootstrap resamples, at least 100.
        random_state : int, default=0
            Seed of the resampling.

        Returns
        -------
        (float, float)
            The percentile interval; NaN when no file has a window.

        Raises
        ------
        InvalidParameterError
            When ``confidence`` or ``n_resamples`` is out of range.

        Examples
        --------
        >>> p = NabProfile("p", 1.0, 0.1, 1.0)
        >>> files = tuple(NabFileScore(f"{i}.csv", s, 1, 1, 1, 0, 0, 9, 10)
        ...               for i, s in enumerate([0.9, 0.5, -1.0, 0.8]))
        >>> r = NabResult(p, 0.5, True, 1.2, -4.0, 4.0, 65.0, files)
        >>> lo, hi = r.file_interval(n_resamples=500)
        >>> bool(lo < 65.0 < hi)
        True
        """
        caller = "NabResult.file_interval"
        level = check_real(
            confidence, "confidence", caller, low=0, high=1, low_open=True, high_open=True
        )
        n_boot = int(check_real(n_resamples, "n_resamples", caller, low=100, integer=True))
        raw = np.array([f.score for f in self.files], dtype=np.float64)
        windows = np.array([f.n_windows for f in self.files], dtype=np.float64)
        if windows.sum() == 0:
            return (math.nan, math.nan)
        rng = np.random.default_rng(random_state)
        idx = rng.integers(0, raw.size, size=(n_boot, raw.size))
        w = windows[idx].sum(axis=1)
        null = -self.profile.fn_weight * w
        perfect = self.profile.tp_weight * w
        with np.errstate(invalid="ignore", divide="ignore"):
            stats = 100.0 * (raw[idx].sum(axis=1) - null) / (perfect - null)
        stats = stats[np.isfinite(stats)]
        tail = (1.0 - level) / 2.0
        lo, hi = np.quantile(stats, [tail, 1.0 - tail])
        return (float(lo), float(hi))

    def to_frame(self) -> pd.DataFrame:
        """The per-file details, one row per file.

        Returns
        -------
        pandas.DataFrame
            The columns of :class:`NabFileScore`.

        Examples
        --------
        >>> f = NabFileScore("a.csv", -1.0, 1, 0, 0, 0, 4, 10, 14)
        >>> r = NabResult(NabProfile("p", 1.0, 0.1, 1.0), 1.1, True, -1.0, -1.0, 1.0,
        ...               0.0, (f,))
        >>> int(r.to_frame().loc[0, "fn"])
        4
        """
        import pandas as pd

        columns = list(NabFileScore.__dataclass_fields__)
        return pd.DataFrame([json_record(f) for f in self.files], columns=columns)


@dataclass(frozen=True, slots=True)
class NabCurve:
    """The raw corpus score at every threshold that NAB's optimiser tries.

    Attributes
    ----------
    profile : NabProfile
        The profile's weights.
    thresholds : ndarray of float64, shape (n_thresholds,)
        1.1 (nothing detected), then every distinct anomaly score, decreasing.
    scores : ndarray of float64, shape (n_thresholds,)
        The raw corpus score with the rows scoring ``>= threshold`` as detections.
    """

    profile: NabProfile
    thresholds: FloatArray
    scores: FloatArray

    @property
    def best_threshold(self) -> float:
        """The threshold of the highest score (the highest such threshold on ties, as NAB)."""
        return float(self.thresholds[int(np.argmax(self.scores))])

    @property
    def best_score(self) -> float:
        """The highest raw score."""
        return float(np.max(self.scores))

    def to_dict(self) -> dict[str, Any]:
        """The curve as JSON-safe primitives.

        Returns
        -------
        dict
            ``profile``, ``thresholds`` and ``scores`` (lists of float).

        Examples
        --------
        >>> c = NabCurve(NabProfile("p", 1.0, 0.1, 1.0), np.array([1.1, 0.5]),
        ...              np.array([-1.0, 0.5]))
        >>> c.to_dict()["scores"], c.best_threshold
        ([-1.0, 0.5], 0.5)
        """
        return {
            "profile": self.profile.to_dict(),
            "thresholds": [float(t) for t in self.thresholds],
            "scores": [float(s) for s in self.scores],
        }

    def to_frame(self) -> pd.DataFrame:
        """The curve, one row per threshold.

        Returns
        -------
        pandas.DataFrame
            Columns ``threshold`` and ``score``.

        Examples
        --------
        >>> c = NabCurve(NabProfile("p", 1.0, 0.1, 1.0), np.array([1.1, 0.5]),
        ...              np.array([-1.0, 0.5]))
        >>> c.to_frame().shape
        (2, 2)
        """
        import pandas as pd

        return pd.DataFrame({"threshold": self.thresholds, "score": self.scores})


@dataclass(frozen=True, slots=True)
class NabBenchmark:
    """A detector's NAB results under several profiles.

    Attributes
    ----------
    results : Mapping of str to NabResult
        One result per profile name, in the order asked for.
    """

    results: Mapping[str, NabResult]

    def to_dict(self) -> dict[str, Any]:
        """The results as JSON-safe primitives.

        Returns
        -------
        dict
            Profile name to :meth:`NabResult.to_dict`.

        Examples
        --------
        >>> r = NabResult(NabProfile("p", 1.0, 0.1, 1.0), 0.5, True, 0.0, -1.0, 1.0,
        ...               50.0, ())
        >>> list(NabBenchmark({"p": r}).to_dict())
        ['p']
        """
        return {name: r.to_dict() for name, r in self.results.items()}

    def to_frame(self) -> pd.DataFrame:
        """One row per profile: threshold, raw, null, perfect and normalised scores.

        Returns
        -------
        pandas.DataFrame
            Indexed by profile name.

        Examples
        --------
        >>> r = NabResult(NabProfile("p", 1.0, 0.1, 1.0), 0.5, True, 0.0, -1.0, 1.0,
        ...               50.0, ())
        >>> float(NabBenchmark({"p": r}).to_frame().loc["p", "normalized_score"])
        50.0
        """
        import pandas as pd

        rows = {
            name: {
                "threshold": r.threshold,
                "raw_score": r.raw_score,
                "null_score": r.null_score,
                "perfect_score": r.perfect_score,
                "normalized_score": r.normalized_score,
            }
            for name, r in self.results.items()
        }
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("profile")

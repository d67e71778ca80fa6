"""Evaluation of anomaly detectors: the Numenta Anomaly Benchmark (NAB) scoring.

NAB scores a detector on labelled time series: each anomaly window rewards its
earliest detection (more when earlier), a window without detection costs a miss,
and a detection outside windows costs a false positive (less right after a window).
One threshold serves the whole corpus, chosen to maximise the raw score; the raw
score is then normalised so that the null detector scores 0 and a perfect one 100.
This package reproduces NAB v1.1's rules (``nab/sweeper.py``, ``nab/optimizer.py``,
``nab/scorer.py``, ``nab/runner.py``).

- :func:`load_nab` reads a folder laid out as NAB's repository into a
  :class:`NabCorpus` of :class:`NabFile` objects.
- :func:`score_corpus` scores per-row anomaly scores under one profile
  (:data:`NAB_PROFILES`, or a :class:`NabProfile`) and returns a :class:`NabResult`.
- :func:`threshold_curve` gives the raw score at every threshold (:class:`NabCurve`).
- :func:`evaluate_detector` runs a detector callable and scores it under every
  profile (:class:`NabBenchmark`).
- :func:`probationary_length` is NAB's unscored prefix of a file.
"""

from __future__ import annotations

from seawall.evaluation._nab_corpus import NabCorpus, NabFile
from seawall.evaluation._nab_load import load_nab
from seawall.evaluation._nab_profiles import NAB_PROFILES, NabProfile
from seawall.evaluation._nab_result import NabBenchmark, NabCurve, NabFileScore, NabResult
from seawall.evaluation._nab_score import evaluate_detector, score_corpus, threshold_curve
from seawall.evaluation._nab_windows import probationary_length

__all__ = [
    "NAB_PROFILES",
    "NabBenchmark",
    "NabCorpus",
    "NabCurve",
    "NabFile",
    "NabFileScore",
    "NabProfile",
    "NabResult",
    "evaluate_detector",
    "load_nab",
    "probationary_length",
    "score_corpus",
    "threshold_curve",
]

"""NAB's corpus scoring: one threshold for the whole corpus, then the normalised score.

Follows NAB v1.1: ``nab/optimizer.py`` (``optimizeThreshold``: the threshold with
the best corpus score from ``Sweeper.calcScoreByThreshold``), ``nab/scorer.py``
(``scoreCorpus``: every file scored at that threshold, then totalled) and
``nab/runner.py`` (``Runner.normalize``: ``100 * (score - null) / (perfect - null)``
with ``perfect = tpWeight * number of windows`` and ``null`` the null detector's
total under the same profile).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from seawall._validation import check_real, param_error, to_float
from seawall.evaluation._nab_corpus import NabCorpus, NabFile
from seawall.evaluation._nab_profiles import NabProfile
from seawall.evaluation._nab_result import NabBenchmark, NabCurve, NabFileScore, NabResult
from seawall.evaluation._nab_sweep import file_outcome, sweep_scores
from seawall.evaluation._nab_windows import weighted_row_scores
from seawall.exceptions import DataValidationError

__all__ = ["evaluate_detector", "score_corpus", "threshold_curve"]

FloatArray = npt.NDArray[np.float64]
Detector = Callable[[FloatArray, np.ndarray], object]


@dataclass(frozen=True, slots=True)
class _Scorable:
    """One file's rows past the probationary period, weighted for one profile."""

    y_score: FloatArray
    row_window: npt.NDArray[np.intp]
    sweep_score: FloatArray
    n_windows: int


def _profile(corpus: NabCorpus, profile: object, caller: str) -> NabProfile:
    if isinstance(profile, NabProfile):
        return profile
    if isinstance(profile, str) and profile in corpus.profiles:
        return corpus.profiles[profile]
    options = ", ".join(repr(p) for p in corpus.profiles)
    raise param_error("profile", caller, f"a NabProfile or one of {options}", profile)


def _file_scores(f: NabFile, raw: object) -> FloatArray:
    label = f"scores[{f.name!r}]"
    y = to_float(raw, label, allow_nan=True)
    if y.size != f.n_rows:
        raise DataValidationError(
            f"{label} has {y.size} values but the file has {f.n_rows} rows; pass one "
            f"anomaly score per row."
        )
    scored = y[f.probationary_length :]
    nan = np.flatnonzero(np.isnan(scored))
    if nan.size:
        raise DataValidationError(
            f"{label} has {nan.size} NaN value(s) after the probationary period, the first "
            f"at row {nan[0] + f.probationary_length}; NaN is allowed only in the first "
            f"{f.probationary_length} (unscored) rows."
        )
    bad = np.flatnonzero((scored < 0) | (scored > 1))
    if bad.size:
        row = bad[0] + f.probationary_length
        raise DataValidationError(
            f"{label} must lie in [0, 1], as NAB's anomaly scores do; {bad.size} value(s) "
            f"do not, the first {float(y[row])!r} at row {row}. Rescale the scores first "
            f"(e.g. a rank or a logistic transform)."
        )
    return y


def _check_scores(corpus: NabCorpus, scores: object) -> list[FloatArray]:
    if not isinstance(scores, Mapping):
        raise DataValidationError(
            f"scores must be a mapping from file name to per-row anomaly scores; got "
            f"{type(scores).__name__}."
        )
    missing = [n for n in corpus.names if n not in scores]
    extra = sorted(str(k) for k in scores if k not in set(corpus.names))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"no scores for {len(missing)} file(s), e.g. {missing[0]!r}")
        if extra:
            parts.append(f"scores for {len(extra)} unknown file(s), e.g. {extra[0]!r}")
        raise DataValidationError(
            f"scores must have exactly one entry per corpus file; got {' and '.join(parts)}."
        )
    return [_file_scores(f, scores[f.name]) for f in corpus.files]


def _scorable(f: NabFile, y: FloatArray, profile: NabProfile) -> _Scorable:
    p = f.probationary_length
    weighted = weighted_row_scores(f.row_window, f.row_factor, profile.tp_weight, profile.fp_weight)
    return _Scorable(y[p:], f.row_window[p:], weighted[p:], f.n_windows)


def _curve(parts: Sequence[_Scorable], profile: NabProfile) -> NabCurve:
    offsets = np.cumsum([0] + [s.n_windows for s in parts[:-1]])
    window_id = np.concatenate(
        [
            np.where(s.row_window >= 0, s.row_window + o, -1)
            for s, o in zip(parts, offsets, strict=True)
        ]
    )
    thresholds, totals = sweep_scores(
        np.concatenate([s.y_score for s in parts]),
        window_id.astype(np.intp),
        np.concatenate([s.sweep_score for s in parts]),
        int(sum(s.n_windows for s in parts)),
        profile.fn_weight,
    )
    thresholds.setflags(write=False)
    totals.setflags(write=False)
    return NabCurve(profile, thresholds, totals)


def _total(parts: Sequence[_Scorable], profile: NabProfile, threshold: float) -> float:
    return sum(
        file_outcome(
            s.y_score, s.row_window, s.sweep_score, s.n_windows, profile.fn_weight, threshold
        ).score
        for s in parts
    )


def _null_score(parts: Sequence[_Scorable], profile: NabProfile) -> float:
    # NAB's null detector gives every row the same score, so its optimised threshold
    # either detects nothing or everything; NAB keeps the higher threshold on a tie.
    never = _total(parts, profile, math.inf)
    always = _total(parts, profile, -math.inf)
    return always if always > never else never


def threshold_curve(
    corpus: NabCorpus, scores: Mapping[str, object], *, profile: str | NabProfile = "standard"
) -> NabCurve:
    """The raw corpus score at every threshold, as NAB's threshold optimiser sees it.

    NAB's ``optimizeThreshold`` scores the corpus at every distinct anomaly score
    (rows scoring ``>= threshold`` are detections) and keeps the best. This computes
    the whole curve at once: one sort of every scored row, then cumulative sums.

    Parameters
    ----------
    corpus : NabCorpus
        The files and windows.
    scores : mapping of str to array-like of shape (n_rows,)
        Each file's anomaly scores in [0, 1], one per row (NaN allowed only in the
        probationary period).
    profile : str or NabProfile, default="standard"
        A profile name from ``corpus.profiles``, or a profile.

    Returns
    -------
    NabCurve
        Thresholds (1.1, then every distinct score, decreasing) and raw scores.

    Raises
    ------
    DataValidationError
        When a file's scores are missing, misaligned, NaN past the probationary
        period or outside [0, 1].
    InvalidParameterError
        When ``profile`` is unknown.

    See Also
    --------
    score_corpus : The score at the best (or a given) threshold, normalised.

    Examples
    --------
    A window hit at its first row (score 1.0) and a false positive before it (0.5):

    >>> f = NabFile("a.csv", np.arange(100), np.zeros(100), windows=[(60, 69)])
    >>> y = np.zeros(100)
    >>> y[60], y[30] = 1.0, 0.5
    >>> curve = threshold_curve(NabCorpus([f]), {"a.csv": y})
    >>> curve.thresholds.tolist(), curve.scores.round(2).tolist()
    ([1.1, 1.0, 0.5, 0.0], [-1.0, 1.0, 0.89, -7.03])
    """
    prof = _profile(corpus, profile, "threshold_curve")
    ys = _check_scores(corpus, scores)
    return _curve([_scorable(f, y, prof) for f, y in zip(corpus.files, ys, strict=True)], prof)


def score_corpus(
    corpus: NabCorpus,
    scores: Mapping[str, object],
    *,
    profile: str | NabProfile = "standard",
    threshold: float | None = None,
) -> NabResult:
    """A detector's NAB score on a corpus: one threshold, raw and normalised scores.

    Rows past each file's probationary period whose anomaly score is ``>=
    threshold`` are detections. Inside a window only the earliest detection counts:
    it earns ``tp_weight * S(-(e - i + 1) / w) / S(-1)``, where ``S`` is NAB's
    scaled sigmoid ``2 / (1 + exp(5 x)) - 1``, ``i`` the detection's row, ``e`` the
    window's last row and ``w`` its width (exactly ``tp_weight`` at the first row). A
    window without detection costs ``fn_weight``. A detection outside windows costs
    ``fp_weight`` before the first window, and ``-fp_weight * S((i - e) / (w - 1))``
    after a window ending at ``e`` (less right after it; ``fp_weight`` beyond
    three window widths).

    Parameters
    ----------
    corpus : NabCorpus
        The files and windows.
    scores : mapping of str to array-like of shape (n_rows,)
        Each file's anomaly scores in [0, 1], one per row. NaN is allowed only in
        the probationary period, which is not scored.
    profile : str or NabProfile, default="standard"
        A profile name from ``corpus.profiles`` (NAB's ``"standard"``,
        ``"reward_low_FP_rate"``, ``"reward_low_FN_rate"``), or a profile.
    threshold : float or None, default=None
        The detection threshold; ``None`` chooses the one that maximises the raw
        corpus score, as NAB's optimiser does (ties go to the higher threshold).

    Returns
    -------
    NabResult
        The threshold, raw, null, perfect and normalised scores and per-file details.

    Raises
    ------
    DataValidationError
        When a file's scores are missing, misaligned, NaN past the probationary
        period or outside [0, 1].
    InvalidParameterError
        When ``profile`` is unknown or ``threshold`` is not a real number.

    See Also
    --------
    threshold_curve : The raw score at every threshold.
    evaluate_detector : Run a detector on the corpus and score it under each profile.

    References
    ----------
    .. [1] A. Lavin, S. Ahmad, "Evaluating real-time anomaly detection algorithms:
       the Numenta Anomaly Benchmark", IEEE ICMLA, 2015.

    Examples
    --------
    A detection at the first row of the only window: the perfect score.

    >>> f = NabFile("a.csv", np.arange(100), np.zeros(100), windows=[(60, 69)])
    >>> y = np.zeros(100)
    >>> y[60] = 1.0
    >>> r = score_corpus(NabCorpus([f]), {"a.csv": y})
    >>> r.threshold, r.raw_score, r.null_score, r.normalized_score
    (1.0, 1.0, -1.0, 100.0)
    """
    prof = _profile(corpus, profile, "score_corpus")
    if threshold is not None:
        threshold = check_real(threshold, "threshold", "score_corpus")
    ys = _check_scores(corpus, scores)
    parts = [_scorable(f, y, prof) for f, y in zip(corpus.files, ys, strict=True)]
    optimized = threshold is None
    used = _curve(parts, prof).best_threshold if threshold is None else float(threshold)
    files = []
    for f, s in zip(corpus.files, parts, strict=True):
        out = file_outcome(
            s.y_score, s.row_window, s.sweep_score, s.n_windows, prof.fn_weight, used
        )
        files.append(
            NabFileScore(
                f.name,
                out.score,
                f.n_windows,
                out.n_detected_windows,
                out.tp,
                out.fp,
                out.fn,
                out.tn,
                int(s.y_score.size),
            )
        )
    raw = float(sum(fs.score for fs in files))
    null = _null_score(parts, prof)
    perfect = prof.tp_weight * corpus.n_windows
    normalized = 100.0 * (raw - null) / (perfect - null) if perfect != null else math.nan
    return NabResult(prof, used, optimized, raw, null, perfect, normalized, tuple(files))


def evaluate_detector(
    corpus: NabCorpus,
    detector: Detector,
    *,
    profiles: Sequence[str | NabProfile] | None = None,
) -> NabBenchmark:
    """Run a detector over every file and score it under each profile.

    Parameters
    ----------
    corpus : NabCorpus
        The files and windows.
    detector : callable
        ``detector(values, timestamps) -> scores``: given a file's values (float64,
        shape ``(n_rows,)``) and timestamps, returns one anomaly score in [0, 1] per
        row. It is called once per file; its scores serve every profile.
    profiles : sequence of str or NabProfile, default=None
        The profiles to score with; ``None`` means every profile in
        ``corpus.profiles`` (NAB's three).

    Returns
    -------
    NabBenchmark
        One :class:`NabResult` per profile, each with its own optimised threshold.

    Raises
    ------
    DataValidationError
        When the detector's output for a file is not a valid score array (the
        message names the file).
    InvalidParameterError
        When ``detector`` is not callable or a profile is unknown.

    See Also
    --------
    score_corpus : Score precomputed anomaly scores.

    Examples
    --------
    >>> f = NabFile("a.csv", np.arange(100), np.r_[np.zeros(60), np.ones(40)],
    ...             windows=[(60, 69)])
    >>> jump = lambda values, timestamps: np.r_[0.0, np.abs(np.diff(values))]
    >>> bench = evaluate_detector(NabCorpus([f]), jump)
    >>> {name: r.normalized_score for name, r in bench.results.items()}
    {'standard': 100.0, 'reward_low_FP_rate': 100.0, 'reward_low_FN_rate': 100.0}
    """
    if not callable(detector):
        raise param_error("detector", "evaluate_detector", "a callable", detector)
    chosen = list(corpus.profiles) if profiles is None else list(profiles)
    resolved = [_profile(corpus, p, "evaluate_detector") for p in chosen]
    scores = {f.name: detector(f.values, f.timestamps) for f in corpus.files}
    results = {p.name: score_corpus(corpus, scores, profile=p) for p in resolved}
    return NabBenchmark(results)

"""NAB scoring: hand-worked cases, a literal port of NAB's Sweeper, and the shared subset."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seawall.evaluation import (
    NAB_PROFILES,
    NabCorpus,
    NabFile,
    NabProfile,
    evaluate_detector,
    load_nab,
    probationary_length,
    score_corpus,
    threshold_curve,
)
from seawall.exceptions import DataValidationError, InvalidParameterError

FP = NAB_PROFILES["standard"].fp_weight  # 0.11


def S(x: float) -> float:
    """NAB's scaledSigmoid, written as the identity 2 / (1 + e^(5x)) - 1 = -tanh(5x / 2)."""
    return -1.0 if x > 3.0 else -math.tanh(2.5 * x)


def one_window(n: int = 100, window: tuple[int, int] = (60, 69)) -> NabCorpus:
    return NabCorpus((NabFile("a.csv", np.arange(n), np.zeros(n), windows=(window,)),))


def detections(rows: list[int], n: int = 100) -> dict[str, np.ndarray]:
    y = np.zeros(n)
    y[rows] = 1.0
    return {"a.csv": y}


def raw(corpus: NabCorpus, scores: dict[str, np.ndarray], profile: str = "standard") -> float:
    return score_corpus(corpus, scores, profile=profile, threshold=0.5).raw_score


# --------------------------------------------------------------------------- #
# hand-worked cases: 100 rows (15 probationary), one window over rows 60..69
# --------------------------------------------------------------------------- #


def test_probationary_length_follows_nab() -> None:
    assert probationary_length(100) == 15
    assert probationary_length(20) == 3
    assert probationary_length(4032) == 604  # floor(604.8)
    assert probationary_length(5000) == 750
    assert probationary_length(22695) == 750  # capped at 0.15 * 5000


def test_hit_at_window_start_earns_tp_weight() -> None:
    assert raw(one_window(), detections([60])) == 1.0


def test_hit_at_window_end() -> None:
    # position -(e - i + 1) / w = -0.1, divided by S(-1) so that the start earns exactly 1
    assert raw(one_window(), detections([69])) == pytest.approx(S(-0.1) / S(-1.0), rel=1e-12)
    assert 0.24 < raw(one_window(), detections([69])) < 0.25


def test_hit_in_the_middle() -> None:
    assert raw(one_window(), detections([64])) == pytest.approx(S(-0.6) / S(-1.0), rel=1e-12)


def test_missed_window_costs_fn_weight() -> None:
    corpus = one_window()
    assert raw(corpus, detections([])) == -1.0
    assert raw(corpus, detections([]), "reward_low_FN_rate") == -2.0


def test_false_positive_before_any_window_costs_full_fp_weight() -> None:
    assert raw(one_window(), detections([30])) == pytest.approx(-FP - 1.0, rel=1e-12)
    assert raw(one_window(), detections([30]), "reward_low_FP_rate") == pytest.approx(-1.22)


def test_false_positive_right_after_a_window_costs_less() -> None:
    # position past the window (i - e) / (w - 1) = 1 / 9
    got = raw(one_window(), detections([60, 70]))
    assert got == pytest.approx(1.0 + FP * S(1 / 9), rel=1e-12)
    assert 1.0 - FP < got < 1.0
    # far after the window (30 / 9 > 3 window widths): the full cost
    assert raw(one_window(), detections([60, 99])) == pytest.approx(1.0 - FP, rel=1e-12)


def test_two_detections_in_a_window_count_once() -> None:
    corpus = one_window()
    assert raw(corpus, detections([60, 65])) == 1.0
    assert raw(corpus, detections([65, 67])) == pytest.approx(S(-0.5) / S(-1.0), rel=1e-12)
    out = score_corpus(corpus, detections([65, 67]), threshold=0.5).files[0]
    assert (out.tp, out.fn, out.fp, out.n_detected_windows) == (2, 8, 0, 1)


def test_probationary_period_is_ignored() -> None:
    corpus = one_window()
    assert raw(corpus, detections([0, 10, 14, 60])) == 1.0
    # the first scored row (15) is a false positive
    assert raw(corpus, detections([15, 60])) == pytest.approx(1.0 - FP, rel=1e-12)
    out = score_corpus(corpus, detections([60]), threshold=0.5).files[0]
    assert out.n_scored == 85 and out.tp + out.fp + out.fn + out.tn == 85


def test_nan_is_allowed_in_the_probationary_period_only() -> None:
    corpus = one_window()
    y = detections([60])["a.csv"]
    y[:15] = np.nan
    assert score_corpus(corpus, {"a.csv": y}).raw_score == 1.0
    y[20] = np.nan
    with pytest.raises(DataValidationError, match=re.escape("scores['a.csv'] has 1 NaN")):
        score_corpus(corpus, {"a.csv": y})


def test_normalisation_with_null_and_perfect() -> None:
    # two files, three windows: one hit at its start, one missed, one hit at its end;
    # one false positive before the first window
    f1 = NabFile("a.csv", np.arange(100), np.zeros(100), windows=[(40, 49), (70, 79)])
    f2 = NabFile("b.csv", np.arange(100), np.zeros(100), windows=[(60, 69)])
    corpus = NabCorpus((f1, f2))
    y1, y2 = np.zeros(100), np.zeros(100)
    y1[[20, 40]] = 1.0
    y2[69] = 1.0
    result = score_corpus(corpus, {"a.csv": y1, "b.csv": y2}, threshold=0.5)
    expected_raw = -FP + 1.0 - 1.0 + S(-0.1) / S(-1.0)
    assert result.raw_score == pytest.approx(expected_raw, rel=1e-12)
    assert result.null_score == -3.0  # never detecting: -fn_weight per window
    assert result.perfect_score == 3.0  # tp_weight per window
    assert result.normalized_score == pytest.approx(100 * (expected_raw + 3) / 6, rel=1e-12)
    assert [f.score for f in result.files] == pytest.approx([-FP, S(-0.1) / S(-1.0)])
    assert not result.threshold_optimized and result.threshold == 0.5


def test_null_baseline_is_the_optimised_constant_detector() -> None:
    # A short file: detecting every row (-0.39) beats never detecting (-1), so NAB's
    # null detector, whose threshold is optimised too, scores the former.
    corpus = one_window(20, (10, 13))
    constant = {"a.csv": np.full(20, 0.5)}
    every_row = score_corpus(corpus, constant, threshold=0.5).raw_score
    assert every_row > -1.0
    assert score_corpus(corpus, constant).null_score == pytest.approx(every_row, rel=1e-12)
    assert score_corpus(corpus, constant).normalized_score == pytest.approx(0.0, abs=1e-9)


def test_threshold_optimisation_matches_brute_force(rng: np.random.Generator) -> None:
    files = []
    for k in range(3):
        n = int(rng.integers(40, 80))
        start = int(rng.integers(probationary_length(n), n - 12))
        files.append(NabFile(f"f{k}.csv", np.arange(n), np.zeros(n), windows=[(start, start + 8)]))
    corpus = NabCorpus(tuple(files))
    # rounded scores make ties, as real detectors do
    scores = {f.name: np.round(rng.random(f.n_rows), 2) for f in files}
    every_value = {float(v) for y in scores.values() for v in y}
    grid = sorted(every_value | {float(t) for t in np.linspace(0.0, 1.2, 241)}, reverse=True)
    for profile in NAB_PROFILES:
        # brute force: score the corpus from scratch at every threshold of a fine grid
        brute = {
            t: score_corpus(corpus, scores, profile=profile, threshold=t).raw_score for t in grid
        }
        curve = threshold_curve(corpus, scores, profile=profile)
        scored_values = {
            float(v)
            for f, y in zip(files, scores.values(), strict=True)
            for v in y[f.probationary_length :]
        }
        assert curve.thresholds.tolist() == [1.1, *sorted(scored_values, reverse=True)]
        assert curve.scores[0] == brute[1.2]  # nothing detected
        assert curve.scores[1:] == pytest.approx(
            [brute[t] for t in curve.thresholds[1:]], abs=1e-12
        )
        best = score_corpus(corpus, scores, profile=profile)
        assert best.threshold_optimized
        assert best.raw_score == pytest.approx(max(brute.values()), abs=1e-12)
        # ties go to the highest threshold, as NAB's stable sort does
        top = max(brute.values())
        tied = [t for t in curve.thresholds[1:] if brute[t] >= top - 1e-12]
        assert best.threshold == (1.1 if brute[1.2] >= top - 1e-12 else max(tied))


# --------------------------------------------------------------------------- #
# a literal port of NAB v1.1's nab/sweeper.py (calcSweepScore, calcScoreByThreshold)
# --------------------------------------------------------------------------- #


def _nab_scaled_sigmoid(x: float) -> float:
    if x > 3.0:
        return -1.0
    return 2 * (1 / (1 + math.exp(-(-5 * x)))) - 1.0


def _nab_sweep(corpus: NabCorpus, scores: dict[str, np.ndarray], profile: NabProfile) -> list:
    rows = []
    for f in corpus.files:
        timestamps = list(f.timestamps)
        window_limits = list(f.windows)
        max_tp = _nab_scaled_sigmoid(-1.0)
        prob = min(math.floor(0.15 * len(timestamps)), 0.15 * 5000)
        cur_limits = cur_name = cur_width = cur_right = prev_width = prev_right = None
        for i, (t, a) in enumerate(zip(timestamps, scores[f.name], strict=True)):
            if window_limits and t == window_limits[0][0]:
                cur_limits = window_limits.pop(0)
                cur_name = f"{f.name}|{cur_limits[0]}"
                cur_right = timestamps.index(cur_limits[1])
                cur_width = float(cur_right - timestamps.index(cur_limits[0]) + 1)
            if cur_limits is not None:
                weighted = _nab_scaled_sigmoid(-(cur_right - i + 1) / cur_width)
                weighted = weighted * profile.tp_weight / max_tp
            else:
                if prev_right is None:
                    unweighted = -1.0
                else:
                    unweighted = _nab_scaled_sigmoid(abs(prev_right - i) / float(prev_width - 1))
                weighted = unweighted * profile.fp_weight
            rows.append((a, weighted, cur_name if i >= prob else "probationary"))
            if cur_limits is not None and t == cur_limits[1]:
                prev_right, prev_width = i, cur_width
                cur_limits = cur_name = cur_width = cur_right = None
    scorable = sorted([r for r in rows if r[2] != "probationary"], key=lambda r: r[0], reverse=True)
    parts: dict[str | None, float] = {"fp": 0}
    for r in scorable:
        if r[2] is not None:
            parts[r[2]] = -profile.fn_weight
    out, cur = [], 1.1
    for a, weighted, name in scorable:
        if a != cur:
            out.append((cur, sum(parts.values())))
            cur = a
        if name is None:
            parts["fp"] += weighted
        else:
            parts[name] = max(parts[name], weighted)
    out.append((cur, sum(parts.values())))
    return out


def _random_corpus(rng: np.random.Generator) -> tuple[NabCorpus, dict[str, np.ndarray]]:
    files, scores = [], {}
    for k in range(4):
        n = int(rng.integers(30, 150))
        ts = pd.date_range("2024-01-01", periods=n, freq="5min").to_numpy()
        windows, start = [], probationary_length(n)
        while True:
            start += int(rng.integers(0, 25))
            width = int(rng.integers(2, 15))
            if start + width > n:
                break
            windows.append((str(ts[start]), str(ts[start + width - 1])))
            start += width
        files.append(NabFile(f"c/f{k}.csv", ts, rng.normal(size=n), windows=windows))
        scores[files[-1].name] = np.round(rng.random(n), 1)
    return NabCorpus(tuple(files)), scores


@pytest.mark.parametrize("profile", list(NAB_PROFILES))
def test_curve_matches_a_literal_port_of_nab_sweeper(
    rng: np.random.Generator, profile: str
) -> None:
    for _ in range(5):
        corpus, scores = _random_corpus(rng)
        reference = _nab_sweep(corpus, scores, corpus.profiles[profile])
        curve = threshold_curve(corpus, scores, profile=profile)
        assert curve.thresholds.tolist() == [t for t, _ in reference]
        assert curve.scores == pytest.approx([s for _, s in reference], abs=1e-10)
        best_reference = sorted(reference, key=lambda r: r[1], reverse=True)[0]
        result = score_corpus(corpus, scores, profile=profile)
        assert result.raw_score == pytest.approx(best_reference[1], abs=1e-10)


# --------------------------------------------------------------------------- #
# validation
# --------------------------------------------------------------------------- #


def test_scores_outside_unit_interval_name_the_file() -> None:
    y = detections([60])["a.csv"]
    y[50] = 1.5
    with pytest.raises(DataValidationError, match=re.escape("scores['a.csv'] must lie in [0, 1]")):
        score_corpus(one_window(), {"a.csv": y})


def test_scores_must_cover_the_corpus_exactly() -> None:
    corpus = one_window()
    with pytest.raises(
        DataValidationError, match=re.escape("no scores for 1 file(s), e.g. 'a.csv'")
    ):
        score_corpus(corpus, {})
    with pytest.raises(DataValidationError, match=re.escape("unknown file(s), e.g. 'b.csv'")):
        score_corpus(corpus, {"a.csv": np.zeros(100), "b.csv": np.zeros(3)})
    with pytest.raises(DataValidationError, match=re.escape("scores['a.csv'] has 99 values")):
        score_corpus(corpus, {"a.csv": np.zeros(99)})
    with pytest.raises(DataValidationError, match="must be a mapping"):
        score_corpus(corpus, [np.zeros(100)])  # type: ignore[arg-type]


def test_scores_accept_lists_and_series() -> None:
    y = detections([60])["a.csv"]
    for form in (y.tolist(), pd.Series(y)):
        assert score_corpus(one_window(), {"a.csv": form}).raw_score == 1.0


def test_bad_parameters() -> None:
    with pytest.raises(
        InvalidParameterError, match=re.escape("The 'profile' parameter of score_corpus")
    ):
        score_corpus(one_window(), detections([60]), profile="strict")
    with pytest.raises(InvalidParameterError, match=re.escape("The 'threshold' parameter")):
        score_corpus(one_window(), detections([60]), threshold="high")  # type: ignore[arg-type]
    with pytest.raises(
        InvalidParameterError, match=re.escape("The 'fp_weight' parameter of NabProfile")
    ):
        NabProfile("p", 1.0, -0.1, 1.0)
    custom = NabProfile("strict", 1.0, 0.5, 1.0)
    assert raw(one_window(), detections([30, 60]), custom) == pytest.approx(0.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("windows", "fragment"),
    [
        ([(60, 200)], "Window 0 of 'a.csv' ends at 200, which is not one of"),
        ([(60, 60)], "span at least two rows"),
        ([(69, 60)], "must end after it starts"),
        ([(60, 69), (65, 80)], "windows must be sorted and disjoint"),
        ([(60, 69), (20, 30)], "windows must be sorted and disjoint"),
        ([(10, 20)], "inside the probationary period (the first 15 rows)"),
        ([(60, 69, 70)], "must be a (start, end) pair"),
        ([("x", 69)], "the file's timestamps are integers"),
    ],
)
def test_bad_windows(windows: list, fragment: str) -> None:
    with pytest.raises(DataValidationError, match=re.escape(fragment)):
        NabFile("a.csv", np.arange(100), np.zeros(100), windows=windows)


def test_repeated_window_limit_is_refused_as_in_nab() -> None:
    ts = np.r_[np.arange(70), 60, np.arange(71, 100)]
    with pytest.raises(DataValidationError, match=re.escape("appears 2 times in")):
        NabFile("a.csv", ts, np.zeros(100), windows=[(60, 69)])


def test_corpus_checks() -> None:
    f = NabFile("a.csv", np.arange(100), np.zeros(100))
    with pytest.raises(DataValidationError, match=re.escape("['a.csv'] appear more than once")):
        NabCorpus((f, f))
    with pytest.raises(DataValidationError, match="non-empty sequence of NabFile"):
        NabCorpus(())
    with pytest.raises(DataValidationError, match=re.escape("The corpus has no file 'b.csv'")):
        NabCorpus((f,)).file("b.csv")


def test_corpus_without_windows_has_no_normalised_score() -> None:
    corpus = NabCorpus((NabFile("a.csv", np.arange(100), np.zeros(100)),))
    result = score_corpus(corpus, {"a.csv": np.zeros(100)})
    assert result.raw_score == 0.0 and math.isnan(result.normalized_score)
    assert result.to_dict()["normalized_score"] is None


def test_results_serialise() -> None:
    result = score_corpus(one_window(), detections([30, 60]))
    assert json.loads(json.dumps(result.to_dict())) == result.to_dict()
    frame = result.to_frame()
    assert frame.shape == (1, 9) and frame.loc[0, "file"] == "a.csv"
    curve = threshold_curve(one_window(), detections([30, 60]))
    assert curve.to_frame().shape == (3, 2) and curve.best_threshold == 1.0


def test_evaluate_detector_checks_its_output() -> None:
    with pytest.raises(DataValidationError, match=re.escape("scores['a.csv'] has 3 values")):
        evaluate_detector(one_window(), lambda values, timestamps: np.zeros(3))
    with pytest.raises(InvalidParameterError, match="'detector' parameter"):
        evaluate_detector(one_window(), "zscore")  # type: ignore[arg-type]


def test_load_nab_errors(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="does not exist; pass the folder"):
        load_nab(tmp_path / "absent")
    with pytest.raises(DataValidationError, match=re.escape("labels/combined_windows.json")):
        load_nab(tmp_path)
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "combined_windows.json").write_text('{"x/a.csv": []}')
    with pytest.raises(DataValidationError, match=re.escape("The labels name 'x/a.csv'")):
        load_nab(tmp_path)
    (tmp_path / "data" / "x").mkdir(parents=True)
    (tmp_path / "data" / "x" / "a.csv").write_text("time,v\n2024-01-01,1\n")
    with pytest.raises(DataValidationError, match=re.escape("lacks ['timestamp', 'value']")):
        load_nab(tmp_path)
    (tmp_path / "data" / "x" / "a.csv").write_text("timestamp,value\n2024-01-01,1\n")
    corpus = load_nab(tmp_path)
    assert corpus.names == ("x/a.csv",) and dict(corpus.profiles) == dict(NAB_PROFILES)


# --------------------------------------------------------------------------- #
# the shared NAB subset
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def nab(shared_data: Path) -> NabCorpus:
    folder = shared_data / "nab"
    if not folder.is_dir():
        pytest.skip(f"the NAB subset {folder} is absent")
    return load_nab(folder)


def test_load_shared_subset(nab: NabCorpus) -> None:
    assert len(nab) == 31 and nab.n_windows == 53
    assert sum(f.n_windows == 0 for f in nab.files) == 5  # artificialNoAnomaly
    for f in nab.files:
        assert f.probationary_length == min(math.floor(0.15 * f.n_rows), 750)
    taxi = nab.file("realKnownCause/nyc_taxi.csv")
    assert taxi.n_rows == 10320 and taxi.probationary_length == 750
    assert taxi.window_rows[0].tolist() == [5839, 6045]
    assert str(pd.Timestamp(taxi.windows[0][0])) == "2014-10-30 15:30:00"
    assert {p: (q.tp_weight, q.fp_weight, q.fn_weight) for p, q in nab.profiles.items()} == {
        "standard": (1.0, 0.11, 1.0),
        "reward_low_FP_rate": (1.0, 0.22, 1.0),
        "reward_low_FN_rate": (1.0, 0.11, 2.0),
    }


def _window_starts(values: np.ndarray, timestamps: np.ndarray, corpus: NabCorpus) -> np.ndarray:
    f = next(f for f in corpus.files if f.timestamps is timestamps)
    y = np.zeros(f.n_rows)
    y[f.window_rows[:, 0]] = 1.0
    return y


def test_perfect_and_null_detectors_on_shared_subset(nab: NabCorpus) -> None:
    perfect = evaluate_detector(nab, lambda v, t: _window_starts(v, t, nab))
    null = evaluate_detector(nab, lambda v, t: np.zeros(v.size))
    for name in NAB_PROFILES:
        assert perfect.results[name].normalized_score == pytest.approx(100.0, abs=1e-9)
        assert perfect.results[name].raw_score == pytest.approx(53.0, abs=1e-9)
        assert null.results[name].normalized_score == 0.0
        assert null.results[name].threshold == 1.1
    assert null.results["reward_low_FN_rate"].null_score == -106.0
    assert perfect.to_frame().shape == (3, 5)


def test_random_detector_on_shared_subset(nab: NabCorpus, rng: np.random.Generator) -> None:
    scores = {f.name: rng.random(f.n_rows) for f in nab.files}
    for name in NAB_PROFILES:
        optimised = score_corpus(nab, scores, profile=name)
        # The optimiser can always fall back to detecting nothing (or everything), the
        # null detector's two choices, so an optimised score is never below 0 ...
        assert 0.0 <= optimised.normalized_score < 50.0
        # ... while a fixed threshold of 0.5 floods the corpus with false positives.
        flooded = score_corpus(nab, scores, profile=name, threshold=0.5)
        assert flooded.normalized_score < -100.0
        assert sum(f.fp for f in flooded.files) > 10_000


def test_shared_subset_matches_nab_sweeper_port(nab: NabCorpus, rng: np.random.Generator) -> None:
    names = [
        "realAdExchange/exchange-4_cpm_results.csv",
        "realTraffic/speed_7578.csv",
        "realKnownCause/ec2_request_latency_system_failure.csv",
    ]
    corpus = NabCorpus(tuple(nab.file(n) for n in names))
    scores = {n: np.round(rng.random(corpus.file(n).n_rows), 3) for n in names}
    for profile in NAB_PROFILES.values():
        reference = _nab_sweep(corpus, scores, profile)
        curve = threshold_curve(corpus, scores, profile=profile)
        assert curve.thresholds.tolist() == [t for t, _ in reference]
        assert curve.scores == pytest.approx([s for _, s in reference], abs=1e-9)

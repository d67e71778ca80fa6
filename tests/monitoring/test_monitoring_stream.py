"""The streaming detector: one tick at a time, the same scores as ``detect``."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest

from seawall.exceptions import DataValidationError, InvalidParameterError
from seawall.monitoring import detect
from seawall.monitoring._stream import StreamingDetector, StreamState


def step(det: StreamingDetector, x: np.ndarray) -> np.ndarray:
    """Score a step, then learn from it: the order of the batch."""
    s = det.score(x)
    det.update(x)
    return s


def _fleet(rng: np.random.Generator, n_steps: int = 900) -> np.ndarray:
    t = np.arange(n_steps)
    rows = []
    for p in (24, 7, 1, 24, 12, 24):
        season = np.sin(2 * np.pi * t / p) if p > 1 else np.zeros(n_steps)
        rows.append(10.0 + season + rng.normal(0, 0.4, n_steps))
    X = np.vstack(rows)
    X[rng.random(X.shape) < 0.03] = np.nan  # scattered gaps
    X[0, 500:520] = np.nan  # a long gap
    X[1, 600] += 8.0  # a spike
    X[3, 650:] += 5.0  # a lasting level shift
    X[4] = np.nan  # a series that cannot be learned
    X[5, :120] = np.nan  # nothing to learn from in the first half of the warm-up
    return X


@pytest.mark.parametrize("period", ["auto", 24, [24, 7, 1, 24, 12, 24]])
def test_stream_equals_batch_exactly_across_a_save_and_restore(
    rng: np.random.Generator, period: object
) -> None:
    X = _fleet(rng)
    warm = 240
    batch = detect(X, warmup=warm, period=period)  # type: ignore[arg-type]
    det = StreamingDetector(period=period).fit(X[:, :warm])
    np.testing.assert_array_equal(det.periods_, batch.periods)
    assert det.reasons_ == batch.reasons
    out = np.full(X.shape, np.nan)
    for t in range(warm, 700):
        out[:, t] = step(det, X[:, t])
    # Save as plain arrays, carry on in a new detector; and through pickle.
    saved = {k: v.copy() for k, v in det.state_.to_arrays().items()}
    resumed = StreamingDetector(period=period).resume(StreamState.from_arrays(saved))
    pickled = pickle.loads(pickle.dumps(det))
    for t in range(700, X.shape[1]):
        out[:, t] = step(resumed, X[:, t])
        np.testing.assert_array_equal(step(pickled, X[:, t]), out[:, t])
    np.testing.assert_array_equal(out, batch.scores)  # bit for bit, NaN where NaN
    assert np.isnan(out[4]).all() and np.isnan(out[5]).all()


def test_stream_anomalies_and_level_shift(rng: np.random.Generator) -> None:
    X = _fleet(rng, 1400)
    det = StreamingDetector(period=[24, 7, 1, 24, 12, 24]).fit(X[:, :240])
    S = np.vstack([step(det, X[:, t]) for t in range(240, 1400)]).T
    assert S[1, 600 - 240] >= 0.995  # the spike
    assert S[3, 650 - 240 : 653 - 240].min() >= 0.99  # the shift, first noticed
    assert np.mean(S[3, 1000 - 240 :] >= 0.99) < 0.03  # then the new normal
    assert np.isnan(S[0, 500 - 240 : 520 - 240]).all()  # the gap scores NaN


def test_missing_values_leave_the_state_unchanged(rng: np.random.Generator) -> None:
    X = _fleet(rng)
    det = StreamingDetector(period=24).fit(X[:, :240])
    before = det.state_.to_arrays()
    x = X[:, 240].copy()
    x[[0, 2]] = np.nan
    s = step(det, x)
    after = det.state_.to_arrays()
    assert np.isnan(s[[0, 2]]).all()
    for name in ("level", "scale", "season", "counts"):
        np.testing.assert_array_equal(after[name][[0, 2]], before[name][[0, 2]])
        assert not np.array_equal(after[name][[1, 3]], before[name][[1, 3]]) or name == "season"


@pytest.mark.parametrize(("period", "limit"), [(24, 300), (168, 1024)])
def test_state_is_small(rng: np.random.Generator, period: int, limit: int) -> None:
    X = 10 + rng.normal(0, 1, (4, 2 * period))
    det = StreamingDetector(period=period).fit(X)
    assert det.nbytes_per_series() <= limit
    assert det.state_.season.dtype == np.float32


def test_update_does_not_mutate_its_input(rng: np.random.Generator) -> None:
    X = _fleet(rng)
    det = StreamingDetector().fit(X[:, :240])
    x = X[:, 240].copy()
    before = x.copy()
    det.score(x)
    det.update(x)
    np.testing.assert_array_equal(x, before)


def test_stream_errors() -> None:
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match=re.escape("call fit(warmup_block)")):
        StreamingDetector().update(np.zeros(3))
    with pytest.raises(InvalidParameterError, match=re.escape("'clip' parameter of Stream")):
        StreamingDetector(clip=0).fit(np.zeros((2, 40)))
    with pytest.raises(InvalidParameterError, match=re.escape("'n_warm (X.shape[1])'")):
        StreamingDetector().fit(np.zeros((2, 10)))
    det = StreamingDetector(period=2).fit(np.tile([0.0, 1.0], (2, 20)))
    with pytest.raises(DataValidationError, match=re.escape("must have shape (2,)")):
        det.update(np.zeros(3))
    with pytest.raises(DataValidationError, match=re.escape("(the first at series 1)")):
        det.update([0.0, np.inf])
    with pytest.raises(DataValidationError, match=re.escape("has 3 series but the detector")):
        det.score_many(np.zeros((3, 4)))
    with pytest.raises(DataValidationError, match=re.escape("StreamingDetector.score must")):
        det.score(np.zeros(3))
    with pytest.raises(DataValidationError, match=re.escape("lacks ['counts']")):
        StreamState.from_arrays({k: v for k, v in det.state_.to_arrays().items() if k != "counts"})


def test_the_batch_and_stream_defaults_are_one_set() -> None:
    import inspect

    from seawall.monitoring import StreamingDetector, detect
    from seawall.monitoring._inputs import Smoothing

    defaults = Smoothing()
    for fn in (detect, StreamingDetector.__init__):
        params = inspect.signature(fn).parameters
        for name in ("level_rate", "season_rate", "scale_rate", "clip"):
            assert params[name].default == getattr(defaults, name), (fn, name)


def test_the_period_is_chosen_by_forecast_among_candidates(rng: np.random.Generator) -> None:
    from seawall.monitoring._inputs import Smoothing
    from seawall.monitoring._period import period_candidates
    from seawall.monitoring._stream import select_period

    t = np.arange(672)
    daily = np.sin(2 * np.pi * t / 24)
    weekly = np.where((t // 24) % 7 >= 5, -2.0, 0.0)  # weekends lower: a weekly season
    X = np.vstack([daily + weekly, daily, rng.normal(size=672)]) + rng.normal(0, 0.1, (3, 672))
    cands = period_candidates(X, min_period=2, max_period=336, min_acf=0.2)
    assert cands.shape == (3, 5) and (cands[:, 0] == 1).all()
    chosen = select_period(X, cands, Smoothing()).tolist()
    assert chosen[0] == 168 and chosen[1] == 24 and chosen[2] == 1

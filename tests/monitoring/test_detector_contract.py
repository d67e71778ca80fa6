"""The streaming-detector contract (STYLE.md), checked on every public streaming detector.

``check_detector`` is River's idea of one suite over every detector: input not
mutated, ``score`` pure, pickle round trip, ``clone`` resets and keeps the
parameters, the same data give the same scores, the batch twins equal their
loops, immutable defaults, docstrings present, and higher means more anomalous.
"""

from __future__ import annotations

import inspect
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from seawall.monitoring import StreamingDetector

WARM, N_STEPS = 240, 300


def _series(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(N_STEPS)
    X = 10 + np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.2, (5, N_STEPS))
    X[rng.random(X.shape) < 0.02] = np.nan
    return X


def _state(det: Any) -> dict[str, np.ndarray]:
    return {k: np.array(v, copy=True) for k, v in det.state_.to_arrays().items()}


def _same_state(a: Any, b: Any) -> None:
    sa, sb = _state(a), _state(b)
    assert sa.keys() == sb.keys()
    for name in sa:
        np.testing.assert_array_equal(sa[name], sb[name], err_msg=name)


def check_detector(make: Callable[[], Any]) -> None:
    """Every clause of the contract, on a detector built by ``make`` (unfitted)."""
    X = _series()
    block = X[:, WARM:]
    # Immutable defaults and docstrings.
    cls = type(make())
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if param.default is not inspect.Parameter.empty:
            assert isinstance(param.default, str | int | float | bool | type(None)), name
    for name in ("fit", "score", "update", "score_many", "update_many", "clone"):
        assert inspect.getdoc(getattr(cls, name)), name
    assert inspect.getdoc(cls)
    det = make().fit(X[:, :WARM])
    # Input not mutated.
    x = block[:, 0].copy()
    before_x = x.copy()
    det.score(x)
    np.testing.assert_array_equal(x, before_x)
    # score is pure: the same answer twice, and no state moved.
    twin = pickle.loads(pickle.dumps(det))
    first = det.score(block[:, 0])
    np.testing.assert_array_equal(det.score(block[:, 0]), first)
    _same_state(det, twin)
    # Pickle round trip and determinism: the same data, the same scores.
    again = make().fit(X[:, :WARM])
    for t in range(block.shape[1]):
        s = det.score(block[:, t])
        np.testing.assert_array_equal(twin.score(block[:, t]), s)
        np.testing.assert_array_equal(again.score(block[:, t]), s)
        for d in (det, twin, again):
            d.update(block[:, t])
    _same_state(det, twin)
    # Batch twins equal their loops.
    start = make().fit(X[:, :WARM])
    looped = np.column_stack([start.score(block[:, t]) for t in range(block.shape[1])])
    np.testing.assert_array_equal(start.score_many(block), looped)
    start.update_many(block)
    _same_state(start, det)
    # clone resets and keeps the parameters; clone of a clone is the same.
    fresh = det.clone()
    assert not hasattr(fresh, "state_")
    assert vars(fresh) == vars(fresh.clone()) == {k: getattr(det, k) for k in vars(fresh)}
    # Higher means more anomalous: a spike outscores the same step without it.
    x = block[:, -1].copy()
    x[np.isnan(x)] = 10.0
    spiked = x.copy()
    spiked[0] += 20.0
    assert det.score(spiked)[0] > det.score(x)[0]


@pytest.mark.parametrize(
    "make",
    [StreamingDetector, lambda: StreamingDetector(period=24, clip=3.0)],
    ids=["default", "period=24,clip=3"],
)
def test_streaming_detectors_keep_the_contract(make: Callable[[], Any]) -> None:
    check_detector(make)

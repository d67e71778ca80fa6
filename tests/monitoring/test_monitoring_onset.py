"""Onset scores: a score survives only where it beats the recent past."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest

from seawall.exceptions import DataValidationError, InvalidParameterError
from seawall.monitoring._onset import OnsetFilter, onset_scores


def _naive(S: np.ndarray, hold: int) -> np.ndarray:
    """The rule step by step: beat every score since the start of the previous block."""
    half = hold // 2
    out = np.zeros_like(S)
    for i in range(S.shape[0]):
        for t in range(S.shape[1]):
            start = max((t // half) * half - half, 0)
            past = np.nan_to_num(S[i, start:t], nan=0.0)
            memory = past.max() if past.size else 0.0
            out[i, t] = np.nan if np.isnan(S[i, t]) else (S[i, t] if S[i, t] > memory else 0.0)
    return out


@pytest.mark.parametrize("hold", [2, 3, 10, 151])
def test_batch_equals_the_naive_rule_and_the_stream(rng: np.random.Generator, hold: int) -> None:
    S = rng.random((4, 400)) ** 3
    S[rng.random(S.shape) < 0.1] = np.nan
    S[:, :30] = np.nan  # a warm-up
    batch = onset_scores(S, hold=hold)
    np.testing.assert_array_equal(batch, _naive(S, hold))
    f = OnsetFilter(hold=hold)
    stream = np.column_stack([f.filter(S[:, t]) for t in range(S.shape[1])])
    np.testing.assert_array_equal(stream, batch)


def test_a_lasting_anomaly_keeps_only_its_start_and_its_worsening() -> None:
    s = np.full(400, 0.3)
    s[100:300] = 0.999  # an anomaly that lasts 200 steps
    s[180] = 0.99999  # it gets worse
    out = onset_scores(s[None, :], hold=40)[0]
    assert np.flatnonzero(out > 0.99).tolist() == [100, 180]
    # Once the memory has forgotten the episode, ordinary scores come back.
    s[399] = 0.5
    out = onset_scores(s[None, :], hold=40)[0]
    assert out[399] == 0.5 and out[300:319].max() == 0.0


def test_the_filter_state_pickles_and_resumes(rng: np.random.Generator) -> None:
    S = rng.random((3, 60))
    f = OnsetFilter(hold=8)
    first = [f.filter(S[:, t]) for t in range(30)]
    g = pickle.loads(pickle.dumps(f))
    rest = [g.filter(S[:, t]) for t in range(30, 60)]
    np.testing.assert_array_equal(np.column_stack(first + rest), onset_scores(S, hold=8))


def test_bad_input_is_named() -> None:
    with pytest.raises(InvalidParameterError, match=re.escape("'hold' parameter of onset_scores")):
        onset_scores(np.zeros((1, 5)), hold=1)
    f = OnsetFilter()
    f.filter(np.zeros(3))
    message = "has 2 series but the filter has seen 3"
    with pytest.raises(DataValidationError, match=re.escape(message)):
        f.filter(np.zeros(2))

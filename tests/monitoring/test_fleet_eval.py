"""Scoring incidents against ground truth: the definitions on hand-worked cases."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from seawall.exceptions import DataValidationError
from seawall.monitoring._fleet_eval import score_incidents
from seawall.monitoring._incidents import group_incidents

T, PER_DAY = 100, 10
KEYS = ["a", "b", "c", "d", "e"]
LABELS = pd.DataFrame({"series": KEYS, "model": ["m1", "m1", "m1", "m2", "m3"]})


def event(id, start, end, affected, importance=1.0, root=None):
    return SimpleNamespace(
        id=id,
        start_step=start,
        end_step=end,
        affected=tuple(affected),
        importance=importance,
        root_cause=root or {},
    )


@pytest.fixture
def incidents():
    flags = np.zeros((5, T), dtype=bool)
    flags[0, 20:23] = flags[1, 21:24] = flags[2, 21] = True  # one incident on m1
    flags[3, 50:52] = True  # m2
    flags[4, 80] = True  # m3
    flags[0, 70] = True  # m1 again, much later
    return group_incidents(flags, np.where(flags, 0.9995, 0.5), LABELS)


def test_hand_worked_scenario(incidents):
    events = [
        event("E1", 19, 30, ["a", "b"], importance=5.0, root={"model": "m1"}),
        event("E2", 60, 70, ["d"], importance=2.0),
        event("E3", 75, 85, ["e"], root={"model": "m3"}),
    ]
    s = score_incidents(incidents, events, KEYS, np.ones((5, T), bool), steps_per_day=PER_DAY)
    # runs: a(20-22) E1, b(21-23) E1, c(21) FA, d(50-51) FA (before E2), a(70) FA, e(80) E3
    assert s.event_recall == pytest.approx(2 / 3)
    assert s.false_alarm_runs == 3
    assert s.false_alarm_rate == pytest.approx(3 / 5 / (10 / 5))
    assert (s.n_anomalies, s.n_runs, s.n_incidents) == (11, 6, 4)
    assert s.compression == pytest.approx(11 / 4) and s.compression_runs == pytest.approx(6 / 4)
    # purity: {a, b | c} -> 2 of 3; {d}, {e}, {a} -> 1 each; weighted: 5 / 6
    assert s.purity == pytest.approx(5 / 6)
    assert [i.members for i in incidents] == [("a", "b", "c"), ("d",), ("a",), ("e",)]
    assert s.root_cause_rank == 1
    e1, e2, e3 = s.events
    assert (e1.detected, e1.n_affected, e1.n_found, e1.delay, e1.main_rank, e1.labelled) == (
        True,
        2,
        2,
        1,
        1,
        True,
    )
    assert (e2.detected, e2.main_rank, e2.delay) == (False, None, None)
    assert (e3.main_rank, e3.labelled) == (4, True)
    json.dumps(s.to_dict())


def test_tolerance_extends_an_event_window(incidents):
    events = [event("E1", 40, 48, ["d"])]
    mask = np.ones((5, T), bool)
    assert score_incidents(incidents, events, KEYS, mask, steps_per_day=PER_DAY).event_recall == 0
    late = score_incidents(incidents, events, KEYS, mask, steps_per_day=PER_DAY, tolerance=2)
    assert late.event_recall == 1.0 and late.false_alarm_runs == 5
    assert late.events[0].delay == 10


def test_a_false_alarm_majority_makes_the_false_alarm_class_dominant(incidents):
    events = [event("E1", 0, 99, ["c"])]
    s = score_incidents(incidents, events, KEYS, np.ones((5, T), bool), steps_per_day=PER_DAY)
    # {a, b | c}: two false-alarm members of three; the rest pure.
    assert s.purity == pytest.approx((2 + 1 + 1 + 1) / 6)


def test_only_scored_steps_count_as_history(incidents):
    mask = np.zeros((5, T), bool)
    mask[:, 50:] = True  # 5 scored days
    s = score_incidents(incidents, [], KEYS, mask, steps_per_day=PER_DAY)
    assert s.false_alarm_runs == 6 and s.false_alarm_rate == pytest.approx(6 / 5 / 1)
    assert np.isnan(s.event_recall) and s.root_cause_rank is None


def test_errors_name_the_problem(incidents):
    with pytest.raises(
        DataValidationError, match=re.escape("event 'E9' passed to score_incidents")
    ):
        score_incidents(
            incidents, [event("E9", 0, 1, ["zz"])], KEYS, np.ones((5, T)), steps_per_day=1
        )
    with pytest.raises(DataValidationError, match="one row per series"):
        score_incidents(incidents, [], KEYS, np.ones((4, T)), steps_per_day=1)

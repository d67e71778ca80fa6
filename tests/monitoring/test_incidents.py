"""Incidents: flagging, grouping, ranking and feedback on hand-made fleets."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from seawall.exceptions import DataValidationError, InvalidParameterError
from seawall.monitoring._co_anomaly import co_anomaly_groups
from seawall.monitoring._feedback import Feedback, series_thresholds
from seawall.monitoring._flagging import daily_steps, flag_anomalies, fleet_threshold
from seawall.monitoring._incident_scan import episodes
from seawall.monitoring._incidents import group_incidents
from seawall.monitoring._ranking import severities, severity
from seawall.monitoring._runs import find_runs

T = 60


def labels(rows: list[dict[str, object]]) -> pd.DataFrame:
    cols = ["series", "model", "metric", "feature", "source", "team", "region"]
    return pd.DataFrame(rows, columns=cols).astype(object).where(lambda d: d.notna(), None)


def row(model: str, metric: str, **kw: object) -> dict[str, object]:
    feature = kw.get("feature")
    key = f"{model}/{metric}" + (f"/{feature}" if feature else "")
    return {"series": key, "model": model, "metric": metric, **kw}


def flags_at(n: int, cells: dict[int, range | list[int]]) -> np.ndarray:
    out = np.zeros((n, T), dtype=bool)
    for i, steps in cells.items():
        out[i, list(steps)] = True
    return out


def scores_for(flags: np.ndarray, level: float = 0.9995) -> np.ndarray:
    return np.where(flags, level, 0.5)


# --------------------------------------------------------------------------- #
# grouping
# --------------------------------------------------------------------------- #


def test_two_models_sharing_a_source_form_one_incident_labelled_by_the_source():
    lab = labels(
        [
            row("m1", "drift", feature="crm.age", source="crm", team="a", region="eu"),
            row("m2", "drift", feature="crm.age", source="crm", team="b", region="us"),
            row("m3", "drift", feature="geo.zip", source="geo", team="c", region="apac"),
            row("m4", "volume", team="d", region="latam"),
        ]
    )
    flags = flags_at(4, {0: range(20, 24), 1: range(21, 25), 3: [40]})
    res = group_incidents(flags, scores_for(flags), lab)
    assert len(res) == 2
    joint = next(i for i in res if len(i.members) == 2)
    assert joint.members == ("m1/drift/crm.age", "m2/drift/crm.age")
    assert joint.shared["source"] == "crm"
    assert joint.n_models == 2
    assert (joint.start_step, joint.end_step, joint.n_anomalies) == (20, 24, 8)


def test_unrelated_simultaneous_anomalies_stay_separate():
    lab = labels(
        [
            row("m1", "drift", feature="crm.age", source="crm", team="a", region="eu"),
            row("m2", "drift", feature="geo.zip", source="geo", team="b", region="us"),
            row("m3", "accuracy", team="c", region="apac"),
        ]
    )
    flags = flags_at(3, {0: range(20, 25), 1: range(20, 25), 2: range(20, 25)})
    res = group_incidents(flags, scores_for(flags), lab)
    assert sorted(len(i.members) for i in res) == [1, 1, 1]
    assert {i.linked_by["model"] for i in res} == {"m1", "m2", "m3"}


def test_anomalies_of_one_model_at_the_same_time_form_one_incident():
    lab = labels(
        [
            row("m1", "drift", feature="crm.age", source="crm", team="a", region="eu"),
            row("m1", "accuracy", team="a", region="eu"),
            row("m2", "accuracy", team="b", region="us"),
        ]
    )
    flags = flags_at(3, {0: range(10, 14), 1: range(15, 18), 2: range(50, 52)})
    res = group_incidents(flags, scores_for(flags), lab, gap=3)
    first = next(i for i in res if i.linked_by == {"model": "m1"})
    assert first.members == ("m1/accuracy", "m1/drift/crm.age")
    assert first.shared["model"] == "m1" and first.shared["team"] == "a"


@pytest.mark.parametrize(("gap", "n_incidents"), [(2, 2), (3, 1), (0, 2)])
def test_gap_decides_whether_runs_count_as_together(gap, n_incidents):
    lab = labels(
        [
            row("m1", "drift", feature="crm.age", source="crm", team="a", region="eu"),
            row("m2", "drift", feature="crm.age", source="crm", team="b", region="us"),
        ]
    )
    # m1 ends at step 11; m2 starts at 15: three quiet steps between them.
    flags = flags_at(2, {0: range(10, 12), 1: range(15, 17)})
    res = group_incidents(flags, scores_for(flags), lab, gap=gap)
    assert len(res) == n_incidents


def test_gap_merges_runs_of_one_series():
    lab = labels([row("m1", "volume", team="a", region="eu")])
    flags = flags_at(1, {0: [10, 11, 14, 30]})
    res = group_incidents(flags, scores_for(flags), lab, gap=2)
    assert [(i.start_step, i.end_step, i.n_anomalies) for i in res] in (
        [(10, 14, 3), (30, 30, 1)],
        [(30, 30, 1), (10, 14, 3)],
    )
    assert res.n_runs == 3 and res.n_anomalies == 4


def test_a_source_break_over_two_metrics_is_one_incident():
    rows = []
    for m in range(5):
        rows.append(
            row(f"m{m}", "drift", feature="crm.age", source="crm", team=f"t{m}", region="eu")
        )
        rows.append(
            row(f"m{m}", "null_rate", feature="crm.age", source="crm", team=f"t{m}", region="eu")
        )
    lab = labels(rows)
    # drift on m0-m2, null rate on m3-m4 (separate models): linked through the source.
    flags = flags_at(10, {0: range(30, 33), 2: range(30, 33), 4: range(31, 33), 7: [31], 9: [30]})
    res = group_incidents(flags, scores_for(flags), lab)
    assert len(res) == 1
    assert res[0].shared == {"source": "crm", "feature": "crm.age", "region": "eu"}
    assert res[0].n_models == 5


def test_a_region_drift_explains_a_team_away():
    # 40 models in two regions; region "eu" drifts at overlapping times. Team "t0"
    # has models in both regions: its "us" model's blip is not pulled in.
    rows = []
    for m in range(40):
        region = "eu" if m < 20 else "us"
        rows.append(
            row(
                f"m{m}",
                "drift",
                feature=f"f{m % 7}",
                source=f"s{m % 7}",
                team=f"t{m % 4}",
                region=region,
            )
        )
    lab = labels(rows)
    cells = {m: range(20 + m % 5, 24 + m % 5) for m in range(0, 20, 2)}
    cells[24] = [22]  # team t0, region us
    flags = flags_at(40, cells)
    res = group_incidents(flags, scores_for(flags), lab)
    main = max(res, key=lambda i: len(i.members))
    assert main.linked_by == {"region": "eu", "metric": "drift"}
    assert len(main.members) == 10
    assert "m24/drift/f3" not in main.members
    assert main.rank == 1


def test_co_anomaly_history_links_series_with_no_label_in_common():
    lab = labels(
        [
            row("m1", "volume", team="a", region="eu"),
            row("m2", "volume", team="b", region="us"),
            row("m3", "volume", team="c", region="apac"),
        ]
    )
    past = np.zeros((3, 100), dtype=bool)
    past[[0, 1], 10] = past[[0, 1], 40] = past[[0, 1], 70] = True
    past[2, 40] = True
    assert co_anomaly_groups(past, gap=2).tolist() == [0, 0, -1]
    flags = flags_at(3, {0: [30, 31], 1: [31], 2: [31]})
    without = group_incidents(flags, scores_for(flags), lab)
    with_history = group_incidents(flags, scores_for(flags), lab, co_anomaly_history=past)
    assert len(without) == 3
    assert sorted(len(i.members) for i in with_history) == [1, 2]
    assert next(i for i in with_history if len(i.members) == 2).linked_by == {"co_anomaly": "co-0"}


def test_no_flags_give_no_incidents():
    lab = labels([row("m1", "volume")])
    res = group_incidents(np.zeros((1, T), dtype=bool), np.zeros((1, T)), lab)
    assert len(res) == 0 and res.n_anomalies == 0
    assert np.isnan(res.compression)
    assert res.to_dict()["incidents"] == []


def test_timestamps_name_the_start_and_end():
    lab = labels([row("m1", "accuracy")])
    ts = pd.date_range("2024-03-01", periods=T, freq="1h")
    flags = flags_at(1, {0: range(5, 8)})
    inc = group_incidents(flags, scores_for(flags), lab, timestamps=ts)[0]
    assert inc.start == pd.Timestamp("2024-03-01 05:00") and inc.end == pd.Timestamp(
        "2024-03-01 07:00"
    )
    assert inc.to_dict()["start"] == "2024-03-01T05:00:00"


def test_results_are_json_safe_and_tabular():
    lab = labels(
        [
            row("m1", "drift", feature="crm.age", source="crm", team="a", region="eu"),
            row("m2", "drift", feature="crm.age", source="crm", team="b", region="us"),
            row("m3", "volume", team="c", region="apac"),
        ]
    )
    flags = flags_at(3, {0: range(20, 24), 1: range(21, 25), 2: [40]})
    res = group_incidents(flags, scores_for(flags), lab)
    d = json.loads(json.dumps(res.to_dict()))
    assert d["n_incidents"] == 2 and d["n_anomalies"] == 9 and d["compression"] == 4.5
    assert [i["rank"] for i in d["incidents"]] == [1, 2]
    frame = res.to_frame()
    assert list(frame["rank"]) == [1, 2]
    assert frame.loc[0, "shared"].startswith("model=") is False
    assert res.run_incident.tolist() == [0, 0, 1]
    assert all(i.summary.endswith(".") for i in res)


# --------------------------------------------------------------------------- #
# ranking
# --------------------------------------------------------------------------- #


def test_severity_matches_the_hand_worked_formula():
    # two models: m0 shows accuracy (w=3) over 2 steps at p=1e-3; m1 drift (w=1) one step.
    stat = np.array([-2 * 2 * np.log(1e-3), -2 * np.log(1e-3)])
    got = severity(np.array([3.0, 1.0]), stat, np.array([2, 1]), np.array([0, 1]))
    e0 = -stats.chi2.logsf(stat[0], 4) / np.log(10)
    expected = np.sqrt(3 + 1) * np.median([3 * min(e0, 10.0), 1 * 3.0])
    assert got == pytest.approx(expected, rel=1e-12)


def test_severities_match_one_incident_at_a_time(rng):
    n = 200
    group = np.sort(rng.integers(0, 30, n))
    group = np.unique(group, return_inverse=True)[1]
    weight = rng.choice([0.5, 1.0, 3.0], n)
    steps = rng.integers(1, 6, n)
    stat = rng.gamma(4.0, 5.0, n)
    unit = rng.integers(0, 8, n)
    got = severities(group, weight, stat, steps, unit, int(group.max()) + 1)
    for g in range(int(group.max()) + 1):
        sel = np.flatnonzero(group == g)
        per_unit: dict[int, tuple[float, float]] = {}
        for i in sel:
            e = min(-stats.chi2.logsf(stat[i], 2 * steps[i]) / np.log(10), 10.0)
            w, imp = per_unit.get(int(unit[i]), (0.0, 0.0))
            per_unit[int(unit[i])] = (max(w, weight[i]), max(imp, weight[i] * e))
        breadth = np.sqrt(sum(w for w, _ in per_unit.values()))
        expected = breadth * np.median([imp for _, imp in per_unit.values()])
        assert got[g] == pytest.approx(expected, rel=1e-12)
        assert severity(weight[sel], stat[sel], steps[sel], unit[sel]) == pytest.approx(expected)


def test_a_fairness_incident_is_not_drowned_by_a_flood_of_volume_blips():
    rows = [row("m0", "disparate_impact", team="a", region="eu")]
    rows += [row(f"v{k}", "volume", team="z", region="us") for k in range(30)]
    lab = labels(rows)
    cells = {0: range(30, 33)}
    cells.update({k: [31] for k in range(1, 31)})
    flags = flags_at(31, cells)
    res = group_incidents(flags, scores_for(flags, 0.9999), lab)
    assert res[0].members == ("m0/disparate_impact",)
    assert res[0].metrics == ("disparate_impact",)


def test_a_shared_root_cause_outranks_its_symptoms_reported_alone():
    rows = []
    for m in range(6):
        rows.append(
            row(f"m{m}", "drift", feature="crm.age", source="crm", team=f"t{m}", region=f"r{m}")
        )
        rows.append(row(f"m{m}", "accuracy", team=f"t{m}", region=f"r{m}"))
    rows.append(row("x", "accuracy", team="tx", region="rx"))
    lab = labels(rows)
    cells = {2 * m: range(20, 26) for m in range(6)}
    cells.update({2 * m + 1: range(21, 26) for m in range(6)})
    cells[12] = range(40, 46)  # one model's accuracy drop, as strong, alone
    flags = flags_at(13, cells)
    res = group_incidents(flags, scores_for(flags), lab)
    assert res[0].shared.get("source") == "crm" and res[0].n_models == 6
    assert res[1].members == ("x/accuracy",)
    assert res[0].severity > res[1].severity


# --------------------------------------------------------------------------- #
# kernels against naive loops
# --------------------------------------------------------------------------- #


def naive_runs(mask):
    out = []
    for i, r in enumerate(mask):
        t = 0
        while t < r.size:
            if r[t]:
                s = t
                while t < r.size and r[t]:
                    t += 1
                out.append((i, s, t - 1))
            else:
                t += 1
    return out


def naive_flags(S, threshold, run_level):
    out = np.zeros(S.shape, dtype=bool)
    for i in range(S.shape[0]):
        stat, k, crossed = 0.0, 0, False
        for t in range(S.shape[1]):
            s = S[i, t]
            if np.isnan(s) or s < min(run_level, threshold):
                stat, k, crossed = 0.0, 0, False
                continue
            stat += -2 * np.log(1 - s)
            k += 1
            crossed = crossed or stats.chi2.sf(stat, 2 * k) <= 1 - threshold
            out[i, t] = crossed
    return out


def test_find_runs_matches_a_loop(rng):
    mask = rng.random((30, 80)) < 0.3
    r = find_runs(mask)
    assert list(
        zip(r.series.tolist(), r.start.tolist(), r.end.tolist(), strict=True)
    ) == naive_runs(mask)


def test_flag_anomalies_matches_a_loop(rng):
    S = 1 - rng.random((20, 120)) ** 3 * 0.05  # many steps above 0.99
    S[rng.random(S.shape) < 0.05] = np.nan
    for threshold, run_level in [(0.999, 0.99), (0.9999, 0.95), (0.99, 0.995)]:
        got = flag_anomalies(S, threshold=threshold, run_level=run_level)
        np.testing.assert_array_equal(got, naive_flags(S, threshold, run_level))
    plain = flag_anomalies(S, threshold=0.999, run_level=None)
    np.testing.assert_array_equal(plain, np.nan_to_num(S, nan=0) >= 0.999)


def test_flag_anomalies_false_alarm_share_is_about_one_minus_threshold(rng):
    S = rng.random((400, 500))  # calibrated scores of normal steps are uniform
    share = flag_anomalies(S, threshold=0.999, run_level=0.99).mean()
    assert 2e-4 < share < 3e-3


def test_episodes_match_a_loop(rng):
    mask = rng.random((12, 60)) < 0.15
    unit = rng.integers(0, 4, 12)
    runs = find_runs(mask)
    run_ep, ep_unit, ep_start, ep_end = episodes(runs, unit, gap=2)
    for u in range(4):
        spans = sorted((s, e) for i, s, e in naive_runs(mask) if unit[i] == u)
        merged: list[list[int]] = []
        for s, e in spans:
            if merged and s - merged[-1][1] - 1 <= 2:  # at most gap=2 quiet steps
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        got = sorted(
            zip(ep_start[ep_unit == u].tolist(), ep_end[ep_unit == u].tolist(), strict=True)
        )
        assert got == [tuple(m) for m in merged]
    assert (ep_unit[run_ep] == unit[runs.series]).all()


# --------------------------------------------------------------------------- #
# feedback
# --------------------------------------------------------------------------- #


def test_series_thresholds_hand_worked():
    fb = (
        Feedback()
        .record("i1", "false_alarm", "2024-01-01", members=["a", "b"])
        .record("i2", "false_alarm", "2024-01-01", members=["b"])
        .record("i3", "resolve", "2024-01-01", members=["c"])
        .record("i4", "false_alarm", "2024-02-01", members=["c"])  # after now: ignored
    )
    got = series_thresholds(fb, ["a", "b", "c", "d"], now="2024-01-01", threshold=0.99)
    np.testing.assert_allclose(got, [0.999, 0.9999, 0.99, 0.99])
    later = series_thresholds(fb, ["a", "b"], now="2024-01-08", half_life="7D", threshold=0.99)
    np.testing.assert_allclose(later, [1 - 0.01 * 10**-0.5, 1 - 0.01 * 10**-1.0])


def test_a_confirmation_cancels_a_false_alarm():
    fb = Feedback().record("i1", "false_alarm", "2024-01-01", members=["a"])
    fb = fb.record("i2", "acknowledge", "2024-01-01", members=["a"])
    assert series_thresholds(fb, ["a"], now="2024-01-02").tolist() == [0.999]


def test_false_alarm_feedback_suppresses_the_same_pattern_but_not_other_series():
    lab = labels(
        [
            row("m1", "volume", team="a", region="eu"),
            row("m1", "score_mean", team="a", region="eu"),
            row("m2", "accuracy", team="b", region="us"),
            row("m2", "positive_rate", team="b", region="us"),
        ]
    )
    # The same pattern on both models: three steps at p = 0.01, combined ~1.1e-4.
    S = np.full((4, T), 0.5)
    S[:, 30:33] = 0.99
    first = group_incidents(flag_anomalies(S), S, lab)
    assert len(first) == 2
    fa = next(i for i in first if i.linked_by == {"model": "m1"})
    fb = Feedback().record(fa, "false_alarm", "2024-01-10", note="batch job")
    thr = series_thresholds(fb, lab["series"], now="2024-01-10")
    np.testing.assert_allclose(thr, [0.9999, 0.9999, 0.999, 0.999])
    again = group_incidents(flag_anomalies(S, threshold=thr), S, lab)
    assert [i.linked_by for i in again] == [{"model": "m2"}]
    assert again[0].members == ("m2/accuracy", "m2/positive_rate")


def test_feedback_log_is_json_safe():
    fb = Feedback().record(
        "i1", "resolve", "2024-01-01T10:00", note="fixed the feed", members=["a"]
    )
    d = json.loads(json.dumps(fb.to_dict()))
    assert d["entries"][0]["time"] == "2024-01-01T10:00:00"
    assert fb.to_frame().loc[0, "note"] == "fixed the feed"


# --------------------------------------------------------------------------- #
# errors
# --------------------------------------------------------------------------- #


def test_errors_name_the_input_and_the_fix():
    lab = labels([row("m1", "volume"), row("m2", "volume")])
    flags = np.zeros((2, T), dtype=bool)
    with pytest.raises(
        DataValidationError, match=re.escape("scores passed to group_incidents has shape (2, 5)")
    ):
        group_incidents(flags, np.zeros((2, 5)), lab)
    with pytest.raises(
        DataValidationError, match=re.escape("series_labels passed to group_incidents has 1 rows")
    ):
        group_incidents(flags, np.zeros((2, T)), lab.iloc[:1])
    with pytest.raises(
        InvalidParameterError, match=re.escape("The 'gap' parameter of group_incidents")
    ):
        group_incidents(flags, np.zeros((2, T)), lab, gap=-1)
    with pytest.raises(InvalidParameterError, match=re.escape("The 'link_on' parameter")):
        group_incidents(flags, np.zeros((2, T)), lab, link_on=["nope"])
    with pytest.raises(DataValidationError, match="must hold booleans"):
        group_incidents(np.full((2, T), 0.5), np.zeros((2, T)), lab)
    with pytest.raises(
        InvalidParameterError, match=re.escape("The 'threshold' parameter of flag_anomalies")
    ):
        flag_anomalies(np.zeros((2, T)), threshold=1.0)
    with pytest.raises(
        InvalidParameterError, match=re.escape("The 'action' parameter of Feedback.record")
    ):
        Feedback().record("i1", "ignore", "2024-01-01")  # type: ignore[arg-type]


def test_fleet_threshold_hand_worked_and_floored():
    assert fleet_threshold(1000, steps_per_day=24, false_runs_per_day=0.24) == pytest.approx(
        1 - 1e-5, abs=1e-15
    )
    assert fleet_threshold(13_000) == pytest.approx(1 - 0.25 / (13_000 * 24), abs=1e-15)
    assert fleet_threshold(3) == 0.999  # never below the single-series level
    with pytest.raises(InvalidParameterError, match="n_series"):
        fleet_threshold(0)
    with pytest.raises(InvalidParameterError, match="false_runs_per_day"):
        fleet_threshold(10, false_runs_per_day=0)


def test_fleet_threshold_keeps_a_calibrated_fleet_near_its_budget(rng):
    n_series, per_day, days, budget = 2000, 24, 10, 20.0
    S = rng.random((n_series, per_day * days))  # calibrated scores of normal steps
    level = fleet_threshold(n_series, steps_per_day=per_day, false_runs_per_day=budget)
    runs_per_day = len(find_runs(flag_anomalies(S, threshold=level))) / days
    # Expected about the budget (200 runs in all; the run rule adds a few percent).
    assert 0.7 * budget < runs_per_day < 1.4 * budget


def test_daily_steps_reads_the_grid():
    assert daily_steps(pd.date_range("2024-01-01", periods=10, freq="15min")) == 96.0
    times = pd.DatetimeIndex(
        ["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 02:00", "2024-01-01 05:00"]
    )
    assert daily_steps(times) == 24.0  # the median spacing, a gap notwithstanding
    with pytest.raises(DataValidationError, match="at least two increasing"):
        daily_steps(pd.DatetimeIndex(["2024-01-01"]))


def naive_echo_flags(S, threshold, run_level, echo):
    cand = np.nan_to_num(S, nan=0.0) >= min(run_level, threshold)
    T = S.copy()
    T[:, echo:][cand[:, :-echo]] = np.nan  # an echo ends the run like a missing step
    return naive_flags(T, threshold, run_level)


def test_flag_anomalies_echo_matches_a_loop(rng):
    S = 1 - rng.random((15, 200)) ** 3 * 0.05
    for echo in (1, 7, 24):
        got = flag_anomalies(S, threshold=0.999, run_level=0.99, echo=echo)
        np.testing.assert_array_equal(got, naive_echo_flags(S, 0.999, 0.99, echo))
    plain = flag_anomalies(S, threshold=0.999, run_level=None, echo=7)
    high = S >= 0.999
    expected = high.copy()
    expected[:, 7:] &= ~high[:, :-7]
    np.testing.assert_array_equal(plain, expected)
    with pytest.raises(InvalidParameterError, match="echo"):
        flag_anomalies(S, echo=0)

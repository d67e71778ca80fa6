"""The audit's mitigation section: remedies fitted on one half of the rows, judged on the other."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from seawall.audit import AuditMitigation, audit
from seawall.audit._mitigation import evaluate
from seawall.metrics import group_metrics


def _scored(n: int, seed: int) -> pd.DataFrame:
    """Group b has lower x1, which raises the label: a selection and TPR gap at 0.5."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b"], n, p=[0.7, 0.3])
    x1 = rng.normal(0, 1, n) + np.where(group == "b", -1.0, 0.0)
    x2 = rng.normal(0, 1, n)
    region = rng.choice(["north", "south", "east"], n)
    logit = 0.4 + x1 + x2
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    score = 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "y": y,
            "score": score,
            "decision": (score >= 0.5).astype(int),
            "group": group,
            "x1": x1,
            "x2": x2,
            "region": region,
        }
    )


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return _scored(8000, 0)


@pytest.fixture(scope="module")
def section(data: pd.DataFrame) -> AuditMitigation:
    res = audit(
        data, label="y", prediction="decision", score="score", sensitive="group",
        associations=False, n_bootstrap=0,
    )  # fmt: skip
    assert res.mitigation is not None
    return res.mitigation


def _outcome(section: AuditMitigation, remedy: str, setting: str, model: str):  # type: ignore[no-untyped-def]
    [o] = [
        o for o in section.outcomes if (o.remedy, o.setting, o.model) == (remedy, setting, model)
    ]
    return o


def test_evaluate_matches_group_metrics() -> None:
    rng = np.random.default_rng(3)
    y, p = rng.integers(0, 2, 3000), rng.integers(0, 2, 3000)
    s = rng.choice(["a", "b", "c"], 3000)
    o = evaluate("none", "", "audited", y, p, s, 0.9)
    m = group_metrics(y, p, sensitive_features=s, n_bootstrap=0, confidence_level=0.9)
    summary = m.summary.to_frame().set_index("name")
    di = summary.loc["disparate_impact"]
    assert (o.disparate_impact.value, o.disparate_impact.lower, o.disparate_impact.upper) == (
        pytest.approx(di.value),
        pytest.approx(di.lower),
        pytest.approx(di.upper),
    )
    gap = summary.loc["equal_opportunity_difference"]
    assert o.tpr_gap.value == pytest.approx(gap.value)
    assert o.accuracy.value == pytest.approx(np.mean(y == p))
    assert o.accuracy.lower < o.accuracy.value < o.accuracy.upper


def test_every_remedy_is_tried_on_the_judging_half(section: AuditMitigation) -> None:
    assert section.sensitive == "group"
    assert section.features == ("x1", "x2", "region")
    assert section.n_fit + section.n_eval == 8000 and abs(section.n_fit - section.n_eval) <= 2
    kinds = [(o.remedy, o.setting, o.model) for o in section.outcomes]
    assert kinds == [
        ("none", "", "audited"),
        ("threshold", "equal_opportunity", "audited"),
        ("threshold", "demographic_parity", "audited"),
        ("none", "", "stand-in"),
        ("reweighing", "", "stand-in"),
        *(("repair", f"repair_level={lv:g}", "stand-in") for lv in (0.25, 0.5, 0.75, 1.0)),
    ]
    assert section.skipped == ()


def test_post_processing_closes_the_tpr_gap(section: AuditMitigation) -> None:
    before = _outcome(section, "none", "", "audited")
    after = _outcome(section, "threshold", "equal_opportunity", "audited")
    assert before.tpr_gap.lower > 0.1  # the planted gap, significant
    assert after.tpr_gap.value < 0.05 and after.tpr_gap.lower == 0.0
    parity = _outcome(section, "threshold", "demographic_parity", "audited")
    assert parity.disparate_impact.value > 0.9 > before.disparate_impact.upper


def test_repair_moves_disparate_impact_up(section: AuditMitigation) -> None:
    plain = _outcome(section, "none", "", "stand-in")
    full = _outcome(section, "repair", "repair_level=1", "stand-in")
    assert full.disparate_impact.value > plain.disparate_impact.value
    assert full.disparate_impact.lower > plain.disparate_impact.upper


def test_json_and_report(data: pd.DataFrame, section: AuditMitigation, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from seawall.reports import write_report

    doc = json.loads(json.dumps(section.to_dict(), allow_nan=False))
    assert doc["outcomes"][0]["remedy"] == "none"
    assert set(doc["outcomes"][0]["accuracy"]) == {"value", "lower", "upper"}
    res = audit(
        data.drop(columns=["score"]), label="y", prediction="decision", sensitive="group",
        associations=False, n_bootstrap=0,
    )  # fmt: skip
    assert res.mitigation is not None
    assert res.mitigation.skipped == (
        ("threshold", "the audit has no score column to post-process"),
    )
    paths = write_report(res, tmp_path / "out")
    html = paths.html.read_text(encoding="utf-8")
    assert "What mitigation would do" in html and "mitigation-chart" in html
    assert "Threshold post-processing not tried" in html
    assert json.loads(paths.json.read_text(encoding="utf-8"))["mitigation"]["sensitive"] == "group"


def test_off_for_regression_and_when_asked(data: pd.DataFrame) -> None:
    off = audit(
        data, label="y", prediction="decision", sensitive="group", associations=False,
        mitigation=False, n_bootstrap=0,
    )  # fmt: skip
    assert off.mitigation is None and off.to_dict()["mitigation"] is None
    reg = data.assign(y=data["x2"] * 2.0, decision=data["x2"] * 1.9)
    res = audit(reg, label="y", prediction="decision", sensitive="group", associations=False)
    assert res.mitigation is None


def test_the_command_line_sums_it_up(section: AuditMitigation, data: pd.DataFrame) -> None:
    from seawall.cli._render import mitigation_line

    res = audit(
        data, label="y", prediction="decision", score="score", sensitive="group",
        associations=False, n_bootstrap=0,
    )  # fmt: skip
    line = mitigation_line(res)
    assert line is not None and line.startswith("Mitigation by group, fitted on 4,000 rows")
    before = _outcome(section, "none", "", "audited").tpr_gap
    assert f"TPR gap {before.value:.3f} [{before.lower:.3f}, {before.upper:.3f}] → " in line
    assert "stand-in model retrained on repaired features" in line
    off = audit(
        data, label="y", prediction="decision", sensitive="group", associations=False,
        mitigation=False, n_bootstrap=0,
    )  # fmt: skip
    assert mitigation_line(off) is None


def test_a_remedy_that_cannot_fit_is_skipped_with_its_reason(data: pd.DataFrame) -> None:
    # A third group of 40 rows, all negative: its TPR is undefined, so the
    # post-processor refuses it; the audit goes on and says why.
    tiny = data.iloc[:40].assign(group="c", y=0)
    frame = pd.concat([data, tiny], ignore_index=True)
    res = audit(
        frame, label="y", prediction="decision", score="score", sensitive="group",
        associations=False, n_bootstrap=0,
    )  # fmt: skip
    section = res.mitigation
    assert section is not None
    reasons = dict(section.skipped)
    assert "threshold" in reasons and "'c'" in reasons["threshold"]
    assert any(o.remedy == "repair" for o in section.outcomes)


def test_too_few_rows_skip_the_section_with_a_reason(data: pd.DataFrame, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from seawall.reports import write_report

    res = audit(
        data.iloc[:150], label="y", prediction="decision", score="score", sensitive="group",
        associations=False, n_bootstrap=0,
    )  # fmt: skip
    assert res.mitigation is not None and res.mitigation.outcomes == ()
    [(remedy, why)] = res.mitigation.skipped
    assert remedy == "all" and "150 rows can be split" in why
    html = write_report(res, tmp_path).html.read_text(encoding="utf-8")
    assert "Mitigation not tried: 150 rows can be split" in html

"""ProPublica's COMPAS analysis, reproduced (skipped without the shared data)."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, precision_score

from seawall.metrics import group_metrics

METRICS = {
    "selection_rate": selection_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "precision": partial(precision_score, zero_division=np.nan),
    "accuracy": accuracy_score,
}


@pytest.fixture(scope="module")
def result(compas: pd.DataFrame) -> Any:
    return group_metrics(
        compas.two_year_recid,
        compas.high_risk,
        sensitive_features=compas[["race", "sex"]],
        reference={"race": "Caucasian"},
        n_bootstrap=0,
    )


def test_row_count(compas: pd.DataFrame, result: Any) -> None:
    assert len(compas) == 6172
    assert result.n_rows == 6172
    # decile >= 5 is exactly ProPublica's "Medium or High".
    np.testing.assert_array_equal(compas.high_risk, compas.score_text.isin(["Medium", "High"]))
    sizes = dict(zip(result.groups.group, result.groups.n, strict=True))
    assert sizes["African-American"] == 3175 and sizes["Caucasian"] == 2103


@pytest.mark.reference
@pytest.mark.parametrize(
    ("grouping", "cols"),
    [("race", ["race"]), ("race×sex", ["race", "sex"])],
    ids=["race", "race-sex"],
)
def test_every_group_matches_fairlearn(
    compas: pd.DataFrame, result: Any, grouping: str, cols: list[str]
) -> None:
    sf = compas[cols] if len(cols) > 1 else compas[cols[0]]
    mf = MetricFrame(
        metrics=METRICS,
        y_true=compas.two_year_recid,
        y_pred=compas.high_risk,
        sensitive_features=sf,
    )
    ours = result.metrics.to_frame().set_index(["grouping", "group", "metric"])
    for key, row in mf.by_group.iterrows():
        label = " & ".join(key) if isinstance(key, tuple) else key
        for metric, expected in row.items():
            got = ours.loc[(grouping, label, metric)]
            if got.denominator == 0:
                # A rate over nobody (e.g. FPR of a group where everyone reoffended):
                # Fairlearn reports 0, we report it as undefined.
                assert np.isnan(got.value), (label, metric)
                continue
            assert got.value == pytest.approx(expected, abs=1e-12, nan_ok=True), (label, metric)


def test_false_positive_rates(compas: pd.DataFrame, result: Any) -> None:
    # FPR: share labelled high risk among those who did not reoffend within two years.
    did_not = compas[compas.two_year_recid == 0]
    fpr = did_not.groupby("race").high_risk.mean()
    black = result.metric("fpr", "African-American")
    white = result.metric("fpr", "Caucasian")
    assert black.value == pytest.approx(fpr["African-American"], abs=1e-15)
    assert white.value == pytest.approx(fpr["Caucasian"], abs=1e-15)
    # ProPublica's headline: about twice as high for African-American defendants.
    assert 0.42 <= black.value <= 0.45
    assert 0.22 <= white.value <= 0.23
    assert white.upper < black.lower  # the intervals do not even overlap
    # FNR the other way round: Caucasian defendants who reoffended were more often
    # labelled low risk.
    did = compas[compas.two_year_recid == 1]
    fnr = 1 - did.groupby("race").high_risk.mean()
    assert result.metric("fnr", "Caucasian").value == pytest.approx(fnr["Caucasian"], abs=1e-15)
    assert result.metric("fnr", "Caucasian").value > result.metric("fnr", "African-American").value


def test_fpr_disparity_is_significant_after_holm(result: Any) -> None:
    assert result.correction == "holm"
    d = result.disparities.to_frame()
    row = d[(d.grouping == "race") & (d.group == "African-American") & (d.name == "fpr_difference")]
    assert len(row) == 1
    row = row.iloc[0]
    assert row.reference == "Caucasian"
    assert row.test == "z"
    assert row.value == pytest.approx(
        result.metric("fpr", "African-American").value - result.metric("fpr", "Caucasian").value
    )
    assert row.lower > 0
    assert row.p_adjusted < 1e-20
    assert row.significant
    ratio = result.disparity("fpr_ratio", "African-American", grouping="race")
    assert 1.8 < ratio.value < 2.1 and ratio.lower > 1


def test_small_groups_are_flagged(result: Any) -> None:
    g = result.groups.to_frame().set_index(["grouping", "group"])
    assert g.loc[("race", "Native American"), "n"] == 11
    assert g.loc[("race", "Native American"), "small"]
    assert not g.loc[("race", "Asian"), "small"]  # 31 rows >= 30
    d = result.disparities.to_frame()
    native = d[(d.grouping == "race") & (d.group == "Native American")]
    assert native.p_value.isna().all() and not native.significant.any()
    assert set(native.note) == {"too small to judge: 11 rows < min_group_size=30"}
    s = result.summary.to_frame()
    race = s[s.grouping == "race"]
    assert "Native American" not in set(race.lowest_group) | set(race.highest_group)

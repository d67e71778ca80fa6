"""Data quality and fairness per window: hand-worked rates and group_metrics' summary rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _window_logs import START, make_logs, point, windows_of
from scipy import stats

from seawall.metrics import group_metrics
from seawall.metrics._estimates import summary_estimate
from seawall.metrics._intervals import newcombe_interval, ratio_interval, wilson_interval
from seawall.metrics._spread import abs_interval, symmetric_ratio_interval
from seawall.monitoring._window_metrics import window_metrics

Z = stats.norm.ppf(0.975)
LATER = START + pd.Timedelta("1h")


def _quality_logs() -> pd.DataFrame:
    minutes = [1, 2, 3, 4, 61, 62, 63, 64, 65]
    return pd.DataFrame(
        {
            "time": START + pd.to_timedelta(minutes, unit="min"),
            "model": "m",
            "prediction": [1, 0, 1, 0, 1, 1, 0, 0, 1],
            "x": [1.0, 2.0, 3.0, 4.0, 0.5, 2.0, np.nan, 5.0, 3.0],
            "c": ["a", "b", "a", None, "a", "z", "z", None, "b"],
        }
    )


def test_quality_rates_by_hand() -> None:
    frame = window_metrics(_quality_logs(), score_col=None, label_col=None, min_rows=1).to_frame()
    later = frame[frame.window_start == LATER].set_index(["metric", "qualifier"])

    def check(metric: str, feature: str, x: int, n: int) -> None:
        row = later.loc[(metric, feature)]
        lo, hi = wilson_interval(x, n, Z)
        assert (row.value, row.lower, row.upper, row.n) == pytest.approx(
            (x / n, float(lo), float(hi), n)
        )

    check("null_rate", "x", 1, 5)
    check("out_of_range_rate", "x", 2, 4)  # 0.5 and 5.0 lie outside the reference's [1, 4]
    check("null_rate", "c", 1, 5)
    check("unseen_rate", "c", 2, 4)  # "z" twice; the reference saw "a" and "b"
    assert ("unseen_rate", "x") not in later.index
    assert ("out_of_range_rate", "c") not in later.index
    first = frame[frame.window_start == START].set_index(["metric", "qualifier"])
    assert first.loc[("out_of_range_rate", "x")].value == 0.0
    assert first.loc[("null_rate", "c")].value == 0.25


def test_quality_of_a_feature_missing_from_the_reference_is_nan() -> None:
    logs = _quality_logs()
    logs.loc[:3, "x"] = np.nan
    frame = window_metrics(logs, score_col=None, label_col=None, min_rows=1).to_frame()
    rng_rate = point(frame, "out_of_range_rate", "x")
    assert rng_rate.value.isna().all() and rng_rate.n.tolist() == [0, 4]
    drift = point(frame, "drift", "x")
    assert drift.value.isna().all() and drift.q_value.isna().all()


def _fair_logs() -> pd.DataFrame:
    # F: 10 rows, 4 positive decisions; 5 labelled positive, 2 of them decided positive.
    # M: 10 rows, 8 positive decisions; 5 labelled positive, 4 of them decided positive.
    # X: 3 rows (too few to judge with min_rows=5).
    f_pred = [1, 1, 0, 0, 0, 1, 1, 0, 0, 0]
    f_lab = [1, 1, 1, 1, 1, 0, 0, 0, 0, np.nan]
    m_pred = [1, 1, 1, 1, 0, 1, 1, 1, 1, 0]
    m_lab = [1, 1, 1, 1, 1, 0, 0, 0, 0, np.nan]
    return pd.DataFrame(
        {
            "time": START + pd.to_timedelta(np.arange(23), unit="min"),
            "model": "m",
            "prediction": f_pred + m_pred + [0, 0, 0],
            "label": f_lab + m_lab + [1.0, 1.0, 1.0],
            "sex": ["F"] * 10 + ["M"] * 10 + ["X"] * 3,
        }
    )


def test_disparate_impact_and_tpr_gap_by_hand() -> None:
    frame = window_metrics(
        _fair_logs(), score_col=None, sensitive_cols="sex", min_rows=5
    ).to_frame()
    di = point(frame, "disparate_impact", "sex").iloc[0]
    lo, hi = symmetric_ratio_interval(*ratio_interval(4, 10, 8, 10, Z))
    assert (di.value, di.lower, di.upper, di.n) == pytest.approx((0.5, float(lo), float(hi), 20))
    gap = point(frame, "tpr_gap", "sex").iloc[0]
    lo, hi = abs_interval(*newcombe_interval(2, 5, 4, 5, Z))
    assert (gap.value, gap.lower, gap.upper, gap.n) == pytest.approx(
        (0.4, float(lo), float(hi), 10)
    )
    # With min_rows=3, "X" (no positive decision, TPR 0) is judged too: DI 0, gap 0.8.
    frame = window_metrics(
        _fair_logs(), score_col=None, sensitive_cols="sex", min_rows=3
    ).to_frame()
    assert point(frame, "disparate_impact", "sex").value.iloc[0] == 0.0
    assert point(frame, "tpr_gap", "sex").value.iloc[0] == pytest.approx(0.8)
    # With min_rows=11 no group is judged: NaN, not an error.
    frame = window_metrics(
        _fair_logs(), score_col=None, sensitive_cols="sex", min_rows=11
    ).to_frame()
    assert point(frame, "disparate_impact", "sex").value.isna().all()


def test_fairness_equals_group_metrics_summary_per_window(rng: np.random.Generator) -> None:
    logs = make_logs(rng, n_models=1, hours=3, per_hour=400, labelled=1.0)
    logs["race"] = rng.choice(["a", "b", "c"], len(logs), p=[0.5, 0.3, 0.2])
    frame = window_metrics(logs, sensitive_cols=["sex", "race"], min_rows=10).to_frame()
    for attribute in ("sex", "race"):
        di = point(frame, "disparate_impact", attribute)
        gap = point(frame, "tpr_gap", attribute)
        for key, rows in windows_of(logs):
            ref = group_metrics(
                rows.label.astype(int), rows.prediction, sensitive_features=rows[attribute],
                min_group_size=10, n_bootstrap=0,
            )  # fmt: skip
            expected = summary_estimate(ref, "disparate_impact")[0]
            got = di.loc[key]
            assert (got.value, got.lower, got.upper) == pytest.approx(
                (expected.value, expected.lower, expected.upper), rel=1e-9
            )
            expected = summary_estimate(ref, "equal_opportunity_difference")[0]
            got = gap.loc[key]
            assert (got.value, got.lower, got.upper) == pytest.approx(
                (expected.value, expected.lower, expected.upper), rel=1e-9
            )

"""Drift per window: the batched kernels against scipy and summary_drift, and planted shifts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _window_logs import START, make_logs, point
from scipy import stats

from seawall.metrics import adjust_pvalues
from seawall.monitoring._drift import summary_drift
from seawall.monitoring._drift_kernels import chi2_homogeneity, js_distance, ks_pvalue, psi
from seawall.monitoring._summarize_windows import window_states
from seawall.monitoring._window_drift import TESTS, window_drift
from seawall.monitoring._window_drift_kernels import (
    bh_rows,
    chi2_rows,
    js_rows,
    ks_pvalue_rows,
    ks_wasserstein_rows,
    psi_rows,
)
from seawall.monitoring._window_metrics import window_metrics


def _groups(rng: np.random.Generator, sizes: list[int]) -> tuple[np.ndarray, ...]:
    parts = [np.sort(np.round(rng.normal(rng.normal(), 1.0, k), 1)) for k in sizes]
    values = np.concatenate(parts) if parts else np.zeros(0)
    group = np.repeat(np.arange(len(sizes)), sizes).astype(np.intp)
    start = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.intp)
    return parts, values, group, start


def test_ks_and_wasserstein_rows_match_scipy(rng: np.random.Generator) -> None:
    ref = np.sort(np.round(rng.normal(0.0, 1.0, 300), 1))  # rounding makes ties
    sizes = [1, 7, 0, 50, 200]
    parts, values, group, start = _groups(rng, sizes)
    ks, w = ks_wasserstein_rows(ref, values, group, start, len(sizes))
    for i, part in enumerate(parts):
        if part.size == 0:
            assert np.isnan(ks[i]) and np.isnan(w[i])
            continue
        assert ks[i] == pytest.approx(stats.ks_2samp(ref, part).statistic, abs=1e-15)
        assert w[i] == pytest.approx(stats.wasserstein_distance(ref, part), rel=1e-10)
    # Disjoint supports on either side.
    far = np.array([10.0, 11.0, -20.0])
    lone = np.zeros(3, dtype=np.intp), np.array([0], dtype=np.intp)
    far_sorted = np.sort(far)
    ks_far, w_far = ks_wasserstein_rows(ref, far_sorted, *lone, 1)
    assert ks_far[0] == pytest.approx(stats.ks_2samp(ref, far).statistic)
    assert w_far[0] == pytest.approx(stats.wasserstein_distance(ref, far), rel=1e-12)


def test_row_kernels_match_the_scalar_ones(rng: np.random.Generator) -> None:
    ref = rng.integers(0, 30, (6, 5)).astype(float)
    cur = rng.integers(0, 30, (6, 5)).astype(float)
    ref[0, 2] = cur[0, 2] = 0.0  # a cell empty in both
    cur[1] = [0, 0, 9, 0, 0]  # one non-empty cell... in the current window only
    stat, p, v = chi2_rows(ref, cur)
    for i in range(6):
        s_, _, p_, v_ = chi2_homogeneity(ref[i], cur[i])
        assert (stat[i], p[i], v[i]) == pytest.approx((s_, p_, v_), rel=1e-12)
        assert psi_rows(ref, cur)[i] == pytest.approx(psi(ref[i], cur[i]), rel=1e-12)
        assert js_rows(ref, cur)[i] == pytest.approx(js_distance(ref[i], cur[i]), rel=1e-12)


def test_bh_rows_matches_adjust_pvalues(rng: np.random.Generator) -> None:
    p = rng.random((30, 8)) ** 3
    p[rng.random(p.shape) < 0.3] = np.nan
    p[0] = np.nan
    q = bh_rows(p)
    for i in range(p.shape[0]):
        np.testing.assert_allclose(q[i], adjust_pvalues(p[i], "bh"), rtol=1e-14)


def test_ks_pvalue_approximation_is_close_to_scipys() -> None:
    for n in (50, 100, 400, 3000):
        d = np.linspace(0.02, 0.6, 300)
        ours = ks_pvalue_rows(d, 2 * n, [2 * n])
        scipy_p = np.array([ks_pvalue(x, 2 * n, 2 * n) for x in d])
        band = (scipy_p > 1e-4) & (scipy_p < 0.2)
        assert band.any()
        np.testing.assert_allclose(ours[band], scipy_p[band], rtol=0.04)
        np.testing.assert_allclose(ours, scipy_p, atol=0.02)


def test_window_drift_matches_summary_drift_window_by_window(rng: np.random.Generator) -> None:
    logs = make_logs(rng, n_models=2, hours=5, per_hour=120)
    logs.loc[rng.random(len(logs)) < 0.05, "x1"] = np.nan
    late = logs.time >= START + pd.Timedelta("3h")
    logs.loc[late & (rng.random(len(logs)) < 0.2), "plan"] = "enterprise"  # unseen
    logs.loc[late, "x0"] += 0.5
    # sample_cap 100: hourly windows of ~120 values fall back to binned chi-square.
    for cap in (None, 100):
        states = window_states(logs, every="1h", reference=2, sample_cap=cap)
        seen = set()
        for profile in states.references:
            mine = [s for s in states.states if s.model == profile.model]
            got = window_drift(
                list(profile.summary.sketches), [list(s.features.sketches) for s in mine], 1
            )
            for i, state in enumerate(mine):
                report = summary_drift(profile.summary, state.features)
                for j, rec in enumerate(report.features):
                    seen.add(rec.test)
                    assert TESTS[got.test[i, j]] == rec.test
                    assert got.statistic[i, j] == pytest.approx(rec.statistic, rel=1e-12)
                    assert got.effect_size[i, j] == pytest.approx(rec.effect_size, rel=1e-9)
                    assert got.psi[i, j] == pytest.approx(rec.psi, rel=1e-12, abs=1e-15)
                    assert got.js[i, j] == pytest.approx(rec.js, rel=1e-12, abs=1e-15)
                    assert got.n_cur[i, j] == rec.n_cur
                    # KS p-values: Stephens' approximation against scipy's kstwo.
                    tol = dict(rel=0.25, abs=0.02) if rec.test == "ks" else dict(rel=1e-12)
                    assert got.p_value[i, j] == pytest.approx(rec.p_value, **tol)
                np.testing.assert_allclose(
                    got.q_value[i], adjust_pvalues(got.p_value[i], "bh"), rtol=1e-14
                )
        assert seen >= ({"ks", "chi2"} if cap is None else {"chi2_binned", "chi2"})


def test_planted_shift_in_4_of_20_features_reports_all_4(rng: np.random.Generator) -> None:
    n_feat, shifted = 20, [2, 7, 11, 19]
    n_ref, per_window, n_windows = 2000, 400, 4
    ref_x = rng.normal(0.0, 1.0, (n_ref, n_feat))
    cur_x = rng.normal(0.0, 1.0, (per_window * n_windows, n_feat))
    last = np.arange(len(cur_x)) >= per_window * (n_windows - 1)
    cur_x[np.ix_(last, shifted)] += 0.4  # a shift only in the last window
    names = [f"f{j:02d}" for j in range(n_feat)]

    def frame(x: np.ndarray, minutes: np.ndarray) -> pd.DataFrame:
        out = pd.DataFrame(x, columns=names)
        out.insert(0, "time", START + pd.to_timedelta(minutes, unit="min"))
        out.insert(1, "model", "m")
        out.insert(2, "prediction", rng.integers(0, 2, len(x)))
        return out

    ref = frame(ref_x, np.zeros(n_ref))
    logs = frame(cur_x, np.arange(len(cur_x)) * 60 // per_window)
    points = window_metrics(logs, reference=ref, score_col=None, label_col=None).to_frame()
    drift = points[points.metric == "drift"]
    final = drift[drift.window_start == drift.window_start.max()]
    flagged = set(final[final.q_value < 0.05].qualifier)
    assert {names[j] for j in shifted} <= flagged
    assert len(flagged) <= len(shifted) + 1
    count = point(points, "drifted_features")
    assert count.value.iloc[-1] == len(flagged)
    assert (count.n == n_feat).all()
    earlier = drift[drift.window_start < drift.window_start.max()]
    assert (earlier.q_value < 0.05).sum() <= 2
    # The effect size ranks the shifted features first.
    top = final.sort_values("value", ascending=False).qualifier.iloc[:4]
    assert set(top) == {names[j] for j in shifted}

"""Properties of group_metrics that hold for any data (hypothesis)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from seawall.metrics import GroupMetrics, group_metrics
from seawall.metrics._definitions import COMPARED

SETTINGS = settings(max_examples=30, deadline=None, database=None, derandomize=True)
LABELS = np.array(["a", "b", "c", "d"])
# Scores and weights on a dyadic grid: every sum of them is exact in float64, so
# results cannot depend on the order in which rows are added up.
DYADIC_SCORES = st.integers(0, 16).map(lambda k: k / 16)
DYADIC_WEIGHTS = st.integers(1, 16).map(lambda k: k / 4)


@st.composite
def audits(
    draw: st.DrawFn,
    *,
    max_groups: int = 4,
    min_groups: int = 2,
    weighted: bool | None = None,
    scored: bool = False,
) -> dict[str, Any]:
    """Rows with binary labels and decisions, a group per row and optional extras."""
    n = draw(st.integers(6, 50))
    k = draw(st.integers(min_groups, max_groups))
    codes = draw(arrays(np.intp, n, elements=st.integers(0, k - 1)))
    codes[:k] = np.arange(k)  # every group occurs
    out: dict[str, Any] = {
        "y_true": draw(arrays(np.int8, n, elements=st.integers(0, 1))),
        "y_pred": draw(arrays(np.int8, n, elements=st.integers(0, 1))),
        "sensitive_features": LABELS[codes],
    }
    if weighted is None:
        weighted = draw(st.booleans())
    if weighted:
        out["sample_weight"] = draw(arrays(np.float64, n, elements=DYADIC_WEIGHTS))
    if scored:
        out["y_score"] = draw(arrays(np.float64, n, elements=DYADIC_SCORES))
    return out


def run(data: dict[str, Any], **kwargs: Any) -> GroupMetrics:
    params: dict[str, Any] = {"min_group_size": 0, "n_bootstrap": 0, **kwargs}
    return group_metrics(**data, **params)


def _same(a: float | None, b: float | None, tol: float) -> bool:
    """Equal within ``tol`` (relative and absolute); None (a NaN in a record) equals None."""
    if a is None or b is None:
        return a is None and b is None
    return bool(abs(a - b) <= tol * max(1.0, abs(a), abs(b)))


def _finite(a: Any) -> np.ndarray:
    return np.isfinite(np.asarray(a, dtype=np.float64))


# --------------------------------------------------------------------------- #
# invariances
# --------------------------------------------------------------------------- #


@SETTINGS
@given(data=audits(scored=True), order=st.randoms(use_true_random=False))
def test_shuffling_rows_changes_nothing(data: dict[str, Any], order: Any) -> None:
    n = data["y_true"].size
    perm = np.array(order.sample(range(n), n))
    shuffled = {k: v[perm] for k, v in data.items()}
    assert run(shuffled, n_bootstrap=20).to_dict() == run(data, n_bootstrap=20).to_dict()


@SETTINGS
@given(data=audits())
def test_relabelling_groups_changes_only_the_labels(data: dict[str, Any]) -> None:
    # A renaming that also reverses the sort order of the labels.
    rename = {"a": "zeta", "b": "eta", "c": "delta", "d": "alpha"}
    relabelled = {
        **data,
        "sensitive_features": np.array([rename[v] for v in data["sensitive_features"]]),
    }
    before = run(data, reference="a")
    after = run(relabelled, reference="zeta")
    old = {(r["group"], r["name"]): r for r in before.disparities.records()}
    new = {(r["group"], r["name"]): r for r in after.disparities.records()}
    assert set(new) == {(rename[g], name) for g, name in old}
    for (g, name), r in old.items():
        expected = {**r, "group": rename[g], "reference": "zeta"}
        assert new[(rename[g], name)] == expected
    old_m = {(r["group"], r["metric"]): r for r in before.metrics.records()}
    new_m = {(r["group"], r["metric"]): r for r in after.metrics.records()}
    for (g, metric), r in old_m.items():
        assert new_m[(rename[g], metric)] == {**r, "group": rename[g]}
    # Spreads: the same numbers; the extreme groups may differ only among ties.
    for r_old, r_new in zip(before.summary.records(), after.summary.records(), strict=True):
        for key in ("value", "lower", "upper", "p_value", "p_adjusted"):
            assert _same(r_new[key], r_old[key], 1e-9), (key, r_old, r_new)
        metric = r_old["metric"]
        if r_old["lowest_group"] and metric != "equalized_odds":
            for side in ("lowest_group", "highest_group"):
                v_old = old_m[(r_old[side], metric)]["value"]
                v_new = new_m[(r_new[side], metric)]["value"]
                assert v_new == v_old


# --------------------------------------------------------------------------- #
# ranges and symmetries
# --------------------------------------------------------------------------- #


@SETTINGS
@given(data=audits(), level=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_summary_ratios_lie_in_the_unit_interval(data: dict[str, Any], level: float) -> None:
    s = run(data, confidence_level=level).summary.to_frame()
    ratios = s[s.kind == "ratio"]
    assert len(ratios) == len(COMPARED)
    for col in ("value", "lower", "upper"):
        v = ratios[col].dropna()
        assert ((v >= 0) & (v <= 1)).all(), col
    diffs = s[s.kind == "difference"]
    for col in ("value", "lower", "upper"):
        v = diffs[col].dropna()
        assert ((v >= 0) & (v <= 1)).all(), col


@SETTINGS
@given(data=audits(max_groups=2, scored=True))
def test_swapping_the_reference_negates_differences(data: dict[str, Any]) -> None:
    ab = run(data, reference="a", n_bootstrap=30).disparities.to_frame().set_index("name")
    ba = run(data, reference="b", n_bootstrap=30).disparities.to_frame().set_index("name")
    assert set(ab.group) == {"b"} and set(ba.group) == {"a"}
    approx = {"abs": 1e-12, "nan_ok": True}
    for name in ab.index:
        x, y = ab.loc[name], ba.loc[name]
        assert y.p_value == pytest.approx(x.p_value, rel=1e-9, nan_ok=True), name
        if name == "equalized_odds_difference":
            # A maximum of absolute gaps: the same either way.
            assert (y.value, y.lower, y.upper) == pytest.approx((x.value, x.lower, x.upper))
        elif x.kind == "difference":
            assert y.value == pytest.approx(-x.value, **approx), name
            assert y.lower == pytest.approx(-x.upper, **approx), name
            assert y.upper == pytest.approx(-x.lower, **approx), name
        else:
            with np.errstate(divide="ignore"):
                assert y.value == pytest.approx(1 / x.value, rel=1e-12, nan_ok=True), name
                assert y.lower == pytest.approx(1 / x.upper, rel=1e-9, nan_ok=True), name
                assert y.upper == pytest.approx(1 / x.lower, rel=1e-9, nan_ok=True), name


# --------------------------------------------------------------------------- #
# serialisation and p-values
# --------------------------------------------------------------------------- #


@SETTINGS
@given(data=audits(max_groups=3, scored=True))
def test_to_dict_is_json_and_frames_match_records(data: dict[str, Any]) -> None:
    res = run(data, n_bootstrap=10)
    out = res.to_dict()
    assert json.loads(json.dumps(out, allow_nan=False)) == out
    for table in (res.groups, res.metrics, res.disparities, res.summary):
        records = table.records()
        frame = table.to_frame()
        assert len(frame) == len(records) == len(table)
        assert list(frame.columns) == list(records[0])
    assert len(res.to_frame()) == len(out["metrics"])


@SETTINGS
@given(data=audits(), correction=st.sampled_from(["holm", "bh", "none"]))
def test_adjusted_p_values_are_not_smaller(data: dict[str, Any], correction: str) -> None:
    res = run(data, correction=correction)
    for table in (res.disparities, res.summary):
        p, q = np.asarray(table.p_value), np.asarray(table.p_adjusted)
        np.testing.assert_array_equal(np.isnan(p), np.isnan(q))
        ok = ~np.isnan(p)
        assert (q[ok] >= p[ok]).all()
        assert ((p[ok] >= 0) & (q[ok] <= 1)).all()
        if correction == "none":
            np.testing.assert_array_equal(p, q)
        alpha = 1 - res.confidence_level
        assert table.significant == tuple(bool(v < alpha) for v in np.nan_to_num(q, nan=1.0))


# --------------------------------------------------------------------------- #
# intervals contain their point estimate
# --------------------------------------------------------------------------- #


def _contained(frame: Any) -> None:
    rows = frame[_finite(frame.value) & _finite(frame.lower) & _finite(frame.upper)]
    bad = rows[(rows.lower > rows.value + 1e-12) | (rows.value > rows.upper + 1e-12)]
    assert bad.empty, bad.to_dict("records")


@SETTINGS
@given(data=audits())
def test_wilson_intervals_contain_the_rate(data: dict[str, Any]) -> None:
    m = run(data).metrics.to_frame()
    assert set(m.method) == {"wilson"}
    _contained(m)
    # Every defined rate has a defined interval, inside [0, 1].
    defined = _finite(m.value)
    assert _finite(m.lower[defined]).all() and _finite(m.upper[defined]).all()
    assert (m.lower[defined] >= 0).all() and (m.upper[defined] <= 1).all()


@SETTINGS
@given(data=audits())
def test_newcombe_intervals_contain_the_difference(data: dict[str, Any]) -> None:
    d = run(data).disparities.to_frame()
    _contained(d[d.kind == "difference"])  # Newcombe, and equalized odds built from it


@SETTINGS
@given(data=audits())
def test_katz_intervals_contain_the_ratio(data: dict[str, Any]) -> None:
    d = run(data).disparities.to_frame()
    ratios = d[d.kind == "ratio"]
    # A ratio of 0 (no successes in the group) must not get an interval above 0,
    # nor an infinite ratio (no successes in the reference) one below infinity.
    for _, r in ratios[np.isfinite(ratios.lower) & ~np.isnan(ratios.value)].iterrows():
        assert r.lower <= r.value <= r.upper, r.to_dict()
    # No successes on either side (a ratio 0/0): the interval is all of (0, inf).
    silent = ratios[np.isnan(ratios.value) & np.isfinite(ratios.lower)]
    assert (silent.lower == 0).all() and np.isinf(silent.upper).all()

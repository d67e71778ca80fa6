"""The result object: small groups, references, determinism, serialisation."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import numpy as np
import pytest

from seawall.exceptions import DataValidationError
from seawall.metrics import (
    DISPARITY_NAMES,
    PROPORTION_METRICS,
    SCORE_METRICS,
    Estimate,
    GroupMetrics,
    group_metrics,
)
from seawall.metrics._definitions import COMPARED


@pytest.fixture
def small_group_data(rng: np.random.Generator) -> dict[str, Any]:
    # 100 + 80 rows in "a" and "b", 6 rows in "tiny" whose every decision is positive:
    # its selection rate (1.0) would be the extreme if it were judged.
    n_a, n_b, n_tiny = 100, 80, 6
    group = np.array(["a"] * n_a + ["b"] * n_b + ["tiny"] * n_tiny)
    y_true = rng.integers(0, 2, group.size)
    y_pred = np.r_[rng.integers(0, 2, n_a + n_b), np.ones(n_tiny, dtype=int)]
    return {"y_true": y_true, "y_pred": y_pred, "group": group, "y_score": rng.random(group.size)}


def test_small_groups_are_flagged_not_judged(small_group_data: dict[str, Any]) -> None:
    d = small_group_data
    res = group_metrics(
        d["y_true"],
        d["y_pred"],
        sensitive_features=d["group"],
        y_score=d["y_score"],
        min_group_size=10,
        n_bootstrap=50,
    )
    g = res.groups.to_frame().set_index("group")
    assert g.loc["tiny", "small"] and not g.loc["a", "small"] and not g.loc["b", "small"]
    assert g.loc["a", "reference"]  # the largest group
    m = res.metrics.to_frame()
    assert m[m.group == "tiny"].small.all() and not m[m.group != "tiny"].small.any()
    # Its metrics are still shown.
    assert res.metric("selection_rate", "tiny").value == 1.0
    dis = res.disparities.to_frame()
    tiny = dis[dis.group == "tiny"]
    assert len(tiny) > 0
    assert tiny.p_value.isna().all() and tiny.p_adjusted.isna().all()
    assert not tiny.significant.any()
    assert set(tiny.note) == {"too small to judge: 6 rows < min_group_size=10"}
    assert (dis[dis.group == "b"].note == "").all()
    assert dis[dis.group == "b"].p_value.notna().any()
    # It is left out of every spread.
    s = res.summary.to_frame()
    assert "tiny" not in set(s.lowest_group) | set(s.highest_group)
    sel = s[s.name == "statistical_parity_difference"].iloc[0]
    rates = {k: res.metric("selection_rate", k).value for k in ("a", "b")}
    assert sel.value == pytest.approx(max(rates.values()) - min(rates.values()), abs=1e-15)


def test_small_groups_do_not_count_as_tests(small_group_data: dict[str, Any]) -> None:
    d = small_group_data
    kw = {"sensitive_features": d["group"], "n_bootstrap": 0, "correction": "holm"}
    with_tiny = group_metrics(d["y_true"], d["y_pred"], min_group_size=10, **kw)
    keep = d["group"] != "tiny"
    without = group_metrics(
        d["y_true"][keep],
        d["y_pred"][keep],
        min_group_size=10,
        **{**kw, "sensitive_features": d["group"][keep]},
    )
    a = with_tiny.disparities.to_frame()
    a = a[a.group == "b"].reset_index(drop=True)
    b = without.disparities.to_frame()
    np.testing.assert_allclose(a.p_adjusted, b.p_adjusted, rtol=1e-12)


def test_min_group_size_zero_judges_everyone(small_group_data: dict[str, Any]) -> None:
    d = small_group_data
    res = group_metrics(
        d["y_true"], d["y_pred"], sensitive_features=d["group"], min_group_size=0, n_bootstrap=0
    )
    assert not any(res.groups.small)
    s = res.summary.to_frame().set_index("name")
    assert s.loc["statistical_parity_difference", "highest_group"] == "tiny"


def test_explicit_reference(small_group_data: dict[str, Any]) -> None:
    d = small_group_data
    res = group_metrics(
        d["y_true"],
        d["y_pred"],
        sensitive_features=d["group"],
        reference="b",
        min_group_size=10,
        n_bootstrap=0,
    )
    assert dict(zip(res.groups.group, res.groups.reference, strict=True)) == {
        "a": False,
        "b": True,
        "tiny": False,
    }
    assert set(res.disparities.reference) == {"b"}
    assert set(res.disparities.group) == {"a", "tiny"}


def test_intersection_reference_from_a_mapping(rng: np.random.Generator) -> None:
    n = 400
    sex = rng.choice(np.array(["F", "M"]), n)
    race = rng.choice(np.array(["x", "y"]), n)
    res = group_metrics(
        rng.integers(0, 2, n),
        rng.integers(0, 2, n),
        sensitive_features={"sex": sex, "race": race},
        reference={"sex": "F", "race": "y"},
        n_bootstrap=0,
    )
    refs = {
        (g, lab)
        for g, lab, r in zip(
            res.groups.grouping, res.groups.group, res.groups.reference, strict=True
        )
        if r
    }
    assert refs == {("sex", "F"), ("race", "y"), ("sex×race", "F & y")}
    # A mapping for one feature only: the intersection's reference is the largest
    # group with that feature's value.
    res = group_metrics(
        rng.integers(0, 2, n),
        rng.integers(0, 2, n),
        sensitive_features={"sex": sex, "race": race},
        reference={"race": "y"},
        n_bootstrap=0,
    )
    g = res.groups.to_frame()
    inter = g[g.grouping == "sex×race"]
    with_y = inter[inter.group.str.endswith("& y")]
    assert inter.loc[inter.reference, "group"].item() == with_y.loc[with_y.n.idxmax(), "group"]
    sex_ref = g[(g.grouping == "sex") & g.reference]
    assert sex_ref.n.item() == g[g.grouping == "sex"].n.max()  # sex not named: largest


def test_unobserved_intersection_as_reference(rng: np.random.Generator) -> None:
    sex = np.array(["F", "M"] * 50)
    race = np.where(sex == "F", "x", rng.choice(np.array(["x", "y"]), 100))  # no "F & y"
    race[1] = "y"
    with pytest.raises(
        DataValidationError,
        match=re.escape("reference group 'F & y' does not occur in 'sex×race'; its groups are"),
    ):
        group_metrics(
            rng.integers(0, 2, 100),
            rng.integers(0, 2, 100),
            sensitive_features={"sex": sex, "race": race},
            reference={"sex": "F", "race": "y"},
            min_group_size=1,
            n_bootstrap=0,
        )


# --------------------------------------------------------------------------- #
# determinism
# --------------------------------------------------------------------------- #


def _scored(seed_data: dict[str, Any], random_state: int) -> GroupMetrics:
    d = seed_data
    return group_metrics(
        d["y_true"],
        d["y_pred"],
        sensitive_features=d["group"],
        y_score=d["y_score"],
        min_group_size=0,
        n_bootstrap=200,
        random_state=random_state,
    )


def test_same_random_state_same_result(small_group_data: dict[str, Any]) -> None:
    a = _scored(small_group_data, 11).to_dict()
    b = _scored(small_group_data, 11).to_dict()
    assert a == b
    assert a["random_state"] == 11


def test_other_random_state_other_bootstrap_intervals(small_group_data: dict[str, Any]) -> None:
    a, b = _scored(small_group_data, 1), _scored(small_group_data, 2)
    ma, mb = a.metrics.to_frame(), b.metrics.to_frame()
    boot = ma.method == "bootstrap"
    # Point estimates and closed-form intervals do not depend on the seed ...
    np.testing.assert_array_equal(ma.value, mb.value)
    np.testing.assert_array_equal(ma[~boot].lower, mb[~boot].lower)
    # ... bootstrap intervals do.
    assert not np.allclose(ma[boot].lower, mb[boot].lower, equal_nan=True)
    assert not np.allclose(ma[boot].upper, mb[boot].upper, equal_nan=True)


def test_no_bootstrap_leaves_score_intervals_undefined(small_group_data: dict[str, Any]) -> None:
    d = small_group_data
    res = group_metrics(
        d["y_true"],
        d["y_pred"],
        sensitive_features=d["group"],
        y_score=d["y_score"],
        min_group_size=0,
        n_bootstrap=0,
    )
    m = res.metrics.to_frame()
    boot = m[m.method == "bootstrap"]
    assert boot.value.notna().all()
    assert boot.lower.isna().all() and boot.upper.isna().all()
    dis = res.disparities.to_frame()
    assert dis[dis.test == "bootstrap-z"].p_value.isna().all()


def test_bootstrap_intervals_contain_the_estimate(small_group_data: dict[str, Any]) -> None:
    m = _scored(small_group_data, 0).metrics.to_frame()
    boot = m[(m.method == "bootstrap") & m.lower.notna()]
    assert len(boot) == 9
    assert (boot.lower <= boot.value + 1e-12).all() and (boot.value <= boot.upper + 1e-12).all()


# --------------------------------------------------------------------------- #
# structure and serialisation
# --------------------------------------------------------------------------- #


def test_table_shapes_and_names(rng: np.random.Generator) -> None:
    n = 300
    res = group_metrics(
        rng.integers(0, 2, n),
        rng.integers(0, 2, n),
        sensitive_features={
            "sex": rng.choice(np.array(["F", "M"]), n),
            "race": rng.choice(np.array(["x", "y", "z"]), n),
        },
        y_score=rng.random(n),
        min_group_size=0,
        n_bootstrap=10,
    )
    n_groups = 2 + 3 + 6
    assert len(res.groups) == n_groups
    assert len(res.metrics) == n_groups * (len(PROPORTION_METRICS) + len(SCORE_METRICS))
    # Per non-reference group: each compared proportion x 2 forms, equalized odds, 3 scores.
    per_group = len(COMPARED) * 2 + 1 + len(SCORE_METRICS)
    assert len(res.disparities) == (n_groups - 3) * per_group
    assert len(res.summary) == 3 * per_group
    assert set(res.disparities.name) | set(res.summary.name) <= set(DISPARITY_NAMES.values())
    assert res.features == ("sex", "race")
    assert res.to_frame().equals(res.metrics.to_frame())


def test_to_dict_is_json_and_to_frame_has_one_row_per_record(rng: np.random.Generator) -> None:
    n = 120
    res = group_metrics(
        rng.integers(0, 2, n),
        np.zeros(n, dtype=int),  # no positive decisions: NaN precision
        sensitive_features=rng.choice(np.array(["p", "q"]), n),
        y_score=rng.random(n),
        min_group_size=0,
        n_bootstrap=10,
    )
    out = res.to_dict()
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text) == out
    assert list(out) == [
        "task",
        "features",
        "n_rows",
        "weighted",
        "confidence_level",
        "correction",
        "min_group_size",
        "n_bootstrap",
        "random_state",
        "groups",
        "metrics",
        "disparities",
        "summary",
    ]
    for table in (res.groups, res.metrics, res.disparities, res.summary):
        frame = table.to_frame()
        assert len(frame) == len(table) == len(table.records())
        assert list(frame.columns) == list(table.to_dict())
        assert list(table.records()[0]) == list(frame.columns)
    # NaN becomes None.
    prec = [r for r in out["metrics"] if r["metric"] == "precision"]
    assert all(r["value"] is None for r in prec)


def test_results_are_frozen(rng: np.random.Generator) -> None:
    n = 60
    res = group_metrics(
        rng.integers(0, 2, n),
        rng.integers(0, 2, n),
        sensitive_features=rng.choice(np.array(["p", "q"]), n),
        min_group_size=0,
        n_bootstrap=0,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.n_rows = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.metrics.value = np.zeros(3)  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        res.metrics.value[0] = 0.5


def test_estimate_str() -> None:
    assert str(Estimate(0.25, 0.04559, 0.6994)) == "0.25 [0.04559, 0.6994]"
    assert str(Estimate(float("nan"), float("nan"), float("nan"))) == "nan [nan, nan]"

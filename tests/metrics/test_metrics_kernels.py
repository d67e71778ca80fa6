"""Vectorised kernels against naive per-group loops and reference implementations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from seawall._groups import to_group_columns
from seawall.metrics import group_metrics
from seawall.metrics._counts import build_count_tables
from seawall.metrics._scores import auc_by_group


def naive_brier(y: np.ndarray, s: np.ndarray, w: np.ndarray) -> float:
    total = 0.0
    for yi, si, wi in zip(y, s, w, strict=True):
        total += wi * (si - yi) ** 2
    return total / w.sum()


def naive_ece(y: np.ndarray, s: np.ndarray, w: np.ndarray, n_bins: int = 10) -> float:
    """Equal-width bins on [0, 1], the last one closed; in each bin the weighted mean
    of ``x_i x_j`` (``x = y - s``) over pairs of distinct rows; ``sqrt(max(T, 0))`` of
    the bins' weight-share average ``T``."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    total = 0.0
    for b in range(n_bins):
        lo, hi = edges[b], edges[b + 1]
        inside = [i for i, si in enumerate(s) if lo <= si < hi or (b == n_bins - 1 and si == hi)]
        num = den = 0.0
        for i in inside:
            for j in inside:
                if i != j:
                    num += w[i] * w[j] * (y[i] - s[i]) * (y[j] - s[j])
                    den += w[i] * w[j]
        if den > 0:
            total += w[inside].sum() / w.sum() * num / den
    return float(np.sqrt(max(total, 0.0)))


def _groups_of(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    g = rng.integers(0, k, n)
    g[:k] = np.arange(k)  # every group present
    return g


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ties", [False, True])
def test_auc_by_group_matches_sklearn(rng: np.random.Generator, weighted: bool, ties: bool) -> None:
    for _ in range(20):
        n, k = int(rng.integers(4, 200)), int(rng.integers(1, 5))
        group = _groups_of(rng, n, k)
        y = rng.integers(0, 2, n).astype(np.int8)
        scores = rng.integers(0, 6, n) / 5.0 if ties else rng.normal(size=n)
        w = rng.uniform(0.0, 3.0, n) if weighted else None
        got = auc_by_group(scores, y, w, group.astype(np.intp), k, np.argsort(scores))
        for g in range(k):
            m = group == g
            if len(set(y[m].tolist())) < 2:
                assert np.isnan(got[g])
                continue
            expected = roc_auc_score(y[m], scores[m], sample_weight=None if w is None else w[m])
            assert got[g] == pytest.approx(expected, abs=1e-12)


def test_auc_by_group_all_tied_is_one_half() -> None:
    y = np.array([0, 1, 0, 1], dtype=np.int8)
    got = auc_by_group(np.full(4, 0.3), y, None, np.zeros(4, np.intp), 1, np.arange(4))
    assert got.tolist() == [0.5]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_bins", [10, 4])
def test_score_metrics_match_naive_loops(
    rng: np.random.Generator, weighted: bool, n_bins: int
) -> None:
    n = 300
    y = rng.integers(0, 2, n)
    # Scores on a grid hit the bin edges 0, 0.1, ..., 1 (the last bin is closed).
    scores = np.where(rng.random(n) < 0.5, np.round(rng.random(n), 1), rng.random(n))
    scores[:3] = [0.0, 1.0, 0.5]
    race = rng.choice(np.array(["a", "b", "c"]), n)
    sex = rng.choice(np.array(["F", "M"]), n)
    w = rng.uniform(0.2, 3.0, n) if weighted else np.ones(n)
    res = group_metrics(
        y,
        rng.integers(0, 2, n),
        sensitive_features={"race": race, "sex": sex},
        y_score=scores,
        sample_weight=w if weighted else None,
        n_calibration_bins=n_bins,
        min_group_size=0,
        n_bootstrap=0,
    )
    m = res.metrics.to_frame().set_index(["grouping", "group", "metric"])
    masks = {("race", g): race == g for g in "abc"}
    masks |= {("sex", g): sex == g for g in "FM"}
    masks |= {("race×sex", f"{r} & {s}"): (race == r) & (sex == s) for r in "abc" for s in "FM"}
    for (grouping, group), mask in masks.items():
        yy, ss, ww = y[mask], scores[mask], w[mask]
        assert m.loc[(grouping, group, "brier"), "value"] == pytest.approx(
            naive_brier(yy, ss, ww), abs=1e-12
        )
        assert m.loc[(grouping, group, "ece"), "value"] == pytest.approx(
            naive_ece(yy, ss, ww, n_bins), abs=1e-12
        )
        assert m.loc[(grouping, group, "auc"), "value"] == pytest.approx(
            roc_auc_score(yy, ss, sample_weight=ww), abs=1e-12
        )
        assert m.loc[(grouping, group, "auc"), "method"] == "bootstrap"
        assert m.loc[(grouping, group, "auc"), "denominator"] == mask.sum()


def test_perfect_and_useless_scores() -> None:
    y = np.array([0, 0, 1, 1] * 10)
    group = ["a"] * 20 + ["b"] * 20
    res = group_metrics(
        y, y, sensitive_features=group, y_score=y.astype(float), min_group_size=1, n_bootstrap=0
    )
    for g in "ab":
        assert res.metric("auc", g).value == 1.0
        assert res.metric("brier", g).value == 0.0
        assert res.metric("ece", g).value == 0.0
    res = group_metrics(
        y, y, sensitive_features=group, y_score=np.full(40, 0.5), min_group_size=1, n_bootstrap=0
    )
    for g in "ab":
        assert res.metric("auc", g).value == 0.5
        assert res.metric("brier", g).value == pytest.approx(0.25)
        assert res.metric("ece", g).value == pytest.approx(0.0)


def test_count_tables_match_pandas_groupby(rng: np.random.Generator) -> None:
    n = 500
    frame = pd.DataFrame(
        {
            "sex": rng.choice(np.array(["F", "M"]), n),
            "race": rng.choice(np.array(["a", "b", "c", "d"]), n, p=[0.5, 0.3, 0.15, 0.05]),
            "y_true": rng.integers(0, 2, n).astype(np.int8),
            "y_pred": rng.integers(0, 2, n).astype(np.int8),
            "w": rng.uniform(0, 2, n),
        }
    )
    frame = frame[~((frame.sex == "F") & (frame.race == "d"))]  # an unobserved intersection
    columns = to_group_columns(frame[["sex", "race"]], len(frame))
    yt, yp = frame.y_true.to_numpy(), frame.y_pred.to_numpy()
    tables = build_count_tables(columns, (yt << 1) | yp, 4, frame.w.to_numpy())
    frame["cell"] = 2 * frame.y_true + frame.y_pred  # TN FP FN TP
    for grouping in tables.groupings:
        keys = ["sex", "race"] if grouping.name == "sex×race" else [grouping.name]
        naive_rows = frame.groupby(keys).cell.value_counts().unstack(fill_value=0)
        naive_w = frame.groupby(keys + ["cell"]).w.sum().unstack(fill_value=0.0)
        naive_w2 = (frame.w**2).groupby([frame[k] for k in keys] + [frame.cell]).sum()
        naive_w2 = naive_w2.unstack(fill_value=0.0)
        rows = grouping.aggregate(tables.rows)
        weighted = grouping.aggregate(tables.weighted)
        squared = grouping.aggregate(tables.squared)
        assert len(grouping.labels) == len(naive_rows)  # "F & d" is not a group
        for g, label in enumerate(grouping.labels):
            key = tuple(label.split(" & ")) if len(keys) == 2 else label
            np.testing.assert_array_equal(rows[g], naive_rows.loc[key].reindex(range(4)))
            np.testing.assert_allclose(weighted[g], naive_w.loc[key].reindex(range(4)), rtol=1e-12)
            np.testing.assert_allclose(squared[g], naive_w2.loc[key].reindex(range(4)), rtol=1e-12)
    # Every row's fine cell decodes to its own intersection.
    inter = tables.groupings[-1]
    labels = np.array(inter.labels)[inter.members[tables.row_cells()]]
    np.testing.assert_array_equal(labels, (frame.sex + " & " + frame.race).to_numpy())


def test_group_table_matches_pandas_groupby(rng: np.random.Generator) -> None:
    n = 400
    race = rng.choice(np.array(["a", "b", "c"]), n)
    y_true, y_pred = rng.integers(0, 2, n), rng.integers(0, 2, n)
    w = rng.uniform(0.1, 2.0, n)
    res = group_metrics(
        y_true, y_pred, sensitive_features=race, sample_weight=w, min_group_size=0, n_bootstrap=0
    )
    frame = pd.DataFrame({"g": race, "y": y_true, "p": y_pred, "w": w})
    naive = frame.groupby("g").agg(
        n=("y", "size"), weight=("w", "sum"), positives=("y", lambda s: w[s.index][s == 1].sum())
    )
    got = res.groups.to_frame().set_index("group")
    np.testing.assert_array_equal(got.n, naive.n)
    np.testing.assert_allclose(got.weight, naive.weight, rtol=1e-12)
    np.testing.assert_allclose(got.positives, naive.positives, rtol=1e-12)
    m = res.metrics.to_frame().set_index(["group", "metric"])
    for g, sub in frame.groupby("g"):
        sel = np.average(sub.p, weights=sub.w)
        assert m.loc[(g, "selection_rate"), "value"] == pytest.approx(sel, abs=1e-12)
        acc = np.average(sub.p == sub.y, weights=sub.w)
        assert m.loc[(g, "accuracy"), "value"] == pytest.approx(acc, abs=1e-12)
        neg = sub[sub.y == 0]
        assert m.loc[(g, "fpr"), "value"] == pytest.approx(
            np.average(neg.p, weights=neg.w), abs=1e-12
        )

"""Per-group metrics and spreads against Fairlearn and scikit-learn."""

from __future__ import annotations

from functools import cache, partial
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, precision_score, roc_auc_score

from seawall.metrics import group_metrics
from seawall.metrics._definitions import COMPARED

pytestmark = pytest.mark.reference

N = 2000

#: Our metric name -> a Fairlearn/sklearn function of (y_true, y_pred, sample_weight=).
LABEL_METRICS = {
    "selection_rate": selection_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "tnr": true_negative_rate,
    "fnr": false_negative_rate,
    "precision": partial(precision_score, zero_division=np.nan),
    "npv": partial(precision_score, pos_label=0, zero_division=np.nan),
    "accuracy": accuracy_score,
}


@cache
def _data(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    sex = rng.choice(np.array(["Female", "Male"]), N, p=[0.4, 0.6])
    race = rng.choice(np.array(["Asian", "Black", "Hispanic", "White"]), N, p=[0.1, 0.2, 0.2, 0.5])
    # Group-dependent rates so that spreads are not all near zero.
    shift = (sex == "Male") * 0.1 + (race == "Black") * 0.15 - (race == "Asian") * 0.1
    y_true = (rng.random(N) < 0.35 + shift).astype(int)
    score = np.clip(0.3 * y_true + 0.4 * rng.random(N) + shift / 2, 0, 1)
    y_pred = (score > 0.45).astype(int)
    return {
        "y_true": y_true,
        "y_pred": y_pred,
        "y_score": score,
        "sample_weight": rng.uniform(0.2, 3.0, N),
        "sensitive": pd.DataFrame({"sex": sex, "race": race}),
    }


@pytest.fixture
def data(seed: int) -> dict[str, Any]:
    # Fairlearn is slow: data and MetricFrames are built once per seed and shared.
    return _data(seed)


def _ours(data: dict[str, Any], weighted: bool) -> Any:
    return group_metrics(
        data["y_true"],
        data["y_pred"],
        sensitive_features=data["sensitive"],
        y_score=data["y_score"],
        sample_weight=data["sample_weight"] if weighted else None,
        min_group_size=0,
        n_bootstrap=0,
    )


GROUPINGS = {"sex": ["sex"], "race": ["race"], "sex×race": ["sex", "race"]}


@cache
def _frames(seed: int, weighted: bool) -> dict[str, tuple[MetricFrame, MetricFrame]]:
    """Label and score MetricFrames per grouping, keyed by our grouping name."""
    data = _data(seed)
    params = {"sample_weight": data["sample_weight"]} if weighted else {}
    out = {}
    for name, cols in GROUPINGS.items():
        # The intersection is a MetricFrame over two sensitive columns.
        sf = data["sensitive"][cols] if len(cols) > 1 else data["sensitive"][cols[0]]
        labels = MetricFrame(
            metrics=LABEL_METRICS,
            y_true=data["y_true"],
            y_pred=data["y_pred"],
            sensitive_features=sf,
            sample_params={k: params for k in LABEL_METRICS},
        )
        scores = MetricFrame(
            metrics={"auc": roc_auc_score},
            y_true=data["y_true"],
            y_pred=data["y_score"],
            sensitive_features=sf,
            sample_params={"auc": params},
        )
        out[name] = (labels, scores)
    return out


def _label(key: object) -> str:
    return " & ".join(key) if isinstance(key, tuple) else str(key)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_per_group_metrics_match_metricframe(seed: int, weighted: bool) -> None:
    data = _data(seed)
    res = _ours(data, weighted)
    ours = res.metrics.to_frame().set_index(["grouping", "group", "metric"]).value
    for grouping, (labels, scores) in _frames(seed, weighted).items():
        by_group = labels.by_group.join(scores.by_group)
        assert len(by_group) == (res.groups.grouping.count(grouping))
        for key, row in by_group.iterrows():
            for metric, expected in row.items():
                got = ours[(grouping, _label(key), metric)]
                assert got == pytest.approx(expected, abs=1e-12, nan_ok=True), (
                    grouping,
                    key,
                    metric,
                )


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_summary_spreads_match_metricframe(seed: int, weighted: bool) -> None:
    data = _data(seed)
    res = _ours(data, weighted)
    summary = res.summary.to_frame().set_index(["grouping", "metric", "kind"]).value
    for grouping, (labels, scores) in _frames(seed, weighted).items():
        difference = labels.difference(method="between_groups")
        ratio = labels.ratio(method="between_groups")
        for metric in (m for m in COMPARED if m in LABEL_METRICS):
            assert summary[(grouping, metric, "difference")] == pytest.approx(
                difference[metric], abs=1e-12
            )
            assert summary[(grouping, metric, "ratio")] == pytest.approx(ratio[metric], abs=1e-12)
        # Error rate is one minus accuracy: the same spread, but not the same ratio.
        assert summary[(grouping, "error_rate", "difference")] == pytest.approx(
            difference["accuracy"], abs=1e-12
        )
        assert summary[(grouping, "auc", "difference")] == pytest.approx(
            scores.difference(method="between_groups")["auc"], abs=1e-12
        )


@pytest.mark.parametrize(
    ("weighted", "grouping"),
    [(False, "race"), (False, "sex×race"), (True, "sex×race")],
    ids=["race", "intersection", "intersection-weighted"],
)
def test_fairlearn_disparity_functions(data: dict[str, Any], weighted: bool, grouping: str) -> None:
    res = _ours(data, weighted)
    summary = res.summary.to_frame().set_index(["grouping", "name"]).value
    w = data["sample_weight"] if weighted else None
    sf = data["sensitive"][GROUPINGS[grouping]]
    args = (data["y_true"], data["y_pred"])
    kwargs = {"sensitive_features": sf, "sample_weight": w}
    assert summary[(grouping, "statistical_parity_difference")] == pytest.approx(
        demographic_parity_difference(*args, **kwargs), abs=1e-12
    )
    assert summary[(grouping, "disparate_impact")] == pytest.approx(
        demographic_parity_ratio(*args, **kwargs), abs=1e-12
    )
    assert summary[(grouping, "equalized_odds_difference")] == pytest.approx(
        equalized_odds_difference(*args, **kwargs), abs=1e-12
    )


def test_pairwise_differences_match_metricframe(seed: int) -> None:
    data = _data(seed)
    # Against a chosen reference group, each difference is the MetricFrame's
    # by-group value minus the reference's.
    res = group_metrics(
        data["y_true"],
        data["y_pred"],
        sensitive_features=data["sensitive"]["race"],
        reference="White",
        min_group_size=0,
        n_bootstrap=0,
    )
    labels, _ = _frames(seed, False)["race"]
    by_group = labels.by_group
    for name, metric in (
        ("statistical_parity_difference", "selection_rate"),
        ("equal_opportunity_difference", "tpr"),
        ("fpr_difference", "fpr"),
    ):
        for group in ("Asian", "Black", "Hispanic"):
            expected = by_group.loc[group, metric] - by_group.loc["White", metric]
            assert res.disparity(name, group).value == pytest.approx(expected, abs=1e-12)
    for group in ("Asian", "Black", "Hispanic"):
        expected = by_group.loc[group, "selection_rate"] / by_group.loc["White", "selection_rate"]
        assert res.disparity("disparate_impact", group).value == pytest.approx(expected, rel=1e-12)

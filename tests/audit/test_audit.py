from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from seawall.audit import audit, gate_names, parse_gate
from seawall.exceptions import DataValidationError, InvalidParameterError


def _frame(rng: np.random.Generator, n: int = 4000, gap: float = 0.25) -> pd.DataFrame:
    group = rng.choice(["a", "b"], size=n, p=[0.6, 0.4])
    y = (rng.random(n) < 0.4).astype(int)
    # Group b is selected less often at the same label: a real disparate impact.
    p_sel = np.where(y == 1, 0.8, 0.2) - np.where(group == "b", gap, 0.0)
    pred = (rng.random(n) < np.clip(p_sel, 0.01, 0.99)).astype(int)
    score = np.clip(0.5 * pred + 0.5 * rng.random(n), 0, 1)
    sex = rng.choice(["F", "M"], size=n)
    return pd.DataFrame({"y": y, "pred": pred, "score": score, "group": group, "sex": sex})


def test_gate_fails_on_a_planted_gap_and_passes_without(rng: np.random.Generator) -> None:
    biased = audit(
        _frame(rng), label="y", prediction="pred", sensitive="group", gates=["disparate_impact<0.8"]
    )
    assert not biased.passed
    [gate] = biased.gates
    assert gate.status == "fail" and gate.upper < 0.8
    fair = audit(
        _frame(rng, gap=0.0),
        label="y",
        prediction="pred",
        sensitive="group",
        gates=["disparate_impact<0.8"],
    )
    assert fair.passed
    assert fair.gates[0].status == "pass"


def test_gate_is_inconclusive_when_only_the_estimate_breaches() -> None:
    # 40 rows per group: selection rates 0.5 vs 0.375 give a ratio of 0.75 whose
    # interval reaches far above 0.8.
    y = [1, 0] * 40
    pred = [1] * 20 + [0] * 20 + [1] * 15 + [0] * 25
    g = ["a"] * 40 + ["b"] * 40
    res = audit(
        pd.DataFrame({"y": y, "p": pred, "g": g}),
        label="y",
        prediction="p",
        sensitive="g",
        gates=["disparate_impact<0.8"],
    )
    gate = res.gates[0]
    assert gate.value == pytest.approx(0.75)
    assert gate.status == "inconclusive"
    assert res.passed  # inconclusive does not fail a pipeline


def test_gates_use_a_bonferroni_corrected_level(rng: np.random.Generator) -> None:
    df = _frame(rng)
    res = audit(
        df,
        label="y",
        prediction="pred",
        sensitive=["group", "sex"],
        gates=["disparate_impact<0.8", "fpr_difference>0.1"],
    )
    n_checks = 2 * 3  # two gates on group, sex and group×sex
    assert all(g.confidence_level == pytest.approx(1 - 0.05 / n_checks) for g in res.gates)
    assert len(res.gates) == n_checks


def test_json_has_everything_to_reproduce(rng: np.random.Generator, tmp_path) -> None:
    df = _frame(rng)
    path = tmp_path / "data.csv"
    df.to_csv(path, index=False)
    res = audit(
        df,
        label="y",
        prediction="pred",
        score="score",
        sensitive="group",
        random_state=7,
        source=path,
        n_bootstrap=200,
    )
    doc = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert doc["random_state"] == 7
    assert doc["parameters"]["sensitive"] == ["group"]
    assert doc["data"]["fingerprint"].startswith("sha256:")
    assert re.fullmatch(r"[0-9a-f]{64}", doc["data"]["source_sha256"])
    assert {"seawall", "numpy", "pandas", "python"} <= set(doc["versions"])
    assert any(m["metric"] == "auc" for m in doc["metrics"]["metrics"])
    again = audit(
        df,
        label="y",
        prediction="pred",
        score="score",
        sensitive="group",
        random_state=7,
        source=path,
        n_bootstrap=200,
    )
    assert again.to_dict()["metrics"] == doc["metrics"]
    assert again.fingerprint == res.fingerprint


def test_fingerprint_changes_with_the_data(rng: np.random.Generator) -> None:
    df = _frame(rng)
    a = audit(df, label="y", prediction="pred", sensitive="group")
    flipped = df.copy()
    flipped.loc[0, "pred"] = 1 - flipped.loc[0, "pred"]
    b = audit(flipped, label="y", prediction="pred", sensitive="group")
    assert a.fingerprint != b.fingerprint


def test_polars_and_arrow_tables_give_the_same_audit(rng: np.random.Generator) -> None:
    df = _frame(rng, n=1000)
    kwargs = {"label": "y", "prediction": "pred", "sensitive": "group", "n_bootstrap": 0}
    base = audit(df, **kwargs).metrics.to_dict()
    assert audit(pl.from_pandas(df), **kwargs).metrics.to_dict() == base
    assert audit(pa.Table.from_pandas(df), **kwargs).metrics.to_dict() == base


def test_findings_name_the_gap_with_its_interval(rng: np.random.Generator) -> None:
    res = audit(_frame(rng), label="y", prediction="pred", sensitive="group")
    texts = [f.text for f in res.findings if f.kind == "disparity"]
    assert any("Selection rate for group = b" in t and "95% CI" in t for t in texts)


def test_no_finding_on_fair_data_says_so(rng: np.random.Generator) -> None:
    res = audit(_frame(rng, gap=0.0), label="y", prediction="pred", sensitive="group")
    assert [f.kind for f in res.findings] == ["none"]
    assert "No gap between groups is statistically significant" in res.findings[0].text


def test_positive_label_maps_text_labels(rng: np.random.Generator) -> None:
    df = _frame(rng, n=500)
    df["y_text"] = np.where(df["y"] == 1, ">50K", "<=50K")
    a = audit(df, label="y", prediction="pred", sensitive="group", n_bootstrap=0)
    b = audit(
        df,
        label="y_text",
        prediction="pred",
        sensitive="group",
        positive_label=">50K",
        n_bootstrap=0,
    )
    assert a.metrics.to_dict() == b.metrics.to_dict()


def test_regression_audit(rng: np.random.Generator) -> None:
    n = 2000
    g = rng.choice(["a", "b"], n)
    y = rng.normal(size=n)
    pred = y + rng.normal(size=n) * np.where(g == "b", 2.0, 1.0)
    res = audit(
        pd.DataFrame({"y": y, "p": pred, "g": g}),
        label="y",
        prediction="p",
        sensitive="g",
        gates=["mae_difference>0.2"],
    )
    assert res.parameters.task == "regression"
    assert res.gates[0].status == "fail"
    assert res.four_fifths == ()


def test_missing_column_lists_the_available_ones(rng: np.random.Generator) -> None:
    df = _frame(rng, n=100)
    with pytest.raises(DataValidationError, match=re.escape("Did you mean 'group'?")):
        audit(df, label="y", prediction="pred", sensitive="gruop")
    with pytest.raises(DataValidationError, match=re.escape("Available columns: ['y', 'pred'")):
        audit(df, label="label", prediction="pred", sensitive="group")


def test_bad_labels_name_the_column() -> None:
    df = pd.DataFrame({"y": [0, 1, np.nan] * 20, "p": [0, 1, 1] * 20, "g": ["a", "b", "a"] * 20})
    with pytest.raises(DataValidationError, match=re.escape("the label column 'y' has 20 missing")):
        audit(df, label="y", prediction="p", sensitive="g")


def test_bad_gates() -> None:
    known = gate_names("classification", with_score=False)
    with pytest.raises(InvalidParameterError, match=re.escape("does not parse")):
        parse_gate("disparate_impact is low", known)
    with pytest.raises(InvalidParameterError, match=re.escape("'auc_difference', which is not")):
        parse_gate("auc_difference>0.1", known)
    assert "auc_difference" in gate_names("classification", with_score=True)

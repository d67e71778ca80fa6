"""Drift between a reference window and a current window: scipy agreement, FDR, summaries."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from seawall.exceptions import DataValidationError, InsufficientDataError, InvalidParameterError
from seawall.metrics import adjust_pvalues
from seawall.monitoring._drift import feature_drift, summary_drift
from seawall.monitoring._drift_kernels import PSI_EPSILON, ks_wasserstein
from seawall.monitoring._drift_result import DriftReport, FeatureDrift
from seawall.monitoring._drift_summarize import summarize


def _bins(ref: np.ndarray, n_bins: int = 10) -> np.ndarray:
    """Reference-quantile bins with open outer bins, computed independently."""
    edges = np.unique(np.quantile(ref, np.arange(1, n_bins) / n_bins))
    return np.concatenate(([-np.inf], edges, [np.inf]))


def _psi(r: np.ndarray, c: np.ndarray) -> float:
    p, q = r / r.sum(), c / c.sum()
    p = np.where(p == 0, PSI_EPSILON, p)
    q = np.where(q == 0, PSI_EPSILON, q)
    return float(np.sum((q - p) * np.log(q / p)))


# --------------------------------------------------------------------------- #
# agreement with scipy
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("n1", "n2", "decimals"), [(60, 45, 1), (3000, 2000, 2), (20000, 20000, 8)]
)
def test_numeric_statistics_match_scipy(
    rng: np.random.Generator, n1: int, n2: int, decimals: int
) -> None:
    ref = np.round(rng.normal(0, 1, (n1, 3)), decimals)  # rounding makes ties
    cur = np.round(rng.normal([0, 0.2, 0], [1, 1, 1.5], (n2, 3)), decimals)
    ref[rng.random(n1) < 0.1, 2] = np.nan
    cur[rng.random(n2) < 0.2, 2] = np.nan
    report = feature_drift(ref, cur)
    for j, rec in enumerate(report.features):
        a, b = ref[:, j], cur[:, j]
        a, b = a[~np.isnan(a)], b[~np.isnan(b)]
        ks = stats.ks_2samp(a, b, method="asymp")
        assert rec.test == "ks"
        assert (rec.n_ref, rec.n_cur) == (a.size, b.size)
        assert rec.statistic == pytest.approx(ks.statistic, abs=1e-12)
        assert rec.p_value == pytest.approx(ks.pvalue, rel=1e-12, abs=1e-300)
        w = stats.wasserstein_distance(a, b)
        assert rec.wasserstein == pytest.approx(w, rel=1e-12, abs=1e-15)
        q1, q3 = np.quantile(a, [0.25, 0.75])
        assert rec.effect_size == pytest.approx(w / ((q3 - q1) / 1.3489795003921634), rel=1e-12)
        r_counts = np.histogram(a, _bins(a))[0]
        c_counts = np.histogram(b, _bins(a))[0]
        assert rec.js == pytest.approx(jensenshannon(r_counts, c_counts, base=2), rel=1e-12)
        assert rec.psi == pytest.approx(_psi(r_counts, c_counts), rel=1e-12)
    assert report.features[2].missing_ref == pytest.approx(np.isnan(ref[:, 2]).mean())
    assert report.features[2].missing_cur == pytest.approx(np.isnan(cur[:, 2]).mean())
    assert report.features[0].missing_ref == 0.0


def test_ks_kernel_matches_scipy_on_disjoint_and_identical_samples() -> None:
    a = np.array([0.0, 1.0, 3.0])
    ks, w = ks_wasserstein(a, a + 10)
    assert ks == 1.0 == stats.ks_2samp(a, a + 10).statistic
    assert w == pytest.approx(10.0, rel=1e-15)
    assert w == pytest.approx(stats.wasserstein_distance(a, a + 10), rel=1e-15)
    assert ks_wasserstein(a, a.copy()) == (0.0, 0.0)


def test_categorical_statistics_match_scipy(rng: np.random.Generator) -> None:
    ref = pd.DataFrame({"c": rng.choice(["a", "b", "c", "d"], 5000, p=[0.4, 0.3, 0.2, 0.1])})
    cur_values = rng.choice(["a", "b", "c", "e"], 4000, p=[0.35, 0.35, 0.2, 0.1]).astype(object)
    cur_values[:100] = None
    cur = pd.DataFrame({"c": cur_values})
    rec = feature_drift(ref, cur)["c"]
    cats = ["a", "b", "c", "d", "e"]
    r = ref["c"].value_counts().reindex(cats, fill_value=0).to_numpy()
    c = cur["c"].value_counts().reindex(cats, fill_value=0).to_numpy()
    chi = stats.chi2_contingency(np.stack([r, c]), correction=False)
    assert rec.test == "chi2" and rec.kind == "categorical"
    assert rec.statistic == pytest.approx(chi.statistic, rel=1e-12)
    assert rec.p_value == pytest.approx(chi.pvalue, rel=1e-9, abs=1e-300)
    assert rec.effect_name == "cramers_v"
    assert rec.effect_size == pytest.approx(math.sqrt(chi.statistic / (r.sum() + c.sum())))
    assert rec.js == pytest.approx(jensenshannon(r, c, base=2), rel=1e-12)
    assert rec.psi == pytest.approx(_psi(r, c), rel=1e-12)
    assert rec.unseen_count == c[-1]
    assert rec.unseen_share == pytest.approx(c[-1] / c.sum())
    assert rec.missing_cur == pytest.approx(100 / 4000)
    assert math.isnan(rec.wasserstein)


# --------------------------------------------------------------------------- #
# hand-worked PSI
# --------------------------------------------------------------------------- #


def test_psi_hand_worked_categories() -> None:
    ref = pd.DataFrame({"c": ["a", "a", "b", "b"]})
    cur = pd.DataFrame({"c": ["a", "b", "b", "b"]})
    rec = feature_drift(ref, cur)["c"]
    # (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5) = 0.25 ln 3
    assert rec.psi == pytest.approx(0.25 * math.log(3), rel=1e-12)


def test_psi_hand_worked_with_an_empty_cell() -> None:
    ref = pd.DataFrame({"c": ["a"] * 4})
    cur = pd.DataFrame({"c": ["a", "a", "z", "z"]})
    rec = feature_drift(ref, cur)["c"]
    # cells (a, z): p = (1, eps), q = (0.5, 0.5)
    expected = (0.5 - 1) * math.log(0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    assert rec.psi == pytest.approx(expected, rel=1e-12)
    assert (rec.unseen_count, rec.unseen_share) == (2, 0.5)


def test_psi_hand_worked_numeric_bins() -> None:
    ref = np.arange(8.0)[:, None]  # two bins at the median 3.5: {0..3}, {4..7}
    cur = np.array([0.0, 1.0, 5.0, 6.0, 7.0, 7.0, 7.0, 7.0])[:, None]
    rec = feature_drift(ref, cur, n_bins=2).features[0]
    assert rec.psi == pytest.approx(0.25 * math.log(3), rel=1e-12)


# --------------------------------------------------------------------------- #
# false-discovery control across features
# --------------------------------------------------------------------------- #


def _twenty(rng: np.random.Generator, n: int = 20_000) -> tuple[pd.DataFrame, pd.DataFrame]:
    cols = [f"f{j:02d}" for j in range(20)]
    ref = pd.DataFrame(rng.normal(0, 1, (n, 20)), columns=cols)
    cur = pd.DataFrame(rng.normal(0, 1, (n, 20)), columns=cols)
    for j in (3, 8, 11, 17):
        cur[cols[j]] += 0.15  # KS D ~ 0.06, sqrt(n/2) D ~ 8.5: p < 1e-50
    return ref, cur


def test_four_drifted_of_twenty_are_all_flagged(rng: np.random.Generator) -> None:
    ref, cur = _twenty(rng)
    report = feature_drift(ref, cur)
    planted = {"f03", "f08", "f11", "f17"}
    assert planted <= set(report.drifted_features)
    # BH controls the false discovery rate: a null flag is possible but rare.
    assert len(set(report.drifted_features) - planted) <= 2
    by_p = sorted(report.features, key=lambda f: f.p_value)
    assert {f.name for f in by_p[:4]} == planted
    for f in report.features:
        assert (f.effect_size > 0.1) == (f.name in planted)


def test_no_share_of_columns_rule(rng: np.random.Generator) -> None:
    ref, cur = _twenty(rng)
    for c in ref.columns:  # the 16 undrifted features: the same values reshuffled
        if c not in {"f03", "f08", "f11", "f17"}:
            cur[c] = rng.permutation(ref[c].to_numpy())
    report = feature_drift(ref, cur)
    assert report.drifted_features == ("f03", "f08", "f11", "f17")
    assert report.n_drifted == 4
    holm = feature_drift(ref, cur, correction="holm")
    assert holm.drifted_features == report.drifted_features
    for a, b in zip(holm.features, report.features, strict=True):
        assert a.p_adjusted >= b.p_adjusted


def test_adjustment_uses_adjust_pvalues_and_skips_failed_features(
    rng: np.random.Generator,
) -> None:
    ref = pd.DataFrame(rng.normal(0, 1, (500, 4)), columns=list("abcd"))
    cur = pd.DataFrame(rng.normal(0.1, 1, (500, 4)), columns=list("abcd"))
    cur["b"] = np.nan
    report = feature_drift(ref, cur)
    p = np.array([f.p_value for f in report.features])
    assert math.isnan(p[1])
    np.testing.assert_array_equal([f.p_adjusted for f in report.features], adjust_pvalues(p, "bh"))
    assert [f.drifted for f in report.features] == [bool(q < 0.05) for q in adjust_pvalues(p, "bh")]


# --------------------------------------------------------------------------- #
# mergeable summaries
# --------------------------------------------------------------------------- #


def _mixed(rng: np.random.Generator, n: int, shift: float) -> pd.DataFrame:
    x = rng.normal(shift, 1, n)
    x[rng.random(n) < 0.05] = np.nan
    cats = rng.choice(["a", "b", "c", "new"] if shift else ["a", "b", "c"], n).astype(object)
    cats[rng.random(n) < 0.03] = None
    return pd.DataFrame({"x": x, "k": rng.integers(0, 5, n), "c": cats})


HISTOGRAM_FIELDS = ("psi", "js", "missing_ref", "missing_cur", "n_ref", "n_cur")


@pytest.mark.parametrize("sample_cap", [None, 500])
def test_merged_summaries_equal_concatenated_rows(
    rng: np.random.Generator, sample_cap: int | None
) -> None:
    ref_rows = _mixed(rng, 3000, 0.0)
    parts = [_mixed(rng, n, 0.3) for n in (700, 1100, 400)]
    ref = summarize(ref_rows, categorical=["k"], sample_cap=sample_cap)
    merged = summarize(parts[0], reference=ref, sample_cap=sample_cap)
    for part in parts[1:]:
        merged = merged.merge(summarize(part, reference=ref, sample_cap=sample_cap))
    assert merged.n_rows == 2200
    from_summaries = summary_drift(ref, merged)
    from_rows = feature_drift(ref_rows, pd.concat(parts, ignore_index=True), categorical=["k"])
    for a, b in zip(from_summaries.features, from_rows.features, strict=True):
        for field in HISTOGRAM_FIELDS:
            assert getattr(a, field) == getattr(b, field), (a.name, field)
    for name in ("k", "c"):  # categorical: every statistic is exact
        assert from_summaries[name] == from_rows[name]
    x_sum, x_rows = from_summaries["x"], from_rows["x"]
    if sample_cap is None:
        assert x_sum == x_rows
    else:
        assert (x_sum.test, x_rows.test) == ("chi2_binned", "ks")
        assert math.isnan(x_sum.wasserstein)
        counts = np.stack([ref["x"].counts, merged["x"].counts])
        chi = stats.chi2_contingency(counts, correction=False)
        assert x_sum.statistic == pytest.approx(chi.statistic, rel=1e-12)


def test_merge_keeps_the_sample_only_under_the_cap(rng: np.random.Generator) -> None:
    ref = summarize(rng.normal(0, 1, (100, 1)), sample_cap=150)
    a = summarize(rng.normal(0, 1, (100, 1)), reference=ref, sample_cap=150)
    assert a["x0"].sample is not None  # type: ignore[union-attr]
    assert a.merge(a)["x0"].sample is None  # type: ignore[union-attr]
    assert a.merge(a)["x0"].n == 200


def test_summary_to_dict_and_frame(rng: np.random.Generator) -> None:
    ref = summarize(_mixed(rng, 200, 0.0))
    d = ref.to_dict()
    json.dumps(d, allow_nan=False)
    assert [f["kind"] for f in d["features"]] == ["numeric", "numeric", "categorical"]
    assert list(ref.to_frame()["name"]) == ["x", "k", "c"]


def test_summaries_from_other_references_are_refused(rng: np.random.Generator) -> None:
    ref1 = summarize(rng.normal(0, 1, (100, 2)))
    ref2 = summarize(rng.normal(5, 1, (100, 2)))
    cur = summarize(rng.normal(0, 1, (100, 2)), reference=ref1)
    with pytest.raises(DataValidationError, match=re.escape("summarised differently")):
        summary_drift(ref2, cur)
    other = summarize(rng.normal(0, 1, (100, 2)), reference=ref2)
    with pytest.raises(DataValidationError, match=re.escape("different bin edges")):
        cur.merge(other)
    with pytest.raises(InvalidParameterError, match=re.escape("a WindowSummary")):
        summary_drift(ref1, rng.normal(0, 1, (100, 2)))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- #
# report
# --------------------------------------------------------------------------- #


def test_report_to_dict_is_json_safe_and_frame_has_one_row_per_feature(
    rng: np.random.Generator,
) -> None:
    ref = _mixed(rng, 500, 0.0)
    cur = _mixed(rng, 400, 0.5)
    cur["k"] = np.nan
    report = feature_drift(ref, cur)
    assert isinstance(report, DriftReport)
    d = report.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text)["n_drifted"] == report.n_drifted
    assert [f["name"] for f in d["features"]] == ["x", "k", "c"]
    assert d["features"][1]["p_value"] is None
    frame = report.to_frame()
    assert list(frame.columns) == list(FeatureDrift.__dataclass_fields__)
    assert len(frame) == 3
    with pytest.raises(KeyError):
        report["nope"]


def test_forms_and_column_order_do_not_change_numbers(rng: np.random.Generator) -> None:
    ref = rng.normal(0, 1, (300, 3))
    cur = rng.normal(0.2, 1, (300, 3))
    cols = ["a", "b", "c"]
    from_arrays = feature_drift(ref, cur).to_frame().drop(columns="name")
    frame_report = feature_drift(
        pd.DataFrame(ref, columns=cols), pd.DataFrame(cur, columns=cols)[["c", "a", "b"]]
    )
    assert [f.name for f in frame_report.features] == cols
    pd.testing.assert_frame_equal(frame_report.to_frame().drop(columns="name"), from_arrays)


def test_kinds_follow_dtypes(rng: np.random.Generator) -> None:
    n = 200
    ref = pd.DataFrame(
        {
            "flag": rng.random(n) < 0.5,
            "count": pd.array(rng.integers(0, 9, n), dtype="Int64"),
            "tier": pd.Categorical(rng.choice(["lo", "hi"], n)),
        }
    )
    report = feature_drift(ref, ref.copy())
    assert [f.kind for f in report.features] == ["categorical", "numeric", "categorical"]
    assert report.n_drifted == 0
    assert all(f.statistic == 0 for f in report.features)


# --------------------------------------------------------------------------- #
# bad input
# --------------------------------------------------------------------------- #


def test_different_columns_are_refused() -> None:
    ref = pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, 2.0]})
    cur = pd.DataFrame({"a": [1.0, 2.0], "z": [1.0, 2.0]})
    with pytest.raises(DataValidationError, match=re.escape("missing from current: ['b']")):
        feature_drift(ref, cur)
    with pytest.raises(DataValidationError, match=re.escape("must have the reference's columns")):
        feature_drift(np.zeros((3, 2)), np.zeros((3, 3)))


def test_empty_window_is_refused() -> None:
    ref = pd.DataFrame({"a": [1.0, 2.0]})
    with pytest.raises(InsufficientDataError, match=re.escape("current passed to feature_drift")):
        feature_drift(ref, ref.iloc[:0])
    with pytest.raises(DataValidationError, match=re.escape("has no columns")):
        feature_drift(ref.iloc[:, :0], ref.iloc[:, :0])


def test_unknown_categorical_name_is_refused() -> None:
    ref = pd.DataFrame({"a": [1.0, 2.0]})
    with pytest.raises(DataValidationError, match=re.escape("categorical names ['b']")):
        feature_drift(ref, ref, categorical=["b"])
    with pytest.raises(InvalidParameterError, match=re.escape("'categorical' parameter")):
        feature_drift(np.zeros((3, 1)), np.zeros((3, 1)), categorical=["x0"])


def test_mixing_arrays_and_frames_is_refused() -> None:
    with pytest.raises(DataValidationError, match=re.escape("both be DataFrames or both")):
        feature_drift(pd.DataFrame({"x0": [1.0, 2.0]}), np.zeros((2, 1)))


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"alpha": 0.0}, "The 'alpha' parameter of feature_drift must be a float in (0, 1)"),
        ({"correction": "bonferroni"}, "The 'correction' parameter of feature_drift"),
        ({"n_bins": 1}, "The 'n_bins' parameter of feature_drift must be an int in [2, inf)"),
    ],
)
def test_bad_parameters_are_refused(kwargs: dict[str, object], fragment: str) -> None:
    X = np.zeros((3, 1))
    with pytest.raises(InvalidParameterError, match=re.escape(fragment)):
        feature_drift(X, X, **kwargs)  # type: ignore[arg-type]


def test_bad_features_get_nan_and_a_reason_without_stopping_the_others(
    rng: np.random.Generator,
) -> None:
    n = 400
    ref = pd.DataFrame(
        {
            "good": rng.normal(0, 1, n),
            "all_missing_cur": rng.normal(0, 1, n),
            "all_missing_ref": np.full(n, np.nan),
            "text_in_cur": rng.normal(0, 1, n),
            "infinite": rng.normal(0, 1, n),
            "dates": pd.date_range("2024-01-01", periods=n, freq="h"),
        }
    )
    cur = pd.DataFrame(
        {
            "good": rng.normal(1, 1, n),
            "all_missing_cur": np.full(n, np.nan),
            "all_missing_ref": rng.normal(0, 1, n),
            "text_in_cur": rng.choice(["a", "b"], n),
            "infinite": np.where(np.arange(n) == 3, np.inf, rng.normal(0, 1, n)),
            "dates": pd.date_range("2025-01-01", periods=n, freq="h"),
        }
    )
    report = feature_drift(ref, cur)
    good = report["good"]
    assert good.drifted and not good.reason
    assert good.p_adjusted == good.p_value  # the only test counted
    expected = {
        "all_missing_cur": "every value is missing in the current window",
        "all_missing_ref": "every value is missing in the reference window",
        "text_in_cur": "is numeric in the reference but categorical in the current window",
        "infinite": "holds 1 infinite value(s)",
        "dates": "neither numeric nor categorical",
    }
    for name, fragment in expected.items():
        rec = report[name]
        assert fragment in rec.reason, (name, rec.reason)
        assert math.isnan(rec.p_value) and math.isnan(rec.p_adjusted) and not rec.drifted
        assert math.isnan(rec.psi) and math.isnan(rec.statistic)
    assert report["all_missing_cur"].missing_cur == 1.0
    assert report.n_drifted == 1


def test_inputs_are_not_mutated(rng: np.random.Generator) -> None:
    ref = rng.normal(0, 1, (100, 2))
    cur = rng.normal(0, 1, (100, 2))
    ref_copy, cur_copy = ref.copy(), cur.copy()
    feature_drift(ref, cur)
    np.testing.assert_array_equal(ref, ref_copy)
    np.testing.assert_array_equal(cur, cur_copy)


def test_reference_only_options_are_refused_for_other_windows() -> None:
    import pandas as pd

    from seawall.exceptions import InvalidParameterError
    from seawall.monitoring._drift_summarize import summarize

    ref = summarize(pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "c": ["x", "y", "x", "y"]}))
    cur = pd.DataFrame({"a": [1.5, 2.5], "c": ["x", "x"]})
    with pytest.raises(InvalidParameterError, match="n_bins= applies to the reference"):
        summarize(cur, reference=ref, n_bins=5)
    with pytest.raises(InvalidParameterError, match="categorical= applies to the reference"):
        summarize(cur, reference=ref, categorical=["c"])
    assert summarize(cur, reference=ref)["c"].categories == ("x",)

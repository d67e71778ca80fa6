from __future__ import annotations

import dataclasses
import json
import re
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from seawall.datasets import PlantedData, PlantedEffect, make_slices
from seawall.exceptions import InvalidParameterError

N = 100_000
FEATURES = [f"f{i}" for i in range(10)]
COLUMNS = [*FEATURES, "age", "group", "qualification", "y_pred", "y_true"]
LEVELS = ("low", "medium", "high")
# Planted sizes are checked to within this many standard errors.
Z = 4.0


@lru_cache(maxsize=8)
def _data(effects: str, seed: int) -> PlantedData:
    return make_slices(N, effects=effects, random_state=seed)  # type: ignore[arg-type]


def _diff(
    x: npt.NDArray[np.int64], a: npt.NDArray[np.bool_], b: npt.NDArray[np.bool_]
) -> tuple[float, float]:
    """Mean of x over a minus over b, and its standard error."""
    pa, pb = x[a].mean(), x[b].mean()
    se = np.sqrt(pa * (1 - pa) / a.sum() + pb * (1 - pb) / b.sum())
    return float(pa - pb), float(se)


def _stratified_diff(
    x: npt.NDArray[np.int64],
    rows: npt.NDArray[np.bool_],
    b: npt.NDArray[np.bool_],
    strata: npt.NDArray[np.object_],
) -> tuple[float, float]:
    """Group B minus group A within each stratum, averaged with the strata's sizes."""
    diffs, variances, weights = [], [], []
    for level in LEVELS:
        s = rows & (strata == level)
        d, se = _diff(x, s & b, s & ~b)
        diffs.append(d)
        variances.append(se**2)
        weights.append(s.sum())
    w = np.asarray(weights, dtype=float) / sum(weights)
    return float(w @ diffs), float(np.sqrt(w**2 @ variances))


def _measure(data: PlantedData, effect: PlantedEffect) -> tuple[float, float]:
    """The planted quantity, measured with plain numpy, and its standard error."""
    df = data.frame
    err = (df["y_true"] != df["y_pred"]).to_numpy().astype(np.int64)
    pred = df["y_pred"].to_numpy()
    b = (df["group"] == "B").to_numpy()
    qual = df["qualification"].to_numpy(dtype=object)
    m = effect.mask(df)
    if effect.kind == "weak_slice":
        return _diff(err, m, ~m)
    if effect.kind == "error_disparity":
        return _diff(err, m & b, m & ~b)
    if effect.kind == "output_association":
        return _stratified_diff(pred, m, b, qual)
    assert effect.kind == "explained_association"
    outside = ~_planted("output_association").mask(df)
    return _diff(pred, outside & b, outside & ~b)


def _planted(kind: str) -> PlantedEffect:
    (effect,) = [e for e in _data("planted", 0).effects if e.kind == kind]
    return effect


def test_columns_and_dtypes() -> None:
    data = make_slices(2_000, random_state=3)
    df = data.frame
    assert list(df.columns) == COLUMNS
    assert isinstance(df.index, pd.RangeIndex)
    for name in [*FEATURES, "group", "qualification"]:
        assert not isinstance(df[name].dtype, pd.CategoricalDtype), name
        assert pd.api.types.is_string_dtype(df[name].dtype), name
        assert all(isinstance(v, str) for v in df[name]), name
    assert df["age"].dtype == np.float64
    assert df["age"].between(18, 90).all()
    for name in ["y_pred", "y_true"]:
        assert df[name].dtype == np.int64
        assert set(df[name]) == {0, 1}
    assert not df.isna().to_numpy().any()
    # 2 to 8 values per feature, with non-uniform shares.
    for name in FEATURES:
        assert 2 <= df[name].nunique() <= 8, name
    assert data.protected == ("group",)
    assert data.context_columns == (*FEATURES, "age")
    assert data.explanatory == ("qualification",)
    assert (data.label, data.prediction) == ("y_true", "y_pred")


def test_default_size() -> None:
    assert make_slices().frame.shape == (100_000, 15)


def test_same_seed_same_data() -> None:
    for effects in ("planted", "null"):
        a = make_slices(5_000, effects=effects, random_state=7)
        b = make_slices(5_000, effects=effects, random_state=7)
        pd.testing.assert_frame_equal(a.frame, b.frame)
        assert a.effects == b.effects


def test_other_seed_other_data() -> None:
    a, b = make_slices(5_000, random_state=7), make_slices(5_000, random_state=8)
    assert not np.array_equal(a.frame["age"].to_numpy(), b.frame["age"].to_numpy())
    assert not a.frame["f3"].equals(b.frame["f3"])


def test_numpy_integers_are_accepted() -> None:
    a = make_slices(np.int64(2_000), random_state=np.uint8(4))
    pd.testing.assert_frame_equal(a.frame, make_slices(2_000, random_state=4).frame)


def test_null_twin_shares_features_and_group(seed: int) -> None:
    planted, null = _data("planted", seed), _data("null", seed)
    shared = [*FEATURES, "age", "group"]
    pd.testing.assert_frame_equal(planted.frame[shared], null.frame[shared])
    assert null.effects == ()
    assert len(planted.effects) == 5


def test_effects_are_described() -> None:
    effects = _data("planted", 0).effects
    kinds = [e.kind for e in effects]
    assert kinds == [
        "weak_slice",
        "weak_slice",
        "error_disparity",
        "output_association",
        "explained_association",
    ]
    large, small, disparity, output, explained = effects
    assert large.context == (("f1", "b"), ("f4", "b"))
    assert (large.group, large.effect, large.share) == (None, 0.15, 0.04)
    assert small.context == (("f1", "d"), ("f6", "c"), ("f8", "b"))
    assert (small.group, small.effect, small.share) == (None, 0.30, 0.005)
    assert disparity.context == (("f3", "e"),)
    assert (disparity.group, disparity.effect, disparity.share) == ("B", 0.20, 0.10)
    assert output.context == (("f5", "c"),)
    assert (output.group, output.effect, output.share) == ("B", -0.20, 0.10)
    assert explained.context == ()
    assert (explained.group, explained.share) == ("B", 1.0)
    assert explained.effect == pytest.approx(-0.1125)
    assert explained.explained_by == "qualification"
    assert all(e.explained_by is None for e in effects[:4])
    assert all(e.label is None and e.description.endswith(".") for e in effects)
    # The error-disparity and output contexts use features that define no slice.
    slice_features = {c for e in (large, small) for c, _ in e.context}
    assert not slice_features & {"f3", "f5"}


def test_weak_slices_do_not_overlap() -> None:
    data = _data("planted", 0)
    large, small = data.effects[:2]
    assert not (large.mask(data.frame) & small.mask(data.frame)).any()


def test_to_dict_is_json_safe() -> None:
    data = _data("planted", 0)
    d = data.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["n_rows"] == N
    assert d["protected"] == ["group"]
    assert d["explanatory"] == ["qualification"]
    assert d["effects"][0]["context"] == [["f1", "b"], ["f4", "b"]]
    assert list(d["effects"][0]) == [f.name for f in dataclasses.fields(PlantedEffect)]
    assert _data("null", 0).to_dict()["effects"] == []


def test_results_are_frozen() -> None:
    data = _data("planted", 0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.label = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.effects[0].effect = 0.0  # type: ignore[misc]


@pytest.mark.parametrize("effects", ["planted", "null"])
def test_context_shares(effects: str, seed: int) -> None:
    df = _data(effects, seed).frame
    for e in _data("planted", 0).effects:
        share = e.mask(df).mean()
        se = np.sqrt(e.share * (1 - e.share) / N)
        assert abs(share - e.share) <= Z * se + 1e-12, (e.kind, e.context, share)
    assert abs((df["group"] == "B").mean() - 0.3) < Z * np.sqrt(0.21 / N)


def test_planted_effects_have_their_size(seed: int) -> None:
    data = _data("planted", seed)
    for e in data.effects:
        measured, se = _measure(data, e)
        assert abs(measured - e.effect) < Z * se, (e.kind, e.context, measured, se)


def test_null_twin_has_none_of_the_effects(seed: int) -> None:
    null = _data("null", seed)
    for e in _data("planted", 0).effects:
        measured, se = _measure(null, e)
        assert abs(measured) < Z * se, (e.kind, e.context, measured, se)


def test_explained_association_disappears_within_qualification(seed: int) -> None:
    for effects in ("planted", "null"):
        df = _data(effects, seed).frame
        pred = df["y_pred"].to_numpy()
        b = (df["group"] == "B").to_numpy()
        outside = ~_planted("output_association").mask(df)
        qual = df["qualification"].to_numpy(dtype=object)
        measured, se = _stratified_diff(pred, outside, b, qual)
        assert abs(measured) < Z * se, (effects, measured, se)


def test_output_association_is_larger_without_qualification() -> None:
    # Raw, the gap in the context adds the explained part (-0.1125) to the planted -0.20.
    df = _data("planted", 0).frame
    m = _planted("output_association").mask(df)
    b = (df["group"] == "B").to_numpy()
    raw, se = _diff(df["y_pred"].to_numpy(), m & b, m & ~b)
    assert abs(raw - (-0.3125)) < Z * se


def test_decisions_and_errors_follow_the_design(seed: int) -> None:
    planted, null = _data("planted", seed).frame, _data("null", seed).frame
    # Outside every planted error context, the error rate is the base rate 0.10.
    effects = _data("planted", 0).effects
    clean = ~np.logical_or.reduce([e.mask(planted) for e in effects[:3]])
    err = (planted["y_true"] != planted["y_pred"]).to_numpy()
    assert abs(err[clean].mean() - 0.10) < Z * np.sqrt(0.09 / clean.sum())
    null_err = (null["y_true"] != null["y_pred"]).to_numpy()
    assert abs(null_err.mean() - 0.10) < Z * np.sqrt(0.09 / N)
    # Decisions depend on qualification only (outside the output context).
    outside = ~_planted("output_association").mask(planted)
    for level, p in zip(LEVELS, (0.25, 0.5, 0.75), strict=True):
        rows = outside & (planted["qualification"] == level).to_numpy()
        assert abs(planted["y_pred"].to_numpy()[rows].mean() - p) < Z * np.sqrt(
            p * (1 - p) / rows.sum()
        )
    assert abs(null["y_pred"].mean() - 0.5) < Z * np.sqrt(0.25 / N)
    # Qualification depends on the group when planted (B has more "low"), not in the null.
    low_planted = pd.crosstab(planted["group"], planted["qualification"], normalize="index")["low"]
    assert abs(low_planted["A"] - 0.25) < 0.02
    assert abs(low_planted["B"] - 0.55) < 0.02
    low_null = pd.crosstab(null["group"], null["qualification"], normalize="index")["low"]
    assert abs(low_null["A"] - low_null["B"]) < 0.02
    assert abs(low_null["A"] - 0.34) < 0.02


@pytest.mark.parametrize("n_samples", [999, 0, -5, 1000.0, 1e4, "1000", None, True])
def test_bad_n_samples(n_samples: object) -> None:
    msg = "The 'n_samples' parameter of make_slices must be an int in [1000, inf)."
    with pytest.raises(InvalidParameterError, match=re.escape(msg)):
        make_slices(n_samples)  # type: ignore[arg-type]


@pytest.mark.parametrize("effects", ["Planted", "none", "", None, 1, ("planted",)])
def test_bad_effects(effects: object) -> None:
    msg = "The 'effects' parameter of make_slices must be one of 'planted', 'null'. Got"
    with pytest.raises(InvalidParameterError, match=re.escape(msg)):
        make_slices(2_000, effects=effects)  # type: ignore[arg-type]


@pytest.mark.parametrize("random_state", [-1, 1.5, None, "0", np.random.default_rng(0)])
def test_bad_random_state(random_state: object) -> None:
    msg = "The 'random_state' parameter of make_slices must be an int in [0, inf)."
    with pytest.raises(InvalidParameterError, match=re.escape(msg)):
        make_slices(2_000, random_state=random_state)  # type: ignore[arg-type]


def test_bad_parameter_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=re.escape("Got 10 instead.")):
        make_slices(10)

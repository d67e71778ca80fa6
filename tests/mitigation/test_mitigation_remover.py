"""DisparateImpactRemover: hand-worked repairs, properties, the sklearn contract, bad inputs."""

from __future__ import annotations

import pickle
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn
from scipy.stats import ks_2samp
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from seawall.exceptions import DataValidationError, InsufficientDataError, InvalidParameterError
from seawall.mitigation._remover import DisparateImpactRemover

A = [1.0, 2.0, 3.0, 4.0, 5.0]  # quantile function 1 + 4u (levels 0, .25, .5, .75, 1)
B = [10.0, 20.0, 30.0, 40.0, 50.0]  # quantile function 10 + 40u


def _two_groups() -> tuple[np.ndarray, list[str]]:
    return np.array(A + B).reshape(-1, 1), ["a"] * 5 + ["b"] * 5


def _repair(X: Any, s: Any, **params: Any) -> np.ndarray:
    return np.asarray(DisparateImpactRemover(**params).fit_transform(X, sensitive_features=s))


# --------------------------------------------------------------------------- #
# hand-worked
# --------------------------------------------------------------------------- #


def test_full_repair_sends_both_groups_to_the_midpoint_curve() -> None:
    # Two groups: T(u) = ((1 + 4u) + (10 + 40u)) / 2 = 5.5 + 22u, at u = 0, .25, .5, .75, 1.
    X, s = _two_groups()
    expected = [5.5, 11.0, 16.5, 22.0, 27.5] * 2
    np.testing.assert_allclose(_repair(X, s).ravel(), expected, rtol=1e-12)
    np.testing.assert_allclose(_repair(X, s, mode="combinatorial").ravel(), expected, rtol=1e-12)


def test_geometric_partial_repair_by_hand() -> None:
    X, s = _two_groups()
    # λ = 0.25: x' = 0.75 x + 0.25 T(u).
    expected = [0.75 * 1 + 0.25 * 5.5, 0.75 * 2 + 0.25 * 11, 0.75 * 30 + 0.25 * 16.5]
    got = _repair(X, s, repair_level=0.25).ravel()[[0, 1, 7]]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_combinatorial_partial_repair_by_hand() -> None:
    # Pooled values 1, 2, 3, 4, 5, 10, 20, 30, 40, 50 at levels i/9 (36 knot steps hold them).
    # a = 2: t = T(.25) = 11; F_P(2) = 1/9, F_P(11) = (5 + .1)/9; midway 3.05/9 -> 4.05.
    # b = 40: t = T(.75) = 22; F_P(40) = 8/9, F_P(22) = 6.2/9; midway 7.1/9 -> 31.
    X, s = _two_groups()
    got = _repair(X, s, repair_level=0.5, mode="combinatorial", n_quantiles=37).ravel()
    np.testing.assert_allclose(got[[1, 8]], [4.05, 31.0], rtol=1e-12)


def test_new_values_use_the_training_quantiles_and_carry_their_overshoot() -> None:
    X, s = _two_groups()
    rem = DisparateImpactRemover().fit(X, sensitive_features=s)
    new = np.array([[2.5], [0.0], [7.0], [25.0], [60.0]])
    got = rem.transform(new, sensitive_features=["a", "a", "a", "b", "b"]).ravel()
    # 2.5 in a: u = .375 -> 5.5 + 22 * .375; 0 is 1 below a's minimum -> T(0) - 1;
    # 7 is 2 above a's maximum -> T(1) + 2; 25 in b: u = .375; 60 -> T(1) + 10.
    np.testing.assert_allclose(got, [13.75, 4.5, 29.5, 13.75, 37.5], rtol=1e-12)
    # Refitting on the new rows would give other values: the fit's quantiles were used.
    refit = DisparateImpactRemover().fit_transform(new, sensitive_features=["a"] * 3 + ["b"] * 2)
    assert not np.allclose(refit.ravel(), got)


def test_three_groups_use_the_median_curve() -> None:
    # Q_a = 20u, Q_b = 5 + 2u, Q_c = -10 + 60u on [0, .5] then 20 + 2(u - .5):
    # at u = 0 the median of (0, 5, -10) is 0; at .5 of (10, 6, 20) is 10; at 1 of (20, 7, 21)
    # is 20; at .25 of (5, 5.5, 5) is 5.
    X = np.array([0.0, 10, 20, 5, 6, 7, -10, 20, 21]).reshape(-1, 1)
    s = ["a"] * 3 + ["b"] * 3 + ["c"] * 3
    rem = DisparateImpactRemover().fit(X, sensitive_features=s)
    levels = rem.quantile_levels_
    target = np.interp([0, 0.25, 0.5, 1], levels, rem.target_quantiles_[0])
    np.testing.assert_allclose(target, [0, 5, 10, 20], atol=1e-12)
    np.testing.assert_allclose(
        rem.transform(X, sensitive_features=s).ravel(), [0, 10, 20] * 3, atol=1e-12
    )


def test_target_matches_a_naive_median_of_numpy_quantiles(rng: np.random.Generator) -> None:
    # Group sizes 11, 21, 41: every training level r / (n - 1) is a knot of 1001.
    sizes = [11, 21, 41]
    s = np.repeat(["a", "b", "c"], sizes)
    x = np.concatenate([rng.normal(i, 1 + i, n) for i, n in enumerate(sizes)])
    X = np.c_[x, rng.exponential(size=x.size)]
    Z = DisparateImpactRemover().fit_transform(X, sensitive_features=s)
    for j in range(2):
        for g, n in zip("abc", sizes, strict=True):
            col = X[s == g, j]
            ranks = np.argsort(np.argsort(col))
            u = ranks / (n - 1)
            naive = [np.median([np.quantile(X[s == h, j], v) for h in "abc"]) for v in u]
            np.testing.assert_allclose(Z[s == g, j], naive, rtol=1e-10, atol=1e-10)


# --------------------------------------------------------------------------- #
# properties
# --------------------------------------------------------------------------- #


def _data(rng: np.random.Generator, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    s = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    shift = (s == "b") * 1.0 + (s == "c") * 2.5
    X = np.c_[
        rng.normal(size=n) + shift,
        rng.gamma(2.0, 1.0 + shift),
        np.round(rng.normal(size=n) * 2 + shift),  # discrete: atoms
    ]
    return X, s


@pytest.mark.parametrize("mode", ["geometric", "combinatorial"])
def test_repair_level_zero_is_the_identity(rng: np.random.Generator, mode: str) -> None:
    X, s = _data(rng)
    X[::17, 1] = np.nan
    Z = _repair(X, s, repair_level=0.0, mode=mode)
    np.testing.assert_array_equal(Z, X)


def test_geometric_is_the_interpolation(rng: np.random.Generator) -> None:
    X, s = _data(rng)
    rem = DisparateImpactRemover().fit(X, sensitive_features=s)
    full = rem.transform(X, sensitive_features=s)
    for lam in (0.1, 0.5, 0.9):
        part = rem.set_params(repair_level=lam).transform(X, sensitive_features=s)
        np.testing.assert_allclose(part, (1 - lam) * X + lam * full, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["geometric", "combinatorial"])
def test_full_repair_equalises_the_groups(rng: np.random.Generator, mode: str) -> None:
    X, s = _data(rng, 30_000)
    Z = _repair(X, s, mode=mode)
    for j in range(X.shape[1]):
        before = ks_2samp(X[s == "a", j], X[s == "c", j]).statistic
        after = max(ks_2samp(Z[s == g, j], Z[s == h, j]).statistic for g, h in ("ab", "ac", "bc"))
        assert before > 0.3
        # Continuous features: knots 0.001 apart plus one step; the discrete one
        # is split at random inside its atoms, so sampling noise (~0.02) adds.
        assert after < (0.005 if j < 2 else 0.03), (j, after)


def test_full_repair_equalises_group_quantiles(rng: np.random.Generator) -> None:
    X, s = _data(rng, 30_000)
    Z = _repair(X, s)
    levels = np.linspace(0.05, 0.95, 19)
    q = np.array([np.quantile(Z[s == g, 0], levels) for g in "abc"])
    spread = q.max(axis=0) - q.min(axis=0)
    assert spread.max() < 0.02 * (q.max() - q.min())


@pytest.mark.parametrize("mode", ["geometric", "combinatorial"])
@pytest.mark.parametrize("lam", [0.3, 0.7, 1.0])
def test_rank_order_within_a_group_is_kept(rng: np.random.Generator, mode: str, lam: float) -> None:
    X, s = _data(rng)
    Z = _repair(X, s, repair_level=lam, mode=mode)
    for g in "abc":
        for j in range(X.shape[1]):
            # x < x' implies z <= z' (tied values may be split: order them by z).
            x, z = X[s == g, j], Z[s == g, j]
            order = np.lexsort((z, x))
            assert (np.diff(z[order]) >= -1e-9).all()


def test_partial_combinatorial_repair_stays_in_the_training_range(
    rng: np.random.Generator,
) -> None:
    X, s = _data(rng)
    Z = _repair(X, s, repair_level=0.4, mode="combinatorial")
    assert (Z.min(axis=0) >= X.min(axis=0) - 1e-12).all()
    assert (Z.max(axis=0) <= X.max(axis=0) + 1e-12).all()


def test_two_groups_target_is_the_midpoint(rng: np.random.Generator) -> None:
    X, s = _data(rng)
    keep = s != "c"
    rem = DisparateImpactRemover().fit(X[keep], sensitive_features=s[keep])
    np.testing.assert_allclose(rem.target_quantiles_, rem.quantiles_.mean(axis=1), rtol=1e-12)


def test_missing_values_pass_through(rng: np.random.Generator) -> None:
    X, s = _data(rng, 500)
    X[::7, 0] = np.nan
    Z = _repair(X, s)
    np.testing.assert_array_equal(np.isnan(Z[:, 0]), np.isnan(X[:, 0]))
    clean = _repair(X[~np.isnan(X[:, 0])][:, :1], s[~np.isnan(X[:, 0])])
    np.testing.assert_allclose(Z[~np.isnan(X[:, 0]), 0], clean.ravel())


def test_seed_changes_only_tied_rows(rng: np.random.Generator) -> None:
    X, s = _data(rng)
    z0 = _repair(X, s, random_state=0)
    z1 = _repair(X, s, random_state=1)
    np.testing.assert_array_equal(z0[:, :2], z1[:, :2])  # continuous: no atoms
    assert not np.array_equal(z0[:, 2], z1[:, 2])
    np.testing.assert_array_equal(z0, _repair(X, s, random_state=0))


def test_inputs_as_list_frame_and_sensitive_column_agree(rng: np.random.Generator) -> None:
    X, s = _data(rng, 300)
    ref = _repair(X, s)
    np.testing.assert_allclose(_repair(X.tolist(), list(s)), ref)
    frame = pd.DataFrame(X, columns=["x", "y", "z"]).assign(sex=s)
    rem = DisparateImpactRemover(sensitive_column="sex")
    np.testing.assert_allclose(rem.fit_transform(frame), ref)
    assert list(rem.get_feature_names_out()) == ["x", "y", "z"]
    assert list(rem.feature_names_in_) == ["x", "y", "z", "sex"]
    arr = np.c_[X[:, :1], (s == "a").astype(float), X[:, 1:]]
    by_position = DisparateImpactRemover(sensitive_column=1).fit(arr)
    np.testing.assert_allclose(
        by_position.transform(arr), _repair(X, (s == "a").astype(float)), rtol=1e-12
    )
    assert list(by_position.get_feature_names_out()) == ["x0", "x2", "x3"]


def test_fitted_state_is_compact(rng: np.random.Generator) -> None:
    X, s = _data(rng, 20_000)
    rem = DisparateImpactRemover(n_quantiles=101).fit(X, sensitive_features=s)
    assert rem.quantiles_.shape == (3, 3, 101)
    assert rem.target_quantiles_.shape == rem.pooled_quantiles_.shape == (3, 101)
    assert len(pickle.dumps(rem)) < 20_000
    assert list(rem.groups_) == ["a", "b", "c"]


# --------------------------------------------------------------------------- #
# categorical features
# --------------------------------------------------------------------------- #


def _categorical_frame(n_a: int, n_b: int, rng: np.random.Generator) -> pd.DataFrame:
    # Group a: 80% "x"; group b: 20% "x". Target: the midpoint, 50% each.
    a = rng.permutation(np.repeat(["x", "y"], [int(0.8 * n_a), n_a - int(0.8 * n_a)]))
    b = rng.permutation(np.repeat(["x", "y"], [int(0.2 * n_b), n_b - int(0.2 * n_b)]))
    return pd.DataFrame(
        {
            "num": rng.normal(size=n_a + n_b),
            "cat": pd.Categorical(np.r_[a, b]),
            "sex": ["a"] * n_a + ["b"] * n_b,
        }
    )


def test_categorical_features_are_kept_with_their_dtype(rng: np.random.Generator) -> None:
    df = _categorical_frame(200, 300, rng)
    rem = DisparateImpactRemover(sensitive_column="sex").set_output(transform="pandas")
    out = rem.fit_transform(df)
    assert list(out.columns) == ["num", "cat"]
    assert out["cat"].dtype == df["cat"].dtype and out["num"].dtype == np.float64
    pd.testing.assert_series_equal(out["cat"], df["cat"])
    arr = DisparateImpactRemover(sensitive_column="sex").fit_transform(df)
    assert isinstance(arr, np.ndarray) and arr.dtype == object
    assert list(rem.categorical_features_) == [1] and list(rem.numeric_features_) == [0]


def test_categorical_proportions_move_towards_the_median(rng: np.random.Generator) -> None:
    df = _categorical_frame(10_000, 6_000, rng)
    rem = DisparateImpactRemover(categorical="proportions", sensitive_column="sex")
    out = rem.set_output(transform="pandas").fit_transform(df)
    np.testing.assert_allclose(rem.category_proportions_[0], [[0.8, 0.2], [0.2, 0.8]])
    np.testing.assert_allclose(rem.target_proportions_[0], [0.5, 0.5])
    share = out["cat"].eq("x").groupby(df["sex"]).mean()
    # Each x-row of a leaves with probability .3 / .8: binomial noise, sd < .005.
    assert abs(share["a"] - 0.5) < 0.02 and abs(share["b"] - 0.5) < 0.02
    # Rows of a deficit category never move; a surplus row only moves to the deficit.
    a = df["sex"].eq("a")
    assert out["cat"][a & df["cat"].eq("y")].eq("y").all()
    assert out["cat"][~a & df["cat"].eq("x")].eq("x").all()
    # λ = 0.5: halfway, 65% x in group a.
    half = rem.set_params(repair_level=0.5).transform(df)
    assert abs(half["cat"][a].eq("x").mean() - 0.65) < 0.02
    again = rem.transform(df)
    pd.testing.assert_frame_equal(half, again)
    other = rem.set_params(random_state=1).transform(df)
    assert not other["cat"].equals(half["cat"])


def test_target_proportions_are_renormalised_medians() -> None:
    # Medians per category (.3, .3, .3) sum to .9: the target is a third each.
    cats = {"a": ["u"] * 6 + ["v"] * 3 + ["w"], "b": ["u"] + ["v"] * 6 + ["w"] * 3}
    cats["c"] = ["u"] * 3 + ["v"] + ["w"] * 6
    X = np.array(cats["a"] + cats["b"] + cats["c"], dtype=object).reshape(-1, 1)
    s = np.repeat(["a", "b", "c"], 10)
    rem = DisparateImpactRemover(categorical="proportions").fit(X, sensitive_features=s)
    np.testing.assert_allclose(rem.target_proportions_[0], [1 / 3] * 3)


def test_declared_categorical_numeric_column_is_left_alone(rng: np.random.Generator) -> None:
    X, s = _data(rng, 300)
    Z = _repair(X, s, categorical_features=[2])
    np.testing.assert_array_equal(Z[:, 2].astype(float), X[:, 2])
    assert not np.allclose(Z[:, 0].astype(float), X[:, 0])


# --------------------------------------------------------------------------- #
# scikit-learn
# --------------------------------------------------------------------------- #

_SPREAD = (
    "with sensitive_column=0 the check's small-integer data are full of ties, which are spread "
    "at random over their quantile range by row position (see the class docstring): a tied "
    "row's repaired value depends on where it sits in X."
)


@parametrize_with_checks(
    [DisparateImpactRemover(sensitive_column=0)],
    expected_failed_checks=lambda est: {
        "check_methods_subset_invariance": _SPREAD,
        "check_methods_sample_order_invariance": _SPREAD,
    },
)
def test_sklearn_contract(estimator: Any, check: Any) -> None:
    check(estimator)


def test_metadata_routing_in_a_pipeline(rng: np.random.Generator) -> None:
    X, s = _data(rng, 600)
    y = (X[:, 0] + rng.normal(size=len(s)) > 1).astype(int)
    with sklearn.config_context(enable_metadata_routing=True):
        rem = (
            DisparateImpactRemover()
            .set_fit_request(sensitive_features=True)
            .set_transform_request(sensitive_features=True)
        )
        pipe = Pipeline([("repair", rem), ("clf", LogisticRegression())])
        pipe.fit(X, y, sensitive_features=s)
        pred = pipe.predict(X, sensitive_features=s)
    ref = LogisticRegression().fit(_repair(X, s), y)
    np.testing.assert_array_equal(pred, ref.predict(_repair(X, s)))


def test_default_output_is_an_array_and_pandas_keeps_the_index(rng: np.random.Generator) -> None:
    X, s = _data(rng, 50)
    frame = pd.DataFrame(X, columns=["p", "q", "r"], index=np.arange(100, 150))
    out = DisparateImpactRemover().fit_transform(frame, sensitive_features=s)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    pdo = DisparateImpactRemover().set_output(transform="pandas")
    res = pdo.fit_transform(frame, sensitive_features=s)
    assert list(res.index) == list(frame.index) and list(res.columns) == ["p", "q", "r"]
    np.testing.assert_allclose(res.to_numpy(), out)


# --------------------------------------------------------------------------- #
# bad inputs
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("level", [1.5, -0.1, "high", True, float("nan")])
def test_repair_level_outside_the_unit_interval(level: Any) -> None:
    X, s = _two_groups()
    msg = "The 'repair_level' parameter of DisparateImpactRemover must be a float in [0, 1]"
    with pytest.raises(InvalidParameterError, match=re.escape(msg)):
        DisparateImpactRemover(repair_level=level).fit(X, sensitive_features=s)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"mode": "linear"}, "'mode' parameter of DisparateImpactRemover must be one of"),
        ({"categorical": "drop"}, "'categorical' parameter"),
        ({"n_quantiles": 1}, "'n_quantiles' parameter of DisparateImpactRemover must be an int"),
        ({"random_state": -1}, "'random_state' parameter"),
        ({"categorical_features": ["nope"]}, "'categorical_features' parameter"),
    ],
)
def test_bad_parameters(params: dict[str, Any], fragment: str) -> None:
    X, s = _two_groups()
    with pytest.raises(InvalidParameterError, match=re.escape(fragment)):
        DisparateImpactRemover(**params).fit(X, sensitive_features=s)


def test_bad_data() -> None:
    X, s = _two_groups()
    rem = DisparateImpactRemover().fit(X, sensitive_features=s)
    with pytest.raises(DataValidationError, match="sensitive_features has 10 rows but X has 9"):
        rem.transform(X[:9], sensitive_features=s)
    with pytest.raises(DataValidationError, match=re.escape("group 'c' of the sensitive")):
        rem.transform(X[:2], sensitive_features=["a", "c"])
    with pytest.raises(ValueError, match="X has 2 features, but DisparateImpactRemover is"):
        rem.transform(np.c_[X, X], sensitive_features=s)
    with pytest.raises(DataValidationError, match="Input contains infinity"):
        rem.transform(np.array([[np.inf]]), sensitive_features=["a"])
    with pytest.raises(InvalidParameterError, match="no protected attribute"):
        rem.transform(X)
    words = np.array(["x"] * 10, dtype=object).reshape(-1, 1)
    with pytest.raises(DataValidationError, match="feature 'x0' was numeric in fit"):
        rem.transform(words, sensitive_features=s)
    frame = pd.DataFrame({"x": [1.0, np.inf]})
    with pytest.raises(DataValidationError, match="feature 'x' has 1 infinite value"):
        DisparateImpactRemover().fit(frame, sensitive_features=["a", "b"])
    gap = np.array([[1.0], [np.nan], [2.0], [np.nan]])
    with pytest.raises(InsufficientDataError, match="group 'b' has no non-missing value"):
        DisparateImpactRemover().fit(gap, sensitive_features=["a", "b", "a", "b"])

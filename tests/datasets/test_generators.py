from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from seawall.datasets import make_health, make_lending
from seawall.exceptions import InvalidParameterError

MakeFrame = Callable[..., pd.DataFrame]

LENDING_COLUMNS = {
    "income_group": "str",
    "region": "str",
    "credit_score": "int64",
    "debt_to_income": "float64",
    "loan_amount": "float64",
    "years_employed": "float64",
    "distance_km": "float64",
    "repaid": "int64",
}
HEALTH_COLUMNS = {
    "age_group": "str",
    "age": "int64",
    "sex": "str",
    "smoker": "int64",
    "bmi": "float64",
    "systolic_bp": "int64",
    "glucose": "int64",
    "cholesterol": "int64",
    "readmitted": "int64",
}
GENERATORS = [
    pytest.param(make_lending, LENDING_COLUMNS, id="lending"),
    pytest.param(make_health, HEALTH_COLUMNS, id="health"),
]
SEEDS = (0, 1, 2)


@pytest.mark.parametrize(("make", "columns"), GENERATORS)
def test_columns_and_dtypes(make: MakeFrame, columns: dict[str, str]) -> None:
    df = make(500, random_state=3)
    assert isinstance(df, pd.DataFrame)
    assert df.shape == (500, len(columns))
    assert list(df.columns) == list(columns)
    assert isinstance(df.index, pd.RangeIndex)
    for name, kind in columns.items():
        col = df[name]
        if kind == "str":
            assert not isinstance(col.dtype, pd.CategoricalDtype), name
            assert pd.api.types.is_string_dtype(col.dtype), name
            assert all(isinstance(v, str) for v in col), name
        else:
            assert col.dtype == np.dtype(kind), name
    assert not df.isna().to_numpy().any()


@pytest.mark.parametrize(("make", "columns"), GENERATORS)
def test_same_seed_same_data(make: MakeFrame, columns: dict[str, str]) -> None:
    pd.testing.assert_frame_equal(make(1_000, random_state=7), make(1_000, random_state=7))


@pytest.mark.parametrize(("make", "columns"), GENERATORS)
def test_other_seed_other_data(make: MakeFrame, columns: dict[str, str]) -> None:
    a, b = make(1_000, random_state=7), make(1_000, random_state=8)
    numeric = [c for c, kind in columns.items() if kind == "float64"]
    assert not np.array_equal(a[numeric].to_numpy(), b[numeric].to_numpy())


@pytest.mark.parametrize(("make", "columns"), GENERATORS)
def test_default_size(make: MakeFrame, columns: dict[str, str]) -> None:
    assert make().shape == (20_000, len(columns))
    pd.testing.assert_frame_equal(make(), make(20_000, random_state=0))


@pytest.mark.parametrize(("make", "columns"), GENERATORS)
def test_numpy_integers_are_accepted(make: MakeFrame, columns: dict[str, str]) -> None:
    pd.testing.assert_frame_equal(
        make(np.int64(200), random_state=np.uint8(4)), make(200, random_state=4)
    )


@pytest.mark.parametrize(("make", "columns"), GENERATORS)
@pytest.mark.parametrize("n_samples", [99, 0, -5, 1000.0, 1e4, "100", None, True])
def test_bad_n_samples(make: MakeFrame, columns: dict[str, str], n_samples: object) -> None:
    msg = f"The 'n_samples' parameter of {make.__name__} must be an int in [100, inf"
    with pytest.raises(InvalidParameterError, match=re.escape(msg)):
        make(n_samples)


@pytest.mark.parametrize(("make", "columns"), GENERATORS)
@pytest.mark.parametrize("random_state", [-1, 1.5, None, "0", np.random.default_rng(0)])
def test_bad_random_state(make: MakeFrame, columns: dict[str, str], random_state: object) -> None:
    msg = f"The 'random_state' parameter of {make.__name__} must be an int in [0, inf"
    with pytest.raises(InvalidParameterError, match=re.escape(msg)):
        make(200, random_state=random_state)


def test_bad_parameter_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=re.escape("Got 10 instead.")):
        make_lending(10)


def test_lending_group_shares_and_proxy() -> None:
    df = make_lending(50_000, random_state=0)
    low = (df["income_group"] == "low").to_numpy()
    assert 0.33 < low.mean() < 0.37
    assert set(df["region"]) == {"north", "south", "east", "west"}
    # The proxy: low-income applicants live much farther away.
    distance = df["distance_km"].to_numpy()
    assert np.median(distance[low]) > 2 * np.median(distance[~low])
    assert df["repaid"].isin([0, 1]).all()
    assert df["credit_score"].between(300, 850).all()
    assert df["debt_to_income"].between(0, 1, inclusive="neither").all()
    assert (df["distance_km"] > 0).all()
    assert (df["loan_amount"] >= 1_000).all()


def _selection_ratio(df: pd.DataFrame, features: list[str]) -> float:
    """Fit on the first 70% of rows; the low/high selection-rate ratio on the rest."""
    n_train = int(0.7 * len(df))
    train, test = df.iloc[:n_train], df.iloc[n_train:]
    model = make_pipeline(StandardScaler(), LogisticRegression())
    model.fit(train[features], train["repaid"])
    selected = model.predict(test[features])
    low = (test["income_group"] == "low").to_numpy()
    return float(selected[low].mean() / selected[~low].mean())


@pytest.mark.parametrize("seed", SEEDS)
def test_lending_story_holds(seed: int) -> None:
    df = make_lending(20_000, random_state=seed)
    legitimate = ["credit_score", "debt_to_income", "loan_amount", "years_employed"]
    # With the proxy, the model fails the four-fifths rule without seeing income_group.
    with_proxy = _selection_ratio(df, [*legitimate, "distance_km"])
    assert 0.45 < with_proxy < 0.75
    # Without it the gap mostly closes: the proxy, not the legitimate features, drives it.
    without_proxy = _selection_ratio(df, legitimate)
    assert without_proxy > 0.8
    assert without_proxy - with_proxy > 0.15


def test_health_group_shares() -> None:
    df = make_health(50_000, random_state=0)
    shares = df["age_group"].value_counts(normalize=True)
    assert 0.05 < shares["65+"] < 0.08
    assert set(df["sex"]) == {"female", "male"}
    bounds = {"18-39": (18, 39), "40-64": (40, 64), "65+": (65, 99)}
    for group, (lo, hi) in bounds.items():
        assert df.loc[df["age_group"] == group, "age"].between(lo, hi).all()
    assert df["readmitted"].isin([0, 1]).all()
    assert df["smoker"].isin([0, 1]).all()


def _error_rates(df: pd.DataFrame, model: Any, features: list[str]) -> pd.Series:
    """Fit on the first 70% of rows; each age group's error rate on the rest."""
    X = df[features].assign(sex=(df["sex"] == "male").astype(np.int64))
    n_train = int(0.7 * len(df))
    model.fit(X.iloc[:n_train], df["readmitted"].iloc[:n_train])
    test = df.iloc[n_train:]
    wrong = model.predict(X.iloc[n_train:]) != test["readmitted"].to_numpy()
    return pd.Series(wrong).groupby(test["age_group"].to_numpy()).mean()


CLINICAL = ["sex", "smoker", "bmi", "systolic_bp", "glucose", "cholesterol"]


@pytest.mark.parametrize("seed", SEEDS)
def test_health_story_holds(seed: int) -> None:
    df = make_health(20_000, random_state=seed)
    linear = _error_rates(df, make_pipeline(StandardScaler(), LogisticRegression()), CLINICAL)
    assert linear["65+"] >= 1.3 * linear["18-39"]
    assert linear["65+"] > linear["40-64"]
    # A flexible model that also sees age recovers only part of the seniors' pattern.
    # One OpenMP thread: with more threads than free cores (a busy CI runner), the
    # fit slows down by orders of magnitude.
    with threadpool_limits(limits=1, user_api="openmp"):
        boosted = _error_rates(
            df, HistGradientBoostingClassifier(random_state=0), [*CLINICAL, "age"]
        )
    assert boosted["65+"] >= 1.3 * boosted["18-39"]

"""group_metrics gives the same result whatever container the data comes in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from _forms import (
    COLUMN_FORMS,
    TABLE_FORMS,
    to_pandas_categorical,
    to_pandas_frame,
    to_pandas_nullable,
)
from seawall.metrics import GroupMetrics, group_metrics

N = 240
KW: dict[str, Any] = {"min_group_size": 10, "n_bootstrap": 30, "random_state": 3}


@pytest.fixture
def data(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "y_true": rng.integers(0, 2, N),
        "y_pred": rng.integers(0, 2, N),
        "y_score": rng.random(N),
        "sample_weight": rng.uniform(0.5, 2.0, N),
        "sex": rng.choice(np.array(["F", "M"]), N),
        "race": rng.choice(np.array(["Asian", "Black", "White"]), N, p=[0.2, 0.3, 0.5]),
    }


def _run(d: dict[str, Any], sensitive: object, **extra: object) -> dict[str, Any]:
    res = group_metrics(
        d["y_true"],
        d["y_pred"],
        sensitive_features=sensitive,
        y_score=d["y_score"],
        sample_weight=d["sample_weight"],
        **{**KW, **extra},
    )
    assert isinstance(res, GroupMetrics)
    return res.to_dict()


@pytest.mark.parametrize("form", sorted(COLUMN_FORMS))
def test_every_column_form_gives_the_same_tables(data: dict[str, np.ndarray], form: str) -> None:
    convert = COLUMN_FORMS[form]
    expected = _run(data, data["race"])
    converted = {k: convert(v) for k, v in data.items()}
    assert _run(converted, converted["race"]) == expected


@pytest.mark.parametrize("form", sorted(TABLE_FORMS))
def test_every_table_form_gives_the_same_tables(data: dict[str, np.ndarray], form: str) -> None:
    table = {"sex": data["sex"], "race": data["race"]}
    expected = _run(data, table)
    got = _run(data, TABLE_FORMS[form](table))
    assert got == expected
    assert got["features"] == ["sex", "race"]
    assert {r["grouping"] for r in got["groups"]} == {"sex", "race", "sex×race"}


def test_pandas_categorical_and_nullable_dtypes(data: dict[str, np.ndarray]) -> None:
    expected = _run(data, data["race"])
    nullable = {
        "y_true": to_pandas_nullable(data["y_true"]),  # Int64
        "y_pred": to_pandas_nullable(data["y_pred"].astype(bool)),  # boolean
        "y_score": to_pandas_nullable(data["y_score"]),  # Float64
        "sample_weight": to_pandas_nullable(data["sample_weight"]),
    }
    assert _run(nullable, to_pandas_categorical(data["race"])) == expected
    assert _run(nullable, to_pandas_nullable(data["race"])) == expected  # string dtype
    assert _run(nullable, pd.Series(data["race"], dtype="string[pyarrow]")) == expected


def test_categorical_column_inside_a_dataframe(data: dict[str, np.ndarray]) -> None:
    table = {"sex": data["sex"], "race": data["race"]}
    expected = _run(data, table)
    frame = to_pandas_frame(table).astype({"sex": "category", "race": "category"})
    assert _run(data, frame) == expected
    polars_cat = pl.DataFrame({k: pl.Series(k, v, dtype=pl.Categorical) for k, v in table.items()})
    assert _run(data, polars_cat) == expected


def test_unused_categories_are_not_groups(data: dict[str, np.ndarray]) -> None:
    expected = _run(data, data["race"])
    cats = ["Asian", "Black", "Martian", "White"]  # sorted, one never observed
    sensitive = pd.Series(pd.Categorical(data["race"], categories=cats))
    assert _run(data, sensitive) == expected


def test_category_order_changes_row_order_only(data: dict[str, np.ndarray]) -> None:
    # Categories in a user-chosen order keep that order in the tables; the numbers
    # of every (group, metric) are the same as with sorted labels.
    sorted_res = _run(data, data["race"], reference="White")
    cats = ["White", "Black", "Asian"]
    custom = _run(data, pd.Categorical(data["race"], categories=cats), reference="White")
    for table, key in (
        ("groups", ("grouping", "group")),
        ("metrics", ("grouping", "group", "metric")),
        ("disparities", ("grouping", "group", "name")),
        ("summary", ("grouping", "name")),
    ):
        a = {tuple(r[k] for k in key): r for r in sorted_res[table]}
        b = {tuple(r[k] for k in key): r for r in custom[table]}
        assert a == b, table


@pytest.mark.parametrize(
    "convert",
    [
        lambda a: pa.array(a).dictionary_encode(),
        lambda a: pa.chunked_array([a[:100], a[100:]]),
        lambda a: pl.Series(a, dtype=pl.Categorical),
        lambda a: pl.Series(a, dtype=pl.Enum(["Asian", "Black", "White"])),
        lambda a: pd.Index(a),
        lambda a: tuple(a.tolist()),
        lambda a: a.astype(object),
        lambda a: a[:, None],  # a one-column 2-D array
    ],
    ids=[
        "arrow-dict",
        "arrow-chunked",
        "polars-cat",
        "polars-enum",
        "index",
        "tuple",
        "object",
        "2d-column",
    ],
)
def test_more_sensitive_forms(data: dict[str, np.ndarray], convert: Callable[..., object]) -> None:
    expected = _run(data, data["race"])
    got = _run(data, convert(data["race"]))
    # A 2-D column is a table with one unnamed column; only its name differs.
    if got["features"] != expected["features"]:
        assert got["features"] == ["sensitive_features0"]
        return
    assert got == expected


@pytest.mark.parametrize(
    "convert",
    [
        lambda a: a.astype(bool),
        lambda a: a.astype(np.float64),
        lambda a: a.astype(np.int8),
        lambda a: a.astype(np.uint8),
        lambda a: pa.array(a.astype(bool)),
        lambda a: pl.Series(a.astype(bool)),
        lambda a: pd.Series(a.astype(bool)),
        lambda a: a.astype(str).astype(object),  # "0" / "1"
        lambda a: a[:, None],
    ],
    ids=["bool", "float", "int8", "uint8", "arrow-bool", "polars-bool", "pandas-bool", "str", "2d"],
)
def test_label_dtypes(data: dict[str, np.ndarray], convert: Callable[..., object]) -> None:
    expected = _run(data, data["race"])
    converted = {**data, "y_true": convert(data["y_true"]), "y_pred": convert(data["y_pred"])}
    assert _run(converted, data["race"]) == expected


def test_mixed_forms_in_one_call(data: dict[str, np.ndarray]) -> None:
    expected = _run(data, {"sex": data["sex"], "race": data["race"]})
    mixed = {
        "y_true": data["y_true"].tolist(),
        "y_pred": pl.Series(data["y_pred"]),
        "y_score": pa.array(data["y_score"]),
        "sample_weight": pd.Series(data["sample_weight"], index=np.arange(N)[::-1]),
    }
    sensitive = pa.table({"sex": data["sex"], "race": data["race"]})
    assert _run(mixed, sensitive) == expected


def test_series_names_become_feature_names(data: dict[str, np.ndarray]) -> None:
    res = group_metrics(
        data["y_true"],
        data["y_pred"],
        sensitive_features=pd.Series(data["race"], name="race"),
        min_group_size=10,
        n_bootstrap=0,
    )
    assert res.features == ("race",)
    res = group_metrics(
        data["y_true"],
        data["y_pred"],
        sensitive_features=pl.Series("ethnicity", data["race"]),
        min_group_size=10,
        n_bootstrap=0,
    )
    assert res.features == ("ethnicity",)
    res = group_metrics(
        data["y_true"],
        data["y_pred"],
        sensitive_features=np.stack([data["sex"], data["race"]], axis=1),
        min_group_size=10,
        n_bootstrap=0,
    )
    assert res.features == ("sensitive_features0", "sensitive_features1")


def test_inputs_are_not_mutated(data: dict[str, np.ndarray]) -> None:
    copies = {k: v.copy() for k, v in data.items()}
    frame = pd.DataFrame({"sex": data["sex"], "race": data["race"]})
    frame_copy = frame.copy()
    _run(data, frame)
    for k, v in data.items():
        np.testing.assert_array_equal(v, copies[k])
    pd.testing.assert_frame_equal(frame, frame_copy)


def test_result_types_do_not_depend_on_the_form(data: dict[str, np.ndarray]) -> None:
    for form in COLUMN_FORMS.values():
        res = group_metrics(
            form(data["y_true"]),
            form(data["y_pred"]),
            sensitive_features=form(data["sex"]),
            min_group_size=10,
            n_bootstrap=0,
        )
        for table in (res.groups, res.metrics, res.disparities, res.summary):
            for name, col in table.columns().items():
                if isinstance(col, np.ndarray):
                    assert col.dtype == np.float64, name
                    assert not col.flags.writeable, name
                else:
                    assert isinstance(col, tuple), name
                    assert all(isinstance(v, str | bool) for v in col), name

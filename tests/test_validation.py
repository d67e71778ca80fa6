"""Every check of user input in seawall._validation, and its message."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from _forms import COLUMN_FORMS, TABLE_FORMS
from seawall._groups import GroupColumn, to_group_columns
from seawall._validation import (
    check_choice,
    check_lengths,
    check_real,
    check_seed,
    param_error,
    to_1d,
    to_binary,
    to_float,
    to_weights,
)
from seawall.exceptions import (
    DataValidationError,
    InsufficientDataError,
    InvalidParameterError,
    SeawallError,
)

# --------------------------------------------------------------------------- #
# the exception tree
# --------------------------------------------------------------------------- #


def test_exception_tree() -> None:
    assert issubclass(InvalidParameterError, SeawallError)
    assert issubclass(InvalidParameterError, ValueError)
    assert issubclass(InvalidParameterError, TypeError)
    assert issubclass(DataValidationError, ValueError)
    assert issubclass(InsufficientDataError, DataValidationError)


# --------------------------------------------------------------------------- #
# parameters
# --------------------------------------------------------------------------- #


def test_param_error_message() -> None:
    err = param_error("window", "EWMADetector", "an int in [2, inf)", 1)
    assert isinstance(err, InvalidParameterError)
    assert str(err) == (
        "The 'window' parameter of EWMADetector must be an int in [2, inf). Got 1 instead."
    )


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (0.5, {"low": 0, "high": 1, "low_open": True, "high_open": True}, 0.5),
        (0, {"low": 0}, 0.0),
        (1, {"high": 1}, 1.0),
        (np.float32(0.25), {}, 0.25),
        (3, {"low": 0, "integer": True}, 3),
        (np.int64(7), {"low": 0, "integer": True}, 7),
        (-1e300, {}, -1e300),
    ],
)
def test_check_real_accepts(value: object, kwargs: dict[str, object], expected: float) -> None:
    got = check_real(value, "p", "f", **kwargs)  # type: ignore[arg-type]
    assert got == expected
    assert type(got) is (int if kwargs.get("integer") else float)


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (0, {"low": 0, "high": 1, "low_open": True, "high_open": True}, "a float in (0, 1)"),
        (1, {"low": 0, "high": 1, "low_open": True, "high_open": True}, "a float in (0, 1)"),
        (1.5, {"low": 0, "high": 1}, "a float in [0, 1]"),
        (-0.1, {"low": 0}, "a float in [0, inf)"),
        (2, {"high": 1}, "a float in (-inf, 1]"),
        (float("nan"), {}, "a float in (-inf, inf)"),
        ("0.5", {}, "a float in (-inf, inf)"),
        (None, {}, "a float in (-inf, inf)"),
        (True, {}, "a float in (-inf, inf)"),
        (1.5, {"low": 0, "integer": True}, "an int in [0, inf)"),
        (2.0, {"low": 0, "integer": True}, "an int in [0, inf)"),
        (-1, {"low": 0, "integer": True}, "an int in [0, inf)"),
        (1, {"low": 2, "integer": True, "high_open": True}, "an int in [2, inf)"),
        (False, {"low": 0, "integer": True}, "an int in [0, inf)"),
    ],
)
def test_check_real_rejects(value: object, kwargs: dict[str, object], expected: str) -> None:
    message = f"The 'p' parameter of f must be {expected}. Got {value!r} instead."
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        check_real(value, "p", "f", **kwargs)  # type: ignore[arg-type]


def test_check_choice() -> None:
    assert check_choice("bh", "correction", "g", ("holm", "bh")) == "bh"
    for bad in ("Holm", None, 1, ["holm"]):
        with pytest.raises(
            InvalidParameterError,
            match=re.escape(
                f"The 'correction' parameter of g must be one of 'holm', 'bh'. Got {bad!r}"
            ),
        ):
            check_choice(bad, "correction", "g", ("holm", "bh"))


def test_check_seed() -> None:
    assert check_seed(0, "random_state", "g") == 0
    assert check_seed(np.int32(5), "random_state", "g") == 5
    for bad in (None, -1, 1.0, "1", True, np.random.default_rng(0)):
        with pytest.raises(
            InvalidParameterError,
            match=re.escape("The 'random_state' parameter of g must be an int in [0, inf)."),
        ):
            check_seed(bad, "random_state", "g")


# --------------------------------------------------------------------------- #
# one-dimensional arrays
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("form", sorted(COLUMN_FORMS))
def test_to_1d_every_form(form: str) -> None:
    values = np.array([3, 1, 2])
    np.testing.assert_array_equal(to_1d(COLUMN_FORMS[form](values), "x"), values)


def test_to_1d_other_forms() -> None:
    np.testing.assert_array_equal(to_1d(pd.Index([1, 2]), "x"), [1, 2])
    np.testing.assert_array_equal(to_1d(pd.Categorical(["b", "a"]), "x"), ["b", "a"])
    np.testing.assert_array_equal(to_1d(pa.chunked_array([[1], [2, 3]]), "x"), [1, 2, 3])
    np.testing.assert_array_equal(
        to_1d(pa.array(["a", "b", "a"]).dictionary_encode(), "x"), ["a", "b", "a"]
    )
    np.testing.assert_array_equal(to_1d(np.array([[1], [2]]), "x"), [1, 2])
    np.testing.assert_array_equal(to_1d(np.array([[1, 2]]), "x"), [1, 2])
    np.testing.assert_array_equal(to_1d(iter([1, 0]), "x"), [1, 0])
    # Missing values survive as NaN/None.
    out = to_1d(pd.Series([1, None], dtype="Int64"), "x")
    assert out.dtype == np.float64 and math.isnan(out[1])


@pytest.mark.parametrize("scalar", [1, 0.5, "abc", b"ab", None])
def test_to_1d_rejects_scalars(scalar: object) -> None:
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            f"y_true must be a one-dimensional array-like (list, ndarray, Series, "
            f"Arrow array); got a scalar {type(scalar).__name__} {scalar!r}."
        ),
    ):
        to_1d(scalar, "y_true")


def test_to_1d_rejects_two_dimensional() -> None:
    with pytest.raises(
        DataValidationError,
        match=re.escape("y_pred must be one-dimensional; got an array of shape (3, 2)."),
    ):
        to_1d(np.zeros((3, 2)), "y_pred")
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            "y_pred must be one-dimensional (a column), but a pyarrow table with "
            "2 columns was given; pass one column, e.g. table['y_pred']."
        ),
    ):
        to_1d(pa.table({"a": [1], "b": [2]}), "y_pred")


# --------------------------------------------------------------------------- #
# binary labels
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "values",
    [
        [True, False, True],
        [1, 0, 1],
        [1.0, 0.0, 1.0],
        np.array([1, 0, 1], dtype=np.int8),
        np.array([1, 0, 1], dtype=np.uint64),
        np.array(["1", "0", "1"], dtype=object),
        pd.Series([1, 0, 1], dtype="Int64"),
        pd.Series([True, False, True], dtype="boolean"),
        pl.Series([True, False, True]),
        pa.array([1, 0, 1], type=pa.int16()),
    ],
    ids=lambda v: type(v).__name__ + str(getattr(v, "dtype", "")),
)
def test_to_binary_accepts(values: object) -> None:
    out = to_binary(values, "y_true")
    assert out.dtype == np.int8
    assert out.tolist() == [1, 0, 1]


@pytest.mark.parametrize(
    ("values", "shown"),
    [
        ([0, 1, 2], "{0, 1, 2}"),
        ([-1, 1, -1], "{-1, 1}"),
        (np.array([0, 2], dtype=np.int8), "{0, 2}"),
        (np.array([0, 255], dtype=np.uint8), "{0, 255}"),
        ([0.0, 0.5, 1.0], "{0.0, 0.5, 1.0}"),
        (["yes", "no", "yes"], "{'yes', 'no'}"),
        (list(range(8)), "{0, 1, 2, 3, 4 and 3 more}"),
        (pd.Series(["a", "b"], dtype="category"), "{'a', 'b'}"),
    ],
)
def test_to_binary_lists_the_values_found(values: object, shown: str) -> None:
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            f"y_true must hold binary values 0/1 (or True/False); got the values "
            f"{shown}. Map the positive class to 1 and the other to 0 first."
        ),
    ):
        to_binary(values, "y_true")


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ([0.0, 1.0, np.nan, np.nan], "y_pred has 2 missing value(s) (NaN), the first at row 2;"),
        ([0, 1, None], "y_pred has 1 missing value(s), the first at row 2;"),
        (pd.Series([1, None, 0], dtype="Int64"), "the first at row 1;"),
        (pd.Series([True, None, False], dtype="boolean"), "the first at row 1;"),
        (pl.Series([1, 0, 1, None]), "the first at row 3;"),
        (pa.array([None, 1, 0]), "the first at row 0;"),
    ],
)
def test_to_binary_names_the_first_missing_row(values: object, fragment: str) -> None:
    with pytest.raises(DataValidationError, match=re.escape(fragment)):
        to_binary(values, "y_pred")


# --------------------------------------------------------------------------- #
# floats and weights
# --------------------------------------------------------------------------- #


def test_to_float() -> None:
    out = to_float([1, 0.5, True], "y_score")
    assert out.dtype == np.float64 and out.tolist() == [1.0, 0.5, 1.0]
    assert np.isnan(to_float([0.1, np.nan], "y_score", allow_nan=True)[1])
    with pytest.raises(
        DataValidationError, match=re.escape("y_score must be numeric; got the values {'a', 'b'}")
    ):
        to_float(["a", "b", "a"], "y_score")
    with pytest.raises(
        DataValidationError,
        match=re.escape("y_score has 2 missing value(s) (NaN), the first at row 1; drop or fill"),
    ):
        to_float([0.1, np.nan, np.nan], "y_score")
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            "y_score has 1 infinite value(s), the first at row 2; values must be finite."
        ),
    ):
        to_float([0.1, 0.2, -np.inf], "y_score", allow_nan=True)


def test_to_weights() -> None:
    assert to_weights(None, 5) is None
    np.testing.assert_array_equal(to_weights(pd.Series([1, 2]), 2), [1.0, 2.0])
    np.testing.assert_array_equal(to_weights([0, 1], 2), [0.0, 1.0])
    with pytest.raises(
        DataValidationError,
        match=re.escape("sample_weight must be non-negative; 2 value(s) are negative"),
    ):
        to_weights([1.0, -1.0, -2.0], 3)
    with pytest.raises(DataValidationError, match=re.escape("at row 1.")):
        to_weights([1.0, -1.0, -2.0], 3)
    with pytest.raises(
        DataValidationError,
        match=re.escape("sample_weight sums to zero; at least one row needs a positive weight."),
    ):
        to_weights([0.0, 0.0], 2)
    with pytest.raises(
        DataValidationError,
        match=re.escape("y_true has 3 rows but sample_weight has 2; they must align"),
    ):
        to_weights([1.0, 1.0], 3)
    with pytest.raises(
        DataValidationError, match=re.escape("sample_weight has 1 missing value(s) (NaN)")
    ):
        to_weights([1.0, np.nan], 2)
    with pytest.raises(DataValidationError, match=re.escape("w has 1 infinite value(s)")):
        to_weights([1.0, np.inf], 2, name="w")


def test_check_lengths() -> None:
    assert check_lengths({"y_true": 3, "y_pred": 3, "y_score": 3}) == 3
    with pytest.raises(
        DataValidationError,
        match=re.escape("y_score has 2 rows but y_true has 3; they must align row for row."),
    ):
        check_lengths({"y_true": 3, "y_pred": 3, "y_score": 2})


# --------------------------------------------------------------------------- #
# sensitive features
# --------------------------------------------------------------------------- #


def _decoded(col: GroupColumn) -> list[str]:
    return [col.labels[c] for c in col.codes]


def test_group_codes_are_dense_and_decode_to_the_values() -> None:
    (col,) = to_group_columns(["b", "a", "c", "a"], 4)
    assert col.name == "sensitive_features"
    assert col.labels == ("a", "b", "c")  # sorted
    assert col.codes.dtype == np.intp
    assert _decoded(col) == ["b", "a", "c", "a"]


@pytest.mark.parametrize(
    ("values", "labels", "decoded"),
    [
        # dense small-range path (a bincount) ...
        ([5, -3, 5, 10], ("-3", "5", "10"), ["5", "-3", "5", "10"]),
        # ... and the hashed path for a wide range give the same kind of labels
        ([5, -3, 5, 10**9], ("-3", "5", "1000000000"), ["5", "-3", "5", "1000000000"]),
        ([True, False, True], ("False", "True"), ["True", "False", "True"]),
        ([1.0, 2.0, 1.0], ("1", "2"), ["1", "2", "1"]),  # whole floats read as ints
        ([2.5, 1.5], ("1.5", "2.5"), ["2.5", "1.5"]),
    ],
)
def test_group_labels_of_numbers(
    values: list[object], labels: tuple[str, ...], decoded: list[str]
) -> None:
    (col,) = to_group_columns(np.array(values), len(values))
    assert col.labels == labels
    assert _decoded(col) == decoded


@pytest.mark.parametrize(
    "values",
    [
        ["a", None, "b"],
        ["a", np.nan, "b"],
        pd.Series(["a", None, "b"], dtype="category"),
        pd.Series(["a", None, "b"], dtype="string"),
        pl.Series(["a", None, "b"]),
        pa.array(["a", None, "b"]),
    ],
    ids=["list-none", "list-nan", "pandas-cat", "pandas-string", "polars", "arrow"],
)
def test_missing_values_form_their_own_group(values: object) -> None:
    (col,) = to_group_columns(values, 3)
    assert col.labels == ("a", "b", "<missing>")
    assert _decoded(col) == ["a", "<missing>", "b"]


@pytest.mark.parametrize("form", sorted(TABLE_FORMS))
def test_tables_split_into_named_columns(form: str) -> None:
    table = {"sex": np.array(["F", "M", "F"]), "age": np.array([30, 40, 30])}
    cols = to_group_columns(TABLE_FORMS[form](table), 3)
    assert [c.name for c in cols] == ["sex", "age"]
    assert [c.labels for c in cols] == [("F", "M"), ("30", "40")]


def test_two_dimensional_array_columns_are_numbered() -> None:
    cols = to_group_columns(np.array([["a", "x"], ["b", "y"]]), 2)
    assert [c.name for c in cols] == ["sensitive_features0", "sensitive_features1"]


def test_no_columns() -> None:
    with pytest.raises(
        DataValidationError,
        match=re.escape("sensitive_features has no columns; pass at least one sensitive feature."),
    ):
        to_group_columns({}, 3)


def test_misaligned_column_is_named() -> None:
    with pytest.raises(
        DataValidationError,
        match=re.escape("sensitive_features['race'] has 2 rows but y_true has 3; they must align"),
    ):
        to_group_columns({"sex": ["F", "M", "F"], "race": ["a", "b"]}, 3)


def test_duplicate_column_names_after_conversion_to_text() -> None:
    with pytest.raises(
        DataValidationError,
        match=re.escape("sensitive_features has two columns named '1'; rename one."),
    ):
        to_group_columns({1: ["a", "b"], "1": ["c", "d"]}, 2)


def test_duplicate_dataframe_columns() -> None:
    # A DataFrame may hold two columns of the same name; the message must say so
    # rather than report a length mismatch of the selected sub-frame.
    frame = pd.DataFrame([["F", "a"], ["M", "b"], ["F", "a"]], columns=["sex", "sex"])
    with pytest.raises(
        DataValidationError,
        match=re.escape("sensitive_features has two columns named 'sex'; rename one."),
    ):
        to_group_columns(frame, 3)

"""Label lists (CSV cells joined by '|', Parquet list columns) as a sparse item-by-label matrix."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seawall.cli._label_lists import label_matrix
from seawall.exceptions import DataValidationError


def _dense(values: pd.Series) -> tuple[list[list[int]], tuple[str, ...]]:
    m, names = label_matrix(values, "tags")
    assert m.format == "csr" and m.dtype == bool
    return m.toarray().astype(int).tolist(), names


def test_csv_cells() -> None:
    rows, names = _dense(pd.Series(["cat|dog", "", None, " dog | dog |", "bird"], dtype="str"))
    assert names == ("bird", "cat", "dog")
    assert rows == [[0, 1, 1], [0, 0, 0], [0, 0, 0], [0, 0, 1], [1, 0, 0]]


def test_parquet_list_column_round_trip(tmp_path: Path) -> None:
    frame = pd.DataFrame({"tags": [["b", "a"], [], None, ["a", "a"], ["c"]]})
    frame.to_parquet(tmp_path / "t.parquet")
    values = pd.read_parquet(tmp_path / "t.parquet")["tags"]
    assert isinstance(values.iloc[0], np.ndarray)
    rows, names = _dense(values)
    assert names == ("a", "b", "c")
    assert rows == [[1, 1, 0], [0, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 1]]


def test_integer_labels_in_lists_are_text() -> None:
    rows, names = _dense(pd.Series([[3, 10], [10]], dtype=object))
    assert names == ("10", "3")
    assert rows == [[1, 1], [1, 0]]


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        (pd.Series([1, 2, 3]), "it holds int64 values"),
        (pd.Series([0.5, np.nan]), "it holds float64 values"),
        (pd.Series([True, False]), "it holds bool values"),
        (pd.Series(pd.to_datetime(["2024-01-01"])), "values"),
        (pd.Series(["a", {"x": 1}], dtype=object), "a dict value {'x': 1} (row 1)"),
        (pd.Series([["a", ["b"]]], dtype=object), "entry ['b'] is not a label (row 0)"),
        (pd.Series([[1.5]], dtype=object), "entry 1.5 is not a label"),
    ],
)
def test_not_a_list_of_labels(values: pd.Series, fragment: str) -> None:
    with pytest.raises(DataValidationError, match="must hold a list of labels") as info:
        label_matrix(values, "tags")
    assert fragment in str(info.value)


def test_no_labels_at_all() -> None:
    with pytest.raises(DataValidationError, match=re.escape("'tags' has no labels at all")):
        label_matrix(pd.Series(["", None, "|"], dtype=object), "tags")

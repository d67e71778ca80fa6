"""The search/confirm split by a seeded hash of a row key: order-free, sized, optional."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from seawall.associations import find_associations, profile_errors
from seawall.associations._split import held_out_by_key, key_uniforms
from seawall.datasets import make_slices
from seawall.exceptions import DataValidationError

CONTEXT = ["f1", "f3", "f4", "f5", "f6", "f8", "age"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    data = make_slices(20_000, random_state=2).frame
    return data.assign(row_id=np.arange(len(data)) * 7 + 3)


def _frames(a: object, b: object) -> None:
    for table in ("findings", "explained", "hypotheses"):
        pd.testing.assert_frame_equal(
            getattr(a, table).to_frame(), getattr(b, table).to_frame(), check_exact=True
        )


def test_the_split_does_not_depend_on_the_row_order(frame: pd.DataFrame) -> None:
    shuffled = frame.sample(frac=1.0, random_state=5).reset_index(drop=True)
    runs = [
        profile_errors(
            f["y_true"],
            f["y_pred"],
            context=f[CONTEXT],
            sensitive_features=f["group"],
            max_depth=2,
            split_key=f["row_id"],
        )
        for f in (frame, shuffled)
    ]
    _frames(*runs)
    assert runs[0].n_confirm_rows == runs[1].n_confirm_rows
    assert runs[0].parameters["split"] == "key"
    found = set(runs[0].findings.context)
    assert {"f1 = b and f4 = b", "f3 = e"} <= found


def test_the_held_out_share_is_close_to_test_size() -> None:
    keys = np.arange(200_000)
    for size in (0.2, 0.5):
        share = held_out_by_key(keys, size, 0, n=keys.size).mean()
        assert abs(share - size) < 0.005
    # Another seed, another split of the same keys.
    a = held_out_by_key(keys, 0.5, 0, n=keys.size)
    b = held_out_by_key(keys, 0.5, 1, n=keys.size)
    assert 0.45 < (a != b).mean() < 0.55


def test_a_key_hashes_the_same_whatever_its_type() -> None:
    ints = key_uniforms(np.array([1, 2, 3], dtype=np.int32), 7)
    floats = key_uniforms(np.array([1.0, 2.0, 3.0]), 7)
    np.testing.assert_array_equal(ints, floats)
    text = key_uniforms(pd.Series(["a", "b", "a"]), 7)
    assert text[0] == text[2] != text[1]
    with_missing = key_uniforms(np.array([1.0, np.nan, 2.5]), 7)
    assert with_missing[0] == ints[0] and np.isfinite(with_missing).all()
    u = key_uniforms(np.arange(10_000), 3)
    assert ((u >= 0) & (u < 1)).all()


def test_rows_sharing_a_key_share_a_split(frame: pd.DataFrame) -> None:
    customer = np.arange(len(frame)) // 4
    held = held_out_by_key(customer, 0.5, 0, n=len(frame))
    assert (held.reshape(-1, 4) == held.reshape(-1, 4)[:, :1]).all()


def test_the_default_split_is_unchanged(frame: pd.DataFrame) -> None:
    res = find_associations(
        frame["y_pred"],
        sensitive_features=frame["group"],
        context=frame[CONTEXT],
        max_depth=1,
        test_size=0.3,
    )
    assert res.n_confirm_rows == round(len(frame) * 0.3)
    assert "split" not in res.parameters
    keyed = find_associations(
        frame["y_pred"],
        sensitive_features=frame["group"],
        context=frame[CONTEXT],
        max_depth=1,
        test_size=0.3,
        split_key=frame["row_id"],
    )
    assert keyed.n_confirm_rows != res.n_confirm_rows
    assert abs(keyed.n_confirm_rows / len(frame) - 0.3) < 0.02


def test_a_misaligned_key_is_refused(frame: pd.DataFrame) -> None:
    with pytest.raises(
        DataValidationError, match=re.escape("split_key has 10 rows but the data has 20000")
    ):
        find_associations(
            frame["y_pred"],
            sensitive_features=frame["group"],
            context=frame[CONTEXT],
            split_key=np.arange(10),
        )

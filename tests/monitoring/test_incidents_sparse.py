"""group_incidents on sparse flags and scores: exactly the dense result, never densified."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis.extra.numpy import array_shapes, arrays
from scipy import sparse

from seawall.exceptions import DataValidationError
from seawall.monitoring._incidents import group_incidents
from seawall.monitoring._runs import find_runs, runs_from_cells

T = 60
METRICS = ["drift", "null_rate", "accuracy", "volume"]
SETTINGS = settings(max_examples=60, deadline=None, database=None, derandomize=True)


def fleet(rng: np.random.Generator, n_series: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A fleet of models (four metrics each) with runs planted alone and shared by a label."""
    n_models = n_series // len(METRICS)
    model = np.repeat(np.arange(n_models), len(METRICS))
    metric = np.tile(np.arange(len(METRICS)), n_models)
    source = rng.integers(0, 12, n_models)[model]
    team = rng.integers(0, 6, n_models)[model]
    lab = pd.DataFrame(
        {
            "series": [f"m{m}/{METRICS[k]}" for m, k in zip(model, metric, strict=True)],
            "model": [f"m{m}" for m in model],
            "metric": [METRICS[k] for k in metric],
            "source": [f"s{s}" if s else None for s in source],  # source 0 is missing
            "team": [f"t{t}" for t in team],
        }
    )
    flags = np.zeros((n_series, T), dtype=bool)
    # Lone runs of every length, some touching the first or last step.
    for i in rng.choice(n_series, size=max(n_series // 20, 3), replace=False):
        for _ in range(int(rng.integers(1, 3))):
            s = int(rng.integers(0, T))
            flags[i, s : s + int(rng.integers(1, 7))] = True
    # A broken source: its drift series fail together on several models.
    for i in np.flatnonzero((source == 3) & (metric == 0))[:8]:
        s = 25 + int(rng.integers(0, 4))
        flags[i, s : s + int(rng.integers(2, 6))] = True
    # A team's accuracy drops at about the same time, as does one model's every metric.
    for i in np.flatnonzero((team == 2) & (metric == 2))[:6]:
        flags[i, 40 + int(rng.integers(0, 3)) : 45] = True
    flags[model == 1, 10:13] = True
    scores = rng.random((n_series, T)) * 0.99
    scores[flags] = 1 - rng.random(int(flags.sum())) ** 2 * 1e-3
    scores[flags & (rng.random(flags.shape) < 0.02)] = np.nan  # a missing score counts as 0
    return lab, flags, scores


def only_flagged(flags: np.ndarray, scores: np.ndarray) -> sparse.coo_array:
    """The scores at the flagged cells, as the workers gather them."""
    r, c = np.nonzero(flags)
    return sparse.coo_array((scores[r, c], (r, c)), shape=flags.shape)


def assert_same(got: Any, expected: Any) -> None:
    assert got.to_dict() == expected.to_dict()
    assert got.incidents == expected.incidents  # every field, severity included, exactly
    for name in ("run_series", "run_start", "run_end", "run_incident"):
        a, b = getattr(got, name), getattr(expected, name)
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


FLAG_FORMS: dict[str, Callable[[np.ndarray], Any]] = {
    "coo_array": sparse.coo_array,
    "csr_array": sparse.csr_array,
    "csc_array": sparse.csc_array,
    "coo_matrix": sparse.coo_matrix,
    "csr_matrix": sparse.csr_matrix,
}
SCORE_FORMS: dict[str, Callable[[np.ndarray, np.ndarray], Any]] = {
    "flagged_coo": only_flagged,
    "flagged_csr": lambda f, s: only_flagged(f, s).tocsr(),
    "full_csr": lambda f, s: sparse.csr_array(s),  # unflagged entries stored too
    "dense": lambda f, s: s,
}


# --------------------------------------------------------------------------- #
# the sparse call gives the dense result
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("n_series", [200, 800, 2000])
@pytest.mark.parametrize("flag_form", list(FLAG_FORMS))
@pytest.mark.parametrize("score_form", list(SCORE_FORMS))
def test_sparse_flags_give_the_dense_incidents(rng, n_series, flag_form, score_form):
    lab, flags, scores = fleet(rng, n_series)
    expected = group_incidents(flags, scores, lab)
    assert len(expected) > 3 and any(len(i.members) > 1 for i in expected)
    flag_input = FLAG_FORMS[flag_form](flags)
    got = group_incidents(flag_input, SCORE_FORMS[score_form](flags, scores), lab)
    assert_same(got, expected)


def test_dense_flags_with_sparse_scores_give_the_dense_incidents(rng):
    lab, flags, scores = fleet(rng, 400)
    expected = group_incidents(flags, scores, lab)
    assert_same(group_incidents(flags, only_flagged(flags, scores), lab), expected)
    assert_same(group_incidents(flags.astype(int), only_flagged(flags, scores), lab), expected)


@pytest.mark.parametrize(
    "options",
    [
        {"gap": 0},
        {"gap": 6, "min_shared": 3},
        {"unit": None},
        {"link_on": ["source", ("team", "metric")]},
        {"metric_weights": {"drift": 5.0}, "alpha": 0.05},
        {"timestamps": pd.date_range("2024-05-01", periods=T, freq="1h")},
    ],
)
def test_sparse_matches_dense_under_every_option(rng, options):
    lab, flags, scores = fleet(rng, 600)
    expected = group_incidents(flags, scores, lab, **options)
    got = group_incidents(sparse.csr_array(flags), only_flagged(flags, scores), lab, **options)
    assert_same(got, expected)


def test_sparse_flags_with_a_dense_co_anomaly_history(rng):
    lab, flags, scores = fleet(rng, 200)
    past = np.zeros((200, 90), dtype=bool)
    past[[5, 9, 14], 10] = past[[5, 9, 14], 50] = past[[5, 9], 70] = True
    expected = group_incidents(flags, scores, lab, co_anomaly_history=past)
    got = group_incidents(
        sparse.coo_array(flags), only_flagged(flags, scores), lab, co_anomaly_history=past
    )
    assert_same(got, expected)
    with pytest.raises(
        DataValidationError,
        match=re.escape("co_anomaly_history passed to group_incidents must be a dense array"),
    ):
        group_incidents(flags, scores, lab, co_anomaly_history=sparse.csr_array(past))


def test_an_all_false_sparse_input_gives_the_empty_result(rng):
    lab, _, scores = fleet(rng, 200)
    expected = group_incidents(np.zeros((200, T), dtype=bool), scores, lab)
    assert len(expected) == 0
    empty = sparse.csr_array((200, T), dtype=bool)
    for flag_input in (empty, empty.tocoo()):
        assert_same(group_incidents(flag_input, scores, lab), expected)
        assert_same(group_incidents(flag_input, sparse.coo_array((200, T)), lab), expected)
    # Only stored False entries: still nothing flagged.
    r, c = np.array([3, 3, 150]), np.array([0, 1, 59])
    stored_false = sparse.coo_array((np.zeros(3, dtype=bool), (r, c)), shape=(200, T))
    assert stored_false.nnz == 3
    assert_same(group_incidents(stored_false, sparse.coo_array((200, T)), lab), expected)


def test_a_stored_false_or_zero_is_not_a_flag(rng):
    lab, flags, scores = fleet(rng, 400)
    expected = group_incidents(flags, scores, lab)
    r, c = np.nonzero(flags)
    # Stored zeros next to runs (they would join or extend them if taken as flags).
    zr, zc = r, np.minimum(c + 1, T - 1)
    keep = ~flags[zr, zc]
    zr, zc = zr[keep], zc[keep]
    rows, cols = np.r_[r, zr], np.r_[c, zc]
    for values in (
        np.r_[np.ones(r.size, bool), np.zeros(zr.size, bool)],
        np.r_[[1] * r.size, [0] * zr.size],
    ):
        stored = sparse.coo_array((values, (rows, cols)), shape=flags.shape)
        assert stored.nnz == r.size + zr.size > r.size
        assert_same(group_incidents(stored, only_flagged(flags, scores), lab), expected)
        assert_same(group_incidents(stored.tocsr(), scores, lab), expected)


def test_repeated_coordinates_add_up_as_in_toarray(rng):
    lab, flags, scores = fleet(rng, 200)
    r, c = np.nonzero(flags)
    # Each flag stored twice (True + True is True); each score in two halves.
    twice_flags = sparse.coo_array(
        (np.ones(2 * r.size, bool), (np.r_[r, r], np.r_[c, c])), shape=flags.shape
    )
    halves = np.nan_to_num(scores[r, c]) / 2
    split = sparse.coo_array((np.r_[halves, halves], (np.r_[r, r], np.r_[c, c])), shape=flags.shape)
    expected = group_incidents(twice_flags.toarray(), split.toarray(), lab)
    assert_same(group_incidents(twice_flags, split, lab), expected)


class _NeverDense:
    """Fails the test when a sparse input is densified."""

    def toarray(self, *args: object, **kwargs: object) -> Any:
        raise AssertionError("a sparse input was densified")

    todense = toarray
    __array__ = toarray


class NeverDenseCOO(_NeverDense, sparse.coo_array):
    pass


class NeverDenseCSR(_NeverDense, sparse.csr_array):
    pass


def test_the_sparse_path_never_densifies(rng):
    lab, flags, scores = fleet(rng, 400)
    expected = group_incidents(flags, scores, lab)
    f = NeverDenseCSR(sparse.csr_array(flags))
    s = NeverDenseCOO(only_flagged(flags, scores))
    with pytest.raises(AssertionError, match="densified"):
        np.asarray(f)
    assert_same(group_incidents(f, s, lab), expected)
    assert_same(group_incidents(NeverDenseCOO(sparse.coo_array(flags)), s.tocsr(), lab), expected)


def test_the_inputs_are_not_changed(rng):
    lab, flags, scores = fleet(rng, 200)
    f, s = sparse.coo_array(flags), only_flagged(flags, scores)
    before = [a.copy() for a in (f.data, f.row, f.col, s.data, s.row, s.col)]
    group_incidents(f, s, lab)
    after = (f.data, f.row, f.col, s.data, s.row, s.col)
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- #
# errors
# --------------------------------------------------------------------------- #


def test_a_shape_mismatch_is_an_error(rng):
    lab, flags, scores = fleet(rng, 200)
    msg = re.escape(
        "scores passed to group_incidents has shape (200, 5) but is_anomaly has (200, 60)"
    )
    sparse_flags = sparse.csr_array(flags)
    with pytest.raises(DataValidationError, match=msg):
        group_incidents(sparse_flags, sparse.coo_array((200, 5)), lab)
    with pytest.raises(DataValidationError, match=msg):
        group_incidents(sparse_flags, scores[:, :5], lab)
    with pytest.raises(DataValidationError, match=msg):
        group_incidents(flags, sparse.csr_array(scores[:, :5]), lab)
    with pytest.raises(
        DataValidationError, match=re.escape("series_labels passed to group_incidents has 199 rows")
    ):
        group_incidents(sparse_flags, only_flagged(flags, scores), lab.iloc[:199])
    with pytest.raises(DataValidationError, match=re.escape("got shape (0, 60)")):
        group_incidents(sparse.csr_array((0, T), dtype=bool), np.zeros((0, T)), lab.iloc[:0])


def test_a_flagged_cell_without_a_stored_score_is_an_error(rng):
    lab, flags, scores = fleet(rng, 200)
    r, c = np.nonzero(flags)
    k = r.size // 2
    drop = np.arange(r.size) != k
    partial = sparse.coo_array((scores[r, c][drop], (r[drop], c[drop])), shape=flags.shape)
    msg = (
        "scores passed to group_incidents is sparse but stores no value at 1 flagged cell(s) "
        f"of is_anomaly (the first at series {r[k]}, step {c[k]})"
    )
    with pytest.raises(DataValidationError, match=re.escape(msg)):
        group_incidents(sparse.csr_array(flags), partial, lab)
    with pytest.raises(DataValidationError, match=re.escape(msg)):
        group_incidents(flags, partial.tocsc(), lab)
    # Nothing stored at all: every flagged cell is missing.
    with pytest.raises(DataValidationError, match=re.escape(f"no value at {r.size} flagged")):
        group_incidents(sparse.csr_array(flags), sparse.csr_array(flags.shape), lab)
    # A score stored as 0 is a score.
    zeros = sparse.coo_array((np.zeros(r.size), (r, c)), shape=flags.shape)
    assert_same(
        group_incidents(flags, zeros, lab), group_incidents(flags, np.zeros(flags.shape), lab)
    )


def test_bad_stored_values_are_errors(rng):
    lab, flags, scores = fleet(rng, 200)
    r, c = np.nonzero(flags)
    for bad in (0.5, 2.0, np.nan):
        values = np.ones(r.size)
        values[3] = bad
        with pytest.raises(
            DataValidationError,
            match=re.escape(
                f"is_anomaly passed to group_incidents must hold booleans (or 0/1); got {bad!r} "
                f"at series {r[3]}, step {c[3]}"
            ),
        ):
            group_incidents(sparse.coo_array((values, (r, c)), shape=flags.shape), scores, lab)
    values = scores[r, c].copy()
    values[5] = np.inf
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            f"scores passed to group_incidents holds infinite values (the first at series "
            f"{r[5]}, step {c[5]})"
        ),
    ):
        group_incidents(flags, sparse.coo_array((values, (r, c)), shape=flags.shape), lab)


# --------------------------------------------------------------------------- #
# runs_from_cells against find_runs
# --------------------------------------------------------------------------- #


def check_runs(mask: np.ndarray) -> None:
    expected = find_runs(mask)
    got = runs_from_cells(*np.nonzero(mask))
    for name in ("series", "start", "end"):
        a, b = getattr(got, name), getattr(expected, name)
        assert a.dtype == np.int64
        np.testing.assert_array_equal(a, b)


@SETTINGS
@given(arrays(np.bool_, array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=25)))
def test_runs_from_cells_matches_find_runs(mask):
    check_runs(mask)


def test_runs_from_cells_matches_find_runs_on_random_masks(rng):
    for density in (0.0, 0.02, 0.3, 0.7, 1.0):
        for shape in [(1, 1), (1, 50), (40, 1), (300, 120)]:
            check_runs(rng.random(shape) < density)
    empty = runs_from_cells(np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert len(empty) == 0 and empty.length.dtype == np.int64

from __future__ import annotations

import re
from itertools import combinations, product

import numpy as np
import pytest
import scipy
import scipy.sparse as sp

from seawall.associations._labels import count_labels, label_hypotheses
from seawall.associations._scan import scan_contexts
from seawall.exceptions import DataValidationError, InvalidParameterError

N_ITEMS, N_LABELS, N_GROUPS = 300, 40, 3
CARDS = [3, 4, 2]
EXCLUDED = [-1, 3, -1]  # attribute 1's code 3 is the "(other)" bucket


def _data(rng: np.random.Generator, n_groups: int = N_GROUPS):
    dense = (rng.random((N_ITEMS, N_LABELS)) < rng.uniform(0.0, 0.3, N_LABELS)).astype(np.int8)
    dense[:, 7] = 0  # a label no item carries
    group = rng.integers(0, n_groups, N_ITEMS)
    # Skewed codes, so that some contexts fall below the support.
    codes = [np.minimum(rng.geometric(0.45, N_ITEMS) - 1, c - 1).astype(np.intp) for c in CARDS]
    return dense, group.astype(np.intp), codes


def _naive_contexts(codes, max_depth, min_support):
    """Every conjunction with its mask, by brute force: (valid, n_evaluated, n_total)."""
    support = {(): np.ones(N_ITEMS, dtype=bool)}
    valid = {(): support[()]}
    n_evaluated = n_total = 0
    for depth in range(1, max_depth + 1):
        for attrs in combinations(range(len(codes)), depth):
            for vals in product(*(range(CARDS[a]) for a in attrs)):
                n_total += 1
                if any(v == EXCLUDED[a] for a, v in zip(attrs, vals, strict=True)):
                    continue
                conds = tuple(zip(attrs, vals, strict=True))
                if depth > 1 and any(conds[:j] + conds[j + 1 :] not in valid for j in range(depth)):
                    continue
                n_evaluated += 1
                mask = np.ones(N_ITEMS, dtype=bool)
                for a, v in conds:
                    mask &= codes[a] == v
                if mask.sum() >= min_support:
                    valid[conds] = mask
    return valid, n_evaluated, n_total


def _conditions(tables, row):
    keep = tables.attributes[row] >= 0
    return tuple(
        (int(a), int(v))
        for a, v in zip(tables.attributes[row][keep], tables.values[row][keep], strict=True)
    )


@pytest.mark.parametrize("max_depth", [1, 2, 3])
@pytest.mark.parametrize("min_support", [1, 60])
def test_counts_match_a_loop_over_items(rng, max_depth, min_support):
    dense, group, codes = _data(rng)
    t = count_labels(
        sp.csr_array(dense),
        group,
        N_GROUPS,
        codes,
        CARDS,
        EXCLUDED,
        max_depth=max_depth,
        min_support=min_support,
    )
    valid, n_evaluated, n_total = _naive_contexts(codes, max_depth, min_support)
    assert len(t) == len(valid) == t.label_counts.shape[0] // N_GROUPS
    assert t.label_counts.shape == (len(t) * N_GROUPS, N_LABELS)
    assert t.n_evaluated == n_evaluated
    assert t.n_evaluated + t.n_pruned == n_total
    assert sorted(_conditions(t, r) for r in range(len(t))) == sorted(valid)
    assert _conditions(t, 0) == ()
    for row in range(len(t)):
        mask = valid[_conditions(t, row)]
        items = np.zeros(N_GROUPS)
        counts = np.zeros((N_GROUPS, N_LABELS))
        for i in np.flatnonzero(mask):  # the naive loop over items
            items[group[i]] += 1
            counts[group[i]] += dense[i]
        np.testing.assert_array_equal(t.items[row], items)
        np.testing.assert_array_equal(t.context_counts(row), counts)
    assert t.label_counts.has_canonical_format and t.label_counts.dtype == np.int32
    assert np.all(t.label_counts.data > 0)
    if min_support == 60 and max_depth >= 2:
        # The data exercise the bound: contexts dropped for support, candidates
        # ruled out by a dropped parent (beyond those of the excluded code).
        assert len(t) - 1 < n_evaluated
        n_excluded_only = sum(
            1
            for d in range(1, max_depth + 1)
            for attrs in combinations(range(3), d)
            for vals in product(*(range(CARDS[a]) for a in attrs))
            if any(v == EXCLUDED[a] for a, v in zip(attrs, vals, strict=True))
        )
        assert t.n_pruned > n_excluded_only


def test_tables_follow_the_context_scan(rng):
    dense, group, codes = _data(rng)
    t = count_labels(
        sp.csr_array(dense), group, N_GROUPS, codes, CARDS, EXCLUDED, max_depth=2, min_support=10
    )
    s = scan_contexts(codes, CARDS, EXCLUDED, group, N_GROUPS, max_depth=2, min_support=10)
    np.testing.assert_array_equal(t.attributes, s.attributes)
    np.testing.assert_array_equal(t.values, s.values)
    np.testing.assert_array_equal(t.items, s.counts)
    assert (t.n_evaluated, t.n_pruned) == (s.n_evaluated, s.n_pruned)
    np.testing.assert_array_equal(t.depth, s.depth)
    assert (t.n_groups, t.n_labels) == (N_GROUPS, N_LABELS)
    # Every context's label counts sum, over groups, to those of the population in it.
    np.testing.assert_array_equal(t.context_counts(0), [dense[group == g].sum(0) for g in range(3)])


@pytest.mark.parametrize("how", ["max_depth=0", "no attributes"])
def test_population_only(rng, how):
    dense, group, codes = _data(rng)
    if how == "max_depth=0":
        t = count_labels(
            sp.csr_array(dense), group, N_GROUPS, codes, CARDS, EXCLUDED, max_depth=0, min_support=1
        )
        assert t.attributes.shape == (1, 0)
    else:
        t = count_labels(
            sp.csr_array(dense), group, N_GROUPS, [], [], [], max_depth=2, min_support=1
        )
        assert t.attributes.shape == (1, 2)
    assert len(t) == 1 and (t.n_evaluated, t.n_pruned) == (0, 0)
    np.testing.assert_array_equal(t.items[0], np.bincount(group, minlength=N_GROUPS))
    np.testing.assert_array_equal(t.context_counts(0), [dense[group == g].sum(0) for g in range(3)])


def test_sparse_formats_are_accepted_and_inputs_left_alone(rng):
    assert tuple(int(p) for p in scipy.__version__.split(".")[:2]) >= (1, 11)
    dense, group, codes = _data(rng)
    ref = count_labels(
        sp.csr_array(dense), group, N_GROUPS, codes, CARDS, EXCLUDED, max_depth=2, min_support=5
    )
    # Labels as weights or scores, an explicit zero and a duplicate entry: nonzero means "has it".
    weighted = sp.csr_matrix(dense * rng.uniform(0.5, 2.0, dense.shape))
    # Item 0 gets an explicit zero for label 7, item 1 label 7 twice (duplicate entries).
    rows = np.concatenate([np.repeat(np.arange(N_ITEMS), np.diff(weighted.indptr)), [0, 1, 1]])
    cols = np.concatenate([weighted.indices, [7, 7, 7]])
    data = np.concatenate([weighted.data, [0.0, 1.0, 3.0]])
    order = np.argsort(rows, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=N_ITEMS))])
    messy = sp.csr_matrix((data[order], cols[order], indptr), shape=dense.shape)
    assert not messy.has_canonical_format
    dense_dup = dense.copy()
    dense_dup[1, 7] = 1
    before = (messy.data.copy(), messy.indices.copy(), messy.indptr.copy())
    ref_dup = count_labels(
        sp.csr_array(dense_dup), group, N_GROUPS, codes, CARDS, EXCLUDED, max_depth=2, min_support=5
    )
    for labels, expected in [
        (sp.csr_matrix(dense), ref),
        (sp.csc_array(dense), ref),
        (sp.coo_matrix(dense), ref),
        (weighted, ref),
        (messy, ref_dup),
    ]:
        t = count_labels(
            labels, group, N_GROUPS, codes, CARDS, EXCLUDED, max_depth=2, min_support=5
        )
        assert isinstance(t.label_counts, sp.csr_array)
        assert (t.label_counts != expected.label_counts).nnz == 0
        np.testing.assert_array_equal(t.items, expected.items)
    for got, was in zip((messy.data, messy.indices, messy.indptr), before, strict=True):
        np.testing.assert_array_equal(got, was)


def _naive_hypotheses(tables, min_count):
    out = []
    n_groups = tables.n_groups
    for c in range(len(tables)):
        counts = tables.context_counts(c)
        for label in range(tables.n_labels):
            total = counts[:, label].sum()
            if total < min_count:
                continue
            for g in [1] if n_groups == 2 else range(n_groups):
                x1, n1 = counts[g, label], tables.items[c, g]
                if n_groups == 2:
                    x2, n2 = counts[0, label], tables.items[c, 0]
                else:
                    x2, n2 = total - x1, tables.items[c].sum() - n1
                if n1 > 0 and n2 > 0:
                    out.append((label, c, g, x1, n1, x2, n2))
    return sorted(out)


def _rows(h):
    cols = (h.label, h.context, h.group, h.x1, h.n1, h.x2, h.n2)
    return [tuple(v.item() for v in row) for row in zip(*cols, strict=True)]


@pytest.mark.parametrize("n_groups", [2, 3, 4])
@pytest.mark.parametrize("min_count", [1, 4])
def test_hypotheses_match_naive_counts(rng, n_groups, min_count):
    dense, group, codes = _data(rng, n_groups)
    group[codes[0] == 2] = 0  # contexts where only group 0 occurs: nothing to compare
    t = count_labels(
        sp.csr_array(dense), group, n_groups, codes, CARDS, EXCLUDED, max_depth=2, min_support=5
    )
    h = label_hypotheses(t, min_count=min_count)
    expected = _naive_hypotheses(t, min_count)
    assert _rows(h) == expected  # also sorted by label, context, group
    per_pair = 1 if n_groups == 2 else n_groups
    assert h.n_skipped == len(t) * N_LABELS * per_pair - len(h)
    assert all(v.dtype == np.intp for v in (h.label, h.context, h.group))
    assert all(v.dtype == np.float64 for v in (h.x1, h.n1, h.x2, h.n2))


def test_two_groups_give_one_hypothesis_per_label_and_context(rng):
    dense, group, codes = _data(rng, 2)
    t = count_labels(
        sp.csr_array(dense), group, 2, codes, CARDS, EXCLUDED, max_depth=1, min_support=1
    )
    h = label_hypotheses(t)
    pairs = set(zip(h.label.tolist(), h.context.tolist(), strict=True))
    assert len(pairs) == len(h)
    assert np.all(h.group == 1)
    # Group 1 against group 0, which is also group 0 against the rest of the context.
    np.testing.assert_array_equal(h.n1 + h.n2, t.items[h.context].sum(axis=1))
    np.testing.assert_array_equal(h.n2, t.items[h.context, 0])
    present = {
        (lab, c) for c in range(len(t)) for lab in np.flatnonzero(t.context_counts(c).sum(0))
    }
    assert pairs == present


def test_absent_labels_are_skipped(rng):
    dense, group, codes = _data(rng)
    t = count_labels(
        sp.csr_array(dense), group, N_GROUPS, codes, CARDS, EXCLUDED, max_depth=2, min_support=1
    )
    h = label_hypotheses(t)
    assert 7 not in h.label  # the label nobody carries
    assert np.all(h.x1 + h.x2 >= 1)
    # A label that occurs in a context, even in a single group, is tested in every group.
    only = (h.x1 == 0) & (h.x2 > 0)
    assert only.any()


def test_population_hypotheses_of_one_group_are_empty(rng):
    dense, _, _ = _data(rng)
    t = count_labels(
        sp.csr_array(dense), np.zeros(N_ITEMS, np.intp), 1, [], [], [], max_depth=0, min_support=1
    )
    h = label_hypotheses(t)
    assert len(h) == 0 and h.n_skipped == N_LABELS


def test_no_labels_at_all():
    t = count_labels(
        sp.csr_array((5, 3)),
        np.array([0, 1, 0, 1, 0]),
        2,
        [np.array([0, 0, 1, 1, 1])],
        [2],
        [-1],
        max_depth=1,
        min_support=1,
    )
    assert t.label_counts.nnz == 0 and len(t) == 3
    h = label_hypotheses(t)
    assert len(h) == 0 and h.n_skipped == 9


def test_dense_labels_are_refused():
    with pytest.raises(
        InvalidParameterError,
        match=re.escape("The 'labels' parameter of count_labels must be a 2-D scipy.sparse"),
    ):
        count_labels(np.eye(3), np.zeros(3, np.intp), 1, [], [], [], max_depth=0, min_support=1)


def test_misaligned_inputs_are_refused():
    labels = sp.csr_array(np.eye(3))
    with pytest.raises(DataValidationError, match=re.escape("group has 2 rows but labels has 3")):
        count_labels(labels, np.zeros(2, np.intp), 1, [], [], [], max_depth=0, min_support=1)
    with pytest.raises(DataValidationError, match=re.escape("codes[0] has 4 rows")):
        count_labels(
            labels,
            np.zeros(3, np.intp),
            1,
            [np.zeros(4, np.intp)],
            [1],
            [-1],
            max_depth=1,
            min_support=1,
        )


@pytest.mark.parametrize("bad", [0, 1.5, "1"])
def test_min_count_must_be_a_positive_int(bad):
    t = count_labels(
        sp.csr_array(np.eye(2)), np.array([0, 1]), 2, [], [], [], max_depth=0, min_support=1
    )
    with pytest.raises(
        InvalidParameterError,
        match=re.escape("The 'min_count' parameter of label_hypotheses must be an int in [1, inf)"),
    ):
        label_hypotheses(t, min_count=bad)

"""Label counts of a multi-label output per context and protected group, by sparse products.

A multi-label model (an image tagger, a topic classifier) gives each item a few of
thousands of labels: a sparse ``(n_items, n_labels)`` matrix. To test every
``label x group x context`` association we need, per context and group, the
number of items and the number of items carrying each label.

For a set ``S`` of context attributes every item falls in exactly one cell
``(combined value of S, group)``, so with the sparse one-hot ``O`` of those cells
(one nonzero per item) the product ``O.T @ labels`` counts every label in every
cell of every conjunction of ``S`` at once, in time linear in the nonzeros of
``labels``; the item-by-label matrix is never densified. Which contexts are
counted is decided by :func:`~seawall.associations._scan.scan_contexts` (the same
Apriori support bound), and only items of contexts that pass it enter the product.

The counts are stored sparse (int32 counts, int32 indices), one row per
``(context, group)``. A dense ``(n_contexts, n_groups, n_labels)`` array grows
with the number of contexts whether or not their labels occur: five attributes
of 12 values give about 1,500 contexts of depth 2, 45 million cells for 3 groups
and 10,000 labels. The sparse table holds at most one entry per nonzero of
``labels`` per attribute set, and fewer as frequent labels collide in a cell. At
8 bytes an entry it is not always the smaller: on a million Zipf-tagged items,
at depth 1-2 over 3-5 attributes of 2-12 values it took 0.7-1.4 times the dense
int32 array (17-60 MB), at depth 3 (572 contexts) half of it (35 MB against
65 MB). Either is small next to the hypotheses built from it; the sparse form is
what lets :func:`label_hypotheses` skip absent labels in time linear in the entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from seawall._validation import check_lengths, check_real, param_error
from seawall.associations._scan import scan_contexts

__all__ = ["LabelHypotheses", "LabelTables", "count_labels", "label_hypotheses"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class LabelTables:
    """Items, and items carrying each label, per scanned context and protected group.

    Row 0 is the whole population, then the contexts by depth, in the order of
    :func:`~seawall.associations._scan.scan_contexts`.

    Attributes
    ----------
    attributes : ndarray of intp, shape (n_contexts, max_depth)
        The attributes of each context's conditions, ascending; -1 pads.
    values : ndarray of intp, shape (n_contexts, max_depth)
        The value code of each condition; -1 pads.
    items : ndarray of float64, shape (n_contexts, n_groups)
        Items per context and group.
    label_counts : scipy.sparse.csr_array of int32, shape (n_contexts * n_groups, n_labels)
        Row ``context * n_groups + group``: per label, the items of that context
        and group carrying it. Absent entries are zeros; indices are sorted. The
        dtype is int64 only from 2**31 items on.
    n_evaluated : int
        Conjunctions whose support was counted (passed the Apriori bound).
    n_pruned : int
        Conjunctions the bound ruled out without counting them.
    """

    attributes: IntArray
    values: IntArray
    items: FloatArray
    label_counts: sp.csr_array
    n_evaluated: int
    n_pruned: int

    @property
    def n_groups(self) -> int:
        """The number of protected groups."""
        return int(self.items.shape[1])

    @property
    def n_labels(self) -> int:
        """The number of labels."""
        return int(self.label_counts.shape[1])

    @property
    def depth(self) -> IntArray:
        """The number of conditions of each context."""
        return (self.attributes >= 0).sum(axis=1)  # type: ignore[no-any-return]

    def context_counts(self, context: int) -> FloatArray:
        """The label counts of one context as a dense array.

        Parameters
        ----------
        context : int
            The context's row.

        Returns
        -------
        ndarray of float64, shape (n_groups, n_labels)
            Items of each group carrying each label.
        """
        g = self.n_groups
        block = self.label_counts[context * g : (context + 1) * g]
        return np.asarray(block.toarray(), dtype=np.float64)

    def __len__(self) -> int:
        return int(self.items.shape[0])


@dataclass(frozen=True, slots=True)
class LabelHypotheses:
    """Testable ``label x context x group`` associations as 2x2 tables (arrays of shape (m,)).

    The hypothesis compares the rate of ``label`` among the items of ``group``
    in ``context`` (``x1`` of ``n1``) with its rate among the other items of the
    context (``x2`` of ``n2``). With two groups there is one hypothesis per
    ``(label, context)``, group 1 against group 0. Sorted by label, context, group.

    Attributes
    ----------
    label, context, group : ndarray of intp
        The label's column, the context's row in the tables, the group compared.
    x1, n1 : ndarray of float64
        Items of the group in the context with the label, and all of them.
    x2, n2 : ndarray of float64
        The same for the rest of the context.
    n_skipped : int
        Hypotheses left out as untestable (see :func:`label_hypotheses`).
    """

    label: IntArray
    context: IntArray
    group: IntArray
    x1: FloatArray
    n1: FloatArray
    x2: FloatArray
    n2: FloatArray
    n_skipped: int

    def __len__(self) -> int:
        return int(self.label.shape[0])


def _binary_labels(labels: object, caller: str) -> sp.csr_array:
    """``labels`` as a canonical CSR array of 1s, shape (n_items, n_labels)."""
    if not sp.issparse(labels) or len(labels.shape) != 2:  # type: ignore[attr-defined]
        raise param_error(
            "labels",
            caller,
            "a 2-D scipy.sparse matrix or array of shape (n_items, n_labels), e.g. a csr_array",
            type(labels).__name__,
        )
    m = sp.csr_array(labels)
    dtype = np.int32 if m.shape[0] < 2**31 else np.int64
    nonzero = m.data != 0
    if m.has_canonical_format and nonzero.all():
        # The usual case: share the index arrays (only read from here on).
        return sp.csr_array((np.ones(m.nnz, dtype=dtype), m.indices, m.indptr), shape=m.shape)
    # New index arrays: eliminate_zeros and sum_duplicates work in place, and the
    # converted matrix may share its arrays with the caller's.
    out = sp.csr_array((nonzero.astype(dtype), m.indices.copy(), m.indptr.copy()), shape=m.shape)
    out.eliminate_zeros()
    out.sum_duplicates()
    out.data[:] = 1  # a label entered twice for an item still counts once
    return out


def _combined_code(
    codes: Sequence[IntArray], cardinalities: Sequence[int], attrs: IntArray, n_items: int
) -> IntArray:
    # The mixed-radix code of scan_contexts: the first attribute is the most significant.
    code = np.zeros(n_items, dtype=np.intp)
    for a in attrs:
        code = code * int(cardinalities[a]) + codes[a]
    return code


def _block_counts(
    binary: sp.csr_array, context: IntArray, n_contexts: int, group: IntArray, n_groups: int
) -> sp.csr_array:
    """Label counts per ``(context, group)`` of one attribute set, by one sparse product.

    ``context`` is each item's row in the block, or -1 for items of no counted
    context. Returns a CSR array of shape (n_contexts * n_groups, n_labels) with
    sorted indices.
    """
    n_items = binary.shape[0]
    inside = np.flatnonzero(context >= 0)
    cell = context[inside] * n_groups + group[inside]
    n_cells = n_contexts * n_groups
    index = np.int32 if max(n_cells, n_items) < 2**31 else np.int64
    # The transposed one-hot of the cells, (n_cells, n_items), one entry per item of
    # a counted context (none for the others, which the product then skips).
    # onehot.T @ labels reads the rows of labels in memory order, item after item
    # of a cell. labels.T @ onehot (after a transposed copy of labels) measured 3x
    # slower with 3 cells (the whole population) and 1.5x faster with 216.
    onehot_t = sp.csr_array(
        (np.ones(inside.size, dtype=binary.dtype), (cell.astype(index), inside.astype(index))),
        shape=(n_cells, n_items),
    )
    counts = onehot_t @ binary
    counts.sort_indices()
    return counts


def count_labels(
    labels: sp.sparray | sp.spmatrix,
    group: IntArray,
    n_groups: int,
    codes: Sequence[IntArray],
    cardinalities: Sequence[int],
    excluded: Sequence[int],
    *,
    max_depth: int,
    min_support: float,
) -> LabelTables:
    """Count every label in every protected group of every context with enough items.

    The contexts are those of :func:`~seawall.associations._scan.scan_contexts`:
    every conjunction of up to ``max_depth`` conditions ``attribute == value``
    with at least ``min_support`` items, a conjunction being counted only if all
    of its sub-conjunctions with one condition fewer have that support. Per
    attribute set one sparse product counts all its conjunctions.

    Assumes valid codes (in ``range(cardinality)``) and groups (in
    ``range(n_groups)``); checks that ``labels`` is sparse and aligned with them.

    Parameters
    ----------
    labels : scipy.sparse matrix or array, shape (n_items, n_labels)
        Nonzero where the item has the label (``csr_matrix``, ``csr_array`` or any
        other sparse format). Never densified.
    group : ndarray of intp, shape (n_items,)
        Each item's protected group.
    n_groups : int
        The number of protected groups.
    codes : sequence of ndarray of intp, each of shape (n_items,)
        One array per context attribute (none: only the whole population).
    cardinalities : sequence of int
        The number of codes of each attribute.
    excluded : sequence of int
        Per attribute, a code that never forms a condition (the "(other)"
        bucket), or -1.
    max_depth : int
        The most conditions in a context (0: only the whole population).
    min_support : float
        The fewest items a counted context may have.

    Returns
    -------
    LabelTables
        The whole population first, then the contexts by depth.

    Raises
    ------
    InvalidParameterError
        When ``labels`` is not a 2-D sparse matrix or array.
    DataValidationError
        When ``group`` or a code array does not have one entry per item.

    See Also
    --------
    label_hypotheses : The 2x2 tables of every testable association.
    seawall.associations._scan.scan_contexts : The same scan over count tables.

    References
    ----------
    .. [1] F. Tramer et al., "FairTest: Discovering unwarranted associations in
       data-driven applications", IEEE EuroS&P (2017) 401-416.
    .. [2] R. Agrawal, R. Srikant, "Fast algorithms for mining association
       rules", VLDB (1994) 487-499.

    Examples
    --------
    Six items, three labels, two groups, one attribute of two values:

    >>> labels = sp.csr_array(np.array([[1, 0, 1], [1, 0, 0], [0, 1, 0],
    ...                                 [1, 1, 0], [0, 0, 1], [1, 0, 1]]))
    >>> group = np.array([0, 0, 0, 1, 1, 1]); region = np.array([0, 0, 1, 1, 1, 1])
    >>> t = count_labels(labels, group, 2, [region], [2], [-1], max_depth=1, min_support=3)
    >>> t.values[:, 0].tolist(), t.items.tolist()  # all; region=1 (region=0 has 2 items)
    ([-1, 1], [[3.0, 3.0], [1.0, 3.0]])
    >>> t.context_counts(1).tolist()  # region=1, per group and label
    [[0.0, 1.0, 0.0], [2.0, 1.0, 2.0]]
    """
    caller = "count_labels"
    binary = _binary_labels(labels, caller)
    n_items = int(binary.shape[0])
    lengths = {"labels": n_items, "group": int(np.shape(group)[0])}
    lengths.update({f"codes[{i}]": int(np.shape(c)[0]) for i, c in enumerate(codes)})
    check_lengths(lengths)
    group = np.asarray(group, dtype=np.intp)
    scan = scan_contexts(
        codes,
        cardinalities,
        excluded,
        group,
        n_groups,
        max_depth=max_depth,
        min_support=min_support,
    )
    attributes, values = scan.attributes, scan.values
    n_contexts = attributes.shape[0]
    # Row 0 is the population; after it the scan emits the contexts of one
    # attribute set as a run of rows. One product counts each run.
    changed = np.any(attributes[2:] != attributes[1:-1], axis=1)
    starts = np.concatenate([[1], np.flatnonzero(changed) + 2, [n_contexts]])
    blocks = [_block_counts(binary, np.zeros(n_items, dtype=np.intp), 1, group, n_groups)]
    for start, stop in zip(starts[:-1], starts[1:], strict=True):
        if start == stop:  # no context below the population
            continue
        attrs = attributes[start, attributes[start] >= 0]
        shape = tuple(int(cardinalities[a]) for a in attrs)
        flat = np.ravel_multi_index(tuple(values[start:stop, : attrs.size].T), shape)
        lookup = np.full(int(np.prod(shape)), -1, dtype=np.intp)
        lookup[flat] = np.arange(stop - start)
        context = lookup[_combined_code(codes, cardinalities, attrs, n_items)]
        blocks.append(_block_counts(binary, context, int(stop - start), group, n_groups))
    label_counts = blocks[0] if len(blocks) == 1 else sp.vstack(blocks, format="csr")
    return LabelTables(
        attributes, values, scan.counts, label_counts, scan.n_evaluated, scan.n_pruned
    )


def label_hypotheses(tables: LabelTables, *, min_count: int = 1) -> LabelHypotheses:
    """The 2x2 table of every testable ``label x context x group`` association.

    Each hypothesis compares a group with the rest of the context (with two
    groups, only group 1 with group 0: the two one-vs-rest comparisons are the
    same test). Left out, as untestable:

    - ``(label, context)`` pairs where the label occurs on fewer than
      ``min_count`` items of the context, in all groups together. With the
      default 1 these are the labels absent from the context, whose 2x2 table
      has a zero margin: no test can reject (the exact conditional test has a
      single table, p = 1), so dropping them loses nothing and keeps a
      multiplicity correction from paying for them [1]_. The label total is a
      margin that the conditional test holds fixed, so a larger ``min_count``
      filters without biasing the tests that remain.
    - groups with no items in the context, or no other items in it.

    Parameters
    ----------
    tables : LabelTables
        From :func:`count_labels`.
    min_count : int, default=1
        The fewest items of a context that must carry a label for its
        hypotheses to be formed.

    Returns
    -------
    LabelHypotheses
        Flat arrays, sorted by label, context and group.

    Raises
    ------
    InvalidParameterError
        When ``min_count`` is not an int of at least 1.

    See Also
    --------
    count_labels : The tables these hypotheses are read from.
    seawall.associations._effects.proportion_effect : Tests them all at once.

    References
    ----------
    .. [1] R. E. Tarone, "A modified Bonferroni method for discrete data",
       Biometrics 46 (1990) 515-522.

    Examples
    --------
    >>> labels = sp.csr_array(np.array([[1, 0, 0], [1, 0, 0], [0, 0, 0],
    ...                                 [1, 1, 0], [0, 0, 0], [0, 0, 0]]))
    >>> group = np.array([0, 0, 0, 1, 1, 1])
    >>> t = count_labels(labels, group, 2, [], [], [], max_depth=0, min_support=1)
    >>> h = label_hypotheses(t)  # label 2 never occurs: no hypothesis
    >>> h.label.tolist(), h.group.tolist(), h.x1.tolist(), h.x2.tolist(), h.n_skipped
    ([0, 1], [1, 1], [1.0, 1.0], [2.0, 0.0], 1)
    """
    caller = "label_hypotheses"
    count_floor = check_real(min_count, "min_count", caller, low=1, integer=True)
    items = tables.items
    n_contexts, n_groups = items.shape
    n_labels = tables.n_labels
    per_pair = 1 if n_groups == 2 else n_groups
    n_possible = n_contexts * n_labels * per_pair
    # Column-compressed, the entries of a label run by row, i.e. by context and
    # then group, so the entries of one (label, context) pair are adjacent.
    by_label = sp.csc_array(tables.label_counts)
    by_label.sort_indices()
    # In the index dtype (int32 up to 2**31 entries): half the memory traffic of intp.
    index = by_label.indices.dtype
    label = np.repeat(np.arange(n_labels, dtype=index), np.diff(by_label.indptr))
    context, group = np.divmod(by_label.indices, n_groups)
    data = by_label.data
    first = np.ones(data.size, dtype=bool)
    first[1:] = (label[1:] != label[:-1]) | (context[1:] != context[:-1])
    pair = np.cumsum(first) - 1
    pair_label = label[first].astype(np.intp)
    pair_context = context[first].astype(np.intp)
    n_pairs = int(pair_label.size)
    total = np.bincount(pair, weights=data, minlength=n_pairs)
    if n_groups == 2:
        x1 = np.zeros(n_pairs)
        in_one = group == 1
        x1[pair[in_one]] = data[in_one]
        n1, n2 = items[pair_context, 1], items[pair_context, 0]
        columns = [
            pair_label,
            pair_context,
            np.ones(n_pairs, dtype=np.intp),
            x1,
            n1,
            total - x1,
            n2,
        ]
        keep = total >= count_floor
    else:
        table = np.zeros((n_pairs, n_groups))
        table[pair, group] = data
        h_context = np.repeat(pair_context, n_groups)
        h_group = np.tile(np.arange(n_groups, dtype=np.intp), n_pairs)
        x1 = table.ravel()
        n1 = items[h_context, h_group]
        n2 = items.sum(axis=1)[h_context] - n1
        x2 = np.repeat(total, n_groups) - x1
        columns = [np.repeat(pair_label, n_groups), h_context, h_group, x1, n1, x2, n2]
        keep = np.repeat(total >= count_floor, n_groups)
    keep &= (n1 > 0) & (n2 > 0)
    if not keep.all():
        rows = np.flatnonzero(keep)
        columns = [c[rows] for c in columns]
    label_, context_, group_, x1_, n1_, x2_, n2_ = columns
    return LabelHypotheses(
        label_, context_, group_, x1_, n1_, x2_, n2_, n_possible - int(columns[0].size)
    )

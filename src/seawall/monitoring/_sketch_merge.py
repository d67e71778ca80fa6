"""Merge many window summaries at once (the k-way twin of ``WindowSummary.merge``).

Merging a day of hourly windows two at a time builds 23 intermediate summaries
and re-sorts the growing samples each time; merging them at once adds the
counts once and sorts the samples once. The result is the same as
``functools.reduce(WindowSummary.merge, summaries)``: a sample survives a chain
of merges exactly when every part kept its sample and the total fits under the
smallest cap, and categories are unioned in order of first appearance (by
:func:`union_counts`, which also unions the group tables of window states). The
tests check the two against each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from seawall.exceptions import DataValidationError
from seawall.monitoring._drift_sketch import (
    CategoricalSketch,
    NumericSketch,
    Sketch,
    WindowSummary,
    check_same_features,
    merge_numeric,
    read_only,
)

__all__ = [
    "label_index",
    "merge_categorical",
    "merge_summaries",
    "union_counts",
]

IntArray = npt.NDArray[np.int64]


def label_index(labels: Iterable[tuple[Any, ...]]) -> dict[Any, int]:
    """Each distinct label's place in the union of several label tuples.

    Parameters
    ----------
    labels : iterable of tuple
        The tuples (categories or groups of several windows).

    Returns
    -------
    dict
        Label to position, in order of first appearance.

    Examples
    --------
    >>> label_index([("x",), ("y", "x")])
    {'x': 0, 'y': 1}
    """
    index: dict[Any, int] = {}
    for keys in labels:
        for key in keys:
            index.setdefault(key, len(index))
    return index


def union_counts(
    labels: Sequence[tuple[Any, ...]], counts: Sequence[npt.NDArray[Any]]
) -> tuple[tuple[Any, ...], IntArray]:
    """Add count tables whose rows are keyed by labels, on the union of the labels.

    Parameters
    ----------
    labels : sequence of tuple
        At least one: each table's distinct labels, one per row of its counts.
    counts : sequence of ndarray of int, shape (n_labels, ...)
        The tables, alike but for their first axis.

    Returns
    -------
    labels : tuple
        Every label, in order of first appearance.
    counts : ndarray of int64, shape (n_union, ...)
        The summed counts (read-only).

    Examples
    --------
    >>> keys, total = union_counts([("x",), ("y", "x")], [np.array([2]), np.array([1, 1])])
    >>> keys, total.tolist()
    (('x', 'y'), [3, 1])
    """
    index = label_index(labels)
    out = np.zeros((len(index), *counts[0].shape[1:]), dtype=np.int64)
    positions = [index[key] for keys in labels for key in keys]
    if positions:
        np.add.at(out, positions, np.concatenate(counts))
    return tuple(index), read_only(out)


def merge_categorical(sketches: list[CategoricalSketch]) -> CategoricalSketch:
    """The summary of several windows' values of one categorical feature.

    Parameters
    ----------
    sketches : list of CategoricalSketch
        At least one.

    Returns
    -------
    CategoricalSketch
        Categories in order of first appearance, counts added.

    Examples
    --------
    >>> a = CategoricalSketch(("x",), np.array([2]), 0)
    >>> b = CategoricalSketch(("y", "x"), np.array([1, 1]), 1)
    >>> m = merge_categorical([a, b, a])
    >>> m.categories, m.counts.tolist(), m.n_missing
    (('x', 'y'), [5, 1], 1)
    """
    if len(sketches) == 1:
        return sketches[0]
    categories, counts = union_counts(
        [s.categories for s in sketches], [s.counts for s in sketches]
    )
    return CategoricalSketch(
        categories=categories,
        counts=counts,
        n_missing=sum(s.n_missing for s in sketches),
        reason=next((s.reason for s in sketches if s.reason), ""),
    )


def merge_summaries(summaries: list[WindowSummary]) -> WindowSummary:
    """The summary of several windows' rows together, in one pass per feature.

    Parameters
    ----------
    summaries : list of WindowSummary
        At least one, of the same features made with the same reference.

    Returns
    -------
    WindowSummary
        As ``functools.reduce(WindowSummary.merge, summaries)``.

    Raises
    ------
    DataValidationError
        When the features, their kinds or their bins differ.

    Examples
    --------
    >>> import pandas as pd
    >>> from seawall.monitoring._drift_summarize import summarize
    >>> ref = summarize(pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]}))
    >>> w = summarize(pd.DataFrame({"a": [0.5, 2.5]}), reference=ref)
    >>> merge_summaries([w, w, w]).n_rows
    6
    """
    first = summaries[0]
    if len(summaries) == 1:
        return first
    check_same_features(summaries)
    merged: list[Sketch] = []
    for j, name in enumerate(first.names):
        parts = [s.sketches[j] for s in summaries]
        numeric = [p for p in parts if isinstance(p, NumericSketch)]
        categorical = [p for p in parts if isinstance(p, CategoricalSketch)]
        if len(numeric) == len(parts):
            merged.append(merge_numeric(numeric))
        elif len(categorical) == len(parts):
            merged.append(merge_categorical(categorical))
        else:
            raise DataValidationError(
                f"cannot merge window summaries: feature {name!r} is numeric in some and "
                f"categorical in others; summarize all with the same reference=."
            )
    return WindowSummary(first.names, tuple(merged), sum(s.n_rows for s in summaries))

"""Merge many window summaries at once (the k-way twin of ``WindowSummary.merge``).

Merging a day of hourly windows two at a time builds 23 intermediate summaries
and re-sorts the growing samples each time; merging them at once adds the
counts once and sorts the samples once. The result is the same as
``functools.reduce(WindowSummary.merge, summaries)``: a sample survives a chain
of merges exactly when every part kept its sample and the total fits under the
smallest cap, and categories are unioned in order of first appearance. The
tests check the two against each other.
"""

from __future__ import annotations

import numpy as np

from seawall.exceptions import DataValidationError
from seawall.monitoring._drift_sketch import (
    CategoricalSketch,
    NumericSketch,
    Sketch,
    WindowSummary,
    read_only,
)

__all__ = ["merge_categorical", "merge_numeric", "merge_summaries"]


def merge_numeric(sketches: list[NumericSketch]) -> NumericSketch:
    """The summary of several windows' values of one numeric feature.

    Parameters
    ----------
    sketches : list of NumericSketch
        At least one, all on the same bin edges.

    Returns
    -------
    NumericSketch
        Counts added, extremes combined, samples concatenated and sorted once
        (kept when every part kept one and the total fits under the smallest cap).

    Raises
    ------
    DataValidationError
        When the bin edges differ.

    Examples
    --------
    >>> a = NumericSketch.from_values(np.array([1.0, 5.0]), np.array([2.0]), None)
    >>> m = merge_numeric([a, a, a])
    >>> m.counts.tolist(), m.sample.tolist()
    ([3, 3], [1.0, 1.0, 1.0, 5.0, 5.0, 5.0])
    """
    first = sketches[0]
    if len(sketches) == 1:
        return first
    if any(not np.array_equal(first.edges, s.edges) for s in sketches[1:]):
        raise DataValidationError(
            "cannot merge numeric summaries built on different bin edges; summarize "
            "every window with the same reference= summary."
        )
    caps = [s.sample_cap for s in sketches if s.sample_cap is not None]
    cap = min(caps) if caps else None
    n = sum(s.n for s in sketches)
    sample = None
    parts = [s.sample for s in sketches]
    if all(p is not None for p in parts) and (cap is None or n <= cap):
        sample = read_only(np.sort(np.concatenate([p for p in parts if p is not None])))
    return NumericSketch(
        edges=first.edges,
        counts=read_only(np.sum([s.counts for s in sketches], axis=0)),
        n_missing=sum(s.n_missing for s in sketches),
        minimum=float(np.fmin.reduce([s.minimum for s in sketches])),
        maximum=float(np.fmax.reduce([s.maximum for s in sketches])),
        sample=sample,
        sample_cap=cap,
        reason=next((s.reason for s in sketches if s.reason), ""),
    )


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
    index: dict[object, int] = {}
    for s in sketches:
        for c in s.categories:
            index.setdefault(c, len(index))
    counts = np.zeros(len(index), dtype=np.int64)
    positions = [index[c] for s in sketches for c in s.categories]
    if positions:
        np.add.at(counts, positions, np.concatenate([s.counts for s in sketches]))
    return CategoricalSketch(
        categories=tuple(index),
        counts=read_only(counts),
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
    for other in summaries[1:]:
        if other.names != first.names:
            raise DataValidationError(
                f"cannot merge window summaries of different features: {list(first.names)} "
                f"and {list(other.names)}."
            )
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

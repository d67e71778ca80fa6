"""Mergeable summaries of a window: the count tables that drift is judged from.

A numeric feature is summarised by its counts over the *reference's* quantile bins,
its count of missing values, its minimum and maximum, and, while the window has at
most ``sample_cap`` non-missing values, its exact sorted values. A categorical
feature is summarised by its category counts and missing count.

What is exact from summaries, whatever the windows' sizes: the PSI, the
Jensen–Shannon distance and the missing shares of every feature, and the
chi-square test, Cramér's V and the unseen categories of categorical features —
merging two summaries gives exactly the summary of the concatenated rows. The KS
test and the Wasserstein distance need the rows: they are exact while both
windows' samples are kept (at most ``sample_cap`` values each); beyond that
:func:`summary_drift` tests a numeric feature with the chi-square test over its
bins instead (``test="chi2_binned"``) and leaves the Wasserstein distance NaN.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from seawall._validation import check_real, param_error
from seawall.exceptions import InvalidParameterError
from seawall.monitoring._drift_inputs import (
    Table,
    category_counts,
    check_categorical,
    check_same_columns,
    column_kind,
    numeric_values,
    to_table,
)
from seawall.monitoring._drift_sketch import (
    CategoricalSketch,
    NumericSketch,
    Sketch,
    WindowSummary,
    read_only,
)

__all__ = ["summarize", "summarize_table"]


def summarize(
    X: object,
    *,
    reference: WindowSummary | None = None,
    categorical: object = None,
    n_bins: int | None = None,
    sample_cap: int | None = 10_000,
) -> WindowSummary:
    """Summarise a window into mergeable per-feature count tables.

    Summarise the reference window first (``reference=None``): its quantiles fix
    each numeric feature's bins and its columns fix the kinds. Then summarise each
    current window with ``reference=`` that summary, so all windows share bins and
    can be merged with :meth:`WindowSummary.merge` and judged with
    :func:`summary_drift`.

    Parameters
    ----------
    X : pandas.DataFrame or array-like of shape (n_rows, n_features)
        The window; a numeric array's features are named ``x0``, ``x1``...
    reference : WindowSummary or None, default=None
        The reference window's summary; ``None`` means ``X`` is the reference.
    categorical : list of str or None, default=None
        Columns to treat as categories whatever their dtype (reference only: an
        error with ``reference=``; other windows take the kinds of ``reference``).
        Non-numeric, boolean and pandas categorical columns are categorical anyway.
    n_bins : int or None, default=None
        Quantile bins per numeric feature, at least 2 (10 when None); reference
        only: an error with ``reference=``, whose bins every window shares.
    sample_cap : int or None, default=10_000
        Keep a numeric feature's exact sorted values while it has at most this many
        non-missing values (8 bytes each), so KS and Wasserstein stay exact;
        ``None`` keeps them all.

    Returns
    -------
    WindowSummary
        The summary. A feature that cannot be judged (all missing in the
        reference, a kind that differs from the reference's, infinite values)
        carries a ``reason``.

    Raises
    ------
    DataValidationError
        On a window without columns, with columns other than the reference's, or a
        declared categorical name that is not a column.
    InsufficientDataError
        On a window without rows.
    InvalidParameterError
        On a bad ``n_bins`` or ``sample_cap``.

    See Also
    --------
    summary_drift : Judge drift from two summaries.
    feature_drift : Judge drift from the rows.

    Examples
    --------
    >>> import pandas as pd
    >>> ref = summarize(pd.DataFrame({"a": range(100), "c": ["x", "y"] * 50}))
    >>> cur = summarize(pd.DataFrame({"a": [5.0, 50.0], "c": ["x", "z"]}), reference=ref)
    >>> cur["a"].counts.tolist()
    [1, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    >>> cur["c"].categories
    ('x', 'z')
    """
    caller = "summarize"
    if reference is not None and n_bins is not None:
        raise InvalidParameterError(
            f"{caller}: n_bins= applies to the reference window only (other windows share "
            "its bins); drop it when passing reference=."
        )
    bins = 10 if n_bins is None else int(check_real(n_bins, "n_bins", caller, low=2, integer=True))
    if sample_cap is not None:
        sample_cap = int(check_real(sample_cap, "sample_cap", caller, low=0, integer=True))
    if reference is not None and not isinstance(reference, WindowSummary):
        raise param_error("reference", caller, "a WindowSummary or None", reference)
    if reference is None:
        table = to_table(X, "reference", caller)
        declared = check_categorical(categorical, table, caller)
    else:
        if categorical is not None:
            raise InvalidParameterError(
                f"{caller}: categorical= applies to the reference window only (other windows "
                "take the reference's kinds); drop it when passing reference=."
            )
        table = to_table(X, "current", caller)
        declared = frozenset()
    return summarize_table(table, reference, declared, bins, sample_cap, caller)


def summarize_table(
    table: Table,
    reference: WindowSummary | None,
    declared: frozenset[str],
    n_bins: int,
    sample_cap: int | None,
    caller: str,
) -> WindowSummary:
    """Summarise a checked table (the body of :func:`summarize`, parameters valid).

    Parameters
    ----------
    table : Table
        The window's columns.
    reference : WindowSummary or None
        The reference's summary, or ``None`` when ``table`` is the reference.
    declared : frozenset of str
        Columns declared categorical (reference only).
    n_bins : int
        Quantile bins per numeric feature (reference only).
    sample_cap : int or None
        The most sorted values each numeric sketch keeps.
    caller : str
        Used in error messages.

    Returns
    -------
    WindowSummary
        The summary, features in the reference's order.

    Examples
    --------
    >>> from seawall.monitoring._drift_inputs import to_table
    >>> t = to_table(np.arange(6.0).reshape(3, 2), "reference", "f")
    >>> summarize_table(t, None, frozenset(), 2, None, "f")["x1"].counts.tolist()
    [1, 2]
    """
    if reference is not None:
        check_same_columns(reference.names, table.names, caller)
    window = "reference" if reference is None else "current"
    by_name = dict(zip(table.names, table.columns, strict=True))
    names = table.names if reference is None else reference.names
    sketches: list[Sketch] = []
    for col_name in names:
        column = by_name[col_name]
        if reference is None:
            kind: str = "categorical" if col_name in declared else column_kind(column)
            ref_sketch: Sketch | None = None
        else:
            ref_sketch = reference[col_name]
            kind = ref_sketch.kind
        sketches.append(_sketch(column, kind, ref_sketch, n_bins, sample_cap, window))
    return WindowSummary(names, tuple(sketches), table.n_rows)


def _sketch(
    column: Any,
    kind: str,
    ref: Sketch | None,
    n_bins: int,
    sample_cap: int | None,
    window: str,
) -> Sketch:
    """Summarise one column as ``kind``, on the reference sketch's bins if given."""
    own = column_kind(column)
    reason = ""
    if own == "unsupported":
        reason = f"has dtype {column.dtype}, neither numeric nor categorical"
    elif ref is not None and own == "categorical" and kind == "numeric":
        # Numbers may serve as categories, but text cannot serve as numbers.
        reason = (
            f"is numeric in the reference but categorical in the {window} window; make the "
            f"dtypes agree or declare it in categorical="
        )
    if kind == "categorical":
        if reason:
            return CategoricalSketch((), read_only(np.zeros(0, np.int64)), len(column), reason)
        categories, counts, n_missing = category_counts(column)
        return CategoricalSketch(categories, read_only(counts), n_missing)
    values = np.full(len(column), np.nan) if reason else numeric_values(column)
    edges = None if ref is None else cast(NumericSketch, ref).edges  # kinds follow ref
    return NumericSketch.from_values(values, edges, sample_cap, reason, n_bins=n_bins)

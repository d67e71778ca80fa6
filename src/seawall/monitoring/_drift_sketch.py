"""Mergeable per-feature summaries of a window: fixed-bin histograms and category counts.

See :mod:`seawall.monitoring._drift_summarize` for how they are built and which
drift statistics are exact from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from seawall._json import json_value
from seawall.exceptions import DataValidationError
from seawall.monitoring._drift_kernels import binned_counts, quantile_edges

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CategoricalSketch",
    "NumericSketch",
    "Sketch",
    "WindowSummary",
    "check_same_features",
    "merge_numeric",
    "read_only",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def read_only(arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Mark an array read-only (sketches are frozen) and return it.

    Parameters
    ----------
    arr : ndarray
        The array, owned by the caller.

    Returns
    -------
    ndarray
        The same array, no longer writeable.

    Examples
    --------
    >>> read_only(np.zeros(2)).flags.writeable
    False
    """
    arr.flags.writeable = False
    return arr


def check_same_features(summaries: Sequence[WindowSummary]) -> None:
    """Raise unless window summaries cover the same features (they merge only then).

    Parameters
    ----------
    summaries : sequence of WindowSummary
        At least one.

    Raises
    ------
    DataValidationError
        When the feature names differ.
    """
    first = summaries[0]
    for other in summaries[1:]:
        if other.names != first.names:
            raise DataValidationError(
                f"cannot merge window summaries of different features: {list(first.names)} "
                f"and {list(other.names)}."
            )


@dataclass(frozen=True, slots=True)
class NumericSketch:
    """A numeric feature's window summary on fixed bins (arrays are read-only).

    Attributes
    ----------
    edges : ndarray of float64, shape (n_edges,)
        The interior bin edges, the reference's quantiles (see
        :func:`~seawall.monitoring._drift_kernels.quantile_edges`).
    counts : ndarray of int64, shape (n_edges + 1,)
        Non-missing values per bin.
    n_missing : int
        Missing values (NaN).
    minimum, maximum : float
        The extremes of the non-missing values (NaN when there are none).
    sample : ndarray of float64 or None
        The sorted non-missing values while there are at most ``sample_cap`` of
        them; ``None`` beyond.
    sample_cap : int or None
        The most values ``sample`` keeps; ``None`` keeps all.
    reason : str
        Why the feature cannot be judged (e.g. infinite values); ``""`` when it can.
    """

    edges: FloatArray
    counts: IntArray
    n_missing: int
    minimum: float
    maximum: float
    sample: FloatArray | None
    sample_cap: int | None
    reason: str = ""

    @property
    def kind(self) -> str:
        """Always ``"numeric"``."""
        return "numeric"

    @property
    def n(self) -> int:
        """The number of non-missing values."""
        return int(self.counts.sum())

    def merge(self, other: NumericSketch) -> NumericSketch:
        """The summary of both windows' rows together.

        Parameters
        ----------
        other : NumericSketch
            A summary on the same bin edges.

        Returns
        -------
        NumericSketch
            Counts added, extremes combined; the sample is kept when both were and
            the total fits under the smaller cap.

        Raises
        ------
        DataValidationError
            When the bin edges differ.

        Examples
        --------
        >>> a = NumericSketch.from_values(np.array([1.0, 5.0]), np.array([2.0]), None)
        >>> a.merge(a).counts.tolist()
        [2, 2]
        """
        return merge_numeric([self, other])

    @classmethod
    def from_values(
        cls,
        values: FloatArray,
        edges: FloatArray | None,
        sample_cap: int | None,
        reason: str = "",
        *,
        n_bins: int = 10,
    ) -> NumericSketch:
        """Summarise a column of floats (NaN marks a missing value).

        Parameters
        ----------
        values : ndarray of float64, shape (n_rows,)
            The column.
        edges : ndarray of float64 or None
            The bin edges; ``None`` derives ``n_bins`` quantile bins from
            ``values`` (a reference).
        sample_cap : int or None
            The most values to keep sorted; ``None`` keeps all.
        reason : str, default=""
            A reason the feature cannot be judged, carried along.
        n_bins : int, default=10
            The bins wanted when ``edges`` is ``None``.

        Returns
        -------
        NumericSketch
            The summary.

        Examples
        --------
        >>> s = NumericSketch.from_values(np.array([3.0, np.nan, 1.0]), None, None)
        >>> s.n, s.n_missing, s.sample.tolist()
        (2, 1, [1.0, 3.0])
        """
        missing = np.isnan(values)
        n_missing = int(np.count_nonzero(missing))
        finite = values[~missing] if n_missing else values
        if not reason and np.isinf(finite).any():
            reason = f"holds {int(np.isinf(finite).sum())} infinite value(s); use NaN for missing"
        if reason:
            finite = finite[np.isfinite(finite)]
        keep = sample_cap is None or finite.size <= sample_cap
        srt = np.sort(finite) if keep or edges is None else None
        if edges is None:
            edges = quantile_edges(srt, n_bins) if srt is not None and srt.size else np.empty(0)
        if srt is not None:
            counts = binned_counts(srt, edges, is_sorted=True)
        else:
            counts = binned_counts(finite, edges)
        return cls(
            edges=read_only(np.asarray(edges, dtype=np.float64)),
            counts=read_only(counts),
            n_missing=n_missing,
            minimum=float(finite.min()) if finite.size else float("nan"),
            maximum=float(finite.max()) if finite.size else float("nan"),
            sample=read_only(srt) if keep and srt is not None else None,
            sample_cap=sample_cap,
            reason=reason,
        )


def merge_numeric(sketches: Sequence[NumericSketch]) -> NumericSketch:
    """The summary of several windows' values of one numeric feature, merged at once.

    :meth:`NumericSketch.merge` is its two-window case, and merging at once
    equals merging two by two: a sample survives when every part kept one and
    the total fits under the smallest cap, and it is sorted once, stably.

    Parameters
    ----------
    sketches : sequence of NumericSketch
        At least one, all on the same bin edges.

    Returns
    -------
    NumericSketch
        Counts added, extremes combined, samples concatenated and sorted once.

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
    parts = [s.sample for s in sketches if s.sample is not None]
    sample = None
    if len(parts) == len(sketches) and (cap is None or sum(s.n for s in sketches) <= cap):
        sample = read_only(np.sort(np.concatenate(parts), kind="stable"))
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


@dataclass(frozen=True, slots=True)
class CategoricalSketch:
    """A categorical feature's window summary: its category counts.

    Attributes
    ----------
    categories : tuple
        The distinct non-missing values, in order of first appearance.
    counts : ndarray of int64, shape (n_categories,)
        Rows per category (read-only).
    n_missing : int
        Missing values.
    reason : str
        Why the feature cannot be judged; ``""`` when it can.
    """

    categories: tuple[Any, ...]
    counts: IntArray
    n_missing: int
    reason: str = ""

    @property
    def kind(self) -> str:
        """Always ``"categorical"``."""
        return "categorical"

    @property
    def n(self) -> int:
        """The number of non-missing values."""
        return int(self.counts.sum())

    def merge(self, other: CategoricalSketch) -> CategoricalSketch:
        """The summary of both windows' rows together (categories are unioned).

        Parameters
        ----------
        other : CategoricalSketch
            Another window's summary of the same feature.

        Returns
        -------
        CategoricalSketch
            The categories of ``self`` then the new ones of ``other``.

        Examples
        --------
        >>> a = CategoricalSketch(("x",), np.array([2]), 0)
        >>> b = CategoricalSketch(("y", "x"), np.array([1, 1]), 1)
        >>> m = a.merge(b)
        >>> m.categories, m.counts.tolist(), m.n_missing
        (('x', 'y'), [3, 1], 1)
        """
        index = {c: i for i, c in enumerate(self.categories)}
        new = [c for c in other.categories if c not in index]
        for c in new:
            index[c] = len(index)
        counts = np.zeros(len(index), dtype=np.int64)
        counts[: len(self.categories)] = self.counts
        np.add.at(counts, [index[c] for c in other.categories], other.counts)
        return CategoricalSketch(
            categories=self.categories + tuple(new),
            counts=read_only(counts),
            n_missing=self.n_missing + other.n_missing,
            reason=self.reason or other.reason,
        )


Sketch = NumericSketch | CategoricalSketch


@dataclass(frozen=True, slots=True)
class WindowSummary:
    """Mergeable summaries of every feature of one window.

    Attributes
    ----------
    names : tuple of str
        The feature names, in column order.
    sketches : tuple of NumericSketch or CategoricalSketch
        One per name.
    n_rows : int
        The rows summarised.
    """

    names: tuple[str, ...]
    sketches: tuple[Sketch, ...]
    n_rows: int

    def __getitem__(self, name: str) -> Sketch:
        """The sketch of the feature called ``name``."""
        try:
            return self.sketches[self.names.index(name)]
        except ValueError as e:
            raise KeyError(name) from e

    def merge(self, other: WindowSummary) -> WindowSummary:
        """The summary of both windows' rows together.

        Parameters
        ----------
        other : WindowSummary
            A summary of the same features, made with the same reference.

        Returns
        -------
        WindowSummary
            Equal to the summary of the concatenated rows (the sample aside, which
            is dropped once it outgrows its cap).

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
        >>> w.merge(w).n_rows
        4
        """
        check_same_features((self, other))
        merged: list[Sketch] = []
        for name, a, b in zip(self.names, self.sketches, other.sketches, strict=True):
            if isinstance(a, NumericSketch) and isinstance(b, NumericSketch):
                merged.append(a.merge(b))
                continue
            if isinstance(a, CategoricalSketch) and isinstance(b, CategoricalSketch):
                merged.append(a.merge(b))
            else:
                raise DataValidationError(
                    f"cannot merge window summaries: feature {name!r} is {a.kind} in one "
                    f"and {b.kind} in the other; summarize both with the same reference=."
                )
        return WindowSummary(self.names, tuple(merged), self.n_rows + other.n_rows)

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-safe primitives with stable keys.

        Returns
        -------
        dict
            ``n_rows`` and ``features``: per feature its ``name``, ``kind``,
            ``n_missing``, ``counts`` and either ``edges``/``minimum``/``maximum``
            or ``categories`` (non-JSON categories as their ``str``).
        """
        features: list[dict[str, Any]] = []
        for name, s in zip(self.names, self.sketches, strict=True):
            item: dict[str, Any] = {"name": name, "kind": s.kind, "n_missing": s.n_missing}
            item["counts"] = [int(c) for c in s.counts]
            if isinstance(s, NumericSketch):
                item["edges"] = [float(e) for e in s.edges]
                item["minimum"] = json_value(s.minimum)
                item["maximum"] = json_value(s.maximum)
            else:
                item["categories"] = [
                    c if isinstance(c, str | int | float | bool) else str(c) for c in s.categories
                ]
            item["reason"] = s.reason
            features.append(item)
        return {"n_rows": self.n_rows, "features": features}

    def to_frame(self) -> pd.DataFrame:
        """One row per feature (pandas is imported here, lazily).

        Returns
        -------
        pandas.DataFrame
            Columns ``name``, ``kind``, ``n``, ``n_missing``, ``n_bins`` (bins or
            categories), ``sample_kept`` and ``reason``.
        """
        import pandas as pd

        return pd.DataFrame(
            {
                "name": list(self.names),
                "kind": [s.kind for s in self.sketches],
                "n": [s.n for s in self.sketches],
                "n_missing": [s.n_missing for s in self.sketches],
                "n_bins": [s.counts.size for s in self.sketches],
                "sample_kept": [
                    isinstance(s, NumericSketch) and s.sample is not None for s in self.sketches
                ],
                "reason": [s.reason for s in self.sketches],
            }
        )

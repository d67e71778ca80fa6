"""Score metrics (ROC AUC, Brier score, calibration error) of a partitioned data set, exactly.

AUC is a function of the order of the scores, not of counts, and the bootstrap
histogram's bins are the pooled scores' quantiles, so three more passes follow
the count tables:

1. **scan**: each partition's score range and a seeded sample of its scores;
   the sample's quantiles split the score axis into ranges ("buckets") of a few
   million rows each (any split gives the same result; this one balances them).
2. **sort**: each partition sends its rows' (score, label, weight, cell) to the
   bucket their score falls in; one task per bucket sorts its rows and returns,
   per group, the weight of ordered (positive, negative) pairs and of each class,
   and the few order statistics that the histogram's quantile edges need. A
   group's AUC is the sum over buckets of the bucket's pairs plus its positives
   times the negatives of the lower buckets: exact. This pass is a distributed
   sort: the cluster holds the sorted columns (about 21 bytes a row) until the
   bucket tasks have read them; Dask spills to disk when workers run short.
3. **histogram**: each partition's score histogram on those edges, added up.

The client then draws the Poisson bootstrap from the merged histogram, as
:meth:`~seawall.metrics._score_metrics.ScoreStats.compute` does in memory; the
result equals the in-memory one up to floating-point rounding of the sums.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from seawall._groups import to_group_columns
from seawall._validation import to_float, to_weights
from seawall.audit._audit import label_codes
from seawall.distributed._buckets import by_bucket, owners, run_buckets, sample, splitters
from seawall.distributed._files import read_columns
from seawall.distributed._reduce import map_parts, map_reduce
from seawall.exceptions import DataValidationError, SeawallWarning
from seawall.metrics._counts import CountTables
from seawall.metrics._score_metrics import ScoreStats
from seawall.metrics._scores import (
    ScoreHistogram,
    auc_from_parts,
    auc_parts,
    calibration_bins,
    histogram_edges,
    histogram_on_edges,
    histogram_quantiles,
    onto_unit,
)

if TYPE_CHECKING:
    from distributed import Client
    from seawall.distributed._cells import CellSpec

__all__ = ["ScoreParts", "distributed_score_stats"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def _cell_keys(tables: CountTables) -> dict[tuple[str, ...], int]:
    """Each fine cell's labels (one per sensitive feature), to find the cell of a row."""
    single = tables.groupings[: len(tables.features)]
    return {tuple(g.labels[g.members[c]] for g in single): c for c in range(tables.n_fine)}


def _rows(
    path: str, spec: CellSpec, score: str, keys: dict[tuple[str, ...], int]
) -> tuple[FloatArray, npt.NDArray[np.int8], FloatArray | None, IntArray]:
    """One partition's scores, labels, weights and fine cells (validated)."""
    name = Path(path).name
    table = read_columns(path, list(dict.fromkeys([*spec.columns, score])), "the audit")
    try:
        s = to_float(table.column(score).to_numpy(), f"the score column {score!r}")
        y = label_codes(
            table.column(spec.label).to_pandas(),
            spec.label,
            spec.positive_label,
            require_positive=False,
        ).astype(np.int8)
        w = (
            to_weights(table.column(spec.weight).to_numpy(), table.num_rows, spec.weight)
            if spec.weight
            else None
        )
    except DataValidationError as exc:
        raise DataValidationError(f"{exc} (in the partition {name})") from exc
    columns = to_group_columns(table.select(list(spec.sensitive)), table.num_rows)
    # The labels of each combination present, then its global fine cell.
    combo = np.zeros(table.num_rows, dtype=np.int64)
    for col in columns:
        combo = combo * len(col.labels) + col.codes
    present, inverse = np.unique(combo, return_inverse=True)
    cells = np.empty(present.size, dtype=np.intp)
    for k, code in enumerate(present.tolist()):
        labels = []
        for col in reversed(columns):
            code, c = divmod(code, len(col.labels))
            labels.append(col.labels[c])
        cells[k] = keys[tuple(reversed(labels))]
    return s, y, w, cells[inverse.reshape(-1)]


def _scan(item: tuple[int, str], score: str) -> tuple[float, float, int, FloatArray]:
    """A partition's score range, size and a seeded sample of its scores."""
    index, path = item
    s = to_float(
        read_columns(path, [score], "the audit").column(score).to_numpy(),
        f"the score column {score!r} (in the partition {Path(path).name})",
    )
    if s.size == 0:
        return math.inf, -math.inf, 0, s
    return float(s.min()), float(s.max()), int(s.size), sample(s, index)


def _split(
    path: str, spec: CellSpec, score: str, keys: dict[tuple[str, ...], int], cuts: FloatArray
) -> dict[int, Rows]:
    """A partition's rows, by bucket of their score."""
    s, y, w, cell = _rows(path, spec, score, keys)
    return by_bucket(cuts, s, y, w, cell)


Rows = tuple[FloatArray, npt.NDArray[np.int8], FloatArray | None, IntArray]


def _sizes(parts: dict[int, Rows], n_buckets: int) -> list[int]:
    return [int(parts[k][0].size) if k in parts else 0 for k in range(n_buckets)]


def _sort_bucket(
    ranks: IntArray,
    members: list[IntArray],
    sizes: list[int],
    *slices: Rows | None,
) -> tuple[list[tuple[FloatArray, FloatArray, FloatArray]], FloatArray]:
    """One bucket: each grouping's AUC sums, and its sorted scores at ``ranks``."""
    mine = [m for m in slices if m is not None]
    s = np.concatenate([m[0] for m in mine]) if mine else np.empty(0)
    y = np.concatenate([m[1] for m in mine]) if mine else np.empty(0, dtype=np.int8)
    weighted = any(m[2] is not None for m in mine)
    w = np.concatenate([m[2] for m in mine if m[2] is not None]) if weighted else None
    cell = np.concatenate([m[3] for m in mine]) if mine else np.empty(0, dtype=np.intp)
    order = np.argsort(s, kind="stable")
    sums = [auc_parts(s, y, w, g[cell], n, order) for g, n in zip(members, sizes, strict=True)]
    return sums, s[order][ranks]


def _histogram(
    path: str,
    spec: CellSpec,
    score: str,
    keys: dict[tuple[str, ...], int],
    n_fine: int,
    edges: FloatArray,
    n_calibration_bins: int,
    span: tuple[float, float] | None,
) -> tuple[FloatArray, ...]:
    """A partition's score histogram on the pooled edges, as a tuple of arrays."""
    s, y, w, cell = _rows(path, spec, score, keys)
    if span is not None:  # scores outside [0, 1]: the histogram serves AUC only
        lo, hi = span
        s = onto_unit(s, lo, hi)
    h = histogram_on_edges(s, y, w, cell, n_fine, edges, n_calibration_bins)
    return (h.rows, h.weight, h.s1, h.s2, h.s3, h.s4, *(h.squared_weights or ()))


def _add(*parts: tuple[FloatArray, ...]) -> tuple[FloatArray, ...]:
    return tuple(np.sum(arrays, axis=0) for arrays in zip(*parts, strict=True))


def _order_statistics(n: int) -> IntArray:
    """The ranks whose values make :func:`numpy.quantile` at the histogram's levels."""
    below = np.floor((n - 1) * histogram_quantiles()).astype(np.intp)
    return np.unique(np.concatenate([below, np.minimum(below + 1, n - 1)]))


@dataclass(frozen=True, slots=True)
class ScoreParts:
    """What the passes over the rows give: the merged histogram and each grouping's AUC.

    Attributes
    ----------
    hist : ScoreHistogram
        Per fine cell and class, the binned score sums.
    tables : CountTables
        The fine cells and groupings.
    aucs : tuple of ndarray of float64
        Each grouping's exact AUC per group.
    calibrated : bool
        Whether the scores were probabilities.
    """

    hist: ScoreHistogram
    tables: CountTables
    aucs: tuple[FloatArray, ...]
    calibrated: bool

    def stats(self, n_bootstrap: int, random_state: int) -> ScoreStats:
        """The score statistics with ``n_bootstrap`` replicates seeded by ``random_state``."""
        return ScoreStats.from_histogram(
            self.hist,
            self.tables,
            list(self.aucs),
            self.calibrated,
            n_bootstrap,
            np.random.default_rng(random_state),
        )


def distributed_score_stats(
    client: Client,
    files: Sequence[str],
    spec: CellSpec,
    score: str,
    tables: CountTables,
    n_rows: int,
    n_calibration_bins: int,
) -> ScoreParts:
    """The score statistics of a partitioned data set, equal to the in-memory ones.

    Parameters
    ----------
    client : distributed.Client
        The cluster.
    files : sequence of str
        The partitions.
    spec : CellSpec
        The label, sensitive and weight columns.
    score : str
        The score column.
    tables : CountTables
        The merged count tables (their fine cells).
    n_rows : int
        Rows counted.
    n_calibration_bins : int
        As for :func:`seawall.metrics.group_metrics`.

    Returns
    -------
    ScoreParts
        The histogram and exact AUCs; ``stats(n_bootstrap, random_state)``
        gives what ``ScoreStats.compute`` gives in memory.

    Raises
    ------
    DataValidationError
        On a missing or non-numeric score (naming the partition).
    """
    scanned = map_parts(client, _scan, list(enumerate(files)), score, key="seawall-score-scan")
    lo = min(r[0] for r in scanned)
    hi = max(r[1] for r in scanned)
    if sum(r[2] for r in scanned) != n_rows:
        raise DataValidationError(  # pragma: no cover - one data set, read twice
            "the partitions changed between two passes; run again on data that is not "
            "being written to."
        )
    calibrated = bool(lo >= 0.0 and hi <= 1.0)
    if not calibrated:
        warnings.warn(
            f"y_score has values outside [0, 1] (min {lo:.4g}, max {hi:.4g}); the Brier "
            f"score and calibration error need probabilities and are left out (NaN). AUC "
            f"is computed.",
            SeawallWarning,
            stacklevel=3,
        )
    cuts = splitters([r[3] for r in scanned], n_rows)
    keys = _cell_keys(tables)
    groupings = tables.groupings
    members = [g.members for g in groupings]
    sizes = [g.n_groups for g in groupings]

    split = client.map(
        _split, list(files), spec=spec, score=score, keys=keys, cuts=cuts, pure=False
    )
    n_b = cuts.size + 1
    counts = np.array(
        client.gather([client.submit(_sizes, f, n_b, pure=False) for f in split]),  # type: ignore[no-untyped-call]
        dtype=np.int64,
    ).reshape(len(files), n_b)
    starts = np.r_[0, np.cumsum(counts.sum(axis=0))]
    ranks = _order_statistics(n_rows)
    owner = owners(starts, ranks)
    args = [(ranks[owner == k] - starts[k], members, sizes) for k in range(n_b)]
    results = run_buckets(client, split, n_b, _sort_bucket, args)
    values = np.concatenate([r[1] for r in results])  # ranks in order: buckets ascend
    aucs = []
    for j, n_groups in enumerate(sizes):
        num = np.zeros(n_groups)
        pos = np.zeros(n_groups)
        neg = np.zeros(n_groups)
        for sums, _ in results:
            b_num, b_pos, b_neg = sums[j]
            num += b_num + b_pos * neg  # positives of this bucket beat every lower negative
            pos += b_pos
            neg += b_neg
        aucs.append(auc_from_parts(num, pos, neg))
    span = None if calibrated else (lo, hi)
    if span is not None:  # the histogram is of the rescaled scores, as in memory
        values = onto_unit(values, lo, hi)
    at = dict(zip(ranks.tolist(), values.tolist(), strict=True))
    h = (n_rows - 1) * histogram_quantiles()
    below = np.floor(h).astype(np.intp)
    # numpy's own interpolation between the two order statistics, so the edges are
    # the bits np.quantile gives on all the rows.
    quantiles = np.array(
        [
            np.quantile(np.array([at[b], at[min(b + 1, n_rows - 1)]]), g)
            for b, g in zip(below.tolist(), (h - below).tolist(), strict=True)
        ]
    )
    edges = histogram_edges(quantiles, n_calibration_bins)
    arrays = map_reduce(
        client,
        _histogram,
        list(files),
        _add,
        spec,
        score,
        keys,
        tables.n_fine,
        edges,
        n_calibration_bins,
        span,
        key="seawall-score-histogram",
    )
    rows, weight, s1, s2, s3, s4 = arrays[:6]
    hist = ScoreHistogram(
        rows,
        weight,
        s1,
        s2,
        s3,
        s4,
        squared_weights=(arrays[6], arrays[7], arrays[8]) if len(arrays) == 9 else None,
        calibration_bin=calibration_bins(edges, n_calibration_bins),
        n_calibration_bins=n_calibration_bins,
    )
    return ScoreParts(hist, tables, tuple(aucs), calibrated)

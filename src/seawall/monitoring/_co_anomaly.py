"""Series that are often anomalous together: a label learned from past flags.

Two series are *co-anomalous* when, in a past stretch of flags, at least
``min_joint`` runs of one began while the other was anomalous (or at most ``gap``
steps after), and those joint runs are at least ``min_jaccard`` of all their runs (the
Jaccard index of their run sets: joint / (runs of one + runs of the other -
joint)). Co-anomalous pairs are linked, and each connected set of two or more
series becomes a group; :func:`group_incidents` uses the group as one more label
(column ``"co_anomaly"``), so series with no declared label in common, but a
history of failing together (a hidden shared dependency), are grouped like
series that share a source.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from seawall.monitoring._runs import find_runs

__all__ = ["co_anomaly_groups"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def co_anomaly_groups(
    history: BoolArray, *, gap: int, min_joint: int = 2, min_jaccard: float = 0.5
) -> IntArray:
    """Group the series that were often anomalous together in the past (a kernel).

    Parameters
    ----------
    history : ndarray of bool, shape (n_series, n_past_steps)
        Past flags (e.g. :func:`flag_anomalies` over last month's scores).
    gap : int
        Steps allowed between two runs that count as joint.
    min_joint : int, default=2
        Fewest joint runs for a pair to be linked.
    min_jaccard : float, default=0.5
        Smallest share of the pair's runs that must be joint.

    Returns
    -------
    ndarray of int64, shape (n_series,)
        The group of each series (0, 1, ...), -1 for series in no group.

    Examples
    --------
    Series 0 and 2 failed together three times; series 1 once, alone:

    >>> h = np.zeros((3, 30), dtype=bool)
    >>> h[[0, 2], 3] = h[[0, 2], 12] = h[[0, 2], 21] = True
    >>> h[1, 12] = True
    >>> co_anomaly_groups(h, gap=1).tolist()
    [0, -1, 0]
    """
    n_series, n_steps = history.shape
    runs = find_runs(history)
    out = np.full(n_series, -1, dtype=np.int64)
    if len(runs) == 0:
        return out
    active = np.zeros((n_series, n_steps + 1), dtype=np.int64)
    np.add.at(active, (runs.series, runs.start), 1)
    np.add.at(active, (runs.series, np.minimum(runs.end + gap + 2, n_steps)), -1)
    dilated = np.cumsum(active[:, :n_steps], axis=1) > 0
    starts = sparse.csr_array(
        (np.ones(len(runs)), (runs.series, runs.start)), shape=(n_series, n_steps)
    )
    # joint[i, j]: runs of i that began while j was anomalous (or within gap after).
    joint = (starts @ sparse.csr_array(dilated.astype(np.float64)).T).tocoo()
    i, j, v = joint.row, joint.col, joint.data
    keep = i != j
    i, j, v = i[keep], j[keep], v[keep]
    both = sparse.coo_array((v, (i, j)), shape=(n_series, n_series)).tocsr()
    sym = both.maximum(both.T).tocoo()
    n_runs = np.bincount(runs.series, minlength=n_series).astype(np.float64)
    a, b, c = sym.row, sym.col, sym.data
    jaccard = c / np.maximum(n_runs[a] + n_runs[b] - c, 1.0)
    ok = (c >= min_joint) & (jaccard >= min_jaccard)
    if not ok.any():
        return out
    graph = sparse.coo_array((np.ones(int(ok.sum())), (a[ok], b[ok])), shape=(n_series,) * 2)
    _, comp = connected_components(graph.tocsr(), directed=False)
    sizes = np.bincount(comp)
    grouped = sizes[comp] >= 2
    _, ids = np.unique(comp[grouped], return_inverse=True)
    out[grouped] = ids
    return out

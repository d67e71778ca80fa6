"""A distributed sort by value range: each partition's rows sent to the bucket of their value.

Exact order statistics of a column too large for one machine: a seeded sample
of each partition places the splitters; each partition cuts its rows into
buckets by value (kept on the worker that read them); the client gathers only
how many rows each bucket got; then one task per bucket receives its slice of
every partition, sorts it and returns what was asked of it. Equal values fall
in one bucket, so the i-th smallest value of the whole column is found in the
bucket whose row counts bracket ``i``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from distributed import Client, Future

__all__ = ["BUCKET_ROWS", "SAMPLE", "by_bucket", "owners", "run_buckets", "sample", "splitters"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

#: Rows per bucket of the sort, about.
BUCKET_ROWS = 4_000_000
#: Values sampled per partition to place the buckets.
SAMPLE = 2_000


def sample(values: FloatArray, seed: int | Sequence[int]) -> FloatArray:
    """A seeded sample, without replacement, of up to :data:`SAMPLE` of a partition's values.

    Examples
    --------
    >>> sample(np.arange(5.0), 0).size, sample(np.arange(5000.0), 0).size
    (5, 2000)
    """
    rng = np.random.default_rng(seed)
    out: FloatArray = rng.choice(values, size=min(SAMPLE, values.size), replace=False)
    return out


def splitters(samples: Sequence[FloatArray], n_rows: int) -> FloatArray:
    """Values that cut ``n_rows`` rows into buckets of about :data:`BUCKET_ROWS` rows.

    Any splitters give the same sorted result; these, the sample's quantiles,
    balance the buckets. A value equal to a splitter goes to the upper bucket
    (``searchsorted(..., side="right")``).

    Examples
    --------
    >>> splitters([np.arange(100.0)], 8_000_000).tolist()
    [49.5]
    """
    pooled = np.concatenate(list(samples)) if samples else np.empty(0)
    n_buckets = max(1, math.ceil(n_rows / BUCKET_ROWS))
    if pooled.size == 0 or n_buckets == 1:
        return np.empty(0)
    out: FloatArray = np.unique(np.quantile(pooled, np.arange(1, n_buckets) / n_buckets))
    return out


def by_bucket(
    cuts: FloatArray, values: FloatArray, *columns: npt.NDArray[Any] | None
) -> dict[int, tuple[Any, ...]]:
    """A partition's rows cut by the bucket of ``values``: ``(values, *columns)`` per bucket.

    A column that is None stays None in every bucket; buckets without rows are absent.

    Examples
    --------
    >>> parts = by_bucket(np.array([1.5]), np.array([2.0, 1.0, 3.0]), np.array([0, 1, 2]), None)
    >>> {k: (v.tolist(), c.tolist(), w) for k, (v, c, w) in parts.items()}
    {0: ([1.0], [1], None), 1: ([2.0, 3.0], [0, 2], None)}
    """
    bucket = np.searchsorted(cuts, values, side="right")
    out = {}
    for k in np.unique(bucket).tolist():
        sel = bucket == k
        out[k] = (values[sel], *(None if c is None else c[sel] for c in columns))
    return out


def owners(starts: IntArray, ranks: IntArray) -> IntArray:
    """The bucket holding each rank, given the first rank of every bucket.

    Examples
    --------
    >>> owners(np.array([0, 3, 3, 7]), np.array([0, 2, 3, 6])).tolist()
    [0, 0, 2, 2]
    """
    out: IntArray = np.searchsorted(starts, ranks, side="right") - 1
    return out


def _pick(parts: dict[int, Any], k: int) -> Any:
    """One bucket's rows of one partition (a task on the worker that holds them)."""
    return parts.get(k)


def run_buckets(
    client: Client,
    split: list[Future[Any]],
    n_buckets: int,
    task: Callable[..., Any],
    args: Sequence[tuple[Any, ...]],
) -> list[Any]:
    """``task(*args[k], *slices)`` for each bucket ``k``, its slices of every partition last.

    Parameters
    ----------
    client : distributed.Client
        The cluster.
    split : list of Future
        Per partition, a dict from bucket to that bucket's rows (buckets without
        rows absent). The list is emptied once the slices are picked, so the
        cluster can drop the partitions' rows as soon as the buckets have read them.
    n_buckets : int
        The number of buckets.
    task : callable
        Run once per bucket on a worker; its slices arrive as ``None`` where a
        partition had no rows in the bucket.
    args : sequence of tuple
        Each bucket's leading arguments.

    Returns
    -------
    list
        The buckets' results, in bucket order.
    """
    # Each bucket task receives only its slice of every partition, picked where it lies.
    picked = [[client.submit(_pick, f, k, pure=False) for f in split] for k in range(n_buckets)]
    split.clear()
    done = [client.submit(task, *args[k], *picked[k], pure=False) for k in range(n_buckets)]
    del picked
    results: list[Any] = client.gather(done)  # type: ignore[no-untyped-call]
    return results

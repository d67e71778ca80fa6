"""Scale-out on Dask: the same audits and fleet monitoring over partitioned Parquet data.

Nothing here runs a cluster of Seawall's own: tasks go to ``dask.distributed``,
on a ``LocalCluster`` on this machine (``"local"``) or a cluster someone runs
(a scheduler's address, or a ``Client``). Importing :mod:`seawall` never
imports Dask; only this package does.

Each task reads one Parquet file (a partition) and returns something small:
count tables whose exact merge is the table of the whole data, or the few
flagged steps of a block of series. The rows never travel to the client.

- :func:`group_metrics`, :func:`regression_metrics` and :func:`audit`: group
  fairness of a partitioned decision log, equal to the in-memory result
  whatever the partitioning.
- :func:`find_associations` and :func:`profile_errors`: association and
  weak-slice investigations of a partitioned data set, split by a seeded hash
  of a row key, equal to the in-memory result.
- :func:`window_metrics`: windowed model metrics (volume, scores, performance,
  label-free estimates, drift, fairness, quality) of prediction logs partitioned
  by time or model; windows cut by a file boundary merge exactly, and the
  points equal the in-memory result.
- :func:`fit_remover` and :func:`repair`: the disparate-impact repair of a
  partitioned data set, fitted on exact order statistics (a distributed sort)
  and applied partition by partition, equal to the in-memory result.
- :func:`detect_fleet`: anomaly detection and incidents over a fleet whose
  partitions each hold whole series, equal to the single-machine run.
- :func:`fit_stream` and :func:`tick_stream`: streaming detection with each
  block's state in a Parquet file, one task per block per tick.
- :func:`connect`: a client for a ``with`` block; :func:`parquet_files`: the
  partitions of a directory or glob.

Examples
--------
>>> from seawall.distributed import parquet_files
>>> parquet_files("no/such/dir")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
seawall.exceptions.DataValidationError: the data 'no/such/dir' is neither a directory, ...
"""

from __future__ import annotations

from seawall.distributed._audit import audit
from seawall.distributed._cluster import connect
from seawall.distributed._detect import FleetDetection, detect_fleet
from seawall.distributed._files import parquet_files
from seawall.distributed._metrics import group_metrics, regression_metrics
from seawall.distributed._repair import RepairedParts, fit_remover, repair
from seawall.distributed._scan import find_associations, profile_errors
from seawall.distributed._stream import StreamTick, fit_stream, tick_stream
from seawall.distributed._windows import window_metrics

__all__ = [
    "FleetDetection",
    "RepairedParts",
    "StreamTick",
    "audit",
    "connect",
    "detect_fleet",
    "find_associations",
    "fit_remover",
    "fit_stream",
    "group_metrics",
    "parquet_files",
    "profile_errors",
    "regression_metrics",
    "repair",
    "tick_stream",
    "window_metrics",
]

"""The embedded DuckDB store: prediction logs, labels, metric series and incidents.

One :class:`Store` owns the DuckDB connection (a file, or memory) and hands out a
cursor per thread or request. Batches go in through DuckDB's Parquet/CSV readers or
as Arrow; ingestion is idempotent on the request id; reads come back as
``pyarrow.Table``. The library core never imports this package.
:func:`compute_windows` and :func:`detect_incidents` run the monitoring loop over
a store (what ``seawall monitor windows`` and ``seawall monitor detect`` do);
:func:`ingest_fleet` loads a simulated fleet's logs and labels into one, and
:func:`store_fleet_results` a fleet scored in memory (series, scores, incidents).

Examples
--------
>>> import pandas as pd
>>> from seawall.storage import Store
>>> logs = pd.DataFrame({
...     "time": pd.date_range("2024-05-01", periods=4, freq="30min"),
...     "model": "churn",
...     "request_id": ["r1", "r2", "r3", "r4"],
...     "prediction": [1, 0, 1, 1],
...     "score": [0.9, 0.2, 0.7, 0.8],
...     "plan": ["pro", "free", "pro", "free"],
... })
>>> with Store() as store:
...     result = store.ingest_predictions(logs)
...     windows = store.window_counts("1h").to_pandas()
>>> result.inserted
4
>>> windows["n_predictions"].tolist()
[2, 2]
"""

from __future__ import annotations

from seawall.storage._fleet_load import FleetLoad, ingest_fleet
from seawall.storage._fleet_results import store_fleet_results
from seawall.storage._incidents import FEEDBACK_ACTIONS, INCIDENT_STATUSES
from seawall.storage._pipeline import WindowsRun, compute_windows, detect_incidents, incident_id
from seawall.storage._results import IngestResult
from seawall.storage._schema import SCHEMA_VERSION
from seawall.storage._sql import quote_identifier
from seawall.storage._store import Store

__all__ = [
    "FEEDBACK_ACTIONS",
    "INCIDENT_STATUSES",
    "SCHEMA_VERSION",
    "FleetLoad",
    "IngestResult",
    "Store",
    "WindowsRun",
    "compute_windows",
    "detect_incidents",
    "incident_id",
    "ingest_fleet",
    "quote_identifier",
    "store_fleet_results",
]

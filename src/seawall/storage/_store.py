"""The :class:`Store`: one object owns the DuckDB connection of the embedded store."""

from __future__ import annotations

from seawall.storage._store_logs import PredictionLogMethods
from seawall.storage._store_monitor import MonitoringMethods

__all__ = ["Store"]


class Store(PredictionLogMethods, MonitoringMethods):
    """The embedded DuckDB store of prediction logs, labels, metrics and incidents.

    One ``Store`` owns one DuckDB connection; every method runs on a cursor of its
    own, so the methods may be called from several threads at once. Writes are
    serialised by a lock and run in one transaction each: a batch that fails
    (bad input, a DuckDB error) is rolled back whole and what was accepted before
    stays. Every value reaches SQL as a parameter; results come back as
    ``pyarrow.Table``; a ``duckdb.Error`` is re-raised as :class:`StorageError`.

    Times are stored as naive UTC timestamps: naive input is taken as UTC,
    time-zone-aware input is converted.

    Parameters
    ----------
    path : str, os.PathLike or None, default=None
        The database file (created when missing, e.g. ``"fleet.duckdb"``);
        ``None`` or ``":memory:"`` keeps the store in memory.
    read_only : bool, default=False
        Open an existing file for reading only (several processes may then read it).

    Raises
    ------
    StorageError
        When the file cannot be opened (locked by another process, not a DuckDB
        file, in a missing folder) or was written by a newer schema.

    See Also
    --------
    Store.cursor : a DuckDB cursor for your own SQL, e.g. in another thread.

    Examples
    --------
    >>> import pandas as pd
    >>> logs = pd.DataFrame({
    ...     "time": pd.to_datetime(["2024-05-01 09:00", "2024-05-01 09:30", "2024-05-01 10:10"]),
    ...     "model": ["churn", "churn", "churn"],
    ...     "request_id": ["r1", "r2", "r3"],
    ...     "prediction": [1, 0, 1],
    ...     "score": [0.9, 0.2, 0.7],
    ...     "tenure": [12, 3, 40],
    ...     "plan": ["pro", "free", "pro"],
    ... })
    >>> labels = pd.DataFrame({"model": ["churn"], "request_id": ["r1"], "label": [1]})
    >>> with Store(":memory:") as store:
    ...     first = store.ingest_predictions(logs)
    ...     again = store.ingest_predictions(logs)
    ...     _ = store.ingest_labels(labels, label_time_col=None)
    ...     table = store.read_predictions("churn")
    >>> first.inserted, again.duplicates
    (3, 3)
    >>> table.column_names
    ['time', 'model', 'request_id', 'prediction', 'score', 'tenure', 'plan', 'label', 'label_time']
    >>> table.column("label").to_pylist()
    [1, None, None]
    """

"""The store's tables, created idempotently, and the schema version they carry.

Every time is a naive ``TIMESTAMP`` in UTC. Prediction features vary per model, so
a prediction row keeps its logged features and sensitive attributes in one JSON
object, ``features`` (numbers stay JSON numbers, integers exact, text stays text);
``model_columns`` records, per model, each column's role and kind so that a read
restores the columns with their types. (JSON was measured against two
``MAP(VARCHAR, ...)`` columns: about four times cheaper to build per row, and
cheaper to read for one model.) Model labels live in the long table
``model_labels(model, key, value)``, which makes "which models share a label" one
``GROUP BY``.

No table carries a primary-key index except the small catalog tables: the large
tables are de-duplicated by anti-joins under the store's write lock, which keeps
ingestion free of an in-memory index that grows with every row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from seawall.exceptions import StorageError

if TYPE_CHECKING:
    import duckdb
from seawall.storage._sql import fetch_row

__all__ = ["SCHEMA_VERSION", "TABLES", "ensure_schema", "stored_version"]

SCHEMA_VERSION = 2
"""The version of the layout below; a store written by a newer layout is refused.

Version 2 added ``baseline`` and ``scale`` to ``anomalies`` (the expected value
and the robust scale of each scored step, for plots of a series against its
band); a version-1 store gets them, empty, when it is opened for writing.
"""

_DDL = (
    """CREATE TABLE IF NOT EXISTS seawall_schema (
        version INTEGER NOT NULL,
        applied_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS models (
        model VARCHAR PRIMARY KEY,
        version VARCHAR,
        project VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS model_labels (
        model VARCHAR NOT NULL,
        key VARCHAR NOT NULL,
        value VARCHAR NOT NULL,
        PRIMARY KEY (model, key)
    )""",
    """CREATE TABLE IF NOT EXISTS model_columns (
        model VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (model, name)
    )""",
    """CREATE TABLE IF NOT EXISTS predictions (
        model VARCHAR NOT NULL,
        request_id VARCHAR NOT NULL,
        time TIMESTAMP NOT NULL,
        prediction DOUBLE,
        prediction_text VARCHAR,
        score DOUBLE,
        features JSON
    )""",
    """CREATE TABLE IF NOT EXISTS labels (
        model VARCHAR NOT NULL,
        request_id VARCHAR NOT NULL,
        label DOUBLE,
        label_text VARCHAR,
        label_time TIMESTAMP
    )""",
    """CREATE TABLE IF NOT EXISTS metric_points (
        model VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        qualifier VARCHAR NOT NULL,
        window_start TIMESTAMP NOT NULL,
        window_end TIMESTAMP,
        value DOUBLE,
        lower DOUBLE,
        upper DOUBLE,
        n BIGINT,
        extra MAP(VARCHAR, DOUBLE)
    )""",
    """CREATE TABLE IF NOT EXISTS anomalies (
        series VARCHAR NOT NULL,
        timestamp TIMESTAMP NOT NULL,
        value DOUBLE,
        score DOUBLE,
        is_anomaly BOOLEAN NOT NULL,
        baseline DOUBLE,
        scale DOUBLE
    )""",
    """CREATE TABLE IF NOT EXISTS incidents (
        id VARCHAR PRIMARY KEY,
        start TIMESTAMP NOT NULL,
        "end" TIMESTAMP NOT NULL,
        severity DOUBLE,
        members VARCHAR[] NOT NULL,
        shared_labels MAP(VARCHAR, VARCHAR),
        status VARCHAR NOT NULL,
        summary VARCHAR,
        peak_score DOUBLE,
        n_anomalies BIGINT
    )""",
    """CREATE TABLE IF NOT EXISTS feedback (
        incident_id VARCHAR NOT NULL,
        action VARCHAR NOT NULL,
        time TIMESTAMP NOT NULL,
        note VARCHAR NOT NULL
    )""",
)

_MIGRATIONS = (
    "ALTER TABLE anomalies ADD COLUMN IF NOT EXISTS baseline DOUBLE",
    "ALTER TABLE anomalies ADD COLUMN IF NOT EXISTS scale DOUBLE",
)
"""What brings an older store up to :data:`SCHEMA_VERSION`; a no-op on a current one."""

TABLES = (
    "models",
    "model_labels",
    "model_columns",
    "predictions",
    "labels",
    "metric_points",
    "anomalies",
    "incidents",
    "feedback",
)
"""The data tables, in the order :meth:`Store.table_sizes` reports them."""


def stored_version(cur: duckdb.DuckDBPyConnection) -> int | None:
    """The schema version recorded in the store, or ``None`` when it has none yet.

    Parameters
    ----------
    cur : duckdb.DuckDBPyConnection
        A cursor on the store.

    Returns
    -------
    int or None
        The highest version recorded.
    """
    found = fetch_row(
        cur,
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_name = ? AND table_type = 'BASE TABLE'",
        ["seawall_schema"],
    )
    if found is None or found[0] == 0:
        return None
    row = fetch_row(cur, "SELECT max(version) FROM seawall_schema")
    return None if row is None or row[0] is None else int(row[0])


def ensure_schema(cur: duckdb.DuckDBPyConnection, *, read_only: bool, where: str) -> int:
    """Create every table that is missing and record the schema version.

    Running it again on a store that has the tables changes nothing.

    Parameters
    ----------
    cur : duckdb.DuckDBPyConnection
        A cursor on the store, outside any transaction.
    read_only : bool
        Whether the store was opened read-only: then nothing is created, and a
        store without tables is an error.
    where : str
        The store's location, used in messages.

    Returns
    -------
    int
        The schema version of the store.

    Raises
    ------
    StorageError
        When the store was written by a newer schema, or is read-only and empty.
    """
    version = stored_version(cur)
    if version is not None and version > SCHEMA_VERSION:
        raise StorageError(
            f"the store {where} has schema version {version}, but this Seawall reads "
            f"version {SCHEMA_VERSION} at most; upgrade Seawall to open it."
        )
    if read_only:
        if version is None:
            raise StorageError(
                f"the store {where} has no Seawall tables and was opened read_only=True; "
                f"open it once without read_only to create them."
            )
        return version
    cur.begin()
    try:
        for statement in _DDL:
            cur.execute(statement)
        for statement in _MIGRATIONS:
            cur.execute(statement)
        if version is None or version < SCHEMA_VERSION:
            cur.execute("INSERT INTO seawall_schema VALUES (?, now()::TIMESTAMP)", [SCHEMA_VERSION])
        cur.commit()
    except BaseException:
        cur.rollback()
        raise
    return SCHEMA_VERSION

"""A per-model, per-window summary of the anomaly scores, so overviews stay fast.

The fleet overview colours each model's recent windows by their worst anomaly
score. Read from the scored steps themselves, that is a scan of every series of
every model; the service instead refreshes ``service_model_health(model,
timestamp, worst_score, n_flagged, n_series)`` after each detection run, one row
per model and window.
"""

from __future__ import annotations

from seawall.storage import Store

__all__ = ["HEALTH_DDL", "refresh_health"]

HEALTH_DDL = """CREATE TABLE IF NOT EXISTS service_model_health (
    model VARCHAR NOT NULL,
    timestamp TIMESTAMP NOT NULL,
    worst_score DOUBLE,
    n_flagged BIGINT NOT NULL,
    n_series BIGINT NOT NULL
)"""

SERIES_MODEL = "split_part(series, '/', 1)"
"""SQL for the model of a stored series key ``model/metric[/qualifier]``."""


def refresh_health(store: Store) -> int:
    """Rebuild the summary from the stored scores; returns its number of rows.

    Examples
    --------
    >>> import pandas as pd
    >>> from seawall.service._schema import ensure_service_tables
    >>> with Store() as store:
    ...     ensure_service_tables(store)
    ...     _ = store.write_anomalies(pd.DataFrame({
    ...         "series": ["m/volume", "m/accuracy"],
    ...         "timestamp": pd.to_datetime(["2024-05-01"] * 2),
    ...         "score": [0.2, 0.9999], "is_anomaly": [False, True]}))
    ...     refresh_health(store)
    ...     store.cursor().execute("SELECT * FROM service_model_health").fetchall()
    1
    [('m', datetime.datetime(2024, 5, 1, 0, 0), 0.9999, 1, 2)]
    """
    with store.transaction("summarising model health") as cur:
        cur.execute("DELETE FROM service_model_health")
        cur.execute(
            f"INSERT INTO service_model_health SELECT {SERIES_MODEL} AS model, timestamp, "
            f"max(score), count(*) FILTER (WHERE is_anomaly), count(*) FROM anomalies "
            f"GROUP BY ALL"
        )
        row = cur.execute("SELECT count(*) FROM service_model_health").fetchone()
    return 0 if row is None else int(row[0])

"""The service's own tables, kept in the same store as the data they guard."""

from __future__ import annotations

from seawall.service._health import HEALTH_DDL
from seawall.storage import Store

__all__ = ["SERVICE_DDL", "ensure_service_tables"]

SERVICE_DDL = (
    """CREATE TABLE IF NOT EXISTS service_projects (
        project VARCHAR PRIMARY KEY,
        description VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS service_tokens (
        token_id VARCHAR PRIMARY KEY,
        secret_sha256 VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        scopes VARCHAR[] NOT NULL,
        projects VARCHAR[] NOT NULL,
        created_at TIMESTAMP NOT NULL,
        revoked_at TIMESTAMP
    )""",
    HEALTH_DDL,
    """CREATE TABLE IF NOT EXISTS service_webhooks (
        webhook_id VARCHAR PRIMARY KEY,
        project VARCHAR NOT NULL,
        url VARCHAR NOT NULL,
        secret VARCHAR NOT NULL,
        min_severity DOUBLE NOT NULL,
        created_at TIMESTAMP NOT NULL,
        active BOOLEAN NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS service_alerts (
        webhook_id VARCHAR NOT NULL,
        incident_id VARCHAR NOT NULL,
        payload JSON NOT NULL,
        created_at TIMESTAMP NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at TIMESTAMP NOT NULL,
        delivered_at TIMESTAMP,
        last_error VARCHAR,
        PRIMARY KEY (webhook_id, incident_id)
    )""",
    """CREATE TABLE IF NOT EXISTS service_reports (
        report_id VARCHAR PRIMARY KEY,
        model VARCHAR NOT NULL,
        version VARCHAR,
        created_at TIMESTAMP NOT NULL,
        title VARCHAR NOT NULL,
        report JSON NOT NULL,
        html VARCHAR
    )""",
)
"""``CREATE TABLE IF NOT EXISTS`` statements: running them again changes nothing."""


def ensure_service_tables(store: Store) -> None:
    """Create the service's tables in ``store`` when they are missing.

    Examples
    --------
    >>> with Store() as store:
    ...     ensure_service_tables(store)
    ...     ensure_service_tables(store)
    """
    with store.transaction("creating the service's tables") as cur:
        for statement in SERVICE_DDL:
            cur.execute(statement)

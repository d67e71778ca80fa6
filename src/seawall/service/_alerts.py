"""Webhook alerts: one signed notification per incident and webhook, retried with backoff.

An alert is queued in the store (``service_alerts``, keyed by webhook and incident,
so an incident is announced once however often detection reruns) and delivered by
:func:`deliver_due`. A delivery that fails (network error or a non-2xx answer) is
retried after 30 s, 1 min, 2 min... up to an hour apart, at most ``max_attempts``
times. Queued alerts survive a restart.

Each request carries ``X-Seawall-Timestamp`` (Unix seconds) and
``X-Seawall-Signature: sha256=HEX``, the HMAC-SHA256 of ``"{timestamp}.{body}"``
under the webhook's secret; :func:`verify_signature` is what a receiver runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from seawall.service._projects import PROJECT_OF
from seawall.storage import Store

__all__ = ["Delivery", "deliver_due", "enqueue_alerts", "sign", "verify_signature"]

_BACKOFF_SECONDS = 30.0
_BACKOFF_CAP_SECONDS = 3600.0


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value of a webhook request.

    Examples
    --------
    >>> signature = sign("s3cret", 1700000000, b'{"a": 1}')
    >>> mac = hmac.new(b"s3cret", b'1700000000.{"a": 1}', hashlib.sha256)
    >>> signature == "sha256=" + mac.hexdigest()
    True
    """
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    tolerance_seconds: float = 300.0,
    now: float | None = None,
) -> bool:
    """Whether a webhook request is from this service and recent (what a receiver checks).

    Parameters
    ----------
    secret : str
        The webhook's secret (shown once when the webhook was created).
    timestamp, signature : str
        The ``X-Seawall-Timestamp`` and ``X-Seawall-Signature`` headers.
    body : bytes
        The raw request body.
    tolerance_seconds : float, default=300
        How old a request may be (against replays).
    now : float or None
        The current Unix time (for tests).

    Examples
    --------
    >>> body = b'{"incident": {"id": "i1"}}'
    >>> verify_signature("s3cret", "1700000000", body, sign("s3cret", 1700000000, body),
    ...                  now=1700000010)
    True
    >>> verify_signature("wrong", "1700000000", body, sign("s3cret", 1700000000, body),
    ...                  now=1700000010)
    False
    """
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


def enqueue_alerts(store: Store, project: str, now: dt.datetime) -> int:
    """Queue one alert per open incident of ``project`` and webhook not yet alerted.

    An incident is the project's when all its member series' models are. Only
    incidents at least as severe as the webhook's ``min_severity`` are queued.
    Returns the number queued.
    """
    with store.transaction("queueing alerts") as cur:
        rows = cur.execute(
            f"""
            WITH im AS (SELECT id, unnest(members) AS series FROM incidents WHERE status = 'open'),
            mine AS (
                SELECT im.id FROM im LEFT JOIN models m ON m.model = split_part(im.series, '/', 1)
                GROUP BY im.id HAVING bool_and({PROJECT_OF} = ?)
            )
            SELECT w.webhook_id, i.id, i.start, i."end", i.severity, i.members, i.shared_labels,
                   i.summary, i.peak_score, i.n_anomalies
            FROM incidents i JOIN mine USING (id)
            JOIN service_webhooks w ON w.project = ? AND w.active
                AND coalesce(i.severity, 0) >= w.min_severity
            WHERE NOT EXISTS (SELECT 1 FROM service_alerts a
                              WHERE a.webhook_id = w.webhook_id AND a.incident_id = i.id)
            """,
            [project, project],
        ).fetchall()
        for r in rows:
            payload = {
                "event": "incident.opened",
                "project": project,
                "incident": {
                    "id": r[1],
                    "start": r[2].isoformat(),
                    "end": None if r[3] is None else r[3].isoformat(),
                    "severity": r[4],
                    "members": list(r[5]),
                    "shared_labels": dict(r[6] or {}),
                    "summary": r[7],
                    "peak_score": r[8],
                    "n_anomalies": r[9],
                },
                "link": f"/incidents/{project}/{r[1]}",
            }
            cur.execute(
                "INSERT INTO service_alerts VALUES (?, ?, ?, ?, 0, ?, NULL, NULL)",
                [r[0], r[1], json.dumps(payload), now, now],
            )
    return len(rows)


@dataclass(frozen=True)
class Delivery:
    """What one round of deliveries did."""

    delivered: int
    failed: int
    gave_up: int


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(_BACKOFF_SECONDS * 2 ** (attempts - 1), _BACKOFF_CAP_SECONDS))


def deliver_due(
    store: Store,
    http: httpx.Client,
    now: dt.datetime,
    *,
    max_attempts: int = 8,
    clock: Any = time.time,
) -> Delivery:
    """POST every alert that is due; record success, or the error and the next attempt."""
    cur = store.cursor()
    try:
        due = cur.execute(
            "SELECT a.webhook_id, a.incident_id, a.payload, a.attempts, w.url, w.secret "
            "FROM service_alerts a JOIN service_webhooks w USING (webhook_id) "
            "WHERE a.delivered_at IS NULL AND a.attempts < ? AND a.next_attempt_at <= ? "
            "AND w.active ORDER BY a.created_at",
            [max_attempts, now],
        ).fetchall()
    finally:
        cur.close()
    delivered = failed = gave_up = 0
    for webhook_id, incident_id, payload, attempts, url, secret in due:
        body = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        ts = int(clock())
        error: str | None = None
        try:
            response = http.post(
                url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Seawall-Event": "incident.opened",
                    "X-Seawall-Delivery": f"{webhook_id}:{incident_id}",
                    "X-Seawall-Timestamp": str(ts),
                    "X-Seawall-Signature": sign(secret, ts, body),
                },
            )
            if not response.is_success:
                error = f"HTTP {response.status_code}"
        except httpx.HTTPError as e:
            error = f"{type(e).__name__}: {e}"
        tries = attempts + 1
        with store.transaction("recording a delivery") as w:
            if error is None:
                w.execute(
                    "UPDATE service_alerts SET attempts = ?, delivered_at = ?, last_error = NULL "
                    "WHERE webhook_id = ? AND incident_id = ?",
                    [tries, now, webhook_id, incident_id],
                )
                delivered += 1
            else:
                w.execute(
                    "UPDATE service_alerts SET attempts = ?, next_attempt_at = ?, last_error = ? "
                    "WHERE webhook_id = ? AND incident_id = ?",
                    [tries, now + _backoff(tries), error[:500], webhook_id, incident_id],
                )
                failed += 1
                gave_up += int(tries >= max_attempts)
    return Delivery(delivered, failed, gave_up)

"""The background monitoring loop: windows close on time, detection, incidents, alerts.

Every ``schedule_seconds`` the loop takes each project whose data changed since its
last cycle, computes the windows that have closed (those ending at or before the
start of the current window), scores every series, groups anomalies into incidents,
refreshes the health summary and queues webhook alerts; then it delivers the alerts
that are due. It runs in a thread of its own, so ingestion answers meanwhile; every
result is in the store, so a restart picks up where the last cycle left off.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pandas as pd

from seawall.exceptions import InsufficientDataError, SeawallError
from seawall.service._alerts import Delivery, deliver_due, enqueue_alerts
from seawall.service._health import refresh_health
from seawall.service._projects import PROJECT_OF
from seawall.service._prometheus import ServiceMetrics
from seawall.service._settings import ServiceSettings
from seawall.storage import Store, compute_windows, detect_incidents

__all__ = ["Cycle", "MonitorLoop"]

_log = logging.getLogger("seawall.service")


@dataclass(frozen=True)
class Cycle:
    """What one cycle did for one project."""

    project: str
    outcome: str  # "ran", "unchanged" (no new data), "too few windows" or "failed: why"
    n_models: int = 0
    n_incidents: int = 0
    n_alerts: int = 0
    seconds: float = 0.0


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class MonitorLoop:
    """Runs the monitoring cycle over a store, on demand or every few seconds.

    Parameters
    ----------
    store : Store
    settings : ServiceSettings
        ``window`` (the window length), ``schedule_seconds``, the webhook limits.
    metrics : ServiceMetrics
        Where cycles and deliveries are counted.
    clock : callable, default=now in UTC
        The time (for tests).
    http : httpx.Client or None
        The client webhooks are posted with (for tests); ``None`` makes one.
    """

    def __init__(
        self,
        store: Store,
        settings: ServiceSettings,
        metrics: ServiceMetrics,
        *,
        clock: Callable[[], dt.datetime] = _utcnow,
        http: httpx.Client | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self.http = http or httpx.Client(timeout=settings.webhook_timeout_seconds)
        self._fingerprints: dict[str, tuple[object, ...]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one cycle at a time

    # ------------------------------------------------------------------ #

    def _projects(self) -> dict[str, list[str]]:
        cur = self.store.cursor()
        try:
            rows = cur.execute(
                f"SELECT {PROJECT_OF}, list(m.model ORDER BY m.model) FROM models m GROUP BY 1"
            ).fetchall()
        finally:
            cur.close()
        return {str(p): [str(x) for x in models] for p, models in rows}

    def _fingerprint(self, models: list[str], until: dt.datetime) -> tuple[object, ...]:
        cur = self.store.cursor()
        try:
            row = cur.execute(
                "SELECT (SELECT count(*) FROM predictions WHERE list_contains(?, model) "
                "AND time < ?), (SELECT count(*) FROM labels WHERE list_contains(?, model)), "
                "(SELECT count(*) FROM metric_points WHERE list_contains(?, model)), "
                "(SELECT count(*) FROM feedback)",
                [models, until, models, models],
            ).fetchone()
        finally:
            cur.close()
        return (until, *(row or ()))

    def _up_to_date(self, models: list[str], until: dt.datetime) -> bool:
        """Whether every closed window is computed and every stored point is scored."""
        cur = self.store.cursor()
        try:
            row = cur.execute(
                "SELECT (SELECT max(time) FROM predictions WHERE list_contains(?, model) "
                "AND time < ?), (SELECT max(window_start) FROM metric_points "
                "WHERE list_contains(?, model)), (SELECT max(timestamp) FROM anomalies "
                "WHERE list_contains(?, split_part(series, '/', 1)))",
                [models, until, models, models],
            ).fetchone()
        finally:
            cur.close()
        newest_log, newest_point, newest_scored = row if row is not None else (None, None, None)
        if newest_point is None or newest_scored is None or newest_scored < newest_point:
            return False
        if newest_log is None:
            return True
        newest_window = pd.Timestamp(newest_log).floor(self.settings.window).to_pydatetime()
        return bool(newest_window <= newest_point)

    def cycle(self, now: dt.datetime | None = None) -> list[Cycle]:
        """Run one cycle for every project whose data changed; returns what each did."""
        with self._lock:
            now = now or self.clock()
            until = pd.Timestamp(now).floor(self.settings.window).to_pydatetime()
            out = []
            for project, models in sorted(self._projects().items()):
                try:
                    out.append(self._project_cycle(project, models, until, now))
                except SeawallError as e:  # one project's data must not stop the others
                    _log.error("monitoring the project %r failed: %s", project, e)
                    self.metrics.detection_runs.labels(project=project, outcome="failed").inc()
                    out.append(Cycle(project, f"failed: {e}", len(models)))
            return out

    def _project_cycle(
        self, project: str, models: list[str], until: dt.datetime, now: dt.datetime
    ) -> Cycle:
        before = self._fingerprint(models, until)
        if self._fingerprints.get(project) == before:
            return Cycle(project, "unchanged", len(models))
        if project not in self._fingerprints and self._up_to_date(models, until):
            # First cycle of this process on a store whose scores are current (a
            # restart, or a store scored elsewhere such as the demo's): nothing to redo.
            self._fingerprints[project] = before
            return Cycle(project, "unchanged", len(models))
        start = time.perf_counter()
        compute_windows(self.store, every=self.settings.window, models=models, until=until)
        try:
            incidents = detect_incidents(self.store, models=models)
        except InsufficientDataError:
            self._fingerprints[project] = self._fingerprint(models, until)
            self.metrics.detection_runs.labels(project=project, outcome="too_few_windows").inc()
            return Cycle(project, "too few windows", len(models))
        refresh_health(self.store)
        queued = enqueue_alerts(self.store, project, now)
        seconds = time.perf_counter() - start
        self.metrics.detection_runs.labels(project=project, outcome="ran").inc()
        self.metrics.detection_seconds.observe(seconds)
        self._fingerprints[project] = self._fingerprint(models, until)
        return Cycle(project, "ran", len(models), len(incidents.incidents), queued, seconds)

    def deliver(self, now: dt.datetime | None = None) -> Delivery:
        """Deliver the webhook alerts that are due."""
        done = deliver_due(
            self.store,
            self.http,
            now or self.clock(),
            max_attempts=self.settings.webhook_max_attempts,
        )
        for outcome, n in (("delivered", done.delivered), ("failed", done.failed)):
            if n:
                self.metrics.webhook_deliveries.labels(outcome=outcome).inc(n)
        return done

    # ------------------------------------------------------------------ #

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for c in self.cycle():
                    if c.outcome == "ran":
                        _log.info(
                            "monitored %s: %d models, %d incidents, %d alerts queued, %.1f s",
                            c.project, c.n_models, c.n_incidents, c.n_alerts, c.seconds,
                        )  # fmt: skip
                self.deliver()
            except Exception:  # the loop must outlive one bad cycle; it is logged
                _log.exception("the monitoring cycle failed; it runs again next time")
                self.metrics.detection_runs.labels(project="*", outcome="failed").inc()
            self._stop.wait(self.settings.schedule_seconds)

    def start(self) -> None:
        """Run cycles in a background thread every ``schedule_seconds``."""
        if self.settings.schedule_seconds <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="seawall-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread after its current cycle, and close the webhook client."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=600)
            self._thread = None
        self.http.close()

"""``/metrics``: the Prometheus exposition, written by the official client library.

Counters live in a registry of the app (ingested rows by table and outcome, refused
batches, detection runs and their duration, webhook deliveries). At each scrape a
collector adds what the store holds now, for the projects the token sees: models,
open incidents, and the latest anomaly score of at most ``max_series`` series (the
highest), so the label cardinality stays bounded however large the fleet.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from seawall.service._projects import PROJECT_OF
from seawall.service._tokens import Principal
from seawall.storage import Store

__all__ = ["ServiceMetrics", "exposition"]


@dataclass(frozen=True)
class ServiceMetrics:
    """The app's counters and histograms, in a registry of their own."""

    registry: CollectorRegistry
    rows: Counter
    refused: Counter
    detection_runs: Counter
    detection_seconds: Histogram
    webhook_deliveries: Counter

    @classmethod
    def create(cls) -> ServiceMetrics:
        """Fresh metrics in a new registry (one per app, so apps do not share counts)."""
        reg = CollectorRegistry(auto_describe=True)
        return cls(
            registry=reg,
            rows=Counter(
                "seawall_ingested_rows",
                "Rows received by the ingestion API, by table and outcome.",
                ["table", "outcome"],
                registry=reg,
            ),
            refused=Counter(
                "seawall_refused_batches",
                "Batches refused by the ingestion API (nothing of them stored), by table.",
                ["table"],
                registry=reg,
            ),
            detection_runs=Counter(
                "seawall_detection_runs",
                "Monitoring cycles (windows, detection, incidents), by project and outcome.",
                ["project", "outcome"],
                registry=reg,
            ),
            detection_seconds=Histogram(
                "seawall_detection_duration_seconds",
                "Duration of a monitoring cycle of one project.",
                buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
                registry=reg,
            ),
            webhook_deliveries=Counter(
                "seawall_webhook_deliveries",
                "Webhook delivery attempts, by outcome.",
                ["outcome"],
                registry=reg,
            ),
        )

    def count_ingest(self, table: str, counts: dict[str, int]) -> None:
        """Add an accepted batch's counts."""
        for outcome in ("inserted", "replaced", "duplicates", "unmatched", "missing"):
            n = int(counts.get(outcome, 0))
            if n:
                self.rows.labels(table=table, outcome=outcome).inc(n)


class _StoreCollector(Collector):
    """What the store holds now, for the projects a token sees."""

    def __init__(self, store: Store, principal: Principal, max_series: int) -> None:
        self.store = store
        self.principal = principal
        self.max_series = max_series

    def collect(self) -> Iterator[Metric]:
        cur = self.store.cursor()
        try:
            projects = [
                str(r[0])
                for r in cur.execute("SELECT project FROM service_projects ORDER BY 1").fetchall()
                if self.principal.sees(str(r[0]))
            ]
            models = GaugeMetricFamily(
                "seawall_models", "Models registered, by project.", labels=["project"]
            )
            counts = dict(
                cur.execute(f"SELECT {PROJECT_OF}, count(*) FROM models m GROUP BY 1").fetchall()
            )
            for p in projects:
                models.add_metric([p], float(counts.get(p, 0)))
            yield models
            incidents = GaugeMetricFamily(
                "seawall_open_incidents",
                "Open incidents, by project (an incident is a project's when all its members are).",
                labels=["project"],
            )
            open_counts = dict(
                cur.execute(
                    f"""
                    WITH im AS (SELECT id, unnest(members) AS series FROM incidents
                                WHERE status = 'open'),
                    ip AS (SELECT im.id, min({PROJECT_OF}) AS project,
                                  count(DISTINCT {PROJECT_OF}) AS k
                           FROM im LEFT JOIN models m ON m.model = split_part(im.series, '/', 1)
                           GROUP BY im.id)
                    SELECT project, count(*) FROM ip WHERE k = 1 GROUP BY project
                    """
                ).fetchall()
            )
            for p in projects:
                incidents.add_metric([p], float(open_counts.get(p, 0)))
            yield incidents
            scores = GaugeMetricFamily(
                "seawall_anomaly_score",
                f"The latest anomaly score of a model's metric series: the {self.max_series} "
                f"highest only, to bound the number of series.",
                labels=["project", "model", "metric"],
            )
            rows = cur.execute(
                f"""
                WITH latest AS (
                    SELECT series, arg_max(score, timestamp) AS score
                    FROM anomalies WHERE score IS NOT NULL GROUP BY series
                )
                SELECT {PROJECT_OF} AS project, m.model,
                       substr(l.series, length(m.model) + 2) AS metric, l.score
                FROM latest l JOIN models m ON m.model = split_part(l.series, '/', 1)
                WHERE list_contains(?, {PROJECT_OF})
                ORDER BY l.score DESC, l.series LIMIT ?
                """,
                [projects, self.max_series],
            ).fetchall()
            for project, model, metric, score in rows:
                scores.add_metric([project, model, metric], float(score))
            yield scores
        finally:
            cur.close()


def exposition(
    metrics: ServiceMetrics, store: Store, principal: Principal, max_series: int
) -> bytes:
    """The text exposition: the app's counters, then what the store holds now."""
    now = CollectorRegistry(auto_describe=False)
    now.register(_StoreCollector(store, principal, max_series))
    return generate_latest(metrics.registry) + generate_latest(now)

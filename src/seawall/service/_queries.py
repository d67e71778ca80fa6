"""Server-side reads for the API and the dashboard: pages, not whole tables.

Every function takes a cursor and a project and returns plain Python values;
values reach SQL only as parameters. A model belongs to a project through
``models.project`` (``default`` when empty); an incident belongs to a project when
every member series' model does.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from seawall.service._health import SERIES_MODEL
from seawall.service._projects import PROJECT_OF

__all__ = [
    "PROJECT_OF",
    "counts_by_label",
    "health_grid",
    "incident_detail",
    "incidents_page",
    "model_count",
    "model_detail",
    "model_in_project",
    "models_page",
    "recent_windows",
    "report",
    "report_html",
    "series_points",
]


def _rows(cur: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    result = cur.execute(sql, list(params))
    names = [d[0] for d in result.description or ()]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def recent_windows(cur: duckdb.DuckDBPyConnection, project: str, n: int) -> list[dt.datetime]:
    """The ``n`` latest scored windows of the project's models, oldest first."""
    rows = cur.execute(
        f"SELECT DISTINCT h.timestamp FROM service_model_health h JOIN models m "
        f"ON m.model = h.model WHERE {PROJECT_OF} = ? ORDER BY h.timestamp DESC LIMIT ?",
        [project, n],
    ).fetchall()
    return sorted(r[0] for r in rows)


def _label_filter(labels: Mapping[str, str]) -> tuple[str, list[Any]]:
    sql, params = "", []
    for key, value in labels.items():
        sql += (
            " AND EXISTS (SELECT 1 FROM model_labels l WHERE l.model = m.model "
            "AND l.key = ? AND l.value = ?)"
        )
        params += [key, value]
    return sql, params


def models_page(
    cur: duckdb.DuckDBPyConnection,
    project: str,
    *,
    labels: Mapping[str, str] | None = None,
    search: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """One page of the project's models, least healthy first.

    Each row has the model, version, labels, the worst anomaly score and number of
    flagged steps since ``since`` (the recent windows), and its open incidents.
    """
    where, params = _label_filter(labels or {})
    if search:
        where += " AND contains(lower(m.model), lower(?))"
        params.append(search)
    since_sql = "" if since is None else " AND h.timestamp >= ?"
    base = f"FROM models m WHERE {PROJECT_OF} = ?{where}"
    total_row = cur.execute(f"SELECT count(*) {base}", [project, *params]).fetchone()
    total = 0 if total_row is None else int(total_row[0])
    rows = _rows(
        cur,
        f"""
        WITH page AS (SELECT m.model, m.version {base}),
        health AS (
            SELECT h.model, max(h.worst_score) AS worst_score, sum(h.n_flagged) AS n_flagged,
                   max(h.timestamp) AS last_window
            FROM service_model_health h JOIN page USING (model)
            WHERE TRUE{since_sql} GROUP BY h.model
        ),
        open_incidents AS (
            SELECT {SERIES_MODEL} AS model, count(DISTINCT id) AS n_open
            FROM (SELECT id, unnest(members) AS series FROM incidents WHERE status = 'open')
            GROUP BY ALL
        ),
        labels AS (
            SELECT model, map(list(key ORDER BY key), list(value ORDER BY key)) AS labels
            FROM model_labels JOIN page USING (model) GROUP BY model
        )
        SELECT page.model, page.version, coalesce(labels.labels, MAP {{}}) AS labels,
               health.worst_score, coalesce(health.n_flagged, 0) AS n_flagged,
               health.last_window, coalesce(open_incidents.n_open, 0) AS open_incidents
        FROM page LEFT JOIN health USING (model) LEFT JOIN open_incidents USING (model)
        LEFT JOIN labels USING (model)
        ORDER BY open_incidents DESC, health.worst_score DESC NULLS LAST, page.model
        LIMIT ? OFFSET ?
        """,
        [project, *params, *([since] if since is not None else []), limit, offset],
    )
    for r in rows:
        r["labels"] = dict(r["labels"] or {})
    return total, rows


def health_grid(
    cur: duckdb.DuckDBPyConnection, models: Sequence[str], windows: Sequence[dt.datetime]
) -> dict[tuple[str, dt.datetime], float | None]:
    """The worst anomaly score of each (model, window) among ``models`` × ``windows``."""
    if not models or not windows:
        return {}
    rows = cur.execute(
        "SELECT model, timestamp, worst_score FROM service_model_health "
        "WHERE list_contains(?, model) AND timestamp >= ? AND timestamp <= ?",
        [list(models), min(windows), max(windows)],
    ).fetchall()
    return {(r[0], r[1]): r[2] for r in rows}


def counts_by_label(
    cur: duckdb.DuckDBPyConnection, project: str, key: str, since: dt.datetime | None
) -> list[dict[str, Any]]:
    """Per value of a label (team, region...): models, models with flagged steps, open incidents."""
    since_sql = "" if since is None else " AND h.timestamp >= ?"
    return _rows(
        cur,
        f"""
        WITH pm AS (
            SELECT m.model, coalesce(l.value, '(none)') AS value
            FROM models m LEFT JOIN model_labels l ON l.model = m.model AND l.key = ?
            WHERE {PROJECT_OF} = ?
        ),
        flagged AS (
            SELECT DISTINCT h.model FROM service_model_health h
            WHERE h.n_flagged > 0{since_sql}
        ),
        open AS (
            SELECT DISTINCT {SERIES_MODEL} AS model
            FROM (SELECT unnest(members) AS series FROM incidents WHERE status = 'open')
        )
        SELECT pm.value, count(*) AS n_models,
               count(flagged.model) AS n_flagged_models, count(open.model) AS n_in_open_incidents
        FROM pm LEFT JOIN flagged USING (model) LEFT JOIN open USING (model)
        GROUP BY pm.value ORDER BY n_in_open_incidents DESC, n_flagged_models DESC, pm.value
        """,
        [key, project, *([since] if since is not None else [])],
    )


_INCIDENT_COLUMNS = (
    'i.id, i.start, i."end", i.severity, i.members, i.shared_labels, i.status, i.summary, '
    "i.peak_score, i.n_anomalies"
)


def _project_incidents(extra: str = "") -> str:
    return f"""
        WITH im AS (SELECT id, unnest(members) AS series FROM incidents),
        ok AS (
            SELECT im.id FROM im LEFT JOIN models m ON m.model = split_part(im.series, '/', 1)
            GROUP BY im.id HAVING bool_and({PROJECT_OF} = ?)
        )
        SELECT {_INCIDENT_COLUMNS} FROM incidents i JOIN ok USING (id) WHERE TRUE{extra}
    """


def incidents_page(
    cur: duckdb.DuckDBPyConnection,
    project: str,
    *,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """One page of the project's incidents, most severe first."""
    extra, params = ("", []) if status is None else (" AND i.status = ?", [status])
    sql = _project_incidents(extra)
    total_row = cur.execute(f"SELECT count(*) FROM ({sql})", [project, *params]).fetchone()
    rows = _rows(
        cur,
        f"{sql} ORDER BY i.severity DESC NULLS LAST, i.start, i.id LIMIT ? OFFSET ?",
        [project, *params, limit, offset],
    )
    for r in rows:
        r["shared_labels"] = dict(r["shared_labels"] or {})
        r["members"] = list(r["members"])
    return (0 if total_row is None else int(total_row[0])), rows


def incident_detail(
    cur: duckdb.DuckDBPyConnection, project: str, incident_id: str
) -> dict[str, Any] | None:
    """One incident of the project with its feedback history, or ``None``."""
    rows = _rows(cur, _project_incidents(" AND i.id = ?"), [project, incident_id])
    if not rows:
        return None
    incident = rows[0]
    incident["shared_labels"] = dict(incident["shared_labels"] or {})
    incident["members"] = list(incident["members"])
    incident["actions"] = _rows(
        cur,
        "SELECT action, time, note FROM feedback WHERE incident_id = ? ORDER BY time",
        [incident_id],
    )
    return incident


def model_count(cur: duckdb.DuckDBPyConnection, project: str) -> int:
    """How many models the project has."""
    row = cur.execute(f"SELECT count(*) FROM models m WHERE {PROJECT_OF} = ?", [project]).fetchone()
    return 0 if row is None else int(row[0])


def model_in_project(cur: duckdb.DuckDBPyConnection, project: str, model: str) -> bool:
    """Whether ``model`` is a model of ``project``."""
    row = cur.execute(
        f"SELECT 1 FROM models m WHERE m.model = ? AND {PROJECT_OF} = ?", [model, project]
    ).fetchone()
    return row is not None


def model_detail(cur: duckdb.DuckDBPyConnection, project: str, model: str) -> dict[str, Any] | None:
    """A model of the project with its labels and series, or ``None``."""
    found = _rows(
        cur,
        f"SELECT m.model, m.version FROM models m WHERE m.model = ? AND {PROJECT_OF} = ?",
        [model, project],
    )
    if not found:
        return None
    detail = found[0]
    detail["labels"] = {
        r[0]: r[1]
        for r in cur.execute(
            "SELECT key, value FROM model_labels WHERE model = ? ORDER BY key", [model]
        ).fetchall()
    }
    detail["series"] = _rows(
        cur,
        """
        WITH pts AS (
            SELECT metric, qualifier, count(*) AS n_points, max(window_start) AS last_window,
                   arg_max(value, window_start) AS last_value
            FROM metric_points WHERE model = ? GROUP BY metric, qualifier
        ),
        sc AS (
            SELECT series, max(score) AS worst_score,
                   count(*) FILTER (WHERE is_anomaly) AS n_flagged,
                   arg_max(score, timestamp) AS last_score
            FROM anomalies WHERE starts_with(series, ?) GROUP BY series
        )
        SELECT pts.*, sc.worst_score, coalesce(sc.n_flagged, 0) AS n_flagged, sc.last_score
        FROM pts LEFT JOIN sc ON sc.series = ? || pts.metric ||
            CASE WHEN pts.qualifier = '' THEN '' ELSE '/' || pts.qualifier END
        ORDER BY sc.n_flagged DESC NULLS LAST, pts.metric, pts.qualifier
        """,
        [model, model + "/", model + "/"],
    )
    detail["reports"] = _rows(
        cur,
        "SELECT report_id, version, created_at, title, html IS NOT NULL AS has_html "
        "FROM service_reports WHERE model = ? "
        "ORDER BY created_at DESC",
        [model],
    )
    return detail


def series_points(
    cur: duckdb.DuckDBPyConnection,
    model: str,
    metric: str,
    qualifier: str = "",
    *,
    since: dt.datetime | None = None,
    limit: int = 5000,
) -> list[dict[str, Any]]:
    """A series' points with interval, baseline, scale, band and anomaly score.

    The latest ``limit`` points, oldest first. The band is ``baseline ± 3 ×
    scale`` (what a plot shades as expected).
    """
    series = f"{model}/{metric}" + (f"/{qualifier}" if qualifier else "")
    since_sql = "" if since is None else " AND p.window_start >= ?"
    rows = _rows(
        cur,
        f"""
        SELECT p.window_start AS timestamp, p.value, p.lower, p.upper, p.n,
               a.baseline, a.scale, a.score, coalesce(a.is_anomaly, false) AS is_anomaly
        FROM metric_points p LEFT JOIN anomalies a
            ON a.series = ? AND a.timestamp = p.window_start
        WHERE p.model = ? AND p.metric = ? AND p.qualifier = ?{since_sql}
        ORDER BY p.window_start DESC LIMIT ?
        """,
        [series, model, metric, qualifier, *([since] if since is not None else []), limit],
    )
    for r in rows:
        b, s = r["baseline"], r["scale"]
        known = b is not None and s is not None
        r["band_lower"] = b - 3 * s if known else None
        r["band_upper"] = b + 3 * s if known else None
    return rows[::-1]


def report(
    cur: duckdb.DuckDBPyConnection, project: str, model: str, report_id: str
) -> dict[str, Any] | None:
    """An audit report of a model of the project (its JSON parsed), or ``None``."""
    if not model_in_project(cur, project, model):
        return None
    rows = _rows(
        cur,
        "SELECT report_id, version, created_at, title, report, html IS NOT NULL AS has_html "
        "FROM service_reports "
        "WHERE report_id = ? AND model = ?",
        [report_id, model],
    )
    if not rows:
        return None
    found = rows[0]
    found["report"] = json.loads(found["report"])
    found["model"] = model
    return found


def report_html(
    cur: duckdb.DuckDBPyConnection, project: str, model: str, report_id: str
) -> str | None:
    """The page of an audit report of a model of the project, or ``None``."""
    if not model_in_project(cur, project, model):
        return None
    row = cur.execute(
        "SELECT html FROM service_reports WHERE report_id = ? AND model = ?", [report_id, model]
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])

"""Incidents and the feedback people give on them.

An incident is upserted by id (the latest write wins), but a rewrite that carries
no ``status`` keeps the status people gave it. Feedback is an append-only log of
(incident, action, time, note) where the first write of an event wins; each write
sets the status of the incidents it touches from their latest action:
``acknowledge`` → ``"acknowledged"``, ``resolve`` → ``"resolved"``,
``false_alarm`` → ``"false_alarm"``.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pyarrow as pa

from seawall._validation import check_choice, param_error
from seawall.exceptions import DataValidationError
from seawall.storage._columns import (
    check_not_null,
    optional_number_expr,
    text_expr,
    time_expr,
)
from seawall.storage._inputs import load_rows, open_source, require_columns
from seawall.storage._reads import time_bounds
from seawall.storage._results import IngestResult
from seawall.storage._sql import fetch_row, placeholders, time_param
from seawall.storage._upsert import insert_first, upsert_latest

__all__ = [
    "FEEDBACK_ACTIONS",
    "INCIDENT_STATUSES",
    "false_alarm_series",
    "read_feedback",
    "read_incidents",
    "record_feedback",
    "write_feedback",
    "write_incidents",
]

FEEDBACK_ACTIONS = ("acknowledge", "resolve", "false_alarm")
"""The actions a person can take on an incident."""
INCIDENT_STATUSES = ("open", "acknowledged", "resolved", "false_alarm")
"""The statuses an incident can have; new incidents are ``"open"``."""

_ROWS = "__seawall_rows"
_INCIDENT_COLUMNS = (
    "id", "start", "end", "severity", "members", "shared_labels",
    "status", "summary", "peak_score", "n_anomalies",
)  # fmt: skip
_FEEDBACK_COLUMNS = ("incident_id", "action", "time", "note")
_LABELS = pa.map_(pa.string(), pa.string())


def _as_label_map(values: list[object]) -> pa.Array:
    """Dicts (or structs read as dicts) to an Arrow ``map<string, string>``; nulls dropped."""
    rows: list[list[tuple[str, str]] | None] = []
    for d in values:
        if d is None:
            rows.append(None)
        elif isinstance(d, dict):
            rows.append([(str(k), str(v)) for k, v in d.items() if v is not None])
        else:
            raise DataValidationError(
                f"Store.write_incidents: shared_labels must hold one mapping of label to "
                f"value per incident (e.g. {{'source': 'crm-feed'}}); got {d!r}."
            )
    return pa.array(rows, type=_LABELS)


def _normalise(data: object) -> object:
    """Incident tables in memory get ``shared_labels`` as a map (incidents are few)."""
    if isinstance(data, pd.DataFrame) and "shared_labels" in data.columns:
        labels = _as_label_map(list(data["shared_labels"]))
        rest = data.drop(columns=["shared_labels"])
        table = pa.Table.from_pandas(rest, preserve_index=False)
        return table.append_column("shared_labels", labels)
    if isinstance(data, pa.Table) and "shared_labels" in data.column_names:
        column = data.column("shared_labels")
        if pa.types.is_struct(column.type):
            i = data.column_names.index("shared_labels")
            return data.set_column(i, "shared_labels", _as_label_map(column.to_pylist()))
    return data


def _checked_choices(
    cur: duckdb.DuckDBPyConnection, column: str, choices: tuple[str, ...], label: str, caller: str
) -> None:
    bad = cur.sql(
        f"SELECT DISTINCT {column} FROM {_ROWS} WHERE {column} IS NOT NULL "
        f"AND {column} NOT IN ({placeholders(len(choices))}) ORDER BY 1 LIMIT 5",
        params=list(choices),
    ).fetchall()
    if bad:
        raise DataValidationError(
            f"{caller}: the column {column!r} in {label} holds {[r[0] for r in bad]}; "
            f"expected one of {list(choices)}. Fix those rows."
        )


def write_incidents(cur: duckdb.DuckDBPyConnection, data: object) -> IngestResult:
    """Store incidents; see :meth:`Store.write_incidents`."""
    caller = "Store.write_incidents"
    source = open_source(cur, _normalise(data), caller=caller, text_columns=("id",))
    require_columns(source, ["id", "start", "end", "members"], caller)
    members_type = source.columns["members"]
    if not members_type.endswith("[]"):
        raise DataValidationError(
            f"{caller}: the column 'members' in {source.label} must hold a list of series "
            f"keys per incident; got the type {members_type}. Pass lists, e.g. "
            f"['m1/accuracy', 'm2/accuracy']."
        )
    labels_type = source.columns.get("shared_labels", "MAP")
    if not labels_type.startswith("MAP"):
        raise DataValidationError(
            f"{caller}: the column 'shared_labels' in {source.label} must hold a mapping "
            f"per incident; got the type {labels_type}. Pass dicts or an Arrow map column."
        )
    labels = (
        "CAST(s.shared_labels AS MAP(VARCHAR, VARCHAR))"
        if "shared_labels" in source.columns
        else "CAST(map([], []) AS MAP(VARCHAR, VARCHAR))"
    )
    status, summary = (
        text_expr(c) if c in source.columns else "CAST(NULL AS VARCHAR)"
        for c in ("status", "summary")
    )
    load_rows(
        cur,
        _ROWS,
        f"{text_expr('id')} AS id, "
        f"{time_expr(cur, source, 'start', None, caller)} AS start, "
        f'{time_expr(cur, source, "end", None, caller)} AS "end", '
        f"{optional_number_expr(cur, source, 'severity', caller)} AS severity, "
        f"CAST(s.members AS VARCHAR[]) AS members, {labels} AS shared_labels, "
        f"{status} AS status, {summary} AS summary, "
        f"{optional_number_expr(cur, source, 'peak_score', caller)} AS peak_score, "
        f"CAST({optional_number_expr(cur, source, 'n_anomalies', caller)} AS BIGINT) "
        f"AS n_anomalies",
        (),
        source,
        caller,
    )
    check_not_null(
        cur,
        _ROWS,
        {k: (None, k) for k in ("id", "start", "end", "members")},
        source.label,
        caller,
    )
    _checked_choices(cur, "status", INCIDENT_STATUSES, source.label, caller)
    # A rewrite without a status keeps the one people gave the incident.
    cur.execute(
        f"UPDATE {_ROWS} r SET status = coalesce(i.status, 'open') FROM "
        f"(SELECT r2.id, i2.status FROM {_ROWS} r2 LEFT JOIN incidents i2 ON i2.id = r2.id) i "
        f"WHERE r.id = i.id AND r.status IS NULL"
    )
    row = fetch_row(cur, f"SELECT count(*) FROM {_ROWS}")
    rows_read = 0 if row is None else int(row[0])
    inserted, replaced, duplicates = upsert_latest(
        cur, "incidents", _ROWS, ("id",), _INCIDENT_COLUMNS
    )
    return IngestResult("incidents", rows_read, inserted, replaced, duplicates)


def read_incidents(cur: duckdb.DuckDBPyConnection, *, status: str | None) -> pa.Table:
    """Incidents, most severe first; see :meth:`Store.read_incidents`."""
    where, params = "", None
    if status is not None:
        check_choice(status, "status", "Store.read_incidents", INCIDENT_STATUSES)
        where, params = " WHERE status = ?", [status]
    return cur.sql(
        f'SELECT id, start, "end", severity, members, shared_labels, status, summary, '
        f"peak_score, n_anomalies FROM incidents{where} "
        f"ORDER BY severity DESC NULLS LAST, start, id",
        params=params,
    ).to_arrow_table()


def write_feedback(cur: duckdb.DuckDBPyConnection, data: object) -> IngestResult:
    """Store feedback and update incident statuses; see :meth:`Store.write_feedback`."""
    caller = "Store.write_feedback"
    source = open_source(cur, data, caller=caller, text_columns=("incident_id", "action"))
    require_columns(source, ["incident_id", "action", "time"], caller)
    note = f"coalesce({text_expr('note')}, '')" if "note" in source.columns else "''"
    load_rows(
        cur,
        _ROWS,
        f"{text_expr('incident_id')} AS "
        f"incident_id, {text_expr('action')} AS action, "
        f"{time_expr(cur, source, 'time', None, caller)} AS time, {note} AS note ",
        (),
        source,
        caller,
    )
    check_not_null(
        cur,
        _ROWS,
        {k: (None, k) for k in ("incident_id", "action", "time")},
        source.label,
        caller,
    )
    _checked_choices(cur, "action", FEEDBACK_ACTIONS, source.label, caller)
    unknown = cur.sql(
        f"SELECT DISTINCT incident_id FROM {_ROWS} WHERE incident_id NOT IN "
        f"(SELECT id FROM incidents) ORDER BY 1 LIMIT 5"
    ).fetchall()
    if unknown:
        raise DataValidationError(
            f"{caller}: {source.label} gives feedback on incidents the store does not hold: "
            f"{[r[0] for r in unknown]}; expected ids written by Store.write_incidents. "
            f"Write the incidents first or fix the ids."
        )
    row = fetch_row(cur, f"SELECT count(*) FROM {_ROWS}")
    rows_read = 0 if row is None else int(row[0])
    inserted = insert_first(
        cur, "feedback", _ROWS, ("incident_id", "action", "time"), _FEEDBACK_COLUMNS
    )
    cur.execute(
        "UPDATE incidents SET status = f.status FROM (SELECT incident_id, "
        "CASE action WHEN 'acknowledge' THEN 'acknowledged' WHEN 'resolve' THEN 'resolved' "
        "ELSE 'false_alarm' END AS status FROM (SELECT rowid AS r, * FROM feedback) "
        f"WHERE incident_id IN (SELECT incident_id FROM {_ROWS}) "
        "QUALIFY row_number() OVER (PARTITION BY incident_id ORDER BY time DESC, r DESC) = 1"
        ") f WHERE incidents.id = f.incident_id"
    )
    return IngestResult("feedback", rows_read, inserted, duplicates=rows_read - inserted)


def record_feedback(
    cur: duckdb.DuckDBPyConnection, incident_id: str, action: str, *, time: object, note: str
) -> IngestResult:
    """Store one feedback event; see :meth:`Store.record_feedback`."""
    caller = "Store.record_feedback"
    if not isinstance(incident_id, str):
        raise param_error("incident_id", caller, "an incident id (a string)", incident_id)
    check_choice(action, "action", caller, FEEDBACK_ACTIONS)
    if not isinstance(note, str):
        raise param_error("note", caller, "a string", note)
    when = time_param(time, "time", caller)
    if when is None:
        when = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    table = pa.table(
        {
            "incident_id": [incident_id],
            "action": [action],
            "time": pa.array([when], pa.timestamp("us")),
            "note": [note],
        }
    )
    return write_feedback(cur, table)


def read_feedback(
    cur: duckdb.DuckDBPyConnection, *, incident_id: str | None, action: str | None
) -> pa.Table:
    """Feedback with the members of its incident; see :meth:`Store.read_feedback`."""
    caller = "Store.read_feedback"
    where, params = "", []
    if incident_id is not None:
        if not isinstance(incident_id, str):
            raise param_error(
                "incident_id", caller, "an incident id (a string) or None", incident_id
            )
        where += " AND f.incident_id = ?"
        params.append(incident_id)
    if action is not None:
        check_choice(action, "action", caller, FEEDBACK_ACTIONS)
        where += " AND f.action = ?"
        params.append(action)
    return cur.sql(
        f"SELECT f.incident_id, f.action, f.time, f.note, i.members FROM feedback f "
        f"JOIN incidents i ON i.id = f.incident_id WHERE TRUE{where} "
        f"ORDER BY f.time, f.incident_id, f.action",
        params=params or None,
    ).to_arrow_table()


def false_alarm_series(cur: duckdb.DuckDBPyConnection, *, since: object) -> pa.Table:
    """Series named in false alarms; see :meth:`Store.false_alarm_series`."""
    params: dict[str, object] = {}
    where = time_bounds(
        since, None, "f.time", "Store.false_alarm_series", params, start_name="since"
    )
    return cur.sql(
        f"SELECT series, count(*) AS n_false_alarms, max(time) AS last_time FROM "
        f"(SELECT unnest(i.members) AS series, f.time FROM feedback f "
        f"JOIN incidents i ON i.id = f.incident_id WHERE f.action = 'false_alarm'{where}) "
        f"GROUP BY series ORDER BY series",
        params=params or None,
    ).to_arrow_table()

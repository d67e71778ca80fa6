"""Metric points and anomaly scores: the series the fleet monitor writes and reads.

Both are keyed tables where the latest write wins: a recomputed window replaces
the stored point of its series ``(model, metric, qualifier, window_start)``, and a
re-scored step replaces the anomaly row of ``(series, timestamp)``.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from seawall._validation import param_error
from seawall.exceptions import DataValidationError
from seawall.storage._columns import (
    boolean_expr,
    check_not_null,
    is_numeric_type,
    number_expr,
    optional_number_expr,
    text_expr,
    time_expr,
)
from seawall.storage._inputs import load_rows, open_source, require_columns
from seawall.storage._reads import time_bounds
from seawall.storage._results import IngestResult
from seawall.storage._sql import fetch_row, placeholders, quote_identifier
from seawall.storage._upsert import upsert_latest

__all__ = ["read_anomalies", "read_metric_points", "write_anomalies", "write_metric_points"]

_ROWS = "__seawall_rows"
METRIC_COLUMNS = (
    "model", "metric", "qualifier", "window_start", "window_end",
    "value", "lower", "upper", "n", "extra",
)  # fmt: skip
_METRIC_KEY = ("model", "metric", "qualifier", "window_start")
ANOMALY_COLUMNS = ("series", "timestamp", "value", "score", "is_anomaly", "baseline", "scale")


def _rows_read(cur: duckdb.DuckDBPyConnection) -> int:
    row = fetch_row(cur, f"SELECT count(*) FROM {_ROWS}")
    return 0 if row is None else int(row[0])


def write_metric_points(cur: duckdb.DuckDBPyConnection, data: object) -> IngestResult:
    """Store metric points; see :meth:`Store.write_metric_points`."""
    caller = "Store.write_metric_points"
    source = open_source(cur, data, caller=caller, text_columns=("model", "metric", "qualifier"))
    require_columns(source, ["model", "metric", "window_start", "value"], caller)
    extras = [c for c in source.columns if c not in METRIC_COLUMNS]
    for name in extras:
        duck_type = source.columns[name]
        if not (is_numeric_type(duck_type) or duck_type == "BOOLEAN"):
            raise DataValidationError(
                f"{caller}: the extra column {name!r} in {source.label} has the type "
                f"{duck_type}; extra columns beside {list(METRIC_COLUMNS[:-1])} are kept "
                f"only when numeric. Drop it or encode it as numbers."
            )
    end = (
        time_expr(cur, source, "window_end", None, caller)
        if "window_end" in source.columns
        else "CAST(NULL AS TIMESTAMP)"
    )
    qualifier = f"coalesce({text_expr('qualifier')}, '')" if "qualifier" in source.columns else "''"
    extra_values = ", ".join(number_expr(cur, source, c, None, caller) for c in extras)
    load_rows(
        cur,
        _ROWS,
        f"{text_expr('model')} AS model, "
        f"{text_expr('metric')} AS metric, {qualifier} AS qualifier, "
        f"{time_expr(cur, source, 'window_start', None, caller)} AS window_start, "
        f"{end} AS window_end, {number_expr(cur, source, 'value', None, caller)} AS value, "
        f"{optional_number_expr(cur, source, 'lower', caller)} AS lower, "
        f"{optional_number_expr(cur, source, 'upper', caller)} AS upper, "
        f"CAST({optional_number_expr(cur, source, 'n', caller)} AS BIGINT) AS n, "
        f"CAST(map([{placeholders(len(extras))}], [{extra_values}]) AS MAP(VARCHAR, DOUBLE)) "
        f"AS extra",
        extras,
        source,
        caller,
    )
    check_not_null(
        cur,
        _ROWS,
        {k: (None, k) for k in ("model", "metric", "window_start")},
        source.label,
        caller,
    )
    rows_read = _rows_read(cur)
    inserted, replaced, duplicates = upsert_latest(
        cur, "metric_points", _ROWS, _METRIC_KEY, METRIC_COLUMNS
    )
    return IngestResult("metric_points", rows_read, inserted, replaced, duplicates)


def _text_filter(
    value: object, column: str, param: str, caller: str, params: dict[str, object]
) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise param_error(param, caller, "a string or None", value)
    params[param] = value
    return f" AND {column} = ${param}"


def read_metric_points(
    cur: duckdb.DuckDBPyConnection,
    *,
    model: str | None,
    metric: str | None,
    qualifier: str | None,
    start: object,
    end: object,
) -> pa.Table:
    """Metric points, filtered; see :meth:`Store.read_metric_points`."""
    caller = "Store.read_metric_points"
    params: dict[str, object] = {}
    where = _text_filter(model, "model", "model", caller, params)
    where += _text_filter(metric, "metric", "metric", caller, params)
    where += _text_filter(qualifier, "qualifier", "qualifier", caller, params)
    where += time_bounds(start, end, "window_start", caller, params)
    keys = [
        str(r[0])
        for r in cur.sql(
            f"SELECT DISTINCT unnest(map_keys(extra)) AS k FROM metric_points "
            f"WHERE TRUE{where} ORDER BY k",
            params=params or None,
        ).fetchall()
    ]
    extra = ""
    for i, key in enumerate(keys):
        params[f"e{i}"] = key
        extra += f", extra[$e{i}] AS {quote_identifier(key)}"
    return cur.sql(
        f"SELECT model, metric, qualifier, window_start, window_end, value, lower, upper, n"
        f"{extra} FROM metric_points WHERE TRUE{where} "
        f"ORDER BY model, metric, qualifier, window_start",
        params=params or None,
    ).to_arrow_table()


def write_anomalies(
    cur: duckdb.DuckDBPyConnection, data: object, *, replace_series: bool = False
) -> IngestResult:
    """Store anomaly scores; see :meth:`Store.write_anomalies`."""
    caller = "Store.write_anomalies"
    if not isinstance(replace_series, bool):
        raise param_error("replace_series", caller, "a bool", replace_series)
    source = open_source(cur, data, caller=caller, text_columns=("series",))
    require_columns(source, ["series", "timestamp", "is_anomaly"], caller)
    load_rows(
        cur,
        _ROWS,
        f"{text_expr('series')} AS series, "
        f"{time_expr(cur, source, 'timestamp', None, caller)} AS timestamp, "
        f"{optional_number_expr(cur, source, 'value', caller)} AS value, "
        f"{optional_number_expr(cur, source, 'score', caller)} AS score, "
        f"{boolean_expr(source, 'is_anomaly', None, caller)} AS is_anomaly, "
        f"{optional_number_expr(cur, source, 'baseline', caller)} AS baseline, "
        f"{optional_number_expr(cur, source, 'scale', caller)} AS scale ",
        (),
        source,
        caller,
    )
    check_not_null(
        cur,
        _ROWS,
        {k: (None, k) for k in ("series", "timestamp", "is_anomaly")},
        source.label,
        caller,
    )
    rows_read = _rows_read(cur)
    if replace_series:
        # A full re-scoring: the batch is each of its series' whole history.
        cur.execute(f"DELETE FROM anomalies WHERE series IN (SELECT DISTINCT series FROM {_ROWS})")
        cur.execute(
            f"INSERT INTO anomalies ({', '.join(ANOMALY_COLUMNS)}) "
            f"SELECT {', '.join(ANOMALY_COLUMNS)} FROM {_ROWS} "
            f"QUALIFY row_number() OVER (PARTITION BY series, timestamp ORDER BY rowid DESC) = 1"
        )
        row = fetch_row(
            cur,
            f"SELECT count(*) FROM anomalies WHERE series IN (SELECT DISTINCT series FROM {_ROWS})",
        )
        inserted = 0 if row is None else int(row[0])
        return IngestResult("anomalies", rows_read, inserted, 0, rows_read - inserted)
    inserted, replaced, duplicates = upsert_latest(
        cur, "anomalies", _ROWS, ("series", "timestamp"), ANOMALY_COLUMNS
    )
    return IngestResult("anomalies", rows_read, inserted, replaced, duplicates)


def read_anomalies(
    cur: duckdb.DuckDBPyConnection,
    *,
    series: str | None,
    start: object,
    end: object,
    only_anomalies: bool,
) -> pa.Table:
    """Anomaly rows, filtered; see :meth:`Store.read_anomalies`."""
    caller = "Store.read_anomalies"
    if not isinstance(only_anomalies, bool):
        raise param_error("only_anomalies", caller, "a bool", only_anomalies)
    params: dict[str, object] = {}
    where = _text_filter(series, "series", "series", caller, params)
    where += time_bounds(start, end, "timestamp", caller, params)
    if only_anomalies:
        where += " AND is_anomaly"
    return cur.sql(
        f"SELECT {', '.join(ANOMALY_COLUMNS)} FROM anomalies "
        f"WHERE TRUE{where} ORDER BY series, timestamp",
        params=params or None,
    ).to_arrow_table()

"""Reading prediction logs back: wide per-model tables, time ranges, counts, windows."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pandas as pd
import pyarrow as pa

from seawall._validation import param_error
from seawall.storage._kinds import restore_expr, restore_json
from seawall.storage._schema import TABLES
from seawall.storage._sql import fetch_row, json_path, quote_identifier, time_param

__all__ = [
    "check_model",
    "read_counts",
    "read_labels",
    "read_predictions",
    "table_sizes",
    "time_bounds",
    "time_range",
    "window_counts",
    "window_width",
]


def check_model(cur: duckdb.DuckDBPyConnection, model: object, caller: str) -> str:
    """Check that ``model`` names a model in the store.

    Raises
    ------
    InvalidParameterError
        When it does not, listing a few of the models there are.
    """
    if isinstance(model, str):
        found = fetch_row(cur, "SELECT count(*) FROM models WHERE model = ?", [model])
        if found is not None and found[0]:
            return model
    known = [r[0] for r in cur.sql("SELECT model FROM models ORDER BY model LIMIT 4").fetchall()]
    shown = ", ".join(repr(k) for k in known[:3]) + (", ..." if len(known) > 3 else "")
    expected = (
        f"the name of a model in the store ({shown})"
        if known
        else ("the name of a model in the store, which holds none yet")
    )
    raise param_error("model", caller, expected, model)


def time_bounds(
    start: object,
    end: object,
    column: str,
    caller: str,
    params: dict[str, object],
    *,
    start_name: str = "start",
) -> str:
    """``AND``-ed conditions ``start <= column < end`` for the bounds given.

    The bounds are added to ``params`` as ``$start`` and ``$end``; ``start_name``
    is the parameter the message names for the lower bound.
    """
    sql = ""
    lo, hi = time_param(start, start_name, caller), time_param(end, "end", caller)
    if lo is not None:
        params["start"] = lo
        sql += f" AND {column} >= $start"
    if hi is not None:
        params["end"] = hi
        sql += f" AND {column} < $end"
    return sql


def _kinds(cur: duckdb.DuckDBPyConnection, model: str) -> list[tuple[str, str, str]]:
    return [
        (str(n), str(r), str(k))
        for n, r, k in cur.sql(
            "SELECT name, role, kind FROM model_columns WHERE model = ? ORDER BY position",
            params=[model],
        ).fetchall()
    ]


def read_model_columns(cur: duckdb.DuckDBPyConnection, model: str) -> pa.Table:
    """One model's logged columns; see :meth:`Store.model_columns`."""
    check_model(cur, model, "Store.model_columns")
    rows = _kinds(cur, model)
    return pa.table(
        {
            "name": [r[0] for r in rows],
            "role": [r[1] for r in rows],
            "kind": [r[2] for r in rows],
        }
    )


def read_predictions(
    cur: duckdb.DuckDBPyConnection,
    model: str,
    start: object = None,
    end: object = None,
    *,
    with_labels: bool = True,
) -> pa.Table:
    """One model's logs as a wide table; see :meth:`Store.read_predictions`."""
    caller = "Store.read_predictions"
    check_model(cur, model, caller)
    if not isinstance(with_labels, bool):
        raise param_error("with_labels", caller, "a bool", with_labels)
    kinds = _kinds(cur, model)
    kind = {name: k for name, role, k in kinds if role in ("prediction", "label")}
    params: dict[str, object] = {"model": model}
    select = [
        "p.time",
        "p.model",
        "p.request_id",
        restore_expr("p.prediction", "p.prediction_text", kind.get("prediction", "null"))
        + " AS prediction",
        "p.score",
    ]
    for i, (name, _, k) in enumerate(x for x in kinds if x[1] in ("feature", "sensitive")):
        params[f"k{i}"] = json_path(name)
        value = restore_json("p.features", f"$k{i}", k)
        select.append(f"{value} AS {quote_identifier(name)}")
    join = ""
    if with_labels:
        select.append(
            restore_expr("l.label", "l.label_text", kind.get("label", "null")) + " AS label"
        )
        select.append("l.label_time")
        join = "LEFT JOIN labels l ON l.model = p.model AND l.request_id = p.request_id "
    where = time_bounds(start, end, "p.time", caller, params)
    return cur.sql(
        f"SELECT {', '.join(select)} FROM predictions p {join}"
        f"WHERE p.model = $model{where} ORDER BY p.time, p.request_id",
        params=params,
    ).to_arrow_table()


def read_labels(cur: duckdb.DuckDBPyConnection, model: str) -> pa.Table:
    """One model's labels; see :meth:`Store.read_labels`."""
    check_model(cur, model, "Store.read_labels")
    kind = {n: k for n, r, k in _kinds(cur, model) if r == "label"}.get("label", "null")
    return cur.sql(
        f"SELECT model, request_id, {restore_expr('label', 'label_text', kind)} AS label, "
        f"label_time FROM labels WHERE model = ? ORDER BY request_id",
        params=[model],
    ).to_arrow_table()


def time_range(
    cur: duckdb.DuckDBPyConnection, model: str | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The first and last prediction time; see :meth:`Store.time_range`."""
    if model is None:
        row = fetch_row(cur, "SELECT min(time), max(time) FROM predictions")
    else:
        check_model(cur, model, "Store.time_range")
        row = fetch_row(
            cur, "SELECT min(time), max(time) FROM predictions WHERE model = ?", [model]
        )
    return (None, None) if row is None else (row[0], row[1])


def read_counts(cur: duckdb.DuckDBPyConnection) -> pa.Table:
    """Per-model volumes; see :meth:`Store.counts`."""
    return cur.sql(
        "WITH p AS (SELECT model, count(*) AS n_predictions, min(time) AS first_time, "
        "max(time) AS last_time FROM predictions GROUP BY model), "
        "l AS (SELECT model, count(*) AS n_labels FROM labels GROUP BY model), "
        "j AS (SELECT p.model, count(*) AS n_labelled FROM predictions p "
        "JOIN labels l ON l.model = p.model AND l.request_id = p.request_id GROUP BY p.model) "
        "SELECT m.model, coalesce(p.n_predictions, 0) AS n_predictions, "
        "coalesce(j.n_labelled, 0) AS n_labelled, coalesce(l.n_labels, 0) AS n_labels, "
        "p.first_time, p.last_time FROM models m LEFT JOIN p ON p.model = m.model "
        "LEFT JOIN l ON l.model = m.model LEFT JOIN j ON j.model = m.model ORDER BY m.model"
    ).to_arrow_table()


def table_sizes(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The number of rows in each table; see :meth:`Store.table_sizes`."""
    out = {}
    for name in TABLES:
        row = fetch_row(cur, f"SELECT count(*) FROM {quote_identifier(name)}")
        out[name] = 0 if row is None else int(row[0])
    return out


_UNITS = {
    "w": 604_800_000_000,
    "d": 86_400_000_000,
    "h": 3_600_000_000,
    "min": 60_000_000,
    "m": 60_000_000,
    "s": 1_000_000,
    "ms": 1_000,
    "us": 1,
}
_WIDTH = re.compile(r"^\s*(\d+)\s*(" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")\s*$")


def window_width(every: object, caller: str) -> int:
    """A window width (``"1h"``, ``"15min"``, ``"1d"``, a timedelta) in whole microseconds.

    Short forms (a whole number and one of ``w d h min m s ms us``, in any case)
    are read here, so ``"1d"`` works without pandas' deprecation of ``"d"``;
    anything else is read by ``pandas.Timedelta``.

    Examples
    --------
    >>> window_width("1h", "Store.window_counts"), window_width("1d", "Store.window_counts")
    (3600000000, 86400000000)
    """
    expected = "a positive fixed width such as '15min', '1h', '1d' or a datetime.timedelta"
    if not isinstance(every, str | dt.timedelta | pd.Timedelta):
        raise param_error("every", caller, expected, every)
    short = _WIDTH.match(every.lower()) if isinstance(every, str) else None
    if short is not None:
        micros = int(short.group(1)) * _UNITS[short.group(2)]
    else:
        try:
            width = pd.Timedelta(every)
        except ValueError as e:
            raise param_error("every", caller, expected, every) from e
        if pd.isna(width) or width.value % 1000:
            raise param_error("every", caller, expected, every)
        micros = int(width.value // 1000)
    if micros <= 0:
        raise param_error("every", caller, expected, every)
    return micros


def window_counts(
    cur: duckdb.DuckDBPyConnection,
    every: object,
    *,
    model: str | None,
    start: object,
    end: object,
) -> pa.Table:
    """Per-model, per-window volumes; see :meth:`Store.window_counts`."""
    caller = "Store.window_counts"
    params: dict[str, object] = {"width": window_width(every, caller)}
    where = time_bounds(start, end, "p.time", caller, params)
    if model is not None:
        params["model"] = check_model(cur, model, caller)
        where += " AND p.model = $model"
    # Windows start on multiples of the width counted from the Unix epoch, as
    # pandas' Timestamp.floor does, so the two agree for every width.
    bucket = "time_bucket(to_microseconds($width), p.time, TIMESTAMP '1970-01-01')"
    return cur.sql(
        f"SELECT p.model, {bucket} AS window_start, "
        f"{bucket} + to_microseconds($width) AS window_end, count(*) AS n_predictions, "
        f"count(l.request_id) AS n_labelled, count(p.score) AS n_scored, "
        f"avg(p.score) AS mean_score FROM predictions p "
        f"LEFT JOIN labels l ON l.model = p.model AND l.request_id = p.request_id "
        f"WHERE TRUE{where} GROUP BY p.model, window_start ORDER BY p.model, window_start",
        params=params,
    ).to_arrow_table()

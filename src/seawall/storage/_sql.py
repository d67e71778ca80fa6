"""SQL text helpers: the one identifier quoter, placeholders and time parameters.

Every value reaches DuckDB as a ``?`` parameter; the only names spliced into SQL
text are column names, and they pass through :func:`quote_identifier` first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pandas as pd

from seawall._validation import param_error

__all__ = ["fetch_row", "json_path", "placeholders", "quote_identifier", "time_param"]


def quote_identifier(name: str) -> str:
    """Quote a column or table name for DuckDB SQL.

    The name is wrapped in double quotes and every double quote inside it is
    doubled, as the SQL standard says, so any string (spaces, quotes, keywords
    such as ``end``) becomes one identifier and can never end the statement.

    Parameters
    ----------
    name : str
        The identifier, e.g. a column name from the user's data.

    Returns
    -------
    str
        The quoted identifier.

    Raises
    ------
    InvalidParameterError
        When ``name`` is not a non-empty string or holds a NUL character.

    Examples
    --------
    >>> quote_identifier("age")
    '"age"'
    >>> quote_identifier('a"b')
    '"a""b"'
    """
    if not isinstance(name, str) or not name or "\x00" in name:
        raise param_error("name", "quote_identifier", "a non-empty string without NUL", name)
    return '"' + name.replace('"', '""') + '"'


def json_path(key: str) -> str:
    r"""The JSONPath that reads one key of a JSON object, whatever the key holds.

    The key is quoted (``$."key"``, with ``\`` and ``"`` escaped), so keys with
    dots, slashes, ``$`` or quotes address themselves, not a nested path. The
    path is passed as a parameter, never spliced into SQL.

    Parameters
    ----------
    key : str
        The object key (a feature name).

    Returns
    -------
    str
        The path.

    Examples
    --------
    >>> print(json_path("plan"), json_path("a.b"))
    $."plan" $."a.b"
    """
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def placeholders(n: int) -> str:
    """``n`` comma-separated ``?`` markers, for a list of parameters.

    Parameters
    ----------
    n : int
        The number of markers.

    Returns
    -------
    str
        ``"?, ?, ..."``; empty when ``n`` is 0.

    Examples
    --------
    >>> placeholders(3)
    '?, ?, ?'
    """
    return ", ".join(["?"] * n)


def time_param(value: object, name: str, caller: str) -> dt.datetime | None:
    """Turn a time bound given by the user into a naive UTC ``datetime``.

    The store keeps every time as a naive ``TIMESTAMP`` in UTC. Naive inputs are
    taken to be UTC already; aware ones are converted.

    Parameters
    ----------
    value : datetime, pandas.Timestamp, numpy.datetime64, str or None
        The bound; text is parsed by pandas (ISO-8601 such as ``"2024-05-01"``).
    name, caller : str
        Used in the error message.

    Returns
    -------
    datetime or None
        The bound, or ``None`` when ``value`` is ``None``.

    Raises
    ------
    InvalidParameterError
        When ``value`` cannot be read as a time.

    Examples
    --------
    >>> time_param("2024-05-01T02:00:00+02:00", "start", "Store.read_predictions")
    datetime.datetime(2024, 5, 1, 0, 0)
    """
    if value is None:
        return None
    expected = "a datetime, pandas.Timestamp or ISO-8601 string"
    if isinstance(value, bool | int | float):
        raise param_error(name, caller, expected, value)
    try:
        ts = pd.Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as e:
        raise param_error(name, caller, expected, value) from e
    if pd.isna(ts):
        raise param_error(name, caller, expected, value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    out: dt.datetime = ts.to_pydatetime(warn=False)
    return out


def fetch_row(
    cur: duckdb.DuckDBPyConnection, sql: str, params: object = None
) -> tuple[Any, ...] | None:
    """Run a query and return its first row (``None`` when it has none).

    The whole result is read, so the cursor is free for the next statement.

    Parameters
    ----------
    cur : duckdb.DuckDBPyConnection
        The cursor.
    sql : str
        The query, its values as ``?`` or ``$name`` markers.
    params : list or dict, optional
        The values.

    Returns
    -------
    tuple or None
        The first row.

    Examples
    --------
    >>> con = duckdb.connect()
    >>> fetch_row(con, "SELECT ? + 1", [41])
    (42,)
    """
    rows = cur.execute(sql, params).fetchall()
    return rows[0] if rows else None

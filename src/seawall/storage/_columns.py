"""Typed SQL expressions over an input batch's columns, each checked before use.

Each function returns an expression over the batch aliased ``s`` that yields one of
the store's types (``TIMESTAMP`` in UTC, ``DOUBLE``, ``BOOLEAN``, ``VARCHAR``), after
checking that every value converts; a value that does not is reported by name,
with an example, instead of becoming a silent ``NULL``.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

from seawall.exceptions import DataValidationError
from seawall.storage._inputs import Source
from seawall.storage._sql import fetch_row, quote_identifier

__all__ = [
    "NUMERIC_TYPES",
    "boolean_expr",
    "check_not_null",
    "describe_column",
    "is_numeric_type",
    "number_expr",
    "optional_number_expr",
    "text_expr",
    "time_expr",
]

NUMERIC_TYPES = frozenset(
    {
        "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
        "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
        "FLOAT", "DOUBLE",
    }
)  # fmt: skip
NULL_TYPE = '"NULL"'  # the type DuckDB gives a column with no values (Arrow ``null``)


def is_numeric_type(duck_type: str) -> bool:
    """Whether a DuckDB type holds numbers (integers, floats or decimals)."""
    return duck_type in NUMERIC_TYPES or duck_type.startswith("DECIMAL")


def _column(name: str) -> str:
    return "s." + quote_identifier(name)


def describe_column(name: str, param: str | None) -> str:
    """How a message names a column: ``'ts' (time_col='ts')``, or ``'ts'`` when fixed."""
    return f"{name!r}" if param is None else f"{name!r} ({param}={name!r})"


def _unconvertible(
    cur: duckdb.DuckDBPyConnection, source: Source, name: str, target: str
) -> tuple[int, object]:
    """How many non-null values of a text column fail to convert, and one of them."""
    col = _column(name)
    row = fetch_row(
        cur,
        f"SELECT count(*), any_value({col}) FROM {source.sql} s "
        f"WHERE {col} IS NOT NULL AND TRY_CAST({col} AS {target}) IS NULL",
        list(source.params),
    )
    return (0, None) if row is None else (int(row[0]), row[1])


def time_expr(
    cur: duckdb.DuckDBPyConnection, source: Source, name: str, param: str | None, caller: str
) -> str:
    """A ``TIMESTAMP`` (UTC, naive) expression for a time column.

    Timestamps pass through (aware ones converted to UTC), dates become midnight,
    and text is parsed as ISO-8601; text without an offset is taken as UTC.

    Parameters
    ----------
    cur : duckdb.DuckDBPyConnection
        The cursor reading the batch (its ``TimeZone`` is UTC).
    source : Source
        The batch.
    name : str
        The column.
    param : str or None
        The parameter that named it, e.g. ``"time_col"``; ``None`` for a column
        whose name is fixed.
    caller : str
        The public method, used in messages.

    Returns
    -------
    str
        The SQL expression.

    Raises
    ------
    DataValidationError
        When the column is of another type, or holds text that is not a time.
    """
    duck_type = source.columns[name]
    col = _column(name)
    if duck_type == "TIMESTAMP WITH TIME ZONE":
        return f"timezone('UTC', {col})"
    if duck_type.startswith("TIMESTAMP") or duck_type == "DATE":
        return f"CAST({col} AS TIMESTAMP)"
    if duck_type == NULL_TYPE:
        return "CAST(NULL AS TIMESTAMP)"
    if duck_type == "VARCHAR":
        n_bad, example = _unconvertible(cur, source, name, "TIMESTAMPTZ")
        if n_bad:
            raise DataValidationError(
                f"{caller}: the column {describe_column(name, param)} in {source.label} has "
                f"{n_bad} value(s) that are not times, e.g. {example!r}; expected timestamps "
                f"or ISO-8601 text such as '2024-05-01 13:00:00'. Fix or drop those rows."
            )
        return f"timezone('UTC', TRY_CAST({col} AS TIMESTAMPTZ))"
    raise DataValidationError(
        f"{caller}: the column {describe_column(name, param)} in {source.label} must hold "
        f"timestamps (or ISO-8601 text); got the type {duck_type}. Convert it first, e.g. "
        f"epoch seconds with pandas.to_datetime(values, unit='s')."
    )


def number_expr(
    cur: duckdb.DuckDBPyConnection, source: Source, name: str, param: str | None, caller: str
) -> str:
    """A ``DOUBLE`` expression for a numeric (or boolean, or numeric-text) column.

    NaN becomes ``NULL``. Parameters and errors are as in :func:`time_expr`.

    Returns
    -------
    str
        The SQL expression.

    Raises
    ------
    DataValidationError
        When the column holds values that are not numbers.
    """
    duck_type = source.columns[name]
    col = _column(name)
    if duck_type == "BOOLEAN":
        # Not CAST(... AS DOUBLE): DuckDB pushes that cast into its CSV reader,
        # which then fails to parse 'False' as a number.
        return f"CASE WHEN {col} THEN 1.0 WHEN NOT {col} THEN 0.0 END"
    if is_numeric_type(duck_type):
        return f"nullif(CAST({col} AS DOUBLE), 'NaN'::DOUBLE)"
    if duck_type == NULL_TYPE:
        return "CAST(NULL AS DOUBLE)"
    if duck_type == "VARCHAR":
        n_bad, example = _unconvertible(cur, source, name, "DOUBLE")
        if not n_bad:
            return f"nullif(TRY_CAST({col} AS DOUBLE), 'NaN'::DOUBLE)"
        detail = f"{n_bad} value(s) that are not numbers, e.g. {example!r}"
    else:
        detail = f"the type {duck_type}"
    raise DataValidationError(
        f"{caller}: the column {describe_column(name, param)} in {source.label} must hold "
        f"numbers; got {detail}. Convert the column to numbers first."
    )


def optional_number_expr(
    cur: duckdb.DuckDBPyConnection, source: Source, name: str, caller: str
) -> str:
    """:func:`number_expr` of a column the batch may lack; ``NULL`` when it does.

    Returns
    -------
    str
        The SQL expression.
    """
    if name not in source.columns:
        return "CAST(NULL AS DOUBLE)"
    return number_expr(cur, source, name, None, caller)


def boolean_expr(source: Source, name: str, param: str | None, caller: str) -> str:
    """A ``BOOLEAN`` expression for a boolean or 0/1 numeric column.

    Returns
    -------
    str
        The SQL expression.

    Raises
    ------
    DataValidationError
        When the column is neither boolean nor numeric.
    """
    duck_type = source.columns[name]
    col = _column(name)
    if duck_type == "BOOLEAN":
        return col
    if is_numeric_type(duck_type):
        return f"CAST({col} <> 0 AS BOOLEAN)"
    raise DataValidationError(
        f"{caller}: the column {describe_column(name, param)} in {source.label} must hold "
        f"booleans (or 0/1); got the type {duck_type}. Convert the column first."
    )


def text_expr(name: str) -> str:
    """A ``VARCHAR`` expression for any column.

    Returns
    -------
    str
        The SQL expression.
    """
    return f"CAST({_column(name)} AS VARCHAR)"


def check_not_null(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    columns: Mapping[str, tuple[str | None, str]],
    label: str,
    caller: str,
) -> None:
    """Check that typed rows have no missing value in their key columns.

    Parameters
    ----------
    cur : duckdb.DuckDBPyConnection
        The cursor holding ``table``.
    table : str
        The typed rows (a temporary table, in input order).
    columns : dict of str to (str, str)
        Each typed column to its (parameter or None, input column) pair.
    label : str
        How the message names the input.
    caller : str
        The public method.

    Raises
    ------
    DataValidationError
        Naming the column, the number of missing values and the first row.
    """
    for typed, (param, given) in columns.items():
        col = quote_identifier(typed)
        t = quote_identifier(table)
        # The rowids of a temporary table start at an offset: count from its first row.
        row = fetch_row(
            cur,
            f"SELECT count(*), min(rowid) - (SELECT min(rowid) FROM {t}) FROM {t} "
            f"WHERE {col} IS NULL",
        )
        if row is not None and row[0]:
            raise DataValidationError(
                f"{caller}: the column {describe_column(given, param)} in {label} has "
                f"{row[0]} missing value(s), the first at row {row[1]}; every row needs "
                f"one. Drop or fill those rows first."
            )

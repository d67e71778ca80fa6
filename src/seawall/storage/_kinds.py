"""Value kinds: how a logged column is stored and how a read restores its type.

A prediction's features, sensitive attributes, prediction and label vary per model,
so the store keeps, per model and column, one *kind* in ``model_columns``. Features
and sensitive attributes live in the row's JSON object ``features``; the
prediction and the label in a ``DOUBLE`` column (numbers) or a ``VARCHAR`` one
(text):

======== ================================= ===============================
kind     stored as                         restored as
======== ================================= ===============================
boolean  JSON ``true``/``false`` (or 1/0)   ``BOOLEAN``
integer  JSON integer (or ``DOUBLE``)       ``BIGINT``
float    JSON number (or ``DOUBLE``)        ``DOUBLE``
text     JSON string (or ``VARCHAR``)       ``VARCHAR``
null     nothing (no value seen yet)        ``VARCHAR`` of nulls
======== ================================= ===============================

Batches may widen a kind (boolean → integer → float; null → anything) but never
turn numbers into text or back: that is reported as an error, since one of the two
batches is almost surely wrong. Unsigned 64-bit and 128-bit integers are stored as
floats (a ``BIGINT`` cannot hold them); other types (dates, lists) as text. A
prediction or label of kind integer is exact up to 2**53 (it is kept as ``DOUBLE``).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from seawall.exceptions import DataValidationError
from seawall.storage._columns import NULL_TYPE, is_numeric_type
from seawall.storage._sql import fetch_row, placeholders

__all__ = ["Column", "kind_of", "merge_catalog", "restore_expr", "restore_json"]

_NUMERIC_KINDS = ("boolean", "integer", "float")
_INTEGER_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}
)

Column = tuple[str, str, str]
"""A logged column: (name, role, kind); role is feature, sensitive, prediction or label."""


def kind_of(duck_type: str) -> str:
    """The kind a DuckDB column type is stored as.

    Parameters
    ----------
    duck_type : str
        The type, as ``DESCRIBE`` reports it.

    Returns
    -------
    str
        ``"boolean"``, ``"integer"``, ``"float"``, ``"text"`` or ``"null"``.

    Examples
    --------
    >>> kind_of("BIGINT"), kind_of("DECIMAL(5,2)"), kind_of("VARCHAR")
    ('integer', 'float', 'text')
    """
    if duck_type == "BOOLEAN":
        return "boolean"
    if duck_type in _INTEGER_TYPES:
        return "integer"
    if is_numeric_type(duck_type):
        return "float"
    if duck_type == NULL_TYPE:
        return "null"
    return "text"


def restore_expr(number: str, text: str, kind: str) -> str:
    """The SQL expression that reads a stored value back with its kind's type.

    Parameters
    ----------
    number : str
        The expression of the stored number (e.g. ``p.prediction``).
    text : str
        The expression of the stored text.
    kind : str
        The column's kind.

    Returns
    -------
    str
        The expression.

    Examples
    --------
    >>> restore_expr("p.prediction", "p.prediction_text", "integer")
    'CAST(p.prediction AS BIGINT)'
    """
    if kind == "boolean":
        return f"CAST({number} AS BOOLEAN)"
    if kind == "integer":
        return f"CAST({number} AS BIGINT)"
    if kind == "float":
        return number
    if kind == "text":
        return text
    return "CAST(NULL AS VARCHAR)"


def restore_json(features: str, path: str, kind: str) -> str:
    """The SQL expression that reads one key of a JSON ``features`` object back.

    Parameters
    ----------
    features : str
        The expression of the JSON object (e.g. ``p.features``).
    path : str
        The expression of the key's JSONPath, a parameter marker (``$k0``).
    kind : str
        The column's kind.

    Returns
    -------
    str
        The expression; a missing key or a JSON ``null`` reads as ``NULL``.

    Examples
    --------
    >>> restore_json("p.features", "$k0", "integer")
    'CAST(p.features -> $k0 AS BIGINT)'
    """
    if kind == "text":
        return f"{features} ->> {path}"
    target = {"boolean": "BOOLEAN", "integer": "BIGINT", "float": "DOUBLE"}.get(kind)
    if target is None:
        return "CAST(NULL AS VARCHAR)"
    # Casting the JSON value (not its text) reads true as 1 once a boolean
    # column has widened to integer.
    return f"CAST({features} -> {path} AS {target})"


_WIDEN = (
    "CASE WHEN c.kind = 'null' THEN b.kind "
    "WHEN b.kind = 'null' OR c.kind = 'text' THEN c.kind "
    "ELSE ['boolean', 'integer', 'float'][greatest("
    "list_position(['boolean', 'integer', 'float'], c.kind), "
    "list_position(['boolean', 'integer', 'float'], b.kind))] END"
)


def merge_catalog(
    cur: duckdb.DuckDBPyConnection,
    models_table: str,
    columns: Sequence[Column],
    label: str,
    caller: str,
) -> None:
    """Record the batch's columns for every model in it, widening kinds as needed.

    Parameters
    ----------
    cur : duckdb.DuckDBPyConnection
        The cursor, inside the ingest transaction.
    models_table : str
        A temporary table with one ``model`` column: the models in the batch.
    columns : sequence of (name, role, kind)
        The batch's logged columns, in input order.
    label : str
        How messages name the input.
    caller : str
        The public method.

    Raises
    ------
    DataValidationError
        When a column holds numbers in one batch and text in another.
    """
    if not columns:
        return
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE __seawall_batch_columns "
        "(name VARCHAR, role VARCHAR, kind VARCHAR, position INTEGER)"
    )
    values = [v for i, (name, role, kind) in enumerate(columns) for v in (name, role, kind, i)]
    rows = ", ".join(f"({placeholders(4)})" for _ in columns)
    cur.execute(f"INSERT INTO __seawall_batch_columns VALUES {rows}", values)
    clash = fetch_row(
        cur,
        f"SELECT c.model, c.name, c.kind, b.kind FROM model_columns c "
        f"JOIN {models_table} m ON m.model = c.model "
        f"JOIN __seawall_batch_columns b ON b.name = c.name "
        f"WHERE c.kind <> 'null' AND b.kind <> 'null' AND (c.kind = 'text') <> (b.kind = 'text') "
        f"ORDER BY c.model, c.name LIMIT 1",
    )
    if clash is not None:
        model, name, stored, given = clash
        raise DataValidationError(
            f"{caller}: the column {name!r} of model {model!r} holds {given} values in "
            f"{label}, but earlier batches stored it as {stored}; a column keeps one kind "
            f"(numbers or text). Convert the column, or log it under another name."
        )
    cur.execute(
        f"UPDATE model_columns c SET kind = {_WIDEN}, role = b.role "
        f"FROM {models_table} m, __seawall_batch_columns b "
        f"WHERE c.model = m.model AND c.name = b.name "
        f"AND (c.kind <> {_WIDEN} OR c.role <> b.role)"
    )
    cur.execute(
        f"INSERT INTO model_columns "
        f"SELECT m.model, b.name, b.role, b.kind, "
        f"coalesce(top.position, -1) "
        f"+ row_number() OVER (PARTITION BY m.model ORDER BY b.position) "
        f"FROM {models_table} m CROSS JOIN __seawall_batch_columns b "
        f"LEFT JOIN (SELECT model, max(position) AS position FROM model_columns "
        f"GROUP BY model) top "
        f"ON top.model = m.model "
        f"WHERE NOT EXISTS (SELECT 1 FROM model_columns c "
        f"WHERE c.model = m.model AND c.name = b.name)"
    )

"""The two ways a batch of typed rows joins a table without duplicating a key.

* :func:`insert_first` — the first write of a key wins: rows whose key is stored
  already, and later repeats within the batch, are skipped. Used where a row
  records an event that happened once (a prediction, a feedback action).
* :func:`upsert_latest` — the latest write of a key wins: a row replaces the stored
  row with its key when any value differs, and the last repeat within the batch is
  the one kept. Used where a value can be corrected or recomputed (a label, a
  metric window, an anomaly score, an incident).

Both read the batch from a temporary table created in input order (so ``rowid``
is the input row) and run inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from seawall.storage._sql import fetch_row, quote_identifier

__all__ = ["insert_first", "upsert_latest"]


def _count(cur: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = fetch_row(cur, sql)
    return 0 if row is None else int(row[0])


def _affected(cur: duckdb.DuckDBPyConnection) -> int:
    rows = cur.fetchall()
    return int(rows[0][0]) if rows else 0


def insert_first(
    cur: duckdb.DuckDBPyConnection,
    target: str,
    rows: str,
    keys: Sequence[str],
    columns: Sequence[str],
) -> int:
    """Insert the rows whose key is new, keeping the first of each repeated key.

    Parameters
    ----------
    cur : duckdb.DuckDBPyConnection
        The cursor, inside a transaction.
    target : str
        The table written.
    rows : str
        The temporary table of typed rows, in input order.
    keys : sequence of str
        The columns that identify a row.
    columns : sequence of str
        Every column written, in the target's order.

    Returns
    -------
    int
        The number of rows inserted.
    """
    t, r = quote_identifier(target), quote_identifier(rows)
    cols = ", ".join(quote_identifier(c) for c in columns)
    part = ", ".join(quote_identifier(k) for k in keys)
    same_key = " AND ".join(f"t.{quote_identifier(k)} = r.{quote_identifier(k)}" for k in keys)
    cur.execute(
        f"INSERT INTO {t} ({cols}) SELECT {cols} FROM {r} r "
        f"WHERE NOT EXISTS (SELECT 1 FROM {t} t WHERE {same_key}) "
        f"QUALIFY row_number() OVER (PARTITION BY {part} ORDER BY r.rowid) = 1"
    )
    return _affected(cur)


def upsert_latest(
    cur: duckdb.DuckDBPyConnection,
    target: str,
    rows: str,
    keys: Sequence[str],
    columns: Sequence[str],
) -> tuple[int, int, int]:
    """Write the rows, the latest per key winning, skipping rows equal to the stored ones.

    Parameters are as in :func:`insert_first`.

    Returns
    -------
    inserted : int
        Rows stored under a new key.
    replaced : int
        Stored rows overwritten by a row with different values.
    duplicates : int
        Rows skipped: earlier repeats of a key within the batch, and rows equal to
        the stored row with their key.
    """
    t, r = quote_identifier(target), quote_identifier(rows)
    latest = quote_identifier("__seawall_latest")
    cols = ", ".join(quote_identifier(c) for c in columns)
    part = ", ".join(quote_identifier(k) for k in keys)
    same_key = " AND ".join(f"t.{quote_identifier(k)} = n.{quote_identifier(k)}" for k in keys)
    values = [c for c in columns if c not in keys]
    same_values = (
        " AND ".join(
            f"t.{quote_identifier(c)} IS NOT DISTINCT FROM n.{quote_identifier(c)}" for c in values
        )
        or "TRUE"
    )
    n_rows = _count(cur, f"SELECT count(*) FROM {r}")
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE {latest} AS SELECT {cols} FROM {r} "
        f"QUALIFY row_number() OVER (PARTITION BY {part} ORDER BY rowid DESC) = 1"
    )
    n_latest = _count(cur, f"SELECT count(*) FROM {latest}")
    row = fetch_row(
        cur,
        f"SELECT count(*) FILTER (WHERE {same_values}), "
        f"count(*) FILTER (WHERE NOT ({same_values})) "
        f"FROM {latest} n JOIN {t} t ON {same_key}",
    )
    equal, changed = (0, 0) if row is None else (int(row[0]), int(row[1]))
    if changed:
        cur.execute(f"DELETE FROM {t} t USING {latest} n WHERE {same_key} AND NOT ({same_values})")
    cur.execute(
        f"INSERT INTO {t} ({cols}) SELECT {cols} FROM {latest} n "
        f"WHERE NOT EXISTS (SELECT 1 FROM {t} t WHERE {same_key})"
    )
    inserted = _affected(cur) - changed
    cur.execute(f"DROP TABLE {latest}")
    return inserted, changed, (n_rows - n_latest) + equal

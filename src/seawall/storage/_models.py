"""The model registry: names, versions, projects and free labels (team, region, source).

Labels are kept long, one ``(model, key, value)`` row each, so "which models share
this upstream source" and "what do these models have in common" are plain
``GROUP BY`` queries; :func:`read_models` pivots them into one column per key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import pyarrow as pa

from seawall._validation import param_error
from seawall.storage._columns import check_not_null, text_expr
from seawall.storage._ingest import check_name
from seawall.storage._inputs import load_rows, open_source, require_columns
from seawall.storage._results import IngestResult
from seawall.storage._sql import fetch_row, placeholders, quote_identifier

__all__ = ["model_labels", "read_models", "register_models", "shared_labels"]

_FIELDS = ("version", "project")


def register_models(
    cur: duckdb.DuckDBPyConnection, data: object, *, model_col: str, labels_col: str | None = None
) -> IngestResult:
    """Upsert models and their labels; see :meth:`Store.register_models`.

    Runs inside the caller's transaction on ``cur``.
    """
    caller = "Store.register_models"
    check_name(model_col, "model_col", caller)
    check_name(labels_col, "labels_col", caller, optional=True)
    source = open_source(cur, data, caller=caller, text_columns=(model_col,))
    require_columns(source, {"model_col": model_col}, caller)
    fields = [f for f in _FIELDS if f in source.columns and f != model_col]
    field_sql = "".join(f", {text_expr(f)} AS {quote_identifier(f)}" for f in fields)
    if labels_col is None:
        keys = [c for c in source.columns if c != model_col and c not in fields]
        labels_sql = f"map([{placeholders(len(keys))}], [{', '.join(text_expr(k) for k in keys)}])"
    else:
        require_columns(source, {"labels_col": labels_col}, caller)
        keys = []
        labels_sql = f"coalesce(s.{quote_identifier(labels_col)}, MAP {{}})"
    load_rows(
        cur,
        "__seawall_models",
        f"{text_expr(model_col)} "
        f"AS model{field_sql}, CAST({labels_sql} AS MAP(VARCHAR, VARCHAR)) AS labels ",
        keys,
        source,
        caller,
    )
    check_not_null(
        cur, "__seawall_models", {"model": ("model_col", model_col)}, source.label, caller
    )
    row = fetch_row(cur, "SELECT count(*) FROM __seawall_models")
    rows_read = 0 if row is None else int(row[0])
    # The latest registration of a model within the batch wins.
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE __seawall_latest_models AS SELECT * FROM __seawall_models "
        "QUALIFY row_number() OVER (PARTITION BY model ORDER BY rowid DESC) = 1"
    )
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE __seawall_model_labels AS SELECT model, "
        "unnest(map_keys(labels)) AS key, unnest(map_values(labels)) AS value "
        "FROM __seawall_latest_models"
    )
    differs = " OR ".join(
        [f"b.{quote_identifier(f)} IS DISTINCT FROM m.{quote_identifier(f)}" for f in fields]
        + [
            "EXISTS (SELECT 1 FROM __seawall_model_labels bl LEFT JOIN model_labels ml "
            "ON ml.model = bl.model AND ml.key = bl.key "
            "WHERE bl.model = b.model AND bl.value IS DISTINCT FROM ml.value)"
        ]
    )
    counts = fetch_row(
        cur,
        f"SELECT count(*), count(*) FILTER (WHERE m.model IS NULL), "
        f"count(*) FILTER (WHERE m.model IS NOT NULL AND ({differs})) "
        f"FROM __seawall_latest_models b LEFT JOIN models m ON m.model = b.model",
    )
    n_latest, inserted, replaced = (0, 0, 0) if counts is None else map(int, counts)
    cols = ", ".join(["model", *(quote_identifier(f) for f in fields)])
    update = ", ".join(f"{quote_identifier(f)} = excluded.{quote_identifier(f)}" for f in fields)
    conflict = f"DO UPDATE SET {update}" if fields else "DO NOTHING"
    cur.execute(
        f"INSERT INTO models ({cols}) SELECT {cols} FROM __seawall_latest_models "
        f"ON CONFLICT (model) {conflict}"
    )
    cur.execute(
        "DELETE FROM model_labels WHERE EXISTS (SELECT 1 FROM __seawall_model_labels bl "
        "WHERE bl.model = model_labels.model AND bl.key = model_labels.key)"
    )
    cur.execute(
        "INSERT INTO model_labels SELECT model, key, value FROM __seawall_model_labels "
        "WHERE value IS NOT NULL"
    )
    return IngestResult(
        "models",
        rows_read,
        inserted,
        replaced=replaced,
        duplicates=rows_read - inserted - replaced,
    )


def read_models(
    cur: duckdb.DuckDBPyConnection, labels: Mapping[str, str] | None = None
) -> pa.Table:
    """Every model with one column per label key; see :meth:`Store.models`."""
    caller = "Store.models"
    if labels is not None and not isinstance(labels, Mapping):
        raise param_error("labels", caller, "a mapping of label key to value, or None", labels)
    keys = [
        str(r[0]) for r in cur.sql("SELECT DISTINCT key FROM model_labels ORDER BY key").fetchall()
    ]
    params: dict[str, object] = {}
    pivots = []
    for i, key in enumerate(keys):
        params[f"k{i}"] = key
        pivots.append(f", max(l.value) FILTER (WHERE l.key = $k{i}) AS {quote_identifier(key)}")
    where = []
    for i, (key, value) in enumerate((labels or {}).items()):
        params[f"fk{i}"], params[f"fv{i}"] = str(key), str(value)
        where.append(
            f"m.model IN (SELECT model FROM model_labels WHERE key = $fk{i} AND value = $fv{i})"
        )
    where_sql = f"WHERE {' AND '.join(where)} " if where else ""
    return cur.sql(
        f"SELECT m.model, m.version, m.project{''.join(pivots)} FROM models m "
        f"LEFT JOIN model_labels l ON l.model = m.model {where_sql}"
        f"GROUP BY m.model, m.version, m.project ORDER BY m.model",
        params=params or None,
    ).to_arrow_table()


def model_labels(cur: duckdb.DuckDBPyConnection) -> pa.Table:
    """Every label as one ``(model, key, value)`` row; see :meth:`Store.model_labels`."""
    return cur.sql(
        "SELECT model, key, value FROM model_labels ORDER BY model, key"
    ).to_arrow_table()


def shared_labels(cur: duckdb.DuckDBPyConnection, models: Sequence[str]) -> dict[str, str]:
    """The labels every one of ``models`` carries; see :meth:`Store.shared_labels`."""
    if isinstance(models, str) or not isinstance(models, Sequence) or not models:
        raise param_error(
            "models", "Store.shared_labels", "a non-empty list of model names", models
        )
    names = sorted({str(m) for m in models})
    rows = cur.sql(
        "SELECT key, value FROM model_labels WHERE list_contains($models, model) "
        "GROUP BY key, value HAVING count(DISTINCT model) = $n ORDER BY key",
        params={"models": names, "n": len(names)},
    ).fetchall()
    return {str(k): str(v) for k, v in rows}

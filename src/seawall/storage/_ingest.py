"""Ingesting prediction logs and late-arriving labels, in bulk and idempotently.

Predictions: the first write of a (model, request_id) wins. A prediction is an event
that happened once, so a re-sent batch, an overlapping file or a repeated row is
skipped and what was accepted first is never rewritten.

Labels: the latest write of a (model, request_id) wins, so a corrected label
replaces the old one; re-sending an identical label changes nothing. Rows with no
label value (not yet known) are counted as ``missing`` and not stored.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from seawall._validation import param_error
from seawall.exceptions import DataValidationError
from seawall.storage._columns import check_not_null, number_expr, text_expr, time_expr
from seawall.storage._inputs import Source, load_rows, open_source, require_columns
from seawall.storage._kinds import Column, kind_of, merge_catalog
from seawall.storage._results import IngestResult
from seawall.storage._sql import fetch_row, quote_identifier
from seawall.storage._upsert import insert_first, upsert_latest

__all__ = ["RESERVED_COLUMNS", "check_name", "ingest_labels", "ingest_predictions"]

RESERVED_COLUMNS = frozenset(
    {"time", "model", "request_id", "prediction", "score", "label", "label_time"}
)
"""The columns of a read-back prediction table; no feature may take these names."""

_ROWS = "__seawall_rows"
_MODELS = "__seawall_batch_models"
_PREDICTION_COLUMNS = (
    "model", "request_id", "time", "prediction", "prediction_text", "score", "features",
)  # fmt: skip
_LABEL_COLUMNS = ("model", "request_id", "label", "label_text", "label_time")


def check_name(value: object, param: str, caller: str, *, optional: bool = False) -> str | None:
    """Check a column-name parameter: a non-empty string (or ``None`` when optional)."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        expected = "a column name (a non-empty string)" + (" or None" if optional else "")
        raise param_error(param, caller, expected, value)
    return value


def _names(value: object, param: str, caller: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise param_error(param, caller, "a list or tuple of column names", value)
    return [str(check_name(v, param, caller)) for v in value]


def _value_exprs(
    cur: duckdb.DuckDBPyConnection, source: Source, name: str, param: str, caller: str
) -> tuple[str, str, str]:
    """(kind, number expression, text expression) of a logged value column."""
    kind = kind_of(source.columns[name])
    if kind in ("boolean", "integer", "float"):
        return kind, number_expr(cur, source, name, param, caller), "CAST(NULL AS VARCHAR)"
    if kind == "text":
        return kind, "CAST(NULL AS DOUBLE)", text_expr(name)
    return kind, "CAST(NULL AS DOUBLE)", "CAST(NULL AS VARCHAR)"


def _features(
    cur: duckdb.DuckDBPyConnection, source: Source, logged: list[tuple[str, str]], caller: str
) -> tuple[str, list[object], list[Column]]:
    """The JSON object expression holding the logged columns, its key parameters, kinds."""
    keys: list[object] = []
    values: list[str] = []
    columns: list[Column] = []
    for name, role in logged:
        param = "sensitive_cols" if role == "sensitive" else "feature_cols"
        kind = kind_of(source.columns[name])
        columns.append((name, role, kind))
        if kind == "null":
            continue
        if kind == "boolean":
            value = "s." + quote_identifier(name)
        elif kind == "integer":
            value = f"CAST(s.{quote_identifier(name)} AS BIGINT)"
        elif kind == "float":
            value = number_expr(cur, source, name, param, caller)
        else:
            value = text_expr(name)
        keys.append(name)
        values.append(f"?, {value}")
    return f"json_object({', '.join(values)})", keys, columns


def _logged_columns(
    source: Source,
    named: list[str],
    sensitive: list[str],
    feature_cols: object,
    caller: str,
) -> list[tuple[str, str]]:
    """The (name, role) of every feature and sensitive column, in input order."""
    require_columns(source, {f"sensitive_cols[{i}]": c for i, c in enumerate(sensitive)}, caller)
    if feature_cols is None:
        features = [c for c in source.columns if c not in named and c not in sensitive]
    else:
        features = _names(feature_cols, "feature_cols", caller)
        require_columns(source, {f"feature_cols[{i}]": c for i, c in enumerate(features)}, caller)
    for group, param in ((features, "feature_cols"), (sensitive, "sensitive_cols")):
        for name in group:
            taken = name in named or (group is features and name in sensitive)
            if taken or name in RESERVED_COLUMNS:
                why = "names another role" if taken else "is reserved for the stored table"
                raise DataValidationError(
                    f"{caller}: the column {name!r} in {param} {why} (a read returns "
                    f"{sorted(RESERVED_COLUMNS)}); got it among the logged columns of "
                    f"{source.label}. Pass feature_cols= without it, rename it, or ingest "
                    f"labels with Store.ingest_labels."
                )
    roles = {**{c: "feature" for c in features}, **{c: "sensitive" for c in sensitive}}
    return [(c, roles[c]) for c in source.columns if c in roles]


def _register_new_models(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {_MODELS} AS SELECT DISTINCT model FROM {_ROWS}")
    cur.execute(
        f"INSERT INTO models (model) SELECT model FROM {_MODELS} "
        f"WHERE model NOT IN (SELECT model FROM models)"
    )


def ingest_predictions(
    cur: duckdb.DuckDBPyConnection,
    data: object,
    *,
    model_col: str,
    time_col: str,
    request_id_col: str,
    prediction_col: str,
    score_col: str | None,
    sensitive_cols: Sequence[str],
    feature_cols: Sequence[str] | None,
) -> IngestResult:
    """Store a batch of prediction logs; see :meth:`Store.ingest_predictions`.

    Runs inside the caller's transaction on ``cur``.
    """
    caller = "Store.ingest_predictions"
    named_params = {
        "model_col": model_col,
        "time_col": time_col,
        "request_id_col": request_id_col,
        "prediction_col": prediction_col,
    }
    for param, value in named_params.items():
        check_name(value, param, caller)
    score = check_name(score_col, "score_col", caller, optional=True)
    sensitive = _names(sensitive_cols, "sensitive_cols", caller)
    source = open_source(cur, data, caller=caller, text_columns=(model_col, request_id_col))
    if score is not None:
        named_params["score_col"] = score
    require_columns(source, named_params, caller)
    named = list(named_params.values())
    logged = _logged_columns(source, named, sensitive, feature_cols, caller)
    time_sql = time_expr(cur, source, time_col, "time_col", caller)
    pred_kind, pred_num, pred_text = _value_exprs(
        cur, source, prediction_col, "prediction_col", caller
    )
    score_sql = (
        "CAST(NULL AS DOUBLE)"
        if score is None
        else number_expr(cur, source, score, "score_col", caller)
    )
    features, keys, columns = _features(cur, source, logged, caller)
    load_rows(
        cur,
        _ROWS,
        f"{text_expr(model_col)} AS model, {text_expr(request_id_col)} AS request_id, "
        f"{time_sql} AS time, {pred_num} AS prediction, {pred_text} AS prediction_text, "
        f"{score_sql} AS score, {features} AS features ",
        keys,
        source,
        caller,
    )
    check_not_null(
        cur,
        _ROWS,
        {
            "model": ("model_col", model_col),
            "request_id": ("request_id_col", request_id_col),
            "time": ("time_col", time_col),
        },
        source.label,
        caller,
    )
    row = fetch_row(cur, f"SELECT count(*) FROM {_ROWS}")
    rows_read = 0 if row is None else int(row[0])
    _register_new_models(cur)
    merge_catalog(
        cur, _MODELS, [("prediction", "prediction", pred_kind), *columns], source.label, caller
    )
    inserted = insert_first(cur, "predictions", _ROWS, ("model", "request_id"), _PREDICTION_COLUMNS)
    return IngestResult("predictions", rows_read, inserted, duplicates=rows_read - inserted)


def ingest_labels(
    cur: duckdb.DuckDBPyConnection,
    data: object,
    *,
    model_col: str | None,
    request_id_col: str,
    label_col: str,
    label_time_col: str | None,
) -> IngestResult:
    """Store a batch of labels; see :meth:`Store.ingest_labels`.

    Runs inside the caller's transaction on ``cur``.
    """
    caller = "Store.ingest_labels"
    model = check_name(model_col, "model_col", caller, optional=True)
    check_name(request_id_col, "request_id_col", caller)
    check_name(label_col, "label_col", caller)
    label_time = check_name(label_time_col, "label_time_col", caller, optional=True)
    keys = (request_id_col,) if model is None else (model, request_id_col)
    source = open_source(cur, data, caller=caller, text_columns=keys)
    needed = {"request_id_col": request_id_col, "label_col": label_col}
    if model is not None:
        needed["model_col"] = model
    if label_time is not None:
        needed["label_time_col"] = label_time
    require_columns(source, needed, caller)
    kind, label_num, label_text = _value_exprs(cur, source, label_col, "label_col", caller)
    time_sql = (
        "CAST(NULL AS TIMESTAMP)"
        if label_time is None
        else time_expr(cur, source, label_time, "label_time_col", caller)
    )
    model_sql = "CAST(NULL AS VARCHAR)" if model is None else text_expr(model)
    raw = "__seawall_raw_labels"
    load_rows(
        cur,
        raw,
        f"{model_sql} AS model, "
        f"{text_expr(request_id_col)} AS request_id, {label_num} AS label, "
        f"{label_text} AS label_text, {time_sql} AS label_time",
        (),
        source,
        caller,
    )
    not_null = {"request_id": ("request_id_col", request_id_col)}
    if model is not None:
        not_null["model"] = ("model_col", model)
    check_not_null(cur, raw, not_null, source.label, caller)
    counts = fetch_row(
        cur,
        f"SELECT count(*), count(*) FILTER (WHERE label IS NULL AND label_text IS NULL) FROM {raw}",
    )
    rows_read, missing = (0, 0) if counts is None else (int(counts[0]), int(counts[1]))
    present = "(label IS NOT NULL OR label_text IS NOT NULL)"
    unmatched = 0
    if model is None:
        # Attribute each label to every model that logged its request id.
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE {_ROWS} AS SELECT p.model, r.request_id, r.label, "
            f"r.label_text, r.label_time FROM {raw} r JOIN "
            f"(SELECT DISTINCT model, request_id FROM predictions) p USING (request_id) "
            f"WHERE {present} ORDER BY r.rowid"
        )
        row = fetch_row(
            cur,
            f"SELECT count(*) FROM {raw} r WHERE {present} AND NOT EXISTS "
            f"(SELECT 1 FROM predictions p WHERE p.request_id = r.request_id)",
        )
        unmatched = 0 if row is None else int(row[0])
    else:
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE {_ROWS} AS SELECT * FROM {raw} WHERE {present} "
            f"ORDER BY rowid"
        )
    _register_new_models(cur)
    merge_catalog(cur, _MODELS, [("label", "label", kind)], source.label, caller)
    inserted, replaced, _ = upsert_latest(
        cur, "labels", _ROWS, ("model", "request_id"), _LABEL_COLUMNS
    )
    # Count per input row: a label fanned out to several models counts once.
    stored = rows_read - missing - unmatched
    duplicates = max(stored - inserted - replaced, 0)
    return IngestResult(
        "labels",
        rows_read,
        inserted,
        replaced=replaced,
        duplicates=duplicates,
        unmatched=unmatched,
        missing=missing,
    )

"""Request bodies to Arrow tables: JSON rows (validated by pydantic), Arrow IPC or Parquet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from seawall.service._errors import ApiError
from seawall.service._ingest_models import LabelBatch, MetricBatch, PredictionBatch

__all__ = [
    "ARROW_STREAM",
    "PARQUET",
    "label_table",
    "metric_table",
    "prediction_table",
    "read_batch",
]

ARROW_STREAM = "application/vnd.apache.arrow.stream"
PARQUET = "application/vnd.apache.parquet"
_PARQUET_ALIASES = {PARQUET, "application/x-parquet"}

B = TypeVar("B", bound=BaseModel)


def _utc(t: dt.datetime | None) -> dt.datetime | None:
    if t is None or t.tzinfo is None:
        return t
    return t.astimezone(dt.UTC).replace(tzinfo=None)


def _column(name: str, values: Sequence[Any], where: Callable[[int], str]) -> pa.Array:
    """One column; 422 naming the first row whose value's type differs from the others."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        kinds = [type(v) for v in values if v is not None]
        first = kinds[0] if kinds else type(None)
        numeric = {int, float}
        row = next(
            (
                i
                for i, v in enumerate(values)
                if v is not None
                and type(v) is not first
                and not (type(v) in numeric and first in numeric)
            ),
            0,
        )
        raise ApiError(
            422,
            f"the values of {name!r} must all be of one kind (numbers, booleans or text); "
            f"{where(row)} holds {values[row]!r} ({type(values[row]).__name__}) where earlier "
            f"rows hold {first.__name__}. Nothing of the batch was stored.",
            details=[{"loc": where(row), "message": str(e)}],
        ) from e


def _table(
    columns: dict[str, Sequence[Any]], where: Callable[[str], Callable[[int], str]]
) -> pa.Table:
    return pa.table({name: _column(name, values, where(name)) for name, values in columns.items()})


def prediction_table(batch: PredictionBatch) -> tuple[pa.Table, list[str]]:
    """The prediction rows as a flat table, and the names of the sensitive columns.

    Examples
    --------
    >>> b = PredictionBatch.model_validate({"rows": [{"model": "m", "request_id": "r1",
    ...     "time": "2024-05-01T09:00:00+02:00", "prediction": 1, "features": {"age": 31},
    ...     "sensitive": {"sex": "F"}}]})
    >>> table, sensitive = prediction_table(b)
    >>> table.column_names, sensitive, table["time"][0].as_py().hour
    (['model', 'request_id', 'time', 'prediction', 'score', 'age', 'sex'], ['sex'], 7)
    """
    rows = batch.rows
    features = list(dict.fromkeys(k for r in rows for k in r.features))
    sensitive = list(dict.fromkeys(k for r in rows for k in r.sensitive))
    for i, r in enumerate(rows):
        both = set(r.sensitive) & set(features)
        if both:
            name = sorted(both)[0]
            raise ApiError(
                422,
                f"rows[{i}].sensitive.{name}: {name!r} is also a feature of this batch; a "
                f"column is either a feature or a sensitive attribute. Nothing was stored.",
                details=[{"loc": f"rows[{i}].sensitive.{name}", "message": "also a feature"}],
            )
    columns: dict[str, Sequence[Any]] = {
        "model": [r.model for r in rows],
        "request_id": [r.request_id for r in rows],
        "time": [_utc(r.time) for r in rows],
        "prediction": [r.prediction for r in rows],
        "score": [r.score for r in rows],
    }
    for name in features:
        columns[name] = [r.features.get(name) for r in rows]
    for name in sensitive:
        columns[name] = [r.sensitive.get(name) for r in rows]

    def where(name: str) -> Callable[[int], str]:
        group = "features." if name in features else "sensitive." if name in sensitive else ""
        return lambda i: f"rows[{i}].{group}{name}"

    return _table(columns, where), sensitive


def label_table(batch: LabelBatch) -> pa.Table:
    """The label rows as a flat table."""
    rows = batch.rows
    columns: dict[str, Sequence[Any]] = {
        "model": [r.model for r in rows],
        "request_id": [r.request_id for r in rows],
        "label": [r.label for r in rows],
        "label_time": pa.array([_utc(r.label_time) for r in rows], pa.timestamp("us")),
    }
    return _table(columns, lambda name: lambda i: f"rows[{i}].{name}")


def metric_table(batch: MetricBatch) -> pa.Table:
    """The metric rows as the store's metric-point table."""
    rows = batch.rows
    return pa.table(
        {
            "model": [r.model for r in rows],
            "metric": [r.metric for r in rows],
            "qualifier": [r.qualifier for r in rows],
            "window_start": pa.array([_utc(r.timestamp) for r in rows], pa.timestamp("us")),
            "value": pa.array([r.value for r in rows], pa.float64()),
        }
    )


async def read_batch(request: Request, model: type[B], max_rows: int) -> B | pa.Table:
    """The request's body: a validated JSON batch, or a table from Arrow IPC or Parquet.

    Raises
    ------
    RequestValidationError
        On JSON that does not match ``model`` (answered 422 with each field's path).
    ApiError
        415 on another content type, 422 on an unreadable Arrow or Parquet body,
        413 on a JSON batch of more than ``max_rows`` rows.
    """
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if ctype == "application/json":
        try:
            batch = model.model_validate_json(body)
        except ValidationError as e:
            raise RequestValidationError(
                [{**err, "loc": ("body", *err["loc"])} for err in e.errors()]
            ) from e
        n = len(getattr(batch, "rows", getattr(batch, "models", [])))
        if n > max_rows:
            raise ApiError(
                413,
                f"the JSON batch has {n:,} rows; this service takes at most {max_rows:,} per "
                f"JSON batch. Split it, or send Arrow IPC ({ARROW_STREAM}) or Parquet ({PARQUET}).",
            )
        return batch
    try:
        if ctype == ARROW_STREAM:
            with pa.ipc.open_stream(body) as reader:
                return reader.read_all()
        if ctype in _PARQUET_ALIASES:
            return pq.read_table(pa.BufferReader(body))
    except (pa.ArrowException, OSError, ValueError) as e:
        kind = "Arrow IPC stream" if ctype == ARROW_STREAM else "Parquet file"
        raise ApiError(422, f"the body is not a readable {kind}: {e}. Nothing was stored.") from e
    raise ApiError(
        415,
        f"the body's content type is {ctype or 'missing'!r}; send application/json, "
        f"{ARROW_STREAM} or {PARQUET}.",
    )

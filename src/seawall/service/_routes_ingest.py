"""Ingestion: models, prediction logs, late labels and metric points of a project.

Every batch is validated whole before anything is written, written in one
transaction, and committed before the answer: a 2xx means the rows are in the
store's write-ahead log and survive a crash. Re-sending a batch is harmless
(predictions are kept once per model and request id).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import pyarrow as pa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from seawall.exceptions import SeawallError
from seawall.service._auth import project_access, requires
from seawall.service._bodies import (
    ARROW_STREAM,
    PARQUET,
    label_table,
    metric_table,
    prediction_table,
    read_batch,
)
from seawall.service._errors import ApiError
from seawall.service._ingest_models import LabelBatch, MetricBatch, ModelBatch, PredictionBatch
from seawall.service._projects import check_batch_models, check_names_free
from seawall.service._state import service_metrics, service_settings, service_store
from seawall.service._tokens import Principal
from seawall.storage import IngestResult, Store

__all__ = ["router"]

B = TypeVar("B", bound=BaseModel)

router = APIRouter(prefix="/api/v1/projects/{project}", tags=["ingestion"])


def _body_doc(model: type[BaseModel], tables: bool) -> dict[str, Any]:
    content: dict[str, Any] = {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
    }
    if tables:
        binary = {"schema": {"type": "string", "format": "binary"}}
        content[ARROW_STREAM] = binary
        content[PARQUET] = binary
    return {"requestBody": {"required": True, "content": content}}


@router.post(
    "/models",
    response_model=IngestResult,
    summary="Register or update models",
    openapi_extra=_body_doc(ModelBatch, tables=False),
)
async def post_models(
    project: str,
    request: Request,
    principal: Annotated[Principal, Depends(requires("ingest"))],
) -> IngestResult:
    """Register models in the project, or update their version and labels.

    A row's labels are set and the model's other labels stay. A model name used by
    another project is refused (409).
    """

    def to_table(batch: ModelBatch) -> tuple[pa.Table, list[str]]:
        rows = batch.models
        table = pa.table(
            {
                "model": [r.model for r in rows],
                "version": [r.version for r in rows],
                "project": [project] * len(rows),
                "labels": pa.array(
                    [list(r.labels.items()) for r in rows], pa.map_(pa.string(), pa.string())
                ),
            }
        )
        return table, []

    def write(store: Store, table: pa.Table, _: list[str]) -> IngestResult:
        return store.register_models(table, labels_col="labels")

    return await _ingest_batch(
        request, project, principal, ModelBatch, to_table, write, check=check_names_free
    )


async def _ingest_batch(
    request: Request,
    project: str,
    principal: Principal,
    model: type[B],
    to_table: Callable[[B], tuple[pa.Table, list[str]]],
    write: Callable[[Store, pa.Table, list[str]], IngestResult],
    *,
    table_extra: list[str] | None = None,
    check: Callable[[Store, str, pa.Table, str], None] = check_batch_models,
) -> IngestResult:
    """Check the project, read and validate the body, then write it in one transaction.

    ``table_extra`` is passed to ``write`` for Arrow/Parquet bodies; ``None`` means
    the endpoint takes JSON only. ``check`` vets the batch's models before the
    write (by default: every model is one of the project's).
    """
    await run_in_threadpool(project_access, request, principal, project)
    metrics = service_metrics(request)
    kind = request.url.path.rsplit("/", 1)[-1]
    try:
        batch = await read_batch(request, model, service_settings(request).max_json_rows)
        if isinstance(batch, pa.Table):
            if table_extra is None:
                raise ApiError(415, f"{request.url.path} takes a JSON body (application/json).")
            table, extra, where = batch, table_extra, "row"
        else:
            (table, extra), where = to_table(batch), "rows"
        store = service_store(request)

        def run() -> IngestResult:
            check(store, project, table, where)
            return write(store, table, extra)

        result = await run_in_threadpool(run)
    except (ApiError, RequestValidationError, SeawallError):
        metrics.refused.labels(table=kind).inc()
        raise
    metrics.count_ingest(result.table, result.to_dict())
    return result


@router.post(
    "/predictions",
    response_model=IngestResult,
    summary="Log predictions",
    openapi_extra=_body_doc(PredictionBatch, tables=True),
)
async def post_predictions(
    project: str,
    request: Request,
    principal: Annotated[Principal, Depends(requires("ingest"))],
    sensitive: Annotated[
        list[str],
        Query(description="Arrow/Parquet bodies: the columns that hold sensitive attributes."),
    ] = [],  # noqa: B006 - FastAPI copies query defaults
) -> IngestResult:
    """Log a batch of predictions (JSON rows, an Arrow IPC stream or a Parquet file).

    Tables have the columns ``model, request_id, time, prediction`` and optionally
    ``score``; every other column is a logged feature, or a sensitive attribute
    when named in ``sensitive``. Each (model, request id) is kept once: the first
    write wins and repeats count as duplicates.
    """

    def write(store: Store, table: pa.Table, sens: list[str]) -> IngestResult:
        score_col = "score" if "score" in table.column_names else None
        return store.ingest_predictions(table, score_col=score_col, sensitive_cols=sens)

    return await _ingest_batch(
        request,
        project,
        principal,
        PredictionBatch,
        prediction_table,
        write,
        table_extra=list(sensitive),
    )


@router.post(
    "/labels",
    response_model=IngestResult,
    summary="Send labels that arrived late",
    openapi_extra=_body_doc(LabelBatch, tables=True),
)
async def post_labels(
    project: str,
    request: Request,
    principal: Annotated[Principal, Depends(requires("ingest"))],
) -> IngestResult:
    """Send ground truth, joined to the predictions by model and request id.

    Tables have the columns ``model, request_id, label`` and optionally
    ``label_time``. A corrected label replaces the stored one.
    """

    def write(store: Store, table: pa.Table, _: list[str]) -> IngestResult:
        label_time = "label_time" if "label_time" in table.column_names else None
        return store.ingest_labels(table, label_time_col=label_time)

    return await _ingest_batch(
        request,
        project,
        principal,
        LabelBatch,
        lambda b: (label_table(b), []),
        write,
        table_extra=[],
    )


@router.post(
    "/metrics",
    response_model=IngestResult,
    summary="Push business or custom metric points",
    openapi_extra=_body_doc(MetricBatch, tables=True),
)
async def post_metrics(
    project: str,
    request: Request,
    principal: Annotated[Principal, Depends(requires("ingest"))],
) -> IngestResult:
    """Push points of a metric of your own (revenue, latency...) for a model.

    Each metric becomes a series for the detector. A point sent again for the
    same model, metric, qualifier and time replaces the stored one. Tables have
    the columns ``model, metric, timestamp, value`` and optionally ``qualifier``.
    """

    def write(store: Store, table: pa.Table, _: list[str]) -> IngestResult:
        if "timestamp" in table.column_names and "window_start" not in table.column_names:
            names = ["window_start" if n == "timestamp" else n for n in table.column_names]
            table = table.rename_columns(names)
        return store.write_metric_points(table)

    return await _ingest_batch(
        request,
        project,
        principal,
        MetricBatch,
        lambda b: (metric_table(b), []),
        write,
        table_extra=[],
    )

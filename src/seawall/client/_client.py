"""``seawall.Client``: send logs, labels and metrics to a Seawall service in batches."""

from __future__ import annotations

import io
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import pyarrow as pa

from seawall._validation import param_error
from seawall.client._report import Rejected, UploadReport
from seawall.exceptions import DataValidationError, SeawallError

__all__ = ["Client", "ServiceError"]

_ARROW = "application/vnd.apache.arrow.stream"
Progress = Callable[[int, int, str], None]
"""``progress(rows_done, rows_total, description)``, called before each batch."""
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class ServiceError(SeawallError):
    """The service could not be reached, or refused the request as a whole (401/403/404)."""


def _table(data: object, what: str) -> pa.Table:
    """A table from a pyarrow table, a pandas frame, a list of dicts, or a CSV/Parquet path."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, str | os.PathLike):
        from seawall._io import read_table

        return pa.Table.from_pandas(read_table(Path(data)), preserve_index=False)
    if isinstance(data, list):
        return pa.Table.from_pylist(data)
    if hasattr(data, "to_arrow") or type(data).__name__ == "DataFrame":
        return pa.Table.from_pandas(data, preserve_index=False)
    raise param_error(
        what, "Client", "a pyarrow.Table, a pandas DataFrame, a list of dicts or a file path", data
    )


def _arrow_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


class Client:
    """Send prediction logs, labels, metric points and models to a Seawall service.

    Tables go as Arrow IPC in batches of ``batch_rows``. A batch that meets a
    network error, 429 or a 5xx is sent again after a growing, jittered pause
    (safe: predictions are kept once per request id, labels and points are
    replaced by their latest value). A batch the service refuses (4xx) is
    reported in the result with the service's message, and the other batches go
    on; nothing of a refused batch is stored.

    Parameters
    ----------
    url : str
        The service, e.g. ``"http://127.0.0.1:8000"``.
    token : str or None, default=None
        An API token with the ``ingest`` scope; ``None`` reads ``SEAWALL_TOKEN``.
    project : str, default="default"
        The project the data belongs to.
    batch_rows : int, default=5000
        Rows per request.
    retries : int, default=5
        How many times a batch is sent again before giving up.
    backoff : float, default=0.5
        The first pause in seconds; it doubles with each retry (with jitter).
    timeout : float, default=60.0
        Seconds to wait for an answer.
    transport : httpx.BaseTransport or None, default=None
        For tests: e.g. an ASGI or mock transport.

    Examples
    --------
    >>> import pandas as pd
    >>> from fastapi.testclient import TestClient
    >>> from seawall.service import ServiceSettings, create_app, issue_token
    >>> app = create_app(ServiceSettings(print_admin_token=False))
    >>> with TestClient(app) as web:
    ...     token = issue_token(app.state.store, "demo", ["ingest"], ["*"]).token
    ...     with Client("http://test", token, client=web) as client:
    ...         _ = client.register_models([{"model": "churn"}])
    ...         report = client.log_predictions(pd.DataFrame({
    ...             "model": ["churn"] * 3, "request_id": ["a", "b", "c"],
    ...             "time": pd.to_datetime(["2024-05-01 09:00"] * 3),
    ...             "prediction": [1, 0, 1], "score": [0.9, 0.2, 0.7]}))
    >>> report.inserted, report.ok
    (3, True)
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        project: str = "default",
        batch_rows: int = 5000,
        retries: int = 5,
        backoff: float = 0.5,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        token = token if token is not None else os.environ.get("SEAWALL_TOKEN")
        if not token:
            raise param_error("token", "Client", "an API token (or SEAWALL_TOKEN set)", token)
        if not isinstance(batch_rows, int) or batch_rows < 1:
            raise param_error("batch_rows", "Client", "a positive int", batch_rows)
        if not isinstance(retries, int) or retries < 0:
            raise param_error("retries", "Client", "an int >= 0", retries)
        self.project = project
        self.batch_rows = batch_rows
        self.retries = retries
        self.backoff = float(backoff)
        self._owns = client is None
        headers = {"Authorization": f"Bearer {token}"}
        if client is None:
            client = httpx.Client(base_url=url.rstrip("/"), timeout=timeout, transport=transport)
        self._http = client
        self._headers = headers
        self._sleep: Callable[[float], None] = time.sleep

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool (when the client made it)."""
        if self._owns:
            self._http.close()

    # ------------------------------------------------------------------ #

    def _post(self, path: str, **kwargs: Any) -> tuple[httpx.Response, int]:
        """POST with retries; (response, retries used). Raises ServiceError when unreachable."""
        url = f"/api/v1/projects/{self.project}/{path}"
        headers = {**self._headers, **kwargs.pop("headers", {})}
        for attempt in range(self.retries + 1):
            try:
                response = self._http.post(url, headers=headers, **kwargs)
            except httpx.TransportError as e:
                if attempt == self.retries:
                    raise ServiceError(
                        f"could not reach the service at {self._http.base_url} after "
                        f"{attempt + 1} attempts: {e}. Check the URL and that it runs."
                    ) from e
            else:
                if response.status_code not in _RETRY_STATUSES or attempt == self.retries:
                    return response, attempt
            self._sleep(self.backoff * 2**attempt * (0.5 + random.random()))  # noqa: S311
        raise AssertionError("unreachable")  # pragma: no cover

    def _check_whole(self, response: httpx.Response) -> None:
        if response.status_code in (401, 403, 404):
            raise ServiceError(f"the service refused the request: {_message(response)}")

    def _send(
        self,
        path: str,
        table: pa.Table,
        params: dict[str, Any] | None = None,
        progress: Progress | None = None,
    ) -> UploadReport:
        report = UploadReport()
        rejected: list[Rejected] = []
        for start, batch in _batches(table, self.batch_rows):
            if progress is not None:
                progress(start, table.num_rows, f"sending {path}")
            response, retried = self._post(
                path,
                content=_arrow_bytes(batch),
                params=params or {},
                headers={"Content-Type": _ARROW},
            )
            self._check_whole(response)
            report = replace(report, retries=report.retries + retried)
            stop = start + batch.num_rows
            if response.is_success:
                counts = response.json()
                report = replace(
                    report,
                    rows_sent=report.rows_sent + batch.num_rows,
                    **{
                        k: getattr(report, k) + int(counts.get(k, 0))
                        for k in ("inserted", "replaced", "duplicates", "unmatched", "missing")
                    },
                )
            else:
                body = _error(response)
                rejected.append(
                    Rejected(
                        start,
                        stop,
                        response.status_code,
                        str(body.get("message", response.text)),
                        tuple(body.get("details", ())),
                    )
                )
                report = replace(report, rows_sent=report.rows_sent + batch.num_rows)
        if progress is not None:
            progress(table.num_rows, table.num_rows, f"sent {path}")
        return replace(report, rejected=tuple(rejected))

    # ------------------------------------------------------------------ #

    def register_models(self, models: object) -> UploadReport:
        """Register models of the project.

        Rows have ``model``, optionally ``version`` and ``labels`` (a dict of label
        to value).
        """
        rows = _table(models, "models").to_pylist()
        if not rows:
            raise DataValidationError("Client.register_models: there are no models to register.")
        response, retried = self._post("models", json={"models": rows})
        self._check_whole(response)
        if not response.is_success:
            body = _error(response)
            return UploadReport(
                rows_sent=len(rows),
                rejected=(
                    Rejected(0, len(rows), response.status_code, str(body.get("message")), ()),
                ),
                retries=retried,
            )
        counts = response.json()
        return UploadReport(
            rows_sent=len(rows),
            inserted=int(counts["inserted"]),
            replaced=int(counts["replaced"]),
            duplicates=int(counts["duplicates"]),
            retries=retried,
        )

    def log_predictions(
        self, data: object, *, sensitive: Sequence[str] = (), progress: Progress | None = None
    ) -> UploadReport:
        """Send prediction logs.

        Columns ``model, request_id, time, prediction`` and optionally ``score``;
        other columns are features, or sensitive attributes when named in
        ``sensitive``.
        """
        table = _table(data, "data")
        return self._send("predictions", table, {"sensitive": list(sensitive)}, progress)

    def send_labels(self, data: object, *, progress: Progress | None = None) -> UploadReport:
        """Send labels: ``model, request_id, label`` and optionally ``label_time``."""
        return self._send("labels", _table(data, "data"), None, progress)

    def push_metrics(self, data: object, *, progress: Progress | None = None) -> UploadReport:
        """Send metric points.

        Columns ``model, metric, timestamp, value`` and optionally ``qualifier``.
        """
        return self._send("metrics", _table(data, "data"), None, progress)


def _batches(table: pa.Table, size: int) -> Iterator[tuple[int, pa.Table]]:
    for start in range(0, table.num_rows, size):
        yield start, table.slice(start, size)


def _error(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"message": response.text}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {"message": response.text}


def _message(response: httpx.Response) -> str:
    return f"{response.status_code}: {_error(response).get('message', response.text)}"

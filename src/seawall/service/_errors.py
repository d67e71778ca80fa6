"""One JSON error shape for every 4xx and 5xx the service answers.

Every error body is ``{"error": {"status": int, "code": str, "message": str,
"details": list}}``: ``code`` is a stable machine-readable word, ``message`` names
the input, what was expected, what was received and what to do, and ``details``
lists field-level problems (``{"loc": "rows[3].time", "message": ...}``) when
there are any.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from seawall.exceptions import DataValidationError, InvalidParameterError, StorageError

__all__ = [
    "ERROR_RESPONSES",
    "ApiError",
    "ErrorBody",
    "error_body",
    "install_error_handlers",
    "location",
]

_log = logging.getLogger("seawall.service")

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


class ErrorDetail(BaseModel):
    """One field-level problem: where (``rows[3].time``) and what."""

    loc: str
    message: str


class ErrorInfo(BaseModel):
    """The error: HTTP status, machine-readable code, message and field problems."""

    status: int
    code: str
    message: str
    details: list[ErrorDetail]


class ErrorBody(BaseModel):
    """The one JSON shape of every 4xx and 5xx answer."""

    error: ErrorInfo


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (401, "No token, or one that is malformed, unknown or revoked"),
        (403, "The token lacks the scope this endpoint needs"),
        (404, "Not found, or not visible to this token"),
        (413, "The body is over the size limit"),
        (422, "The request is invalid; nothing of it was stored"),
        (503, "The store is unavailable"),
    )
}
"""The error answers every API route documents in the OpenAPI document."""


class ApiError(Exception):
    """An error the service answers with its status and the JSON error shape.

    Parameters
    ----------
    status : int
        The HTTP status (4xx or 5xx).
    message : str
        What went wrong and what to do.
    code : str or None, default=None
        The machine-readable code; ``None`` takes the status's default.
    details : list of dict, default=()
        Field-level problems.
    headers : dict or None, default=None
        Extra response headers (``WWW-Authenticate`` on 401).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | tuple[()] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _CODES.get(status, "error")
        self.details = list(details)
        self.headers = headers


def error_body(
    status: int, message: str, code: str | None = None, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The JSON error shape.

    Examples
    --------
    >>> error_body(404, "no model 'x'")["error"]["code"]
    'not_found'
    """
    return {
        "error": {
            "status": status,
            "code": code or _CODES.get(status, "error"),
            "message": message,
            "details": details or [],
        }
    }


def location(loc: tuple[Any, ...] | list[Any]) -> str:
    """A pydantic error location as a path: ``("body", "rows", 3, "time")`` → ``rows[3].time``.

    Examples
    --------
    >>> location(("body", "rows", 3, "time"))
    'rows[3].time'
    >>> location(("query", "limit"))
    'limit'
    """
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "body"


def _response(
    status: int,
    message: str,
    code: str | None = None,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(status, message, code, details), status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error raised in ``app`` with the JSON error shape."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, e: ApiError) -> JSONResponse:
        return _response(e.status, e.message, e.code, e.details, e.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, e: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": location(err.get("loc", ())), "message": str(err.get("msg", ""))}
            for err in e.errors()
        ]
        first = details[0] if details else {"loc": "body", "message": "invalid"}
        more = f" (and {len(details) - 1} more problems)" if len(details) > 1 else ""
        message = (
            f"the request is invalid at {first['loc']}: {first['message']}{more}. "
            f"Nothing of it was stored; fix it and send it again."
        )
        return _response(422, message, details=details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, e: StarletteHTTPException) -> JSONResponse:
        message = str(e.detail) if e.detail else "error"
        if e.status_code == 404 and message == "Not Found":
            message = "no such endpoint; see /docs or /openapi.json for the API."
        if e.status_code == 405:
            message = "this endpoint does not take that method; see /openapi.json."
        return _response(e.status_code, message, headers=getattr(e, "headers", None))

    @app.exception_handler(DataValidationError)
    @app.exception_handler(InvalidParameterError)
    async def _data(_: Request, e: Exception) -> JSONResponse:
        return _response(422, f"{e} Nothing of the batch was stored.")

    @app.exception_handler(StorageError)
    async def _storage(_: Request, e: StorageError) -> JSONResponse:
        _log.error("storage error: %s", e)
        return _response(503, f"the store could not complete the request: {e}")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, e: Exception) -> JSONResponse:
        _log.exception("unexpected error")
        return _response(
            500,
            f"an unexpected error happened ({type(e).__name__}); it was logged on the "
            f"server. A batch is stored whole or not at all: send it again to be sure "
            f"(request ids make that safe).",
        )

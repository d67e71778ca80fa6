"""The request-size limit: bodies over the limit get 413 before any route sees them."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from seawall.service._errors import error_body

__all__ = ["BodyLimit"]


async def _reject(send: Send, limit: int) -> None:
    body = json.dumps(
        error_body(
            413,
            f"the request body is larger than this service accepts ({limit:,} bytes). "
            f"Split the batch into smaller ones (request ids make that safe).",
        )
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware that reads a request body up to ``max_bytes`` and refuses more.

    A declared ``Content-Length`` over the limit is refused at once; a body sent in
    chunks is counted as it arrives. An accepted body is replayed to the app whole.

    Parameters
    ----------
    app : ASGI app
        The app behind the limit.
    max_bytes : int
        The largest body accepted.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _reject(send, self.max_bytes)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _reject(send, self.max_bytes)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        whole: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([whole], receive), send)


def _replay(first: list[Message], receive: Receive) -> Receive:
    pending = list(first)

    async def replay() -> Any:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay

"""Reject request bodies over a size limit before they are buffered (413 naming ``body``).

A pure ASGI middleware: a declared ``Content-Length`` over the limit is refused before reading;
a chunked body (no length) is counted while it streams and refused as soon as it passes the
limit, so a client cannot make the server hold an unbounded body in memory.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException

from uniner.serving.errors import error_body

Scope = dict[str, Any]


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` mid-stream; an HTTPException so FastAPI's body parsing re-raises
    it untouched and the app's handler answers 413 (the middleware answers if nothing did)."""

    def __init__(self, max_bytes: int):
        super().__init__(status_code=413, detail=f"request body larger than {max_bytes} bytes")
        self.max_bytes = max_bytes


class BodySizeLimit:
    def __init__(self, app: Any, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
        if declared is not None and declared > self.max_bytes:
            await self._reject(send)
            return

        seen = 0
        started = False

        async def counting_receive() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._reject(send)

    async def _reject(self, send: Any) -> None:
        payload = json.dumps(
            error_body(
                "body_too_large",
                f"request body larger than {self.max_bytes} bytes",
                field="body",
                limit=self.max_bytes,
            )
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

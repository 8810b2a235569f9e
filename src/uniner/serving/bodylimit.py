"""Reject request bodies over a size limit before they are buffered (413 naming ``body``), and
bodies that take too long to arrive (408).

A pure ASGI middleware: a declared ``Content-Length`` over the limit is refused before reading;
a chunked body (no length) is counted while it streams and refused as soon as it passes the
limit, so a client cannot make the server hold an unbounded body in memory. The whole body must
arrive within ``timeout_s`` of the first read (a client trickling bytes, or announcing more than
it sends, would otherwise hold its connection and request task forever).
"""

from __future__ import annotations

import asyncio
import json
import time

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from uniner.serving.errors import error_body


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` mid-stream; an HTTPException so FastAPI's body parsing re-raises
    it untouched and the app's handler answers 413 (the middleware answers if nothing did)."""

    def __init__(self, max_bytes: int):
        super().__init__(status_code=413, detail=f"request body larger than {max_bytes} bytes")
        self.max_bytes = max_bytes


class BodyTimeout(HTTPException):
    """The body did not arrive in time (408); raised from ``receive`` like BodyTooLarge."""

    def __init__(self, timeout_s: float):
        super().__init__(
            status_code=408,
            detail=f"the request body did not arrive within {timeout_s:g} s",
            headers={"Connection": "close"},
        )
        self.timeout_s = timeout_s


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, timeout_s: float | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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
        body_done = False
        read_by: float | None = None

        async def counting_receive() -> Message:
            nonlocal seen, body_done, read_by
            if body_done or self.timeout_s is None:  # e.g. waiting for a disconnect
                message = await receive()
            else:
                if read_by is None:
                    read_by = time.monotonic() + self.timeout_s
                try:
                    message = await asyncio.wait_for(receive(), read_by - time.monotonic())
                except TimeoutError:
                    raise BodyTimeout(self.timeout_s) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._reject(send)
        except BodyTimeout as exc:
            if not started:
                await self._reject(send, exc)

    async def _reject(self, send: Send, timeout: BodyTimeout | None = None) -> None:
        if timeout is None:
            status, body = (
                413,
                error_body(
                    "body_too_large",
                    f"request body larger than {self.max_bytes} bytes",
                    field="body",
                    limit=self.max_bytes,
                ),
            )
        else:
            status, body = (
                408,
                error_body(
                    "body_timeout", str(timeout.detail), field="body", limit=timeout.timeout_s
                ),
            )
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

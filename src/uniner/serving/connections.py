"""Connection-level timeouts uvicorn lacks: a client must finish its request headers in time.

Why: uvicorn (0.54, h11) arms no timer on a new connection, and the keep-alive timer it arms
after a response is cancelled by the first byte of the next request. A client that opens
connections and sends half a request line, or a byte now and then, holds each one forever (and
on shutdown uvicorn waits for them). :class:`HeaderTimeoutH11Protocol` is uvicorn's own h11
protocol with one addition: from the moment a connection opens, and again after each response,
the client has ``header_timeout`` seconds to complete the next request's headers, or the
connection is closed. Body reads are bounded separately, per request, in
:mod:`uniner.serving.bodylimit`; idle keep-alive connections by uvicorn's ``timeout_keep_alive``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("uniner.serving")


def header_timeout_protocol(header_timeout: float) -> type[H11Protocol]:
    """uvicorn's ``http=`` protocol class closing connections slower than ``header_timeout``."""

    class Guarded(HeaderTimeoutH11Protocol):
        timeout_headers = header_timeout

    return Guarded


class HeaderTimeoutH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus a request-header deadline (see module docstring)."""

    timeout_headers: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._cycle_when_armed: Any = None

    def _arm_header_timer(self) -> None:
        self._disarm_header_timer()
        self._cycle_when_armed = self.cycle
        self._header_timer = self.loop.call_later(self.timeout_headers, self._headers_timed_out)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _disarm_if_request_started(self) -> None:
        # uvicorn makes a new request cycle once a request's headers are complete
        if self._header_timer is not None and self.cycle is not self._cycle_when_armed:
            self._disarm_header_timer()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._disarm_if_request_started()

    def on_response_complete(self) -> None:
        if not self.transport.is_closing():
            self._arm_header_timer()  # for the next request on this connection
        super().on_response_complete()  # may start a pipelined request at once
        self._disarm_if_request_started()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def _headers_timed_out(self) -> None:
        self._header_timer = None
        if self.cycle is not self._cycle_when_armed or self.transport.is_closing():
            return
        log.info(
            "closing a connection from %s: no complete request headers in %s s",
            self.client,
            self.timeout_headers,
        )
        self.transport.close()

"""Errors a client may receive: one JSON shape (``{"error": {code, message, field, limit}}``).

Handlers in :mod:`uniner.serving.handlers` turn these, pydantic's validation errors, malformed
JSON and any unexpected exception into that shape; an unexpected exception is logged server-side
with its traceback and the client only sees ``internal_error``.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error meant for the client: HTTP status, a stable code, and the field at fault."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        limit: int | float | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.limit = limit
        self.headers = headers

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, field=self.field, limit=self.limit)


def error_body(
    code: str, message: str, *, field: str | None = None, limit: int | float | None = None
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field, "limit": limit}}


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """Pydantic's error location as a field path: ('body', 'texts', 2) -> 'texts[2]'."""
    parts = [p for p in loc if p != "body"]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "body"

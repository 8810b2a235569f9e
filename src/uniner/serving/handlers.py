"""Error handlers: every failure leaves the server as one JSON shape, never a traceback.

The shape is :func:`uniner.serving.errors.error_body`'s; these handlers map the four sources of
errors onto it: our own :class:`ApiError`, pydantic's validation errors and malformed JSON,
Starlette's HTTP errors (404, 405, the body limits) and anything unexpected (logged with its
traceback, shown to the client as ``internal_error`` only).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from uniner.serving.bodylimit import BodyTimeout, BodyTooLarge
from uniner.serving.errors import ApiError, error_body, field_path

log = logging.getLogger("uniner.serving")

INTERNAL_ERROR = "internal server error (details are in the server log)"


async def api_error(_: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    """422: malformed JSON, or the first broken field named (all of them under ``errors``)."""
    errors = exc.errors()
    first: Mapping[str, Any] = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
    if first.get("type") == "json_invalid":
        detail = (first.get("ctx") or {}).get("error", "JSON decode error")
        message = f"request body is not valid JSON: {detail}"
        body = error_body("malformed_json", message, field="body")
    else:
        loc = tuple(first.get("loc", ("body",)))
        body = error_body("invalid_request", str(first.get("msg")), field=field_path(loc))
        body["error"]["errors"] = [
            {"field": field_path(tuple(e.get("loc", ()))), "message": str(e.get("msg"))}
            for e in errors
        ]
    return JSONResponse(body, status_code=422)


async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    if isinstance(exc, BodyTooLarge):
        body = error_body("body_too_large", str(exc.detail), field="body", limit=exc.max_bytes)
    elif isinstance(exc, BodyTimeout):
        body = error_body("body_timeout", str(exc.detail), field="body", limit=exc.timeout_s)
    else:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        body = error_body(code, str(exc.detail))
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(error_body("internal_error", INTERNAL_ERROR), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on ``app``."""
    # the decorator form of add_exception_handler: it takes a handler of the exception's own type
    app.exception_handler(ApiError)(api_error)
    app.exception_handler(RequestValidationError)(validation_error)
    app.exception_handler(StarletteHTTPException)(http_error)
    app.add_exception_handler(Exception, unexpected_error)

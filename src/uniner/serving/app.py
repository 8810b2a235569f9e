"""The FastAPI application: ``POST /v1/extract``, ``GET /v1/models``, ``GET /health``, the page.

The page at ``/`` and the API docs at ``/docs`` use only local assets: the server must be
usable with no internet. Like the page and ``/health``, the docs need no API key.

:func:`create_app` takes an already loaded extractor (anything with ``name`` and
``extract_batch``; the span student also gives ``extract_each`` for mixed-label batches) and
:class:`~uniner.serving.settings.ServeSettings`. The app starts its micro-batcher on startup and,
on shutdown, lets it finish every queued job before stopping, so uvicorn's graceful shutdown
(stop accepting, wait for requests in flight) returns every in-flight request's answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from uniner.serving.batcher import BatcherStopped, MicroBatcher, QueueFull
from uniner.serving.bodylimit import BodySizeLimit, BodyTooLarge
from uniner.serving.errors import ApiError, error_body, field_path
from uniner.serving.limits import check_request
from uniner.serving.schemas import (
    EntityOut,
    ErrorResponse,
    ExtractRequest,
    ExtractResponse,
    FewTypesThreshold,
    HealthResponse,
    ModelInfo,
    ModelsResponse,
    PreferSpecific,
    TextResult,
)
from uniner.serving.security import ApiKeyGuard
from uniner.serving.settings import ServeSettings

log = logging.getLogger("uniner.serving")

STATIC_DIR = resources.files("uniner.serving") / "static"

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": desc}
    for code, desc in {
        401: "Missing or wrong API key",
        413: "Body, a text or the batch is too large",
        422: "Malformed JSON or a field breaks a rule or limit",
        503: "Queue full or shutting down",
        504: "Request timed out",
    }.items()
}


def create_app(extractor: Any, settings: ServeSettings | None = None) -> FastAPI:
    """A ready-to-serve ASGI app around ``extractor`` (see module docstring)."""
    s = settings or ServeSettings()
    batcher = MicroBatcher(
        extractor,
        max_texts=s.batch_max_texts,
        max_wait_ms=s.batch_max_wait_ms,
        enabled=s.micro_batching,
        max_queue_texts=s.max_queue_texts,
    )
    default_threshold = float(getattr(extractor, "threshold", 0.5))
    # a span model may release a higher threshold for calls asking few types (threshold_for)
    threshold_for = getattr(extractor, "threshold_for", lambda _n: default_threshold)
    default_multi_label = bool(getattr(extractor, "multi_label", False))
    state = {"stopping": False, "in_flight": 0}

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await batcher.start()
        try:
            yield
        finally:
            state["stopping"] = True
            await batcher.stop()

    # FastAPIOffline: /docs (Swagger UI) from assets packaged in fastapi-offline, served under
    # /static-offline-docs, instead of FastAPI's CDN links. No /redoc: its bundle still loads
    # a logo from cdn.redoc.ly, so it is not fully offline.
    app = FastAPIOffline(
        redoc_url=None,
        title="uniner",
        summary="Open named entity recognition: any entity types in plain words.",
        version=_version(),
        lifespan=lifespan,
    )
    app.state.settings = s
    app.state.batcher = batcher
    app.state.extractor = extractor

    # -- errors: one JSON shape, never a traceback -------------------------------------------

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
        if first.get("type") == "json_invalid":
            detail = (first.get("ctx") or {}).get("error", "JSON decode error")
            body = error_body(
                "malformed_json", f"request body is not valid JSON: {detail}", field="body"
            )
        else:
            loc = tuple(first.get("loc", ("body",)))
            body = error_body("invalid_request", str(first.get("msg")), field=field_path(loc))
            body["error"]["errors"] = [
                {"field": field_path(tuple(e.get("loc", ()))), "message": str(e.get("msg"))}
                for e in errors
            ]
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc, BodyTooLarge):
            body = error_body("body_too_large", str(exc.detail), field="body", limit=exc.max_bytes)
        else:
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
            body = error_body(code, str(exc.detail))
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("internal_error", "internal server error (details are in the server log)"),
            status_code=500,
        )

    # -- API ------------------------------------------------------------------------------------

    @app.post(
        "/v1/extract",
        response_model=ExtractResponse,
        responses=_ERRORS,
        summary="Entities of one text or a batch, for any labels",
    )
    async def extract(req: ExtractRequest) -> ExtractResponse:
        texts, labels = check_request(req, s)
        threshold = threshold_for(len(labels)) if req.threshold is None else float(req.threshold)
        multi_label = default_multi_label if req.multi_label is None else req.multi_label
        t0 = time.perf_counter()
        state["in_flight"] += 1
        try:
            results = await asyncio.wait_for(
                batcher.submit(texts, labels, threshold, req.flat, multi_label),
                timeout=s.request_timeout_s,
            )
        except TimeoutError:
            raise ApiError(
                504,
                "timeout",
                f"no result within {s.request_timeout_s} s; try fewer or shorter texts",
                limit=s.request_timeout_s,
            ) from None
        except QueueFull:
            raise ApiError(
                503,
                "overloaded",
                "too many texts are waiting; retry shortly",
                headers={"Retry-After": "1"},
            ) from None
        except BatcherStopped:
            raise ApiError(503, "shutting_down", "the server is shutting down") from None
        finally:
            state["in_flight"] -= 1
        return ExtractResponse(
            model=str(getattr(extractor, "name", "model")),
            threshold=threshold,
            flat=req.flat,
            multi_label=multi_label,
            results=[
                TextResult(entities=[EntityOut(**_entity(e)) for e in ents]) for ents in results
            ],
            took_ms=round((time.perf_counter() - t0) * 1000.0, 3),
        )

    @app.get("/v1/models", response_model=ModelsResponse, responses={401: _ERRORS[401]})
    async def models() -> ModelsResponse:
        info = ModelInfo(
            name=str(getattr(extractor, "name", "model")),
            default_threshold=default_threshold,
            few_types_threshold=_few_types_threshold(extractor),
            prefer_specific=_prefer_specific(extractor),
            default_multi_label=default_multi_label,
            kind=type(extractor).__name__,
            runtime="onnx" if getattr(extractor, "onnx", None) is not None else "torch",
        )
        return ModelsResponse(models=[info], limits=s.public())

    @app.get("/health", response_model=HealthResponse)
    async def health() -> HealthResponse:
        return HealthResponse(
            status="stopping" if state["stopping"] else "ok",
            model=str(getattr(extractor, "name", "model")),
            in_flight=state["in_flight"],
            queue_texts=batcher.queued_texts,
            batches=batcher.batches,
            texts_done=batcher.texts_done,
        )

    # -- the web page (all assets local) --------------------------------------------------------

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(str(STATIC_DIR / "index.html"), media_type="text/html")

    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    app.add_middleware(BodySizeLimit, max_bytes=s.max_body_bytes)
    app.add_middleware(ApiKeyGuard, api_key=s.api_key)  # outermost: before the body is read
    return app


def _entity(e: Any) -> dict[str, Any]:
    return {"start": e.start, "end": e.end, "text": e.text, "label": e.label, "score": e.score}


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("uniner")
    except Exception:
        return "0"


def _few_types_threshold(extractor: Any) -> FewTypesThreshold | None:
    few = getattr(extractor, "few_type_threshold", None)
    if few is None:
        return None
    return FewTypesThreshold(max_types=int(extractor.few_types), threshold=float(few))


def _prefer_specific(extractor: Any) -> PreferSpecific | None:
    generic = getattr(extractor, "generic_labels", ())
    if not generic:
        return None
    return PreferSpecific(
        generic=list(generic),
        min_score=float(extractor.specific_min_score),
        broad=list(getattr(extractor, "broad_labels", ())),
        min_types=int(getattr(extractor, "specific_min_types", 2)),
    )

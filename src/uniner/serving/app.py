"""The FastAPI application: ``POST /v1/extract``, ``GET /v1/models``, ``GET /health``, the page.

The page at ``/`` and the API docs at ``/docs`` use only local assets: the server must be
usable with no internet. Like the page and ``/health``, the docs need no API key.

:func:`create_app` takes an already loaded extractor (anything that follows the Extractor
contract of :mod:`uniner.inference.protocol`; its ``decoding``, if it has one, gives the defaults
shown to clients) and :class:`~uniner.serving.settings.ServeSettings`. The shared model is only
read: a request's own threshold or decoding options travel with its job into the extractor
call. Each request gets a deadline (``request_timeout_s``) that the work itself checks, a cost
estimate checked against a per-request cap and the queue's budget, and its text is checked for
lone surrogates, all before the model runs. uvicorn's graceful shutdown (stop accepting, wait up
to ``graceful_timeout_s`` for requests in flight) answers what it can; the app's shutdown then
cancels whatever is left.
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

from uniner.inference.deadline import DeadlineExceeded
from uniner.inference.decoding import DecodingConfig
from uniner.serving.batcher import BatcherStopped, Clock, MicroBatcher, QueueFull
from uniner.serving.bodylimit import BodySizeLimit, BodyTimeout, BodyTooLarge
from uniner.serving.errors import ApiError, error_body, field_path
from uniner.serving.limits import check_cost, check_request
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
        408: "The request body did not arrive in time",
        413: "Body, a text, the batch or its estimated work is too large",
        422: "Malformed JSON or a field breaks a rule or limit",
        503: "Overloaded (see Retry-After) or shutting down",
        504: "Request timed out (its work was stopped)",
    }.items()
}


def model_decoding(extractor: Any) -> DecodingConfig:
    """The extractor's decoding defaults (one immutable value, read once per request); the
    library's defaults for an extractor without scores or settings."""
    d = getattr(extractor, "decoding", None)
    return d if isinstance(d, DecodingConfig) else DecodingConfig()


def create_app(
    extractor: Any, settings: ServeSettings | None = None, *, clock: Clock = time.monotonic
) -> FastAPI:
    """A ready-to-serve ASGI app around ``extractor`` (see module docstring). ``clock``
    measures request deadlines (tests inject a fake one)."""
    s = settings or ServeSettings()
    batcher = MicroBatcher(
        extractor,
        max_texts=s.batch_max_texts,
        max_wait_ms=s.batch_max_wait_ms,
        enabled=s.micro_batching,
        max_queue_texts=s.max_queue_texts,
        max_queue_cost=s.max_queue_cost,
        admit_within_s=s.request_timeout_s,
        clock=clock,
    )
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
        elif isinstance(exc, BodyTimeout):
            body = error_body("body_timeout", str(exc.detail), field="body", limit=exc.timeout_s)
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
        cost = check_cost(texts, labels, s)
        decoding = model_decoding(extractor)  # shown to the client; the model is not changed
        threshold = decoding.threshold_for(len(labels)) if req.threshold is None else req.threshold
        multi_label = decoding.multi_label if req.multi_label is None else req.multi_label
        t0 = time.perf_counter()
        state["in_flight"] += 1
        try:
            results = await asyncio.wait_for(
                batcher.submit(
                    texts,
                    labels,
                    req.threshold,  # None: the model's own, per text (few-types rule)
                    req.flat,
                    req.multi_label,
                    deadline=batcher.new_deadline(s.request_timeout_s),
                    cost=cost,
                ),
                timeout=s.request_timeout_s,  # the deadline on the wall clock, as a backstop
            )
        except (TimeoutError, DeadlineExceeded):
            raise ApiError(
                504,
                "timeout",
                f"no result within {s.request_timeout_s} s (the work was stopped); "
                "try fewer or shorter texts",
                limit=s.request_timeout_s,
            ) from None
        except QueueFull as exc:
            raise ApiError(
                503,
                "overloaded",
                f"the server is busy ({exc}); retry after {exc.retry_after} s",
                headers={"Retry-After": str(exc.retry_after)},
            ) from None
        except BatcherStopped:
            raise ApiError(503, "shutting_down", "the server is shutting down") from None
        except Exception:  # the model failed: logged here; the client sees no detail, and the
            # answer is an ordinary response (no re-raise that would drop the connection)
            log.exception("the model failed on POST /v1/extract")
            raise ApiError(
                500, "internal_error", "internal server error (details are in the server log)"
            ) from None
        finally:
            state["in_flight"] -= 1
        return ExtractResponse(
            model=str(getattr(extractor, "name", "model")),
            threshold=float(threshold),
            flat=req.flat,
            multi_label=bool(multi_label),
            results=[
                TextResult(entities=[EntityOut(**_entity(e)) for e in ents]) for ents in results
            ],
            took_ms=round((time.perf_counter() - t0) * 1000.0, 3),
        )

    @app.get("/v1/models", response_model=ModelsResponse, responses={401: _ERRORS[401]})
    async def models() -> ModelsResponse:
        decoding = model_decoding(extractor)
        info = ModelInfo(
            name=str(getattr(extractor, "name", "model")),
            default_threshold=decoding.threshold,
            few_types_threshold=_few_types_threshold(decoding),
            prefer_specific=_prefer_specific(decoding),
            default_multi_label=decoding.multi_label,
            kind=type(extractor).__name__,
            runtime="onnx" if getattr(extractor, "onnx", None) is not None else "torch",
        )
        return ModelsResponse(models=[info], limits=s.public())

    @app.get("/health", response_model=HealthResponse)
    async def health() -> HealthResponse:
        return _health(batcher, s, state, str(getattr(extractor, "name", "model")))

    # -- the web page (all assets local) --------------------------------------------------------

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(str(STATIC_DIR / "index.html"), media_type="text/html")

    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    app.add_middleware(BodySizeLimit, max_bytes=s.max_body_bytes, timeout_s=s.body_timeout_s)
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


def _health(batcher: MicroBatcher, s: ServeSettings, state: dict, name: str) -> HealthResponse:
    w = batcher.state
    now = batcher.clock()
    busy_s = None if w.busy_since is None else round(now - w.busy_since, 3)
    if state["stopping"]:
        status = "stopping"
    elif busy_s is not None and busy_s > 2 * s.request_timeout_s:
        status = "stalled"
    elif batcher.pending_cost >= s.max_queue_cost or batcher.queued_texts >= s.max_queue_texts:
        status = "overloaded"
    else:
        status = "ok"
    return HealthResponse(
        status=status,
        model=name,
        in_flight=state["in_flight"],
        queue_texts=batcher.queued_texts,
        batches=batcher.batches,
        texts_done=batcher.texts_done,
        worker="idle" if busy_s is None else "busy",
        busy_s=busy_s,
        queue_cost=batcher.pending_cost,
        max_queue_cost=s.max_queue_cost,
        timeouts=w.timeouts,
        last_error=w.last_error,
        last_error_age_s=None if w.last_error_at is None else round(now - w.last_error_at, 3),
    )


def _few_types_threshold(d: DecodingConfig) -> FewTypesThreshold | None:
    if d.few_type_threshold is None:
        return None
    return FewTypesThreshold(max_types=d.few_types, threshold=d.few_type_threshold)


def _prefer_specific(d: DecodingConfig) -> PreferSpecific | None:
    if not d.generic_labels:
        return None
    return PreferSpecific(
        generic=list(d.generic_labels),
        min_score=d.specific_min_score,
        broad=list(d.broad_labels),
        min_types=d.specific_min_types,
    )

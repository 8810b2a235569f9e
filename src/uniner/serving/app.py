"""The FastAPI application: ``POST /v1/extract``, ``GET /v1/models``, ``GET /health``, the page.

The page at ``/`` and the API docs at ``/docs`` use only local assets: the server must be
usable with no internet. Like the page and ``/health``, the docs need no API key.

:func:`create_app` takes an already loaded extractor (anything that follows the Extractor
contract of :mod:`uniner.inference.protocol`; its ``decoding``, if it has one, gives the defaults
shown to clients) and :class:`~uniner.serving.settings.ServeSettings`. The shared model is only
read: a request's own threshold or decoding options travel with its job into the extractor
call. Each request gets a deadline (``request_timeout_s``) that the work itself checks, a cost
estimate checked against a per-request cap and the queue's budget, and its text is checked for
lone surrogates, all before the model runs.

Where things live: the endpoints in :mod:`uniner.serving.routes` (one router per group), the
error handlers in :mod:`uniner.serving.handlers`, the batcher's start and drain in
:mod:`uniner.serving.lifecycle`; this module only assembles them.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from uniner.serving.batcher import Clock
from uniner.serving.bodylimit import BodySizeLimit
from uniner.serving.handlers import install_error_handlers
from uniner.serving.lifecycle import lifespan, model_decoding, new_state
from uniner.serving.routes import extract, info, page
from uniner.serving.security import ApiKeyGuard
from uniner.serving.settings import ServeSettings

__all__ = ["create_app", "model_decoding"]


def create_app(
    extractor: Any, settings: ServeSettings | None = None, *, clock: Clock = time.monotonic
) -> FastAPI:
    """A ready-to-serve ASGI app around ``extractor`` (see module docstring). ``clock``
    measures request deadlines (tests inject a fake one)."""
    s = settings or ServeSettings()
    state = new_state(extractor, s, clock)
    # FastAPIOffline: /docs (Swagger UI) from assets packaged in fastapi-offline, served under
    # /static-offline-docs, instead of FastAPI's CDN links. No /redoc: its bundle still loads
    # a logo from cdn.redoc.ly, so it is not fully offline.
    app = FastAPIOffline(
        redoc_url=None,
        title="uniner",
        summary="Open named entity recognition: any entity types in plain words.",
        version=_version(),
        lifespan=lifespan(state),
    )
    app.state.serving = state
    app.state.settings, app.state.batcher, app.state.extractor = s, state.batcher, extractor
    install_error_handlers(app)
    for module in (extract, info, page):
        app.include_router(module.router)
    page.mount_static(app)
    app.add_middleware(BodySizeLimit, max_bytes=s.max_body_bytes, timeout_s=s.body_timeout_s)
    app.add_middleware(ApiKeyGuard, api_key=s.api_key)  # outermost: before the body is read
    return app


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("uniner")
    except Exception:
        return "0"

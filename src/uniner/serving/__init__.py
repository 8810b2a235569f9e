"""HTTP serving: ``uniner serve`` (FastAPI on uvicorn), micro-batching, limits, a web page.

Needs the ``serve`` extra (``pip install 'uniner[serve]'``): FastAPI and uvicorn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from uniner.serving.settings import ServeSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["ServeSettings", "create_app"]


def create_app(extractor: Any, settings: ServeSettings | None = None) -> FastAPI:
    """See :func:`uniner.serving.app.create_app`."""
    from uniner.serving.app import create_app as _create  # lazy: FastAPI is imported on first use

    return _create(extractor, settings)

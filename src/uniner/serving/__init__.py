"""HTTP serving: ``uniner serve`` (FastAPI on uvicorn), micro-batching, limits, a web page.

Needs the ``serve`` extra (``pip install 'uniner[serve]'``): FastAPI and uvicorn.
"""

from uniner.serving.settings import ServeSettings

__all__ = ["ServeSettings", "create_app"]


def create_app(extractor, settings=None):  # lazy: FastAPI is imported on first use
    """See :func:`uniner.serving.app.create_app`."""
    from uniner.serving.app import create_app as _create

    return _create(extractor, settings)

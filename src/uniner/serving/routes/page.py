"""The web page at ``/`` and its assets under ``/static``: all local, so the page works on a
machine with no internet. Like ``/health`` and ``/docs``, it needs no API key."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = resources.files("uniner.serving") / "static"

router = APIRouter()


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(str(STATIC_DIR / "index.html"), media_type="text/html")


def mount_static(app: FastAPI) -> None:
    """Serve the page's assets (a mount cannot live on a router)."""
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

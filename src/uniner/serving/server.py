"""Run the app on uvicorn: in the foreground (``uniner serve``) or in a background thread.

uvicorn's own shutdown is what makes shutdown graceful: on SIGINT/SIGTERM it stops accepting
connections, waits (up to ``graceful_timeout_s``) for requests in flight, cancels what is left,
then runs the app's lifespan shutdown, where the micro-batcher cancels the work still running
(through its deadlines) and leaves its daemon worker thread behind, so the process exits. The
connections are bounded too: request headers within ``header_timeout_s``
(:mod:`uniner.serving.connections`), the body within ``body_timeout_s``, idle keep-alive
connections after ``keep_alive_s``.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

from uniner.serving.app import create_app
from uniner.serving.batcher import Clock
from uniner.serving.connections import header_timeout_protocol
from uniner.serving.settings import ServeSettings


def uvicorn_config(
    app: Any, host: str, port: int, settings: ServeSettings, log_level: str = "info"
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        # uvicorn annotates these int but only hands them to asyncio timers, which take floats
        timeout_graceful_shutdown=settings.graceful_timeout_s,  # type: ignore[arg-type]
        timeout_keep_alive=settings.keep_alive_s,  # type: ignore[arg-type]
        http=header_timeout_protocol(settings.header_timeout_s),
        # one process, one event loop: the model is loaded once and shared by the batcher
        workers=None,
        access_log=log_level == "debug",
        server_header=False,
    )


def serve(
    extractor: Any,
    settings: ServeSettings,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "info",
) -> None:
    """Serve until SIGINT/SIGTERM (blocking)."""
    app = create_app(extractor, settings)
    uvicorn.Server(uvicorn_config(app, host, port, settings, log_level)).run()


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS says is free now (a race with other processes is possible but rare)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """The real server (uvicorn, real sockets) in a background thread, for tests and benches.

    ``with ServerThread(extractor, settings) as srv: httpx.get(srv.url + "/health")``. Leaving
    the block asks uvicorn to exit the way a signal would (``should_exit``), so the graceful
    shutdown path is the one exercised.
    """

    def __init__(
        self,
        extractor: Any,
        settings: ServeSettings | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_level: str = "warning",
        clock: Clock = time.monotonic,
    ):
        self.settings = settings or ServeSettings()
        self.app = create_app(extractor, self.settings, clock=clock)
        self.host = host
        self.port = port or free_port(host)
        self.server = uvicorn.Server(
            uvicorn_config(self.app, host, self.port, self.settings, log_level)
        )
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerThread:
        # signal handlers can only be installed on the main thread; uvicorn skips them there
        self._thread = threading.Thread(target=self.server.run, name="uniner-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"server on {self.url} exited during startup")
            if time.monotonic() > deadline:
                raise TimeoutError(f"server on {self.url} did not start in {timeout} s")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 60.0) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError(f"server on {self.url} did not stop in {timeout} s")
            self._thread = None

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

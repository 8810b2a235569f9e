"""The server's lifecycle: the shared micro-batcher, its start and its drain at shutdown.

Why its own module: what happens between "uvicorn stops accepting" and "the process exits" is
the part most easily broken by a change elsewhere. uvicorn's graceful shutdown (stop accepting,
wait up to ``graceful_timeout_s`` for requests in flight) answers what it can; then
:func:`lifespan`'s exit marks the app as stopping (``/health`` says so at once) and stops the
batcher, which cancels whatever is left (those requests get ``503 shutting_down``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request

from uniner.inference.decoding import DecodingConfig
from uniner.serving.batcher import Clock, MicroBatcher
from uniner.serving.settings import ServeSettings


@dataclass
class ServingState:
    """What the routes share: the settings, the model, its batcher and two live counters.

    One per app (kept in ``app.state.serving``), so two apps in one process never share a
    queue or a counter.
    """

    settings: ServeSettings
    extractor: Any
    batcher: MicroBatcher
    stopping: bool = False
    in_flight: int = 0

    @property
    def model_name(self) -> str:
        return str(getattr(self.extractor, "name", "model"))

    def decoding(self) -> DecodingConfig:
        """The model's decoding defaults (read per request, never changed by one)."""
        return model_decoding(self.extractor)


def model_decoding(extractor: Any) -> DecodingConfig:
    """The extractor's decoding defaults (one immutable value, read once per request); the
    library's defaults for an extractor without scores or settings."""
    d = getattr(extractor, "decoding", None)
    return d if isinstance(d, DecodingConfig) else DecodingConfig()


def new_state(extractor: Any, s: ServeSettings, clock: Clock) -> ServingState:
    """The batcher for ``extractor`` sized by ``s`` (not started: :func:`lifespan` starts it)."""
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
    return ServingState(settings=s, extractor=extractor, batcher=batcher)


def lifespan(
    state: ServingState,
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """The app's lifespan: start the batcher's worker; at shutdown mark stopping, then drain."""

    @contextlib.asynccontextmanager
    async def run(_: FastAPI) -> AsyncIterator[None]:
        await state.batcher.start()
        try:
            yield
        finally:
            state.stopping = True
            await state.batcher.stop()

    return run


def serving_state(request: Request) -> ServingState:
    """The app's :class:`ServingState` (a FastAPI dependency of every route)."""
    state: ServingState = request.app.state.serving  # set by create_app
    return state

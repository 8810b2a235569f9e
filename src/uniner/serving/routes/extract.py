"""``POST /v1/extract``: entities of one text or a batch, through the shared micro-batcher.

Every check that can refuse a request (shape, limits, estimated cost) runs before the request
counts as in flight; the job then carries its own deadline and decoding options into the
extractor call, so the shared model is only read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from uniner.data.types import Entity
from uniner.inference.deadline import DeadlineExceeded
from uniner.serving.batcher import BatcherStopped, QueueFull
from uniner.serving.errors import ApiError
from uniner.serving.handlers import INTERNAL_ERROR
from uniner.serving.lifecycle import ServingState, serving_state
from uniner.serving.limits import check_cost, check_request
from uniner.serving.routes import ERROR_RESPONSES
from uniner.serving.schemas import EntityOut, ExtractRequest, ExtractResponse, TextResult

log = logging.getLogger("uniner.serving")

router = APIRouter()


@router.post(
    "/v1/extract",
    response_model=ExtractResponse,
    responses=ERROR_RESPONSES,
    summary="Entities of one text or a batch, for any labels",
)
async def extract(
    req: ExtractRequest, st: Annotated[ServingState, Depends(serving_state)]
) -> ExtractResponse:
    s = st.settings
    texts, labels = check_request(req, s)
    cost = check_cost(texts, labels, s)
    decoding = st.decoding()  # shown to the client; the model is not changed
    threshold = decoding.threshold_for(len(labels)) if req.threshold is None else req.threshold
    multi_label = decoding.multi_label if req.multi_label is None else req.multi_label
    t0 = time.perf_counter()
    results = await _run(st, req, texts, labels, cost)
    return ExtractResponse(
        model=st.model_name,
        threshold=float(threshold),
        flat=req.flat,
        multi_label=bool(multi_label),
        results=[TextResult(entities=[EntityOut(**_entity(e)) for e in ents]) for ents in results],
        took_ms=round((time.perf_counter() - t0) * 1000.0, 3),
    )


async def _run(
    st: ServingState, req: ExtractRequest, texts: list[str], labels: list[str], cost: int
) -> list[list[Entity]]:
    """The batcher's answer for this request, its failures turned into API errors."""
    s, batcher = st.settings, st.batcher
    st.in_flight += 1
    try:
        return await asyncio.wait_for(
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
        raise ApiError(500, "internal_error", INTERNAL_ERROR) from None
    finally:
        st.in_flight -= 1


def _entity(e: Entity) -> dict[str, Any]:
    return {"start": e.start, "end": e.end, "text": e.text, "label": e.label, "score": e.score}

"""``GET /v1/models`` (the model, its decoding defaults, the server's limits) and ``GET
/health`` (is the worker alive, busy, stalled, overloaded or stopping)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends

from uniner.inference.decoding import DecodingConfig
from uniner.serving.lifecycle import ServingState, serving_state
from uniner.serving.routes import ERROR_RESPONSES
from uniner.serving.schemas import (
    FewTypesThreshold,
    HealthResponse,
    ModelInfo,
    ModelsResponse,
    PreferSpecific,
)

router = APIRouter()


@router.get("/v1/models", response_model=ModelsResponse, responses={401: ERROR_RESPONSES[401]})
async def models(st: Annotated[ServingState, Depends(serving_state)]) -> ModelsResponse:
    decoding = st.decoding()
    info = ModelInfo(
        name=st.model_name,
        default_threshold=decoding.threshold,
        few_types_threshold=_few_types_threshold(decoding),
        prefer_specific=_prefer_specific(decoding),
        default_multi_label=decoding.multi_label,
        kind=type(st.extractor).__name__,
        runtime="onnx" if getattr(st.extractor, "onnx", None) is not None else "torch",
    )
    return ModelsResponse(models=[info], limits=st.settings.public())


@router.get("/health", response_model=HealthResponse)
async def health(st: Annotated[ServingState, Depends(serving_state)]) -> HealthResponse:
    return health_of(st)


def health_of(st: ServingState) -> HealthResponse:
    """The server's health now. ``stalled``: one batch has run over twice the request timeout
    (the worker is stuck in the model); ``overloaded``: the queue is at a limit."""
    s, batcher = st.settings, st.batcher
    w = batcher.state
    now = batcher.clock()
    busy_s = None if w.busy_since is None else round(now - w.busy_since, 3)
    status: Literal["ok", "overloaded", "stalled", "stopping"]
    if st.stopping:
        status = "stopping"
    elif busy_s is not None and busy_s > 2 * s.request_timeout_s:
        status = "stalled"
    elif batcher.pending_cost >= s.max_queue_cost or batcher.queued_texts >= s.max_queue_texts:
        status = "overloaded"
    else:
        status = "ok"
    return HealthResponse(
        status=status,
        model=st.model_name,
        in_flight=st.in_flight,
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

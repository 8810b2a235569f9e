"""Request and response bodies of the HTTP API (pydantic, so the OpenAPI schema documents them).

Static shape rules live here (types, one of ``text``/``texts``, threshold range); the limits that
``uniner serve`` makes configurable are checked in :mod:`uniner.serving.limits` against
:class:`~uniner.serving.settings.ServeSettings`, so one schema serves every configuration.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ExtractRequest(BaseModel):
    """One text (``text``) or a batch (``texts``), the entity types to find, and options."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "text": "Marie Curie discovered polonium at the University of Paris.",
                    "labels": ["person", "chemical element", "university"],
                    "threshold": 0.5,
                }
            ]
        },
    )

    text: str | None = Field(None, description="One text. Give this or `texts`, not both.")
    texts: list[str] | None = Field(None, description="A batch of texts.")
    labels: list[str] = Field(..., description="Entity types in plain words, e.g. 'person'.")
    threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Score cut-off; default: the model's own (dev-chosen; higher for few types).",
    )
    flat: bool = Field(True, description="True: no overlapping entities; False: nested allowed.")
    multi_label: bool | None = Field(
        None,
        description="Allow one span to carry several labels; default: the model's own setting.",
    )

    @model_validator(mode="after")
    def _one_input(self) -> ExtractRequest:
        if (self.text is None) == (self.texts is None):
            raise ValueError("give exactly one of 'text' (a string) or 'texts' (a list)")
        return self

    def all_texts(self) -> list[str]:
        return [self.text] if self.text is not None else list(self.texts or [])


class EntityOut(BaseModel):
    """A mention: ``text[start:end]`` (Python code-point offsets, end exclusive)."""

    start: int
    end: int
    text: str
    label: str
    score: float | None


class TextResult(BaseModel):
    entities: list[EntityOut]


class ExtractResponse(BaseModel):
    """One result per input text, in input order (a single ``text`` gives one result)."""

    model: str
    threshold: float
    flat: bool
    multi_label: bool
    results: list[TextResult]
    took_ms: float


class FewTypesThreshold(BaseModel):
    """The threshold a request gets when it asks at most ``max_types`` types and gives none."""

    max_types: int
    threshold: float


class PreferSpecific(BaseModel):
    """A confident mention of a ``generic`` type also gets the more specific asked type (not a
    ``broad`` one) that scores at least ``min_score`` on it (one label per span: the specific
    one replaces it)."""

    generic: list[str]
    min_score: float
    broad: list[str] = Field(default_factory=list, description="never taken as the specific type")
    min_types: int = Field(2, description="only requests asking at least this many types")


class ModelInfo(BaseModel):
    name: str
    default_threshold: float = Field(..., description="for requests that give no threshold")
    few_types_threshold: FewTypesThreshold | None = Field(
        None, description="replaces default_threshold for requests asking few types"
    )
    prefer_specific: PreferSpecific | None = Field(
        None, description="the model's rule for generic types such as person"
    )
    default_multi_label: bool
    kind: str
    runtime: str = Field("torch", description="torch, or onnx (int8 onnxruntime graph)")
    loaded: bool = True


class ModelsResponse(BaseModel):
    models: list[ModelInfo]
    limits: dict[str, object]


class HealthResponse(BaseModel):
    """The server and its one model worker. ``status``: ``ok``; ``overloaded`` (new requests
    get 503 until the work waiting drains); ``stalled`` (the worker has been on one batch for
    over twice the request timeout: a model step that ignores deadlines); ``stopping``."""

    status: Literal["ok", "overloaded", "stalled", "stopping"]
    model: str
    in_flight: int = Field(..., description="extract requests being answered now")
    queue_texts: int
    batches: int
    texts_done: int
    worker: Literal["idle", "busy"] = Field(..., description="whether the model is working now")
    busy_s: float | None = Field(None, description="seconds on the current batch, if busy")
    queue_cost: int = Field(..., description="estimated work waiting or running")
    max_queue_cost: int = Field(..., description="above it, requests get 503 + Retry-After")
    timeouts: int = Field(..., description="requests stopped at their deadline so far")
    last_error: str | None = Field(None, description="the last failure of a model call")
    last_error_age_s: float | None = Field(None, description="seconds since last_error")


class ErrorDetail(BaseModel):
    code: str = Field(..., description="Machine-readable cause, e.g. 'text_too_long'.")
    message: str
    field: str | None = Field(None, description="The request field at fault, e.g. 'texts[2]'.")
    limit: int | float | None = None


class ErrorResponse(BaseModel):
    """Every error has this shape; no stack trace ever reaches a client."""

    error: ErrorDetail

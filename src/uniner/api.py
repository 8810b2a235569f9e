"""The one-line entry point: ``from uniner import load; m = load(); m.extract(text, labels)``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uniner.students.span.extractor import SpanExtractor


def load(model: str | Path | None = None, **kwargs: Any) -> SpanExtractor:
    """Load a span-student model: the shipped default, a shipped name, a folder or a hub id.

    Keyword arguments go to :class:`uniner.students.span.extractor.SpanExtractor` (``threads``,
    ``batch_size``, ``threshold``, ``bf16``, ``backbone`` to override the backbone location).
    """
    from uniner.models import resolve_model
    from uniner.students.span.extractor import SpanExtractor

    return SpanExtractor.load(resolve_model(model), **kwargs)

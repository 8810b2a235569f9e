"""The span student: an encoder that scores every (span, label) pair in one pass.

Public API (torch is imported only when a model class is first used)::

    from uniner.students.span import SpanExtractor
    m = SpanExtractor.load("src/uniner/models/uniner-span-mpnet")
    m.extract("Marie Curie was born in Warsaw.", ["person", "city"])

Layout: ``words`` (word split, casing shape), ``decoding`` (threshold, flat/nested/multi-label),
``packing`` (the one word-packing loop behind training pieces and inference windows),
``windowing`` (long texts), ``features`` (encoder inputs), ``model`` (network, loss), ``io``
(model folder), ``data`` (training pieces, label sampling, batches), ``train`` (loop, checkpoints),
``extractor`` (inference, wiring ``settings`` (argument checks, runtime settings, a model folder's
config), ``planning`` (windows and label passes), ``scoring`` (encoder batches, logits) and
``entities`` (spans to entities)), ``evaluate`` (strict F1), ``config`` (run files).
"""

from __future__ import annotations

from typing import Any

from uniner.students.span.decoding import Span, decode, decode_scores
from uniner.students.span.windowing import Window, plan_windows

_LAZY = {
    "SpanExtractor": "uniner.students.span.extractor",
    "Extraction": "uniner.students.span.extractor",
    "SpanModel": "uniner.students.span.model",
    "SpanModelConfig": "uniner.students.span.config",
    "RunConfig": "uniner.students.span.config",
    "load_run_config": "uniner.students.span.config",
    "save_model": "uniner.students.span.io",
    "load_model": "uniner.students.span.io",
    "train": "uniner.students.span.train",
}

__all__ = ["Span", "Window", "decode", "decode_scores", "plan_windows", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

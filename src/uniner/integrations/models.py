"""One loaded model per name per process, shared by integrations (and test servers).

Loading the span student takes seconds; a spaCy pipeline built twice, or a test session that
starts several servers, should pay that once.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

RUNTIMES = ("torch", "onnx")


def load_shared(model: str | None = None, runtime: str = "torch") -> Any:
    """``uniner.load(model)``, cached: callers share the returned extractor (do not mutate it).

    ``runtime="onnx"`` runs the int8 graph, exported once per model into the ONNX cache
    (:func:`uniner.students.span.onnx_runtime.ensure_export`), with the torch weights freed.
    """
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
    return _load(model, runtime)  # one cache key however the arguments were passed


@lru_cache(maxsize=4)
def _load(model: str | None, runtime: str) -> Any:
    from uniner import load

    extractor = load(model)
    if runtime == "onnx":
        from uniner.students.span.onnx_runtime import switch_to_onnx

        switch_to_onnx(extractor)
    return extractor

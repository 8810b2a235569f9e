"""One loaded model per name per process, shared by integrations (and test servers).

Loading the span student takes seconds; a spaCy pipeline built twice, or a test session that
starts several servers, should pay that once.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=4)
def load_shared(model: str | None = None) -> Any:
    """``uniner.load(model)``, cached: callers share the returned extractor (do not mutate it)."""
    from uniner import load

    return load(model)

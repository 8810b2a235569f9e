"""Helpers for tests and benches of the server: a shared model and small fake extractors.

The fakes exist to test the server's own machinery (batching, timeouts, shutdown, error
handling) deterministically and fast; end-to-end tests use the real default model.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from typing import Any

from uniner.data.types import Entity


def shared_model(name: str | None = None) -> Any:
    """The model ``name`` (default: the shipped one), loaded once per process."""
    from uniner.integrations.models import load_shared
    from uniner.models import DEFAULT_MODEL

    # the default under its own name, so this and the spaCy component share one cache entry
    return load_shared(name or DEFAULT_MODEL)


class CapitalsExtractor:
    """Labels every capitalised word with the first label; records each call's batch size.

    ``delay_s`` makes each call slow (to hold the worker busy), ``fail`` makes it raise.
    """

    name = "capitals-test"
    threshold = 0.5

    def __init__(self, delay_s: float = 0.0, fail: bool = False):
        self.delay_s = delay_s
        self.fail = fail
        self.calls: list[int] = []
        self.threads: set[str] = set()
        self.started = threading.Event()
        self._lock = threading.Lock()

    def extract_batch(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        threshold: float | None = None,
        flat: bool = True,
        multi_label: bool = False,
    ) -> list[list[Entity]]:
        with self._lock:
            self.calls.append(len(texts))
            self.threads.add(threading.current_thread().name)
        self.started.set()
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.fail:
            raise RuntimeError("secret internal detail: model exploded")
        return [
            [
                Entity(m.start(), m.end(), m.group(), labels[0], 0.9)
                for m in re.finditer(r"\b[A-Z][a-z]+\b", t)
            ]
            for t in texts
        ]

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
from uniner.inference.deadline import Deadline, check


def shared_model(name: str | None = None) -> Any:
    """The model ``name`` (default: the shipped one), loaded once per process."""
    from uniner.integrations.models import load_shared
    from uniner.models import DEFAULT_MODEL

    # the default under its own name, so this and the spaCy component share one cache entry
    return load_shared(name or DEFAULT_MODEL)


class CapitalsExtractor:
    """Labels every capitalised word with the first label; records each call's batch size.

    ``delay_s`` makes each call slow (to hold the worker busy), in steps of ``step_s`` with the
    deadline checked between them as a real extractor does; ``fail`` makes it raise. ``gate``
    holds every call until the test sets it ("busy" without any timing; ``started`` says a
    call is inside).
    """

    name = "capitals-test"
    threshold = 0.5

    def __init__(
        self,
        delay_s: float = 0.0,
        fail: bool = False,
        step_s: float = 0.05,
        gate: threading.Event | None = None,
    ):
        self.delay_s = delay_s
        self.gate = gate
        self.step_s = step_s
        self.fail = fail
        self.calls: list[int] = []
        self.threads: set[str] = set()
        self.started = threading.Event()
        self._lock = threading.Lock()

    def extract_batch(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        threshold: float | None = None,
        flat: bool | None = None,
        multi_label: bool | None = None,
        deadline: Deadline | None = None,
    ) -> list[list[Entity]]:
        with self._lock:
            self.calls.append(len(texts))
            self.threads.add(threading.current_thread().name)
        self.started.set()
        if self.gate is not None and not self.gate.wait(120):
            raise RuntimeError("the test never opened the gate")
        end = time.monotonic() + self.delay_s
        while time.monotonic() < end:
            check(deadline, "between steps")
            time.sleep(min(self.step_s, max(0.0, end - time.monotonic())))
        if self.fail:
            raise RuntimeError("secret internal detail: model exploded")
        return [
            [
                Entity(m.start(), m.end(), m.group(), labels[0], 0.9)
                for m in re.finditer(r"\b[A-Z][a-z]+\b", t)
            ]
            for t in texts
        ]

"""The small contract between models and the benchmark: texts and labels in, entities out.

Anything with a ``name`` and an ``extract_batch`` method is an extractor: the span student, the
generative student, the baselines, or a user's own model. Returned entities carry character
offsets into the given text; the benchmark derives the UniNER string answers from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from uniner.data.types import Entity


@runtime_checkable
class Extractor(Protocol):
    name: str

    def extract_batch(self, texts: Sequence[str], labels: Sequence[str]) -> list[list[Entity]]:
        """Entities for each text, each label drawn from ``labels``."""
        ...

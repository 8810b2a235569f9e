"""The data layer: the core types, readers for the formats the field ships, alignment, the
data-set catalog (``catalog.toml``), training sources and the one zero-shot guard.

It imports nothing from the layers above it (benchmark, students, serving, cli: see
``tests/test_architecture.py``), so every one of them can rely on it.
"""

from uniner.data.errors import DataFormatError
from uniner.data.types import Conversation, Entity, Example, Query, ValidationError

__all__ = ["Conversation", "DataFormatError", "Entity", "Example", "Query", "ValidationError"]

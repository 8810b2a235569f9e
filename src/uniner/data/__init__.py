"""Data formats: the core types, readers for the formats the field ships, and alignment."""

from uniner.data.errors import DataFormatError
from uniner.data.types import Conversation, Entity, Example, Query, ValidationError

__all__ = ["Conversation", "DataFormatError", "Entity", "Example", "Query", "ValidationError"]

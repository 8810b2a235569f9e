"""uniner: open named entity recognition by targeted distillation (UniversalNER)."""

from uniner.api import load
from uniner.data.types import Entity, Example

__version__ = "0.1.0"
__all__ = ["Entity", "Example", "__version__", "load"]

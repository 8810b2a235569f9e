"""Teacher backends: an OpenAI-compatible HTTP client and a local transformers model."""

from uniner.distill.teachers.base import (
    Completion,
    FatalTeacherError,
    RequestFailed,
    Teacher,
    TeacherError,
    TransientError,
)

__all__ = [
    "Completion",
    "FatalTeacherError",
    "RequestFailed",
    "Teacher",
    "TeacherError",
    "TransientError",
]

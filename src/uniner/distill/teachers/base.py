"""What every teacher backend provides, and the errors that tell the runner what to do.

The runner needs three outcomes from a request: an answer (:class:`Completion`), a failure of
*this* request that retrying will not fix (:class:`RequestFailed`: e.g. a 400 for an over-long
prompt; the passage stays un-annotated and is asked again on the next run), or a failure of the
*whole job* (:class:`FatalTeacherError`: bad key, wrong model, wrong URL), which stops everything
at once instead of burning through the corpus with the same error. Transient errors (429, 5xx,
timeouts) are retried inside the backend and only surface as :class:`RequestFailed` once the
retry budget is spent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class TeacherError(Exception):
    """Base class of teacher errors."""


class FatalTeacherError(TeacherError):
    """The job cannot succeed as configured (authentication, model name, endpoint)."""


class RequestFailed(TeacherError):
    """This request failed for good (non-retryable status, or retries exhausted)."""

    def __init__(self, message: str, *, attempts: int = 1, status: int | None = None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.status = status


@dataclass(frozen=True, slots=True)
class Completion:
    """A teacher's answer and what it cost."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    attempts: int = 1
    latency: float = 0.0
    log: tuple[dict[str, Any], ...] = field(default=())  # one entry per HTTP attempt


class Teacher(Protocol):
    """An LLM that answers chat messages. ``name``/``model``/``params`` go into store keys."""

    name: str
    model: str

    @property
    def params(self) -> dict[str, Any]: ...

    async def check(self) -> None:
        """Fail fast (FatalTeacherError) when the job cannot work, before any passage is sent."""

    async def complete(self, messages: list[dict[str, str]]) -> Completion: ...

    async def aclose(self) -> None: ...

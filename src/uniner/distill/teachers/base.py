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


class TransientError(TeacherError):
    """One attempt failed in a way another attempt may not: the caller retries it (the same
    endpoint after a backoff, or another endpoint in a pool).

    ``kind`` says what went wrong, for the per-endpoint report: ``timeout`` (the endpoint stalled
    past the per-request timeout), ``connection`` (refused, reset, closed mid-answer),
    ``http_NNN`` (a retryable status) or ``malformed`` (a 200 without a usable body).
    ``retry_after`` is the server's requested wait (429/503 with ``Retry-After``), else None.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after

    @property
    def throttled(self) -> bool:
        """The endpoint is alive but asks us to slow down (429): pause it, do not mark it down."""
        return self.status == 429


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

"""Teacher over any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp server,
Ollama), with httpx's async client.

* The key is read from an environment variable *name* (``api_key_env``) at construction and kept
  only in the request headers: it is not in ``repr``, in errors, in the store or in logs.
* One request is :meth:`OpenAITeacher.attempt` (no retry), so that a pool of endpoints
  (:mod:`uniner.distill.teachers.pool`) can send the retry elsewhere. :meth:`complete` retries on
  this endpoint with tenacity: 429, 408, 409, 5xx, timeouts and connection errors up to
  ``max_retries`` times with exponential backoff and full jitter (``uniform(0, min(cap,
  base * 2**n))``); a ``Retry-After`` (seconds or HTTP date) or ``retry-after-ms`` header
  replaces the backoff for that wait, since the server knows best when it will accept work again.
* Clear stops: 401/403 (key), 404 (URL or model), a 400 that names the model, or a model absent
  from ``GET /models`` raise :class:`FatalTeacherError` with what to fix.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from uniner.distill.teachers.base import (
    Completion,
    FatalTeacherError,
    RequestFailed,
    TeacherError,
    TransientError,
)

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 520, 522, 524, 529})


def retry_after_seconds(headers: httpx.Headers, now: float | None = None) -> float | None:
    """The server's requested wait, from ``retry-after-ms`` or ``Retry-After``; None if absent."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def _error_message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:300]
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        return str(err.get("message") or err.get("code") or err)[:300]
    if isinstance(err, str):
        return err[:300]
    return str(body)[:300]


class OpenAITeacher:
    """Chat completions at ``{base_url}/chat/completions``."""

    name = "openai-compatible"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key_env: str | None = "OPENAI_API_KEY",
        temperature: float = 0.0,
        max_tokens: int = 1024,
        timeout: float = 60.0,
        max_retries: int = 6,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        extra_params: dict[str, Any] | None = None,
        check_model: bool = True,
        max_connections: int = 64,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.extra_params = dict(extra_params or {})
        self.check_model = check_model
        self.api_key_env = api_key_env
        self._sleep = sleep
        self._jitter = wait_random_exponential(multiplier=backoff_base, max=backoff_max)
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(api_key_env) if api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAITeacher(base_url={self.base_url!r}, model={self.model!r})"

    @property
    def params(self) -> dict[str, Any]:
        """What changes the answer (goes into store keys): not timeouts or retry settings."""
        return {"temperature": self.temperature, "max_tokens": self.max_tokens, **self.extra_params}

    def _fatal_for(self, resp: httpx.Response) -> FatalTeacherError | None:
        msg = _error_message(resp)
        code = resp.status_code
        if code in (401, 403):
            where = f"${self.api_key_env}" if self.api_key_env else "the API key"
            return FatalTeacherError(
                f"teacher refused the credentials (HTTP {code}: {msg}); check {where}"
            )
        if code == 404:
            return FatalTeacherError(
                f"HTTP 404 from {self.base_url}: {msg}; check the base URL (it usually ends in "
                f"/v1) and the model name {self.model!r}"
            )
        if (
            code == 400
            and "model" in msg.lower()
            and (
                "not found" in msg.lower()
                or "does not exist" in msg.lower()
                or "unknown" in msg.lower()
                or "invalid" in msg.lower()
            )
        ):
            return FatalTeacherError(f"model {self.model!r} rejected by the server: {msg}")
        return None

    async def check(self) -> None:
        """Validate the model against ``GET /models`` when the server offers that listing."""
        if not self.check_model:
            return
        try:
            resp = await self._client.get(f"{self.base_url}/models")
        except httpx.HTTPError:
            return  # the first real request will retry and report
        if resp.status_code in (401, 403) and (fatal := self._fatal_for(resp)) is not None:
            raise fatal  # always set for these two codes
        if resp.status_code != 200:
            return  # listing not offered (or 404 on some servers): skip the check
        try:
            ids = [m.get("id") for m in resp.json().get("data", [])]
        except (ValueError, AttributeError):
            return
        if ids and self.model not in ids:
            shown = ", ".join(str(i) for i in ids[:10])
            raise FatalTeacherError(
                f"model {self.model!r} is not served at {self.base_url}; available: {shown}"
            )

    async def probe(self, timeout: float = 5.0) -> str | None:
        """A cheap health check (``GET /models``): None when the server answers, else why not.
        Any status under 500 counts as alive, since some servers do not list models."""
        try:
            resp = await self._client.get(f"{self.base_url}/models", timeout=timeout)
        except httpx.HTTPError as exc:
            return f"probe failed: {type(exc).__name__}"
        return None if resp.status_code < 500 else f"probe got HTTP {resp.status_code}"

    def _wait(self, state: RetryCallState) -> float:
        """Tenacity's wait: the server's ``Retry-After`` when it sent one, else full jitter."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:  # only those retry
            return min(exc.retry_after, self.backoff_max * 4)
        return self._jitter(state)

    async def attempt(
        self, messages: list[dict[str, str]], log: list[dict[str, Any]]
    ) -> Completion:
        """One HTTP request, no retry: a :class:`Completion`, or :class:`TransientError` (retry
        it, here or elsewhere), :class:`RequestFailed` (this request never works) or
        :class:`FatalTeacherError` (nothing will). The attempt is appended to ``log``."""
        payload = {"model": self.model, "messages": messages, **self.params}
        entry: dict[str, Any] = {"attempt": len(log)}
        log.append(entry)
        t0 = time.monotonic()
        try:
            try:
                resp = await self._client.post(f"{self.base_url}/chat/completions", json=payload)
            except httpx.TimeoutException:
                raise TransientError(f"timeout after {self.timeout:g}s", kind="timeout") from None
            except httpx.TransportError as exc:
                raise TransientError(
                    f"connection error: {type(exc).__name__}", kind="connection"
                ) from None
            entry["status"] = resp.status_code
            return self._completion(resp)
        except TeacherError as exc:
            entry["status"] = getattr(exc, "status", entry.get("status"))
            entry["error"] = str(exc)
            raise
        finally:
            entry["seconds"] = round(time.monotonic() - t0, 4)

    def _completion(self, resp: httpx.Response) -> Completion:
        """A 200's answer, or the error that the status means."""
        status = resp.status_code
        if status != 200:
            fatal = self._fatal_for(resp)
            if fatal is not None:
                raise fatal
            last = f"HTTP {status}: {_error_message(resp)}"
            if status not in RETRY_STATUS:
                raise RequestFailed(last, status=status)
            wait = retry_after_seconds(resp.headers)
            raise TransientError(last, kind=f"http_{status}", status=status, retry_after=wait)
        try:
            body = resp.json()
            choice = body["choices"][0]
            text = choice["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError):
            raise TransientError("malformed response body", kind="malformed", status=200) from None
        usage = body.get("usage") or {}
        return Completion(
            text=text,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            finish_reason=choice.get("finish_reason"),
        )

    async def complete(self, messages: list[dict[str, str]]) -> Completion:
        """Retried on this one endpoint by tenacity (see the module docstring)."""
        log: list[dict[str, Any]] = []
        started = time.monotonic()
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(TransientError),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    c = await self.attempt(messages, log)
        except TransientError as exc:
            raise RequestFailed(
                f"gave up after {len(log)} attempts: {exc}", attempts=len(log), status=exc.status
            ) from None
        except RequestFailed as exc:
            exc.attempts = len(log)
            raise
        return replace(c, attempts=len(log), latency=time.monotonic() - started, log=tuple(log))

    async def aclose(self) -> None:
        await self._client.aclose()

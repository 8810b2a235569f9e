"""Teacher over any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp server,
Ollama), with httpx's async client.

* The key is read from an environment variable *name* (``api_key_env``) at construction and kept
  only in the request headers: it is not in ``repr``, in errors, in the store or in logs.
* Retries: 429, 408, 409, 5xx, timeouts and connection errors are retried up to ``max_retries``
  times with exponential backoff and full jitter (``uniform(0, min(cap, base * 2**n))``); a
  ``Retry-After`` (seconds or HTTP date) or ``retry-after-ms`` header replaces the backoff for
  that wait, since the server knows best when it will accept work again.
* Clear stops: 401/403 (key), 404 (URL or model), a 400 that names the model, or a model absent
  from ``GET /models`` raise :class:`FatalTeacherError` with what to fix.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import random
import time
from typing import Any

import httpx

from uniner.distill.teachers.base import Completion, FatalTeacherError, RequestFailed

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
        rng: random.Random | None = None,
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
        self._rng = rng or random.Random()
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
        if resp.status_code in (401, 403):
            raise self._fatal_for(resp)  # type: ignore[misc]
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

    def _backoff(self, attempt: int) -> float:
        return self._rng.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))

    async def complete(self, messages: list[dict[str, str]]) -> Completion:
        payload = {"model": self.model, "messages": messages, **self.params}
        log: list[dict[str, Any]] = []
        started = time.monotonic()
        last = "no attempt"
        status: int | None = None
        for attempt in range(self.max_retries + 1):
            t0 = time.monotonic()
            wait: float | None = None
            try:
                resp = await self._client.post(f"{self.base_url}/chat/completions", json=payload)
            except httpx.TimeoutException:
                last, status = f"timeout after {self.timeout:g}s", None
            except httpx.TransportError as exc:
                last, status = f"connection error: {type(exc).__name__}", None
            else:
                status = resp.status_code
                if status == 200:
                    try:
                        body = resp.json()
                        choice = body["choices"][0]
                        text = choice["message"]["content"] or ""
                    except (ValueError, KeyError, IndexError, TypeError):
                        last = "malformed response body"
                    else:
                        usage = body.get("usage") or {}
                        log.append(
                            {
                                "attempt": attempt,
                                "status": 200,
                                "seconds": round(time.monotonic() - t0, 4),
                            }
                        )
                        return Completion(
                            text=text,
                            prompt_tokens=int(usage.get("prompt_tokens") or 0),
                            completion_tokens=int(usage.get("completion_tokens") or 0),
                            finish_reason=choice.get("finish_reason"),
                            attempts=attempt + 1,
                            latency=time.monotonic() - started,
                            log=tuple(log),
                        )
                else:
                    fatal = self._fatal_for(resp)
                    if fatal is not None:
                        raise fatal
                    last = f"HTTP {status}: {_error_message(resp)}"
                    if status not in RETRY_STATUS:
                        log.append({"attempt": attempt, "status": status, "error": last})
                        raise RequestFailed(last, attempts=attempt + 1, status=status)
                    wait = retry_after_seconds(resp.headers)
            log.append(
                {
                    "attempt": attempt,
                    "status": status,
                    "error": last,
                    "seconds": round(time.monotonic() - t0, 4),
                }
            )
            if attempt == self.max_retries:
                break
            delay = wait if wait is not None else self._backoff(attempt)
            await asyncio.sleep(min(delay, self.backoff_max * 4))
        raise RequestFailed(
            f"gave up after {self.max_retries + 1} attempts: {last}",
            attempts=self.max_retries + 1,
            status=status,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

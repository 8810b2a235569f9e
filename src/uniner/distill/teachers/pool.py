"""Many OpenAI-compatible endpoints (vLLM, llama.cpp server, hosted APIs) as one teacher.

A corpus of millions of passages needs many teacher replicas; the runner still sees one
:class:`~uniner.distill.teachers.base.Teacher` (same ``name``, ``model`` and ``params``, so the
store keys, the cache and the output are those of a single-endpoint run).

* **Dispatch**: each request takes a slot on the least-loaded usable endpoint (in flight /
  its ``concurrency``) and waits on that endpoint's own RPM/TPM limiter.
* **Health**: :meth:`TeacherPool.check` validates every endpoint (``GET /models``) before any
  passage is sent. An endpoint that does not answer (connection refused or reset, a stall past
  the per-request ``timeout``) is marked down at once; one that answers badly (a retryable
  5xx, a malformed body) after ``fault_threshold`` such answers in a row, since one 503 among
  thousands of answers is the request's bad luck, not the endpoint's. Nothing new is sent to a
  down endpoint; a background probe (``GET /models``, exponential backoff with jitter,
  tenacity) brings it back, at first with one request in flight (half-open) until an answer
  arrives. The wait before the first probe doubles each time it goes down again without an
  answer in between, so a flapping endpoint gets less and less work. A 429 only pauses the
  endpoint for its ``Retry-After``.
* **Failover**: a request whose endpoint faults is re-asked on another usable endpoint; each
  request has one attempt in flight at a time (never a hedged duplicate) and returns one
  answer, so the runner stores one answer per passage. Attempts per request are bounded by
  ``max_retries + 1`` across endpoints; then the passage fails (asked again on the next run).
* **Stops**: an endpoint with a fatal error (401, unknown model) is disabled and the job goes on
  elsewhere; when every endpoint is disabled, or all have been down for ``down_timeout``
  seconds, :class:`FatalTeacherError` stops the job (the store keeps every answer; re-run).
* **Report**: :meth:`TeacherPool.report` gives per-endpoint answers, attempts, errors by kind,
  failovers, downtime, answers/s, tokens and latency percentiles.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from tenacity import AsyncRetrying, retry_if_result, stop_never, wait_exponential_jitter

from uniner.distill.ratelimit import RateLimiter, estimate_tokens
from uniner.distill.teachers.base import (
    Completion,
    FatalTeacherError,
    RequestFailed,
    TeacherError,
    TransientError,
)
from uniner.distill.teachers.endpoints import EndpointConfig, EndpointStats
from uniner.distill.teachers.openai import OpenAITeacher


@dataclass(eq=False)
class Endpoint:
    """One endpoint's client, limiter and health (state changes under the pool's condition)."""

    cfg: EndpointConfig
    client: OpenAITeacher
    limiter: RateLimiter
    stats: EndpointStats = field(default_factory=EndpointStats)
    in_flight: int = 0
    state: str = "up"  # up | down | disabled
    trial: bool = False  # back from down: one request at a time until one answers
    paused_until: float = 0.0  # a 429's Retry-After
    faults_in_row: int = 0  # faults since the last answer
    downs_in_row: int = 0  # times marked down since the last answer
    down_since: float = 0.0
    reason: str = ""  # the last fault or the fatal error
    probe: asyncio.Task[None] | None = None

    def usable(self, now: float) -> bool:
        cap = 1 if self.trial else self.cfg.concurrency
        return self.state == "up" and now >= self.paused_until and self.in_flight < cap


class TeacherPool:
    """Several endpoints serving the same ``model``, used as one teacher (module docstring)."""

    name = OpenAITeacher.name  # same store keys as one endpoint: the answer does not depend on it

    def __init__(
        self,
        endpoints: list[EndpointConfig],
        model: str,
        *,
        api_key_env: str | None = "OPENAI_API_KEY",
        timeout: float = 60.0,
        max_retries: int = 6,
        probe_backoff: float = 1.0,
        probe_backoff_max: float = 10.0,  # a probe is one GET: cheap enough to keep trying
        fault_threshold: int = 3,
        down_timeout: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        **client_kw: Any,
    ) -> None:
        if not endpoints:
            raise ValueError("a teacher pool needs at least one endpoint")
        self.model = model
        self.max_retries = max_retries
        self.probe_backoff, self.probe_backoff_max = probe_backoff, probe_backoff_max
        self.down_timeout = down_timeout
        self.fault_threshold = fault_threshold
        self._clock = clock
        self.endpoints = [
            Endpoint(
                cfg,
                OpenAITeacher(
                    cfg.url,
                    model,
                    api_key_env=cfg.api_key_env if cfg.api_key_env is not None else api_key_env,
                    timeout=timeout,
                    max_retries=0,
                    max_connections=cfg.concurrency,
                    **client_kw,
                ),
                RateLimiter(cfg.rpm, cfg.tpm),
            )
            for cfg in endpoints
        ]
        self._cond = asyncio.Condition()
        self._started: float | None = None
        self.failovers = 0

    def __repr__(self) -> str:
        return f"TeacherPool({[e.cfg.url for e in self.endpoints]!r}, model={self.model!r})"

    @property
    def params(self) -> dict[str, Any]:
        return self.endpoints[0].client.params

    @property
    def capacity(self) -> int:
        """Requests the pool can have in flight: what the runner's concurrency should be."""
        return sum(e.cfg.concurrency for e in self.endpoints)

    # --- health ------------------------------------------------------------------------------

    async def check(self) -> None:
        """Validate every endpoint at once; disable the misconfigured ones, mark the silent ones
        down (probed until they answer); stop only when none is configured right."""
        self._started = self._clock()
        results = await asyncio.gather(
            *(e.client.check() for e in self.endpoints), return_exceptions=True
        )
        for ep, res in zip(self.endpoints, results, strict=True):
            if isinstance(res, FatalTeacherError):
                self._disable(ep, res)
            elif isinstance(res, BaseException):
                raise res
        self._raise_if_all_disabled()
        probes = await asyncio.gather(*(e.client.probe() for e in self.endpoints))
        async with self._cond:
            for ep, why in zip(self.endpoints, probes, strict=True):
                if why is not None and ep.state == "up":
                    self._mark_down(ep, why)

    def _disable(self, ep: Endpoint, exc: FatalTeacherError) -> None:
        ep.state, ep.reason = "disabled", str(exc)

    def _raise_if_all_disabled(self) -> None:
        if all(e.state == "disabled" for e in self.endpoints):
            if len(self.endpoints) == 1:
                raise FatalTeacherError(self.endpoints[0].reason)
            why = "; ".join(f"{e.cfg.label}: {e.reason}" for e in self.endpoints)
            raise FatalTeacherError(f"no usable teacher endpoint: {why}")

    def _fault(self, ep: Endpoint, exc: TransientError) -> None:
        """Called holding the condition: count a fault; mark ``ep`` down when it means the
        endpoint, not the request (see the module docstring)."""
        ep.faults_in_row += 1
        silent = exc.kind in ("connection", "timeout")
        if silent or ep.trial or ep.faults_in_row >= self.fault_threshold:
            self._mark_down(ep, f"{exc.kind}: {exc}")

    def _mark_down(self, ep: Endpoint, reason: str) -> None:
        """Called holding the condition: stop sending to ``ep`` and start probing it."""
        ep.reason = reason
        ep.trial = False
        if ep.state != "up":
            return
        ep.downs_in_row += 1
        ep.state, ep.down_since = "down", self._clock()
        ep.stats.down_events += 1
        ep.probe = asyncio.create_task(self._revive(ep))

    async def _revive(self, ep: Endpoint) -> None:
        """Probe ``ep`` with exponential backoff and jitter until it answers, then reopen it."""
        first = min(self.probe_backoff_max, self.probe_backoff * 2 ** (ep.downs_in_row - 1))

        async def probe() -> str | None:
            ep.stats.probes += 1
            return await ep.client.probe(timeout=min(5.0, ep.client.timeout))

        await asyncio.sleep(first)
        await AsyncRetrying(
            retry=retry_if_result(lambda why: why is not None),
            wait=wait_exponential_jitter(
                multiplier=first, max=self.probe_backoff_max, jitter=first
            ),
            stop=stop_never,
        )(probe)
        async with self._cond:
            if ep.state == "down":
                ep.state, ep.trial = "up", True
                ep.stats.down_seconds += self._clock() - ep.down_since
            self._cond.notify_all()

    # --- dispatch ----------------------------------------------------------------------------

    def _pick(self, avoid: set[int]) -> Endpoint | None:
        now = self._clock()
        usable = [(i, e) for i, e in enumerate(self.endpoints) if e.usable(now)]
        fresh = [(i, e) for i, e in usable if id(e) not in avoid] or usable
        if not fresh:
            return None
        return min(fresh, key=lambda ie: (ie[1].in_flight / ie[1].cfg.concurrency, ie[0]))[1]

    def _next_wake(self) -> float:
        """Seconds until a paused endpoint resumes, or how often to re-check the down timeout."""
        now = self._clock()
        pauses = [e.paused_until - now for e in self.endpoints if e.paused_until > now]
        return max(0.01, min([*pauses, 1.0]))

    def _raise_if_all_down(self) -> None:
        self._raise_if_all_disabled()
        alive = [e for e in self.endpoints if e.state != "disabled"]
        if all(e.state == "down" for e in alive):
            since = max(e.down_since for e in alive)
            if self._clock() - since > self.down_timeout:
                why = "; ".join(f"{e.cfg.label}: {e.reason}" for e in alive)
                raise FatalTeacherError(
                    f"every teacher endpoint has been down for over {self.down_timeout:g} s "
                    f"({why}); answers so far are stored: re-run the same command to continue"
                )

    async def _acquire(self, avoid: set[int]) -> Endpoint:
        async with self._cond:
            while True:
                ep = self._pick(avoid)
                if ep is not None:
                    ep.in_flight += 1
                    return ep
                self._raise_if_all_down()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._cond.wait(), self._next_wake())

    async def _release(self, ep: Endpoint, exc: BaseException | None, answered: bool) -> None:
        """Free the slot and learn from the outcome (nothing, when the task was cancelled)."""
        async with self._cond:
            ep.in_flight -= 1
            if isinstance(exc, TransientError):
                ep.stats.errors[exc.kind] += 1
                if exc.throttled:
                    wait = exc.retry_after if exc.retry_after is not None else self.probe_backoff
                    ep.paused_until = max(ep.paused_until, self._clock() + wait)
                else:
                    self._fault(ep, exc)
            elif isinstance(exc, FatalTeacherError):
                self._disable(ep, exc)
            elif isinstance(exc, RequestFailed):
                ep.stats.errors[f"http_{exc.status}" if exc.status else "failed"] += 1
            elif answered:
                ep.faults_in_row, ep.downs_in_row, ep.trial = 0, 0, False
            self._cond.notify_all()

    # --- requests ----------------------------------------------------------------------------

    async def _attempt(
        self, ep: Endpoint, messages: list[dict[str, str]], log: list[dict[str, Any]]
    ) -> Completion:
        """One request on ``ep`` (slot already taken; released by the caller)."""
        max_tokens = int(self.params.get("max_tokens", 512))
        await ep.limiter.acquire(estimate_tokens(messages, max_tokens))
        ep.stats.sent += 1
        t0 = self._clock()
        try:
            c = await ep.client.attempt(messages, log)
        except TeacherError:
            ep.stats.failed_seconds += self._clock() - t0
            raise
        ep.stats.ok += 1
        ep.stats.answer_seconds += self._clock() - t0
        ep.stats.add_latency(self._clock() - t0)
        ep.stats.prompt_tokens += c.prompt_tokens
        ep.stats.completion_tokens += c.completion_tokens
        return c

    async def complete(self, messages: list[dict[str, str]]) -> Completion:
        """One answer, from whichever endpoint gives it first (see the module docstring)."""
        if self._started is None:
            self._started = self._clock()
        log: list[dict[str, Any]] = []
        started, last = self._clock(), None
        faulted: list[Endpoint] = []  # where this request's earlier attempts faulted
        for _ in range(self.max_retries + 1):
            ep = await self._acquire({id(e) for e in faulted})
            if faulted and faulted[-1] is not ep:
                faulted[-1].stats.failed_over += 1
                self.failovers += 1
            err: TransientError | RequestFailed | FatalTeacherError | None = None
            answered = False
            try:
                c = await self._attempt(ep, messages, log)
                answered = True
            except (TransientError, RequestFailed, FatalTeacherError) as exc:
                err = exc
            finally:
                await self._release(ep, err, answered)
            if err is None:
                return replace(
                    c, attempts=len(log), latency=self._clock() - started, log=tuple(log)
                )
            self._label(log, ep)
            if isinstance(err, RequestFailed):
                raise RequestFailed(str(log[-1]["error"]), attempts=len(log), status=err.status)
            if isinstance(err, FatalTeacherError):
                self._raise_if_all_disabled()
            elif not err.throttled:
                faulted.append(ep)
            last = err
        raise RequestFailed(
            f"gave up after {len(log)} attempts: {log[-1]['error'] if log else last}",
            attempts=len(log),
            status=getattr(last, "status", None),
        )

    @staticmethod
    def _label(log: list[dict[str, Any]], ep: Endpoint) -> None:
        """Name the endpoint in the failed attempt's error (kept in the store's attempts)."""
        if log and "error" in log[-1]:
            log[-1]["error"] = f"[{ep.cfg.label}] {log[-1]['error']}"

    # --- report and close --------------------------------------------------------------------

    def report(self) -> dict[str, Any]:
        """Per-endpoint throughput, latency and errors (the report JSON's ``run.endpoints``)."""
        now = self._clock()
        seconds = now - self._started if self._started is not None else 0.0
        rows = []
        for e in self.endpoints:
            row = {"name": e.cfg.label, "url": e.cfg.url, "concurrency": e.cfg.concurrency}
            row.update(rpm=e.cfg.rpm, tpm=e.cfg.tpm, state=e.state)
            stats = e.stats.to_dict(seconds)
            if e.state == "down":
                stats["down_seconds"] = round(e.stats.down_seconds + now - e.down_since, 3)
            rows.append({**row, **stats, "last_error": e.reason or None})
        return {"seconds": round(seconds, 3), "failovers": self.failovers, "endpoints": rows}

    async def aclose(self) -> None:
        for e in self.endpoints:
            if e.probe is not None and not e.probe.done():
                e.probe.cancel()
        await asyncio.gather(
            *(e.probe for e in self.endpoints if e.probe is not None), return_exceptions=True
        )
        await asyncio.gather(*(e.client.aclose() for e in self.endpoints))

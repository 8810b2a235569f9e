"""The distillation job: ask the teacher about every passage, once, and survive being killed.

For each passage the runner computes the answer key (teacher, model, template, parameters,
passage hash). A key already answered in the store is never sent again; its record is written to
the annotations file if the file lacks it (recovery after a kill between commit and append).
The remaining passages go through ``concurrency`` workers, each waiting on the RPM/TPM limiter
before sending. An answer is committed to the store first, then appended to the file, so a
``kill -9`` at any moment loses at most the requests in flight, which the next run asks again.

A :class:`FatalTeacherError` (bad key, wrong model) stops the job at once; a
:class:`RequestFailed` marks the passage failed in the store (asked again on the next run) and
the job goes on.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from uniner.distill.annotate import annotation_record
from uniner.distill.filtering import FilterConfig
from uniner.distill.output import AnnotationWriter
from uniner.distill.prompts import PromptTemplate
from uniner.distill.ratelimit import RateLimiter, estimate_tokens
from uniner.distill.store import Store, answer_key, text_hash
from uniner.distill.teachers.base import FatalTeacherError, RequestFailed, Teacher


@dataclass(frozen=True, slots=True)
class Passage:
    id: str
    text: str

    @property
    def hash(self) -> str:
        return text_hash(self.text)


@dataclass
class RunStats:
    passages: int = 0
    cached: int = 0  # answered in an earlier run (not sent)
    asked: int = 0  # answered in this run
    failed: int = 0
    recovered: int = 0  # in the store but missing from the file: re-appended
    prompt_tokens: int = 0
    completion_tokens: int = 0
    parse: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {k: (dict(v) if isinstance(v, Counter) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True, slots=True)
class Pricing:
    """Price per million tokens, input and output (0 for local or free endpoints)."""

    input_per_m: float = 0.0
    output_per_m: float = 0.0

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_m + completion_tokens * self.output_per_m) / 1e6


ProgressHook = Callable[[RunStats, int], None]  # (stats, passages finished so far)


class _Identity(TypedDict):
    """The fields of a store row that name the question: the same for an answer or a failure."""

    key: str
    passage_id: str
    passage_hash: str
    teacher: str
    model: str
    template: str
    params: dict[str, Any]
    request: list[dict[str, str]]


async def run_distillation(
    passages: Iterable[Passage],
    teacher: Teacher,
    template: PromptTemplate,
    store: Store,
    out_path: str | Path,
    *,
    concurrency: int = 8,
    rpm: float | None = None,
    tpm: float | None = None,
    filter_config: FilterConfig | None = None,
    progress: ProgressHook | None = None,
) -> RunStats:
    """Annotate every passage exactly once (see the module docstring); return the run's stats."""
    fcfg = filter_config or (
        FilterConfig.for_definitions() if template.variant == "definition" else FilterConfig()
    )
    job = _Job(teacher, template, store, AnnotationWriter(out_path), fcfg, progress)
    limiter = RateLimiter(rpm, tpm)
    queue: asyncio.Queue[Passage | None] = asyncio.Queue(maxsize=max(2 * concurrency, 8))
    workers = [asyncio.create_task(job.worker(queue, limiter)) for _ in range(concurrency)]
    started = time.monotonic()
    try:
        await job.feed(passages, queue, workers)
        await asyncio.gather(*workers)
    except BaseException:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
    finally:
        job.writer.close()
        job.stats.seconds = time.monotonic() - started
    return job.stats


class _Job:
    """One run's shared state: the teacher, the store, the annotations file and the counts.

    The feeder (:meth:`feed`) answers what the store already knows and queues the rest; each
    worker (:meth:`worker`) asks the teacher, commits the answer to the store, then writes it.
    """

    def __init__(
        self,
        teacher: Teacher,
        template: PromptTemplate,
        store: Store,
        writer: AnnotationWriter,
        filter_config: FilterConfig,
        progress: ProgressHook | None,
    ) -> None:
        self.teacher, self.template, self.store, self.writer = teacher, template, store, writer
        self.filter_config, self.progress = filter_config, progress
        self.stats = RunStats()
        self.finished = 0
        self.template_id = f"{template.id}#{template.digest}"
        self.params = teacher.params
        self.max_tokens = int(self.params.get("max_tokens", 512))

    def key_of(self, p: Passage) -> str:
        t = self.teacher
        return answer_key(t.name, t.model, self.template_id, self.params, p.hash)

    def emit(self, p: Passage, response: str, finish_reason: str | None) -> None:
        """Parse and filter an answer, append its record, report progress."""
        rec = annotation_record(
            p.id, p.text, response, filter_config=self.filter_config, finish_reason=finish_reason
        )
        self.stats.parse[rec["teacher"]["parse"]] += 1
        self.writer.write(rec)
        self.finished += 1
        if self.progress:
            self.progress(self.stats, self.finished)

    async def feed(
        self,
        passages: Iterable[Passage],
        queue: asyncio.Queue[Passage | None],
        workers: list[asyncio.Task[None]],
    ) -> None:
        """Each passage once: from the store when answered before, else into the queue; then
        one stop sign per worker."""
        seen: set[str] = set()
        checked = False
        for p in passages:
            if p.id in seen:
                raise ValueError(f"passage id {p.id!r} occurs twice in the input")
            seen.add(p.id)
            self.stats.passages += 1
            if self.reuse(p):
                continue
            if not checked:  # fail fast, but only when something will be sent at all
                await self.teacher.check()
                checked = True
            await _put(queue, p, workers)
        for _ in workers:
            await _put(queue, None, workers)

    def reuse(self, p: Passage) -> bool:
        """Emit the stored answer of ``p`` if there is one (re-appending it when the file lacks
        it: a kill between commit and append); False when it must be asked."""
        prev = self.store.get(self.key_of(p))
        if prev is None or prev.status != "done":
            return False
        self.stats.cached += 1
        self.stats.prompt_tokens += prev.prompt_tokens
        self.stats.completion_tokens += prev.completion_tokens
        if p.id not in self.writer:
            self.stats.recovered += 1
        self.emit(p, prev.response or "", prev.finish_reason)
        return True

    async def worker(self, queue: asyncio.Queue[Passage | None], limiter: RateLimiter) -> None:
        while (p := await queue.get()) is not None:
            messages = self.template.messages(p.text)
            await limiter.acquire(estimate_tokens(messages, self.max_tokens))
            await self.ask(p, messages)

    async def ask(self, p: Passage, messages: list[dict[str, str]]) -> None:
        """One request; the answer (or the failure) is committed to the store before it counts."""
        t = self.teacher
        common: _Identity = {
            "key": self.key_of(p),
            "passage_id": p.id,
            "passage_hash": p.hash,
            "teacher": t.name,
            "model": t.model,
            "template": self.template_id,
            "params": self.params,
            "request": messages,
        }
        try:
            c = await t.complete(messages)
        except RequestFailed as exc:
            self.store.put(**common, status="failed", error=str(exc), attempts=exc.attempts)
            self.stats.failed += 1
            self.stats.errors[str(exc)[:80]] += 1
            return
        self.store.put(
            **common,
            status="done",
            response=c.text,
            prompt_tokens=c.prompt_tokens,
            completion_tokens=c.completion_tokens,
            finish_reason=c.finish_reason,
            attempts=c.attempts,
            latency=c.latency,
            log=c.log,
        )
        self.stats.asked += 1
        self.stats.prompt_tokens += c.prompt_tokens
        self.stats.completion_tokens += c.completion_tokens
        self.emit(p, c.text, c.finish_reason)


async def _put(
    queue: asyncio.Queue[Passage | None], item: Passage | None, workers: list[asyncio.Task[None]]
) -> None:
    """Put into the queue, but surface a worker's fatal error instead of blocking forever."""
    while True:
        for w in workers:
            if w.done() and not w.cancelled() and (exc := w.exception()) is not None:
                raise exc
        try:
            await asyncio.wait_for(queue.put(item), timeout=0.2)
            return
        except TimeoutError:
            continue


__all__ = ["FatalTeacherError", "Passage", "Pricing", "RunStats", "run_distillation"]

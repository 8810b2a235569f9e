"""Micro-batching: concurrent requests share one model call, run on one worker thread.

Why: the encoder is far cheaper per text in a batch than one text at a time, and a server
receives many small requests at once. The batcher's loop takes the first waiting job, then keeps
gathering jobs for at most ``max_wait_ms`` or until ``max_texts`` texts are gathered (bounded
wait, bounded batch), and hands the batch to a single worker thread so the event loop never runs
model code and keeps accepting requests. While the worker runs, new jobs queue up and form the
next batch. Jobs may differ in labels: the span student scores each text with its own labels in
one length-sorted stream (``extract_each``); jobs that differ in threshold or decoding options
become separate calls inside the same worker turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from uniner.data.types import Entity

log = logging.getLogger(__name__)


class QueueFull(Exception):
    """More texts are waiting than the configured bound: the caller answers 503."""


class BatcherStopped(Exception):
    """The server is shutting down and takes no new work."""


@dataclass(eq=False)
class Job:
    texts: list[str]
    labels: list[str]
    threshold: float
    flat: bool
    multi_label: bool
    future: asyncio.Future = field(repr=False)

    @property
    def options(self) -> tuple[float, bool, bool]:
        return (self.threshold, self.flat, self.multi_label)


def run_jobs(extractor: Any, jobs: Sequence[Job]) -> list[list[list[Entity]] | BaseException]:
    """Entities of every job (worker thread). A failing option group fails only its own jobs."""
    groups: dict[tuple[float, bool, bool], list[int]] = {}
    for i, job in enumerate(jobs):
        groups.setdefault(job.options, []).append(i)
    out: list[Any] = [None] * len(jobs)
    for (thr, flat, multi), idx in groups.items():
        try:
            texts = [t for i in idx for t in jobs[i].texts]
            label_lists = [jobs[i].labels for i in idx for _ in jobs[i].texts]
            ents = _extract(extractor, texts, label_lists, thr, flat, multi)
            pos = 0
            for i in idx:
                n = len(jobs[i].texts)
                out[i] = ents[pos : pos + n]
                pos += n
        except Exception as exc:  # reported to these jobs' callers, logged by the app
            for i in idx:
                out[i] = exc
    return out


def _extract(
    extractor: Any,
    texts: list[str],
    label_lists: list[list[str]],
    threshold: float,
    flat: bool,
    multi_label: bool,
) -> list[list[Entity]]:
    if hasattr(extractor, "extract_each"):  # the span student: mixed labels in one stream
        mode = "flat" if flat else "nested"
        res = extractor.extract_each(texts, label_lists, threshold, mode, multi_label)
        return [list(r.entities) for r in res]
    # any other Extractor: one call per distinct label set
    by_labels: dict[tuple[str, ...], list[int]] = {}
    for i, labs in enumerate(label_lists):
        by_labels.setdefault(tuple(labs), []).append(i)
    out: list[list[Entity]] = [[] for _ in texts]
    for labs, idx in by_labels.items():
        res = extractor.extract_batch(
            [texts[i] for i in idx],
            list(labs),
            threshold=threshold,
            flat=flat,
            multi_label=multi_label,
        )
        for i, ents in zip(idx, res, strict=True):
            out[i] = list(ents)
    return out


class MicroBatcher:
    """Gathers :class:`Job` s into batches and runs them on one worker thread (see module doc)."""

    def __init__(
        self,
        extractor: Any,
        *,
        max_texts: int = 32,
        max_wait_ms: float = 5.0,
        enabled: bool = True,
        max_queue_texts: int = 2048,
    ):
        self.extractor = extractor
        self.max_texts = max_texts
        self.max_wait = max_wait_ms / 1000.0
        self.enabled = enabled
        self.max_queue_texts = max_queue_texts
        self._queue: deque[Job] = deque()
        self._queued_texts = 0
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._stopping = False
        self.batches = 0
        self.texts_done = 0
        self.batch_sizes: list[int] = []  # texts per model call, for tests and the load test

    @property
    def queued_texts(self) -> int:
        return self._queued_texts

    async def start(self) -> None:
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="uniner-model")
        self._stopping = False
        self._task = asyncio.create_task(self._loop(), name="uniner-batcher")

    async def stop(self) -> None:
        """Finish every queued job, then stop the loop and the worker thread."""
        self._stopping = True
        if self._wakeup is not None:
            self._wakeup.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def submit(
        self,
        texts: list[str],
        labels: list[str],
        threshold: float,
        flat: bool = True,
        multi_label: bool = False,
    ) -> list[list[Entity]]:
        """Entities of ``texts``; waits for the batch this job lands in."""
        if self._stopping or self._task is None:
            raise BatcherStopped("the server is shutting down")
        if self._queued_texts + len(texts) > self.max_queue_texts:
            raise QueueFull(f"{self._queued_texts} texts are already waiting")
        fut = asyncio.get_running_loop().create_future()
        self._queue.append(Job(texts, labels, threshold, flat, multi_label, fut))
        self._queued_texts += len(texts)
        assert self._wakeup is not None
        self._wakeup.set()
        return await fut

    # -- the loop --------------------------------------------------------------------------

    def _pop_live(self) -> Job | None:
        """The next job whose caller still waits (timed-out callers cancelled their future)."""
        while self._queue:
            job = self._queue.popleft()
            self._queued_texts -= len(job.texts)
            if not job.future.done():
                return job
        return None

    async def _gather(self) -> list[Job]:
        first = self._pop_live()
        if first is None:
            return []
        batch, n = [first], len(first.texts)
        if not self.enabled:
            return batch
        deadline = time.monotonic() + self.max_wait
        assert self._wakeup is not None
        while n < self.max_texts:
            if self._queue:
                nxt = self._queue[0]
                if n + len(nxt.texts) > self.max_texts:
                    break
                job = self._pop_live()
                if job is not None:
                    batch.append(job)
                    n += len(job.texts)
                continue
            left = deadline - time.monotonic()
            if left <= 0 or self._stopping:
                break
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), left)
        return batch

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._wakeup is not None
        while True:
            if not self._queue:
                if self._stopping:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch = await self._gather()
            if not batch:
                continue
            n = sum(len(j.texts) for j in batch)
            try:
                results = await loop.run_in_executor(
                    self._executor, run_jobs, self.extractor, batch
                )
            except Exception as exc:  # the executor itself failed: fail this batch, keep going
                results = [exc] * len(batch)
            self.batches += 1
            self.texts_done += n
            self.batch_sizes.append(n)
            for job, res in zip(batch, results, strict=True):
                if job.future.done():  # its caller timed out meanwhile
                    continue
                if isinstance(res, BaseException):
                    job.future.set_exception(res)
                else:
                    job.future.set_result(res)

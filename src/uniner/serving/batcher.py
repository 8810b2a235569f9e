"""Micro-batching: concurrent requests share one model call, run on one worker thread.

Why: the encoder is far cheaper per text in a batch than one text at a time, and a server
receives many small requests at once. The batcher's loop takes the first waiting job, then keeps
gathering jobs for at most ``max_wait_ms`` or until ``max_texts`` texts are gathered (bounded
wait, bounded batch), and hands the batch to a single worker thread so the event loop never runs
model code and keeps accepting requests. While the worker runs, new jobs queue up and form the
next batch. Jobs may differ in labels: an extractor with ``extract_each`` (the span student)
scores each text with its own labels in one length-sorted stream; jobs that differ in decoding
options become separate calls inside the same worker turn.

Degrading, not dying: every job carries a :class:`~uniner.inference.deadline.Deadline` that the
extractor checks between windows and batches, so work for a caller that timed out stops and
the worker is free for the next job. A job whose deadline passed while it waited is dropped
without running. The queue is bounded by texts and by estimated cost
(:mod:`uniner.serving.admission`), and a request is not taken when the work ahead of it would,
at the measured speed, outlast its timeout (it would only time out after waiting): past any of
these, :class:`QueueFull` (503 with Retry-After). A batch keeps its jobs of similar cost: a
small request never joins a large one's model call (it would wait for all of it).
The worker is a daemon thread: on shutdown, work still running is cancelled through the
deadline's cancel event and never keeps the process alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from uniner.data.types import Entity
from uniner.inference.deadline import Deadline, DeadlineExceeded
from uniner.serving.admission import Throughput

log = logging.getLogger(__name__)

Clock = Callable[[], float]
T = TypeVar("T")

#: Cost up to which jobs of any size share a batch; above it a batch holds one large job alone.
SMALL_BATCH_COST = 20_000
#: Share of the timeout that the estimated wait (work ahead and the request's own) may take.
ADMIT_SHARE = 0.75


class QueueFull(Exception):
    """The work waiting is over its bound: the caller answers 503 with ``retry_after``."""

    def __init__(self, message: str, retry_after: int = 1):
        super().__init__(message)
        self.retry_after = retry_after


class BatcherStopped(Exception):
    """The server is shutting down and takes no new work."""


@dataclass(eq=False)
class Job:
    texts: list[str]
    labels: list[str]
    threshold: float | None  # None: the model's own (the few-types rule applies per text)
    flat: bool
    multi_label: bool | None
    future: asyncio.Future[list[list[Entity]]] = field(repr=False)
    deadline: Deadline | None = None
    cost: int = 1

    @property
    def options(self) -> tuple[float | None, bool, bool | None]:
        return (self.threshold, self.flat, self.multi_label)


def run_jobs(extractor: Any, jobs: Sequence[Job]) -> list[list[list[Entity]] | BaseException]:
    """Entities of every job (worker thread). A failing option group fails only its own jobs;
    a group stops at the latest deadline of its jobs (each caller also times out on its own)."""
    groups: dict[tuple[float | None, bool, bool | None], list[int]] = {}
    for i, job in enumerate(jobs):
        groups.setdefault(job.options, []).append(i)
    out: list[Any] = [None] * len(jobs)
    for (thr, flat, multi), idx in groups.items():
        try:
            texts = [t for i in idx for t in jobs[i].texts]
            label_lists = [jobs[i].labels for i in idx for _ in jobs[i].texts]
            deadline = Deadline.latest(jobs[i].deadline for i in idx)
            ents = _extract(extractor, texts, label_lists, thr, flat, multi, deadline)
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
    threshold: float | None,
    flat: bool,
    multi_label: bool | None,
    deadline: Deadline | None,
) -> list[list[Entity]]:
    """One decoding group through the Extractor contract (``uniner.inference.protocol``)."""
    if hasattr(extractor, "extract_each"):  # optional: mixed labels in one stream
        res = extractor.extract_each(
            texts,
            label_lists,
            threshold=threshold,
            mode="flat" if flat else "nested",
            multi_label=multi_label,
            deadline=deadline,
        )
        return [list(r.entities) for r in res]
    by_labels: dict[tuple[str, ...], list[int]] = {}
    for i, text_labels in enumerate(label_lists):
        by_labels.setdefault(tuple(text_labels), []).append(i)
    out: list[list[Entity]] = [[] for _ in texts]
    for labs, idx in by_labels.items():
        res = extractor.extract_batch(
            [texts[i] for i in idx],
            list(labs),
            threshold=threshold,
            flat=flat,
            multi_label=multi_label,
            deadline=deadline,
        )
        for i, ents in zip(idx, res, strict=True):
            out[i] = list(ents)
    return out


class Worker:
    """One daemon thread running calls in order; results come back as asyncio futures.

    Not a ThreadPoolExecutor: its threads are joined at interpreter exit, so a call that runs
    for minutes would keep a stopped server's process alive.
    """

    def __init__(self, name: str = "uniner-model"):
        self._calls: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    def run(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._calls.put((loop, fut, fn, args))
        return fut

    def stop(self, timeout: float = 0.0) -> bool:
        """Ask the thread to end after its current call; True if it ended within ``timeout``."""
        self._calls.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _main(self) -> None:
        while True:
            item = self._calls.get()
            if item is None:
                return
            loop, fut, fn, args = item
            try:
                res, exc = fn(*args), None
            except BaseException as err:  # handed to the waiting coroutine
                res, exc = None, err
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(_settle, fut, res, exc)


def _settle(fut: asyncio.Future[Any], res: object, exc: BaseException | None) -> None:
    if fut.done():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(res)


@dataclass
class WorkerState:
    """What /health shows about the worker (all times on the batcher's clock)."""

    busy_since: float | None = None
    running_cost: int = 0
    last_error: str | None = None
    last_error_at: float | None = None
    timeouts: int = 0
    last_run: tuple[float, float, float | None] | None = None  # (start, end, latest deadline)


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
        max_queue_cost: int | None = None,
        admit_within_s: float | None = None,
        clock: Clock = time.monotonic,
    ):
        self.extractor = extractor
        self.max_texts = max_texts
        self.max_wait = max_wait_ms / 1000.0
        self.enabled = enabled
        self.max_queue_texts = max_queue_texts
        self.max_queue_cost = max_queue_cost
        self.admit_within_s = admit_within_s
        self.clock = clock
        self.cancel = threading.Event()  # set on shutdown: running work stops at its next check
        self.throughput = Throughput()
        self.state = WorkerState()
        self._queue: deque[Job] = deque()
        self._queued_texts = 0
        self._queued_cost = 0
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._worker: Worker | None = None
        self._stopping = False
        self._last_large = False  # the last batch held a large job: small ones go next
        self.batches = 0
        self.texts_done = 0
        self.batch_sizes: list[int] = []  # texts per model call, for tests and the load test

    @property
    def queued_texts(self) -> int:
        return self._queued_texts

    @property
    def pending_cost(self) -> int:
        """Estimated work waiting or running."""
        return self._queued_cost + self.state.running_cost

    def new_deadline(self, seconds: float) -> Deadline:
        """A deadline ``seconds`` from now on the batcher's clock, cancelled on shutdown."""
        return Deadline.after(seconds, self.clock, self.cancel)

    async def start(self) -> None:
        self._wakeup = asyncio.Event()
        self._worker = Worker()
        self._stopping = False
        self.cancel.clear()
        self._task = asyncio.create_task(self._loop(), name="uniner-batcher")

    async def stop(self, timeout: float = 2.0) -> None:
        """Stop at once: uvicorn has already waited (``graceful_timeout_s``) for the requests in
        flight, so whatever remains has no caller left. Queued jobs fail with
        :class:`BatcherStopped`, running work is cancelled at its next deadline check, and the
        worker thread gets ``timeout`` seconds to notice (it is a daemon thread either way)."""
        self._stopping = True
        self.cancel.set()
        while self._queue:
            job = self._queue.popleft()
            if not job.future.done():
                job.future.set_exception(BatcherStopped("the server is shutting down"))
        self._queued_texts = self._queued_cost = 0
        if self._wakeup is not None:
            self._wakeup.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._worker is not None:
            worker, self._worker = self._worker, None
            ended = await asyncio.to_thread(worker.stop, timeout)
            if not ended:
                log.warning("the model worker is still busy; exiting without it")

    async def submit(
        self,
        texts: list[str],
        labels: list[str],
        threshold: float | None,
        flat: bool = True,
        multi_label: bool | None = None,
        *,
        deadline: Deadline | None = None,
        cost: int = 1,
    ) -> list[list[Entity]]:
        """Entities of ``texts``; waits for the batch this job lands in."""
        if self._stopping or self._task is None:
            raise BatcherStopped("the server is shutting down")
        self._admit(len(texts), cost)
        fut: asyncio.Future[list[list[Entity]]] = asyncio.get_running_loop().create_future()
        self._queue.append(Job(texts, labels, threshold, flat, multi_label, fut, deadline, cost))
        self._queued_texts += len(texts)
        self._queued_cost += cost
        assert self._wakeup is not None
        self._wakeup.set()
        return await fut

    def _admit(self, n_texts: int, cost: int) -> None:
        pending = self.pending_cost
        if self._queued_texts + n_texts > self.max_queue_texts:
            raise QueueFull(
                f"{self._queued_texts} texts are already waiting",
                self.throughput.retry_after(pending),
            )
        if not pending:  # an idle server always takes a request (under the per-request cap)
            return
        if self.max_queue_cost is not None and pending + cost > self.max_queue_cost:
            raise QueueFull(
                f"the work waiting (cost {pending}) leaves no room for this one (cost {cost})",
                self.throughput.retry_after(pending),
            )
        # this request and the work ahead of it, at the measured speed, with a margin for the
        # estimate's error: past the timeout it would only wait, then time out
        wait = (pending + cost) / max(self.throughput.rate, 1e-9)
        if self.admit_within_s is not None and wait > ADMIT_SHARE * self.admit_within_s:
            raise QueueFull(
                f"this request and the work ahead would take about {wait:.0f} s at the measured "
                f"speed; the timeout is {self.admit_within_s:g} s",
                self.throughput.retry_after(pending),
            )

    # -- the loop --------------------------------------------------------------------------

    def _drop_dead(self) -> None:
        """Forget queued jobs whose callers gave up, fail those whose deadline passed."""
        live: deque[Job] = deque()
        for job in self._queue:
            expired = job.deadline is not None and job.deadline.expired()
            if job.future.done() or expired:
                self.state.timeouts += 1
                self._queued_texts -= len(job.texts)
                self._queued_cost -= job.cost
                if not job.future.done():
                    job.future.set_exception(DeadlineExceeded("the deadline passed in the queue"))
            else:
                live.append(job)
        self._queue = live

    def _take_first(self, texts: int | None = None, cost: int | None = None) -> Job | None:
        """The oldest queued job with at most ``texts`` texts and ``cost`` (None: any), taken
        off the queue."""
        for i, job in enumerate(self._queue):
            if (texts is None or len(job.texts) <= texts) and (cost is None or job.cost <= cost):
                del self._queue[i]
                self._queued_texts -= len(job.texts)
                self._queued_cost -= job.cost
                return job
        return None

    async def _gather(self) -> list[Job]:
        """The next batch: oldest job first, except that after a large batch the oldest small
        job goes first (small requests never wait behind two large ones in a row; large ones
        still get every other turn); then every waiting job that fits, oldest first."""
        self._drop_dead()
        first = None
        if self._last_large:
            first = self._take_first(cost=SMALL_BATCH_COST)
        first = first or self._take_first()
        if first is None:
            return []
        batch, n, cost = [first], len(first.texts), first.cost
        if not self.enabled:
            return batch
        max_cost = max(first.cost, SMALL_BATCH_COST)
        until = time.monotonic() + self.max_wait
        assert self._wakeup is not None
        while n < self.max_texts:
            self._drop_dead()
            job = self._take_first(self.max_texts - n, max_cost - cost)
            if job is not None:
                batch.append(job)
                n += len(job.texts)
                cost += job.cost
                continue
            left = until - time.monotonic()
            if left <= 0 or self._stopping:
                break
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), left)
        return batch

    async def _loop(self) -> None:
        assert self._wakeup is not None
        while not self._stopping:
            if not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch = await self._gather()
            if batch:
                await self._run(batch)

    async def _run(self, batch: list[Job]) -> None:
        assert self._worker is not None
        n = sum(len(j.texts) for j in batch)
        cost = sum(j.cost for j in batch)
        st = self.state
        st.busy_since, st.running_cost = self.clock(), cost
        wall = time.monotonic()
        try:
            results = await self._worker.run(run_jobs, self.extractor, batch)
        except Exception as exc:  # the worker itself failed: fail this batch, keep going
            results = [exc] * len(batch)
        finally:
            end = self.clock()
            latest = Deadline.latest(j.deadline for j in batch)
            st.last_run = (st.busy_since or end, end, None if latest is None else latest.at)
            st.busy_since, st.running_cost = None, 0
            self._last_large = cost > SMALL_BATCH_COST
        if not any(isinstance(r, DeadlineExceeded) for r in results):  # stopped early: no measure
            self.throughput.record(cost, time.monotonic() - wall)
        self.batches += 1
        self.texts_done += n
        self.batch_sizes.append(n)
        for job, res in zip(batch, results, strict=True):
            if isinstance(res, BaseException):
                if isinstance(res, DeadlineExceeded):
                    st.timeouts += 1
                st.last_error = f"{type(res).__name__}: {res}"
                st.last_error_at = end
            if job.future.done():  # its caller timed out meanwhile
                continue
            if isinstance(res, BaseException):
                job.future.set_exception(res)
            else:
                job.future.set_result(res)

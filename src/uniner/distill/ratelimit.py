"""Requests-per-minute and tokens-per-minute limits as async token buckets.

Providers enforce both; staying under them avoids 429 storms that backoff would otherwise have to
absorb. Each bucket refills continuously (``limit/60`` per second) up to one minute's worth; a
request waits until both buckets hold what it needs. Tokens are estimated before the request
(prompt characters / 4 + ``max_tokens``), the usual budgeting rule, since the real count is only
known afterwards.

The clock and the sleep are parameters so that tests run on virtual time: a test that measured
real seconds would fail on a loaded machine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    def __init__(
        self,
        per_minute: float,
        burst: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.rate = per_minute / 60.0
        self.capacity = burst if burst is not None else per_minute
        self.level = self.capacity
        self._clock, self._sleep = clock, sleep
        self.stamp = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    async def take(self, amount: float) -> None:
        amount = min(amount, self.capacity)  # a request bigger than a minute's budget still runs
        async with self._lock:
            while True:
                self._refill()
                if self.level >= amount:
                    self.level -= amount
                    return
                await self._sleep((amount - self.level) / self.rate)


class RateLimiter:
    """Both limits together; ``None`` means unlimited."""

    def __init__(
        self,
        rpm: float | None = None,
        tpm: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.requests = TokenBucket(rpm, max(1.0, rpm / 60), clock, sleep) if rpm else None
        self.tokens = TokenBucket(tpm, None, clock, sleep) if tpm else None

    async def acquire(self, tokens: float = 0.0) -> None:
        if self.requests is not None:
            await self.requests.take(1)
        if self.tokens is not None and tokens:
            await self.tokens.take(tokens)


def estimate_tokens(messages: list[dict[str, str]], max_tokens: int) -> int:
    return sum(len(m.get("content", "")) for m in messages) // 4 + max_tokens

"""RPM/TPM limiting: requests are spaced to the configured rate and big requests wait for
their token budget. Measured on a virtual clock (injected), so a loaded machine cannot fail it."""

from __future__ import annotations

import asyncio

from uniner.distill.ratelimit import RateLimiter, TokenBucket, estimate_tokens


class VirtualTime:
    """A clock that only moves when someone sleeps on it; records each sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        # a real sleep always lets the clock move (its resolution, here 1 ns): a float rounding
        # shortfall of 1e-17 s must not become a sleep that never advances time
        self.sleeps.append(seconds)
        self.now += max(seconds, 1e-9)
        await asyncio.sleep(0)  # still yield, as a real sleep does


def test_rpm_spaces_requests() -> None:
    vt = VirtualTime()

    async def go() -> None:
        lim = RateLimiter(rpm=3000, clock=vt.clock, sleep=vt.sleep)  # 50/s, burst of 50
        await asyncio.gather(*(lim.acquire() for _ in range(100)))

    asyncio.run(go())
    # the burst of 50 goes at once; the other 50 wait 1/50 s each: one second in all
    assert sum(s > 1e-6 for s in vt.sleeps) == 50
    assert abs(vt.now - 1.0) < 1e-6


def test_tpm_waits_for_budget() -> None:
    vt = VirtualTime()

    async def go() -> tuple[float, float]:
        bucket = TokenBucket(per_minute=600, burst=10, clock=vt.clock, sleep=vt.sleep)  # 10/s
        await bucket.take(10)  # the burst: immediate
        first = vt.now
        await bucket.take(5)  # must wait 0.5 s
        return first, vt.now

    first, total = asyncio.run(go())
    assert first == 0.0 and abs(total - 0.5) < 1e-6


def test_requests_and_tokens_both_limit() -> None:
    vt = VirtualTime()

    async def go() -> None:
        lim = RateLimiter(rpm=60, tpm=600, clock=vt.clock, sleep=vt.sleep)  # 1 req/s, 10 tok/s
        await lim.acquire(600)  # both bursts spent: a minute of tokens, the one request
        await lim.acquire(20)  # 1 s for the request; by then 10 tokens, so 1 s more for 20

    asyncio.run(go())
    assert abs(vt.now - 2.0) < 1e-6


def test_a_request_bigger_than_a_minute_still_runs() -> None:
    vt = VirtualTime()
    asyncio.run(TokenBucket(60, clock=vt.clock, sleep=vt.sleep).take(10**6))
    assert vt.now == 0.0


def test_unlimited_and_estimate() -> None:
    asyncio.run(RateLimiter().acquire(10**9))  # no limits: returns at once
    msgs = [{"role": "user", "content": "x" * 400}]
    assert estimate_tokens(msgs, 256) == 100 + 256

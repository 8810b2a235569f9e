"""RPM/TPM limiting: requests are spaced to the configured rate and big requests wait for
their token budget."""

from __future__ import annotations

import asyncio
import time

from uniner.distill.ratelimit import RateLimiter, TokenBucket, estimate_tokens


def test_rpm_spaces_requests():
    async def go():
        lim = RateLimiter(rpm=3000)  # 50/s, burst of one second's worth
        t0 = time.monotonic()
        await asyncio.gather(*(lim.acquire() for _ in range(100)))
        return time.monotonic() - t0

    elapsed = asyncio.run(go())
    assert 0.9 <= elapsed < 2.5  # 100 requests at 50/s after a burst of 50


def test_tpm_waits_for_budget():
    async def go():
        bucket = TokenBucket(per_minute=600, burst=10)  # 10 tokens/s
        t0 = time.monotonic()
        await bucket.take(10)  # the burst: immediate
        first = time.monotonic() - t0
        await bucket.take(5)  # must wait about 0.5 s
        return first, time.monotonic() - t0

    first, total = asyncio.run(go())
    assert first < 0.05 and 0.45 <= total < 1.2


def test_unlimited_and_estimate():
    asyncio.run(RateLimiter().acquire(10**9))  # no limits: returns at once
    msgs = [{"role": "user", "content": "x" * 400}]
    assert estimate_tokens(msgs, 256) == 100 + 256

"""RPM/TPM limiting: requests are spaced to the configured rate and big requests wait for
their token budget. Run on a virtual-time event loop (aiolimiter reads the loop's clock), so a
loaded machine cannot fail it and the waits are exact."""

from __future__ import annotations

import asyncio

from uniner.distill.ratelimit import RateLimiter, estimate_tokens


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock only moves when it would otherwise sleep: waiting for the next
    timer jumps straight to it."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        real_select = self._selector.select

        def select(timeout: float | None = None):
            events = real_select(0)
            if not events and timeout:
                self.now += timeout
            return events

        self._selector.select = select

    def time(self) -> float:
        return self.now


def virtual_run(coro):
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(coro)


def test_rpm_spaces_requests() -> None:
    async def go() -> list[float]:
        lim = RateLimiter(rpm=3000)  # 50/s, a burst of 50
        loop = asyncio.get_running_loop()

        async def one() -> float:
            await lim.acquire()
            return loop.time()

        return await asyncio.gather(*(one() for _ in range(100)))

    times = sorted(virtual_run(go()))
    # the burst of 50 goes at once; the other 50 wait 1/50 s each: one second in all
    assert times[:50] == [0.0] * 50
    assert all(abs(t - 0.02 * (i + 1)) < 1e-6 for i, t in enumerate(times[50:]))


def test_slow_rpm_is_not_rounded_up() -> None:
    async def go() -> float:
        lim = RateLimiter(rpm=30)  # one request every 2 s
        for _ in range(3):
            await lim.acquire()
        return asyncio.get_running_loop().time()

    assert abs(virtual_run(go()) - 4.0) < 1e-6


def test_tpm_waits_for_budget() -> None:
    async def go() -> tuple[float, float]:
        lim = RateLimiter(tpm=600)  # 10 tokens/s, a minute's worth (600) at once
        loop = asyncio.get_running_loop()
        await lim.acquire(600)  # the burst: immediate
        first = loop.time()
        await lim.acquire(5)  # must wait 0.5 s
        return first, loop.time()

    first, total = virtual_run(go())
    assert first == 0.0 and abs(total - 0.5) < 1e-6


def test_requests_and_tokens_both_limit() -> None:
    async def go() -> float:
        lim = RateLimiter(rpm=60, tpm=600)  # 1 req/s, 10 tok/s
        await lim.acquire(600)  # both bursts spent: a minute of tokens, the one request
        await lim.acquire(20)  # 1 s for the request; by then 10 tokens, so 1 s more for 20
        return asyncio.get_running_loop().time()

    assert abs(virtual_run(go()) - 2.0) < 1e-6


def test_a_request_bigger_than_a_minute_still_runs() -> None:
    async def go() -> float:
        await RateLimiter(tpm=60).acquire(10**6)
        return asyncio.get_running_loop().time()

    assert virtual_run(go()) == 0.0


def test_unlimited_and_estimate() -> None:
    asyncio.run(RateLimiter().acquire(10**9))  # no limits: returns at once
    msgs = [{"role": "user", "content": "x" * 400}]
    assert estimate_tokens(msgs, 256) == 100 + 256

"""Requests-per-minute and tokens-per-minute limits, on ``aiolimiter``'s leaky buckets.

Providers enforce both; staying under them avoids 429 storms that backoff would otherwise have to
absorb. The request bucket holds one second's worth (at least one request), so requests are
spread over the minute instead of the whole minute's quota leaving in one burst; the token bucket
holds a minute's worth. A request waits until both have room. Tokens are estimated before the
request (prompt characters / 4 + ``max_tokens``), the usual budgeting rule, since the real count
is only known afterwards. A request bigger than a minute's token budget still runs (it takes the
whole bucket) rather than waiting forever.

``aiolimiter`` times itself with the event loop's clock, so tests run it on a virtual-time loop
(a real-time test would fail on a loaded machine).
"""

from __future__ import annotations

from aiolimiter import AsyncLimiter


def request_limiter(rpm: float) -> AsyncLimiter:
    """``rpm`` per minute, at most a second's worth (and at least one request) at once."""
    burst = max(1.0, rpm / 60)
    return AsyncLimiter(burst, time_period=60 * burst / rpm)


class RateLimiter:
    """Both limits together; ``None`` means unlimited."""

    def __init__(self, rpm: float | None = None, tpm: float | None = None) -> None:
        self.rpm, self.tpm = rpm, tpm
        self.requests = request_limiter(rpm) if rpm else None
        self.tokens = AsyncLimiter(tpm, time_period=60) if tpm else None

    async def acquire(self, tokens: float = 0.0) -> None:
        if self.requests is not None:
            await self.requests.acquire(1)
        if self.tokens is not None and tokens:
            await self.tokens.acquire(min(tokens, self.tokens.max_rate))


def estimate_tokens(messages: list[dict[str, str]], max_tokens: int) -> int:
    return sum(len(m.get("content", "")) for m in messages) // 4 + max_tokens

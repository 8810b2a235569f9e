"""Endpoint settings for a pool of OpenAI-compatible teachers, and what each endpoint did.

An endpoint is written either as a table (TOML ``[[endpoints]]`` or an inline table) or as one
string, ``URL[,key=value...]``, which is what ``--teacher-url`` takes on the command line::

    --teacher-url http://gpu1:8000/v1,concurrency=64 --teacher-url http://gpu2:8000/v1

    [[endpoints]]
    url = "http://gpu1:8000/v1"
    concurrency = 64      # requests in flight on this endpoint
    rpm = 3000            # its own requests-per-minute limit (optional)
    tpm = 2000000         # its own tokens-per-minute limit (optional)
    api_key_env = "GPU1_KEY"  # optional: another key than the job's
    name = "gpu1"         # optional: the label in the report (default host:port)

Every field is checked here, once, and a bad one is a :class:`EndpointConfigError` whose message
names it (``endpoints[2].concurrency: ...``), so the CLI can print one line.
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

FIELDS = ("url", "concurrency", "rpm", "tpm", "api_key_env", "name")


class EndpointConfigError(ValueError):
    """A bad endpoint setting; the message names the field."""


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    url: str
    concurrency: int = 8
    rpm: float | None = None
    tpm: float | None = None
    api_key_env: str | None = None  # None: the job's key variable
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or urlsplit(self.url).netloc


def _split(text: str, where: str) -> dict[str, Any]:
    """``URL[,key=value...]`` as a dict (values still strings)."""
    url, *opts = [p.strip() for p in text.split(",")]
    out: dict[str, Any] = {"url": url}
    for opt in opts:
        key, sep, value = opt.partition("=")
        if not sep:
            raise EndpointConfigError(f"{where}: expected key=value after the URL, got {opt!r}")
        out[key.strip()] = value.strip()
    return out


def _number(value: Any, where: str, *, whole: bool) -> float | int:
    kind = "a whole number >= 1" if whole else "a number > 0"
    try:
        num = int(value) if whole else float(value)
        if isinstance(value, bool) or (whole and float(value) != num):
            raise ValueError
    except (TypeError, ValueError):
        raise EndpointConfigError(f"{where}: must be {kind}, got {value!r}") from None
    too_small = num < 1 if whole else num <= 0
    if too_small:
        raise EndpointConfigError(f"{where}: must be {kind}, got {value!r}")
    return num


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def parse_endpoint(raw: Any, where: str, default_concurrency: int = 8) -> EndpointConfig:
    """One endpoint from a string or a table; ``where`` names it in errors."""
    data = _split(raw, where) if isinstance(raw, str) else raw
    if not isinstance(data, dict):
        raise EndpointConfigError(f"{where}: expected a URL string or a table, got {raw!r}")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise EndpointConfigError(f"{where}.{unknown[0]}: unknown field; known: {list(FIELDS)}")
    url = data.get("url")
    if not isinstance(url, str) or not _is_http_url(url):
        raise EndpointConfigError(f"{where}.url: must be an http(s):// URL, got {url!r}")
    conc = data.get("concurrency", default_concurrency)
    rpm, tpm = data.get("rpm"), data.get("tpm")
    key_env, name = data.get("api_key_env"), data.get("name", "")
    if key_env is not None and not isinstance(key_env, str):
        raise EndpointConfigError(f"{where}.api_key_env: must be a variable name, got {key_env!r}")
    if not isinstance(name, str):
        raise EndpointConfigError(f"{where}.name: must be a string, got {name!r}")
    return EndpointConfig(
        url=url.rstrip("/"),
        concurrency=int(_number(conc, f"{where}.concurrency", whole=True)),
        rpm=None if rpm is None else float(_number(rpm, f"{where}.rpm", whole=False)),
        tpm=None if tpm is None else float(_number(tpm, f"{where}.tpm", whole=False)),
        api_key_env=key_env,
        name=name,
    )


def parse_endpoints(
    items: Any, where: str = "endpoints", default_concurrency: int = 8
) -> list[EndpointConfig]:
    """A non-empty list of distinct endpoints (the same URL twice would double its load)."""
    if not isinstance(items, list) or not items:
        raise EndpointConfigError(f"{where}: must be a non-empty list of endpoints")
    out: list[EndpointConfig] = []
    for i, raw in enumerate(items):
        ep = parse_endpoint(raw, f"{where}[{i}]", default_concurrency)
        if any(o.url == ep.url for o in out):
            raise EndpointConfigError(f"{where}[{i}].url: {ep.url} is given twice")
        if any(o.label == ep.label for o in out):
            ep = EndpointConfig(**{**_fields(ep), "name": f"{ep.label}#{i}"})
        out.append(ep)
    return out


def _fields(ep: EndpointConfig) -> dict[str, Any]:
    return {f: getattr(ep, f) for f in FIELDS}


LATENCY_SAMPLE = 20_000  # latencies kept per endpoint for percentiles (a seeded reservoir)


@dataclass
class EndpointStats:
    """What one endpoint did in a run: the report's row for it.

    Latencies are a reservoir sample (exact below :data:`LATENCY_SAMPLE` answers), so a 50M
    passage run keeps kilobytes, not a list of every request.
    """

    sent: int = 0  # HTTP attempts sent
    ok: int = 0  # answers
    # by kind: timeout, connection, http_503...
    errors: Counter[str] = field(default_factory=Counter)
    failed_over: int = 0  # requests that faulted here and were then answered elsewhere
    down_events: int = 0
    probes: int = 0
    down_seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    answer_seconds: float = 0.0  # slot time spent on attempts that were answered
    failed_seconds: float = 0.0  # slot time spent on attempts that failed (a stall: a timeout)
    latencies: list[float] = field(default_factory=list)
    _rng: random.Random = field(default_factory=lambda: random.Random(0), repr=False)

    def add_latency(self, seconds: float) -> None:
        if len(self.latencies) < LATENCY_SAMPLE:
            self.latencies.append(seconds)
            return
        j = self._rng.randrange(self.ok)
        if j < LATENCY_SAMPLE:
            self.latencies[j] = seconds

    def latency_summary(self) -> dict[str, float | None]:
        lat = sorted(self.latencies)
        if not lat:
            return {"mean": None, "p50": None, "p95": None, "p99": None, "max": None}
        qs = statistics.quantiles(lat, n=100, method="inclusive") if len(lat) > 1 else lat * 99
        return {
            "mean": round(statistics.fmean(lat), 4),
            "p50": round(qs[49], 4),
            "p95": round(qs[94], 4),
            "p99": round(qs[98], 4),
            "max": round(lat[-1], 4),
        }

    def to_dict(self, seconds: float) -> dict[str, Any]:
        per_s = self.ok / seconds if seconds > 0 else 0.0
        return {
            "sent": self.sent,
            "ok": self.ok,
            "errors": dict(self.errors),
            "error_total": sum(self.errors.values()),
            "failed_over": self.failed_over,
            "down_events": self.down_events,
            "probes": self.probes,
            "down_seconds": round(self.down_seconds, 3),
            "answers_per_s": round(per_s, 3),
            "tokens_in": self.prompt_tokens,
            "tokens_out": self.completion_tokens,
            "answer_seconds": round(self.answer_seconds, 3),
            "failed_seconds": round(self.failed_seconds, 3),
            "latency_s": self.latency_summary(),
        }

"""Limits and knobs of the HTTP service, in one place so the CLI, the app and the tests agree.

Every limit protects the one model worker from a single request that would hold it for long
(huge texts, thousands of labels) and the process from bodies it would have to buffer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

#: Header that carries the API key when one is configured.
API_KEY_HEADER = "X-API-Key"


@dataclass(frozen=True, slots=True)
class ServeSettings:
    """Configuration of one server (see ``uniner serve --help`` for each field's flag)."""

    #: Longest text accepted, in characters (longer: 413 naming ``texts[i]``/``text``).
    max_text_chars: int = 20_000
    #: Most labels in one request (more: 422 naming ``labels``).
    max_labels: int = 32
    #: Longest label, in characters.
    max_label_chars: int = 100
    #: Most texts in one request (more: 413 naming ``texts``).
    max_texts: int = 64
    #: Largest request body in bytes (larger: 413 naming ``body``); checked while streaming.
    max_body_bytes: int = 1_000_000
    #: Seconds a request may take, queueing included (then 504). The deadline is checked inside
    #: the work too (between windows and batches), so a timed-out request frees the worker.
    request_timeout_s: float = 30.0
    #: Most estimated work one request may ask (:func:`uniner.serving.admission.request_cost`:
    #: characters x labels); more: 413 ``request_too_costly``. None: no cap. The default is
    #: about what a shared 2-core CPU reads with the default model in the 30 s timeout (e.g. 12
    #: texts of 2,000 characters with 8 labels; measured with bench/soak.py).
    max_request_cost: int | None = 50_000
    #: Most estimated work waiting or running; a request that would pass it, or that would wait
    #: longer than its timeout at the measured speed, gets 503 with a Retry-After estimated
    #: from that speed. At least ``max_request_cost``.
    max_queue_cost: int = 1_000_000
    #: Micro-batching: most texts gathered into one model call.
    batch_max_texts: int = 32
    #: Micro-batching: longest wait (ms) for more requests after the first one arrives.
    batch_max_wait_ms: float = 5.0
    #: False: every request is its own model call (the load test's baseline).
    micro_batching: bool = True
    #: Most texts waiting for the model; beyond it requests get 503 at once instead of timing out.
    max_queue_texts: int = 2_048
    #: When set, /v1/* requests must send it in the ``X-API-Key`` header.
    api_key: str | None = field(default=None, repr=False)
    #: Seconds uvicorn waits for requests in flight on shutdown (SIGTERM/SIGINT); then the work
    #: still running is cancelled and the process exits.
    graceful_timeout_s: float = 30.0
    #: Seconds a connection may take to send a request's headers (then it is closed).
    header_timeout_s: float = 10.0
    #: Seconds a request may take to send its body (then 408).
    body_timeout_s: float = 30.0
    #: Seconds an idle keep-alive connection is kept open.
    keep_alive_s: float = 5.0

    def __post_init__(self) -> None:
        positive = (
            "max_text_chars",
            "max_labels",
            "max_label_chars",
            "max_texts",
            "max_body_bytes",
            "batch_max_texts",
            "max_queue_texts",
            "max_queue_cost",
        )
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        cap = self.max_request_cost
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            raise ValueError(f"max_request_cost must be a positive integer or None, got {cap!r}")
        if cap is not None and self.max_queue_cost < cap:
            raise ValueError(
                f"max_queue_cost ({self.max_queue_cost}) must be at least max_request_cost ({cap})"
            )
        timeouts = (
            "request_timeout_s",
            "graceful_timeout_s",
            "header_timeout_s",
            "body_timeout_s",
            "keep_alive_s",
        )
        for name in timeouts:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if self.batch_max_wait_ms < 0:
            raise ValueError(f"batch_max_wait_ms must be >= 0, got {self.batch_max_wait_ms!r}")
        if self.api_key is not None and not self.api_key:
            raise ValueError("api_key must not be empty (leave it unset to disable the check)")

    def with_api_key_from_env(self, env_var: str | None) -> ServeSettings:
        """A copy whose API key is read from ``env_var`` (error if it is named but unset)."""
        if not env_var:
            return self
        key = os.environ.get(env_var)
        if not key:
            raise ValueError(f"--api-key-env {env_var}: that environment variable is not set")
        return replace(self, api_key=key)

    def public(self) -> dict[str, object]:
        """The limits a client may see (never the key)."""
        return {
            "max_text_chars": self.max_text_chars,
            "max_labels": self.max_labels,
            "max_label_chars": self.max_label_chars,
            "max_texts": self.max_texts,
            "max_body_bytes": self.max_body_bytes,
            "request_timeout_s": self.request_timeout_s,
            "max_request_cost": self.max_request_cost,
            "max_queue_cost": self.max_queue_cost,
            "micro_batching": self.micro_batching,
            "batch_max_texts": self.batch_max_texts,
            "batch_max_wait_ms": self.batch_max_wait_ms,
            "api_key_required": self.api_key is not None,
        }

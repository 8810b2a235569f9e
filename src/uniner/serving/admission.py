"""Admission control: what a request will cost the one model worker, decided before it queues.

Why: the limits on texts, characters and labels each allow a request that holds the worker for
minutes (64 texts of 20,000 characters and 32 labels), and a client sending many of them would
fill the queue for everyone. Each request gets a cost estimate; one over ``max_request_cost``
is refused at once (413, nothing runs), and one that would push the work waiting or running
past ``max_queue_cost`` gets 503 with a Retry-After from the worker's measured speed.

The estimate is characters read x labels asked, in units of "characters asked with up to 8
labels": every model reads the whole text (plus a fixed share per text for the special tokens
and padding of its input); more labels make the span student's input longer and add questions
for the generative one. It ranks requests; it does not predict seconds (the measured speed
does that, in :class:`Throughput`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: Per-text share of a model input that does not depend on the text (special tokens, labels).
TEXT_OVERHEAD_CHARS = 64
#: Labels that cost one unit per character; each further 8 labels cost one more.
LABELS_PER_UNIT = 8


def request_cost(texts: Sequence[str], labels: Sequence[str]) -> int:
    """Estimated work of a request (see module docstring); at least 1."""
    chars = sum(len(t) + TEXT_OVERHEAD_CHARS for t in texts)
    return max(1, chars * (len(labels) + LABELS_PER_UNIT) // LABELS_PER_UNIT)


class Throughput:
    """Cost units per second of the worker, averaged over recent batches (EWMA).

    Starts from a cautious guess (``initial``: the default model on a shared 2-core CPU, so a
    burst at start-up is not over-admitted) and learns from each finished batch; gives the
    Retry-After of an overloaded server: the seconds the work ahead should take.
    """

    def __init__(self, initial: float = 3_000.0, weight: float = 0.3):
        self.rate = initial
        self.weight = weight

    def record(self, cost: int, seconds: float) -> None:
        if seconds <= 0 or cost <= 0:
            return
        self.rate = (1 - self.weight) * self.rate + self.weight * (cost / seconds)

    def retry_after(self, pending_cost: int, lo: int = 1, hi: int = 120) -> int:
        """Whole seconds until ``pending_cost`` should be done, within [lo, hi]."""
        return int(min(hi, max(lo, math.ceil(pending_cost / max(self.rate, 1e-9)))))

"""A deadline that long work checks between its steps, so a caller that gave up frees the worker.

Why inside the work: a server that only stops *waiting* at its timeout leaves the model running
the abandoned request for minutes while every later request queues behind it. Extractors take a
``deadline`` keyword and call :meth:`Deadline.check` between windows and batches; past the
deadline (or once ``cancel`` is set, e.g. on shutdown) it raises :class:`DeadlineExceeded` and
the worker is free after at most one more step.

The clock is injectable (any ``() -> float`` in seconds), so tests advance a fake clock instead
of sleeping. Imports nothing from the package: every layer may use it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

Clock = Callable[[], float]


class DeadlineExceeded(Exception):
    """The work passed its deadline or was cancelled; partial results are discarded."""


@dataclass(frozen=True, slots=True)
class Deadline:
    """Time ``at`` on ``clock``; ``cancel`` (optional) ends the work early (shutdown)."""

    at: float
    clock: Clock = field(default=time.monotonic, repr=False, compare=False)
    cancel: threading.Event | None = field(default=None, repr=False, compare=False)

    @classmethod
    def after(
        cls, seconds: float, clock: Clock = time.monotonic, cancel: threading.Event | None = None
    ) -> Deadline:
        return cls(clock() + seconds, clock, cancel)

    @staticmethod
    def latest(deadlines: Iterable[Deadline | None]) -> Deadline | None:
        """The last of several (None if any is None: that work has no deadline)."""
        out: Deadline | None = None
        for d in deadlines:
            if d is None:
                return None
            if out is None or d.at > out.at:
                out = d
        return out

    def remaining(self) -> float:
        return self.at - self.clock()

    def expired(self) -> bool:
        return (self.cancel is not None and self.cancel.is_set()) or self.clock() >= self.at

    def check(self, where: str = "") -> None:
        """Raise :class:`DeadlineExceeded` if the time is up or the work was cancelled."""
        if self.cancel is not None and self.cancel.is_set():
            raise DeadlineExceeded(f"cancelled{' ' + where if where else ''}")
        late = self.clock() - self.at
        if late >= 0:
            raise DeadlineExceeded(
                f"deadline passed {late:.3f} s ago{' ' + where if where else ''}"
            )


def check(deadline: Deadline | None, where: str = "") -> None:
    """:meth:`Deadline.check` for an optional deadline (None: no limit)."""
    if deadline is not None:
        deadline.check(where)

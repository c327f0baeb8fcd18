"""A bounded queue in front of each kind of work.

``Admission`` lets ``slots`` requests run at once and up to ``max_waiting`` wait, in
arrival order (asyncio's semaphore wakes waiters first in, first out). One more is
refused at once with ``Busy``, which the app turns into HTTP 429 with ``Retry-After``:
a client that is told to come back later costs nothing, a queue that grows without bound
costs memory and makes every answer late.

The slot is given back by whoever finishes the work: a generation that outlives its
request (its client went away) holds the slot until its worker thread has stopped, so
the next request never overlaps a generation that is still unwinding.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass


@dataclass
class Busy(Exception):
    """The queue is full; ``retry_after_s`` is when a slot is expected to be free."""

    kind: str
    retry_after_s: int


class Admission:
    """Admits up to ``slots`` concurrent jobs and ``max_waiting`` queued ones.

    Args:
        kind: What is queued (``generate``, ``search``), for messages and metrics.
        slots: Jobs running at once.
        max_waiting: Jobs allowed to wait; one more gets ``Busy``.
        typical_s: Expected seconds per job before any was measured.
    """

    def __init__(self, kind: str, slots: int, max_waiting: int, typical_s: float = 2.0) -> None:
        self.kind = kind
        self.slots = max(1, slots)
        self.max_waiting = max(0, max_waiting)
        self._sem = asyncio.Semaphore(self.slots)
        self._running = 0
        self._waiting = 0
        self._avg_s = typical_s
        self.admitted = 0
        self.refused = 0

    @property
    def waiting(self) -> int:
        """Jobs waiting for a slot now."""
        return self._waiting

    @property
    def running(self) -> int:
        """Jobs holding a slot now."""
        return self._running

    def retry_after(self) -> int:
        """Seconds until a slot is likely free (at least 1)."""
        ahead = self._waiting + self._running
        return max(1, math.ceil(self._avg_s * ahead / self.slots))

    async def acquire(self) -> None:
        """Wait for a slot, or raise ``Busy`` at once when the queue is full."""
        if self._running >= self.slots and self._waiting >= self.max_waiting:
            self.refused += 1
            raise Busy(self.kind, self.retry_after())
        self._waiting += 1
        try:
            await self._sem.acquire()
        finally:
            self._waiting -= 1
        self._running += 1
        self.admitted += 1

    def release(self, duration_s: float | None = None) -> None:
        """Give the slot back (on the event loop's thread); learn the job's duration."""
        self._running -= 1
        if duration_s is not None and duration_s >= 0:
            self._avg_s = 0.8 * self._avg_s + 0.2 * duration_s
        self._sem.release()

"""Burst coalescing: while user code keeps emitting, the shipping thread waits (at most
`max_delay`) instead of competing with it for the GIL, and ships once it pauses.
flush() and a half-full queue skip this."""
from __future__ import annotations

__all__ = ["Burst", "BUSY_POLL"]

# While user code keeps emitting, the thread looks again this soon, so it notices the end of a
# burst (and starts sending) within a few hundredths of a second instead of a whole interval.
BUSY_POLL = 0.02


class Burst:
    def __init__(self, max_delay: float) -> None:
        self.max_delay = max(0.0, max_delay)
        self._start: float | None = None  # when the thread first saw the current burst
        self._length = 0

    def producer_busy(self, queue_length: int, now: float) -> bool:
        """True while the queue grew since the last look and the burst is younger than max_delay."""
        if self._start is None:
            self._start = now
        growing, self._length = queue_length > self._length, queue_length
        return growing and now - self._start < self.max_delay

    def reset(self) -> None:
        """The thread ships now: the next look starts a new burst."""
        self._start, self._length = None, 0

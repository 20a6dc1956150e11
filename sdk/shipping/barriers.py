"""Flush barriers: how `flush()` knows that everything emitted before it is acknowledged.

`flush` puts a barrier in the event queue. When the shipping thread takes it, every
event before it was sent or spooled; the barrier then waits until the spool's
acknowledged count reaches what had been spooled by that time.
"""
from __future__ import annotations

import threading

from sdk.shipping.spool import Spool

__all__ = ["FlushBarrier", "FlushBarriers"]


class FlushBarrier:
    """One `flush()` call waiting. `delivered` says how it ended once `done` is set."""

    __slots__ = ("done", "spooled", "delivered", "give_up_when_unreachable")

    def __init__(self, give_up_when_unreachable: bool = False) -> None:
        self.done = threading.Event()
        self.spooled = -1  # Spool.written once everything before the barrier was sent or spooled
        self.delivered = False
        # At exit: once the server is known unreachable and everything before the barrier is
        # spooled, waiting longer only delays the exit (the next process sends the spool).
        self.give_up_when_unreachable = give_up_when_unreachable


class FlushBarriers:
    """The barriers the thread took from the queue, until each one is settled."""

    def __init__(self) -> None:
        self._taken: list[FlushBarrier] = []  # taken with a batch still being sent
        self._waiting: list[FlushBarrier] = []  # waiting for the spool's acknowledgements

    def take(self, barrier: FlushBarrier) -> None:
        self._taken.append(barrier)

    def hand_back(self) -> list[FlushBarrier]:
        """The taken barriers, to go back to the queue with the events they follow."""
        taken, self._taken = self._taken, []
        return taken

    def settle(self, spool: Spool, server_unreachable: bool) -> None:
        """Everything before the taken barriers is now sent or spooled: set those whose spooled
        events are acknowledged too (and the exit barrier once the server is known unreachable)."""
        if self._taken:
            written = spool.written
            for barrier in self._taken:
                barrier.spooled = written
            self._waiting += self._taken
            self._taken = []
        if self._waiting:
            acked = spool.acked
            waiting = []
            for barrier in self._waiting:
                if acked >= barrier.spooled:
                    barrier.delivered = True
                    barrier.done.set()
                elif server_unreachable and barrier.give_up_when_unreachable:
                    barrier.done.set()
                else:
                    waiting.append(barrier)
            self._waiting = waiting

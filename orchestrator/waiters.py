"""Long polls waiting in this server process, woken directly when a batch that finishes their run commits here.

A `.delay()` future's long poll (api/views/wait.py) listens on its run's channel group, which
hears of every change wherever it was ingested. When the change was ingested by this same
process, that costs a trip through the channel layer (with channels-redis: the publisher's
thread, a probe, a group send and the receiving end's read, a millisecond or more) to reach a
coroutine a few lines away. So the publish step also wakes this process's own waiters at once;
the channel layer still carries the news to every other process.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable


class LocalWaiters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def add(self, run_id: str, event: asyncio.Event) -> None:
        """Set `event` (on the calling coroutine's loop) when `run_id` finishes here."""
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            self._waiting.setdefault(run_id, []).append(entry)

    def discard(self, run_id: str, event: asyncio.Event) -> None:
        with self._lock:
            entries = self._waiting.get(run_id)
            if entries is None:
                return
            entries[:] = [e for e in entries if e[1] is not event]
            if not entries:
                del self._waiting[run_id]

    def wake(self, run_ids: Iterable[str]) -> None:
        """Called from any thread once the changes to `run_ids` are committed."""
        if not self._waiting:  # the usual case under ingestion: nobody waits here
            return
        with self._lock:
            found = [entry for run_id in run_ids for entry in self._waiting.get(run_id, ())]
        for loop, event in found:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # its loop has closed: nobody is waiting any more
                pass

    def __len__(self) -> int:
        with self._lock:
            return sum(map(len, self._waiting.values()))


waiters = LocalWaiters()

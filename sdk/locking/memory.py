"""`MemoryLockManager`: locks for the threads of one process (Prefect's `prefect.locking.memory`)."""
from __future__ import annotations

import threading
import time

__all__ = ["MemoryLockManager"]


class _Lock:
    __slots__ = ("holder", "expires")

    def __init__(self, holder: str, expires: float | None) -> None:
        self.holder = holder
        self.expires = expires

    def live(self, now: float) -> bool:
        return self.expires is None or self.expires > now


class MemoryLockManager:
    """Locks held in this process; waiting uses a condition, never a busy loop."""

    def __init__(self) -> None:
        self._locks: dict[str, _Lock] = {}
        self._changed = threading.Condition()

    def _live(self, key: str) -> _Lock | None:
        lock = self._locks.get(key)
        if lock is not None and not lock.live(time.monotonic()):
            del self._locks[key]
            return None
        return lock

    def _wait(self, ready, timeout: float | None) -> bool:  # type: ignore[no-untyped-def]
        """Wait (the condition held) until `ready()`; expiring locks wake waiters in time."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not ready():
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return False
            waits = [deadline - now] if deadline is not None else []
            waits += [lock.expires - now for lock in self._locks.values() if lock.expires is not None]
            self._changed.wait(max(0.001, min(waits)) if waits else None)
        return True

    def acquire_lock(self, key: str, holder: str, acquire_timeout: float | None = None,
                     hold_timeout: float | None = None) -> bool:
        with self._changed:
            def free_or_mine() -> bool:
                lock = self._live(key)
                return lock is None or lock.holder == holder

            if not self._wait(free_or_mine, acquire_timeout):
                return False
            expires = None if hold_timeout is None else time.monotonic() + hold_timeout
            self._locks[key] = _Lock(holder, expires)
            return True

    def release_lock(self, key: str, holder: str) -> None:
        with self._changed:
            lock = self._live(key)
            if lock is None or lock.holder != holder:
                raise ValueError(f"No lock held by {holder!r} on {key!r} to release")
            del self._locks[key]
            self._changed.notify_all()

    def is_locked(self, key: str) -> bool:
        with self._changed:
            return self._live(key) is not None

    def is_lock_holder(self, key: str, holder: str) -> bool:
        with self._changed:
            lock = self._live(key)
            return lock is not None and lock.holder == holder

    def wait_for_lock(self, key: str, timeout: float | None = None) -> bool:
        with self._changed:
            return self._wait(lambda: self._live(key) is None, timeout)

    async def aacquire_lock(self, key: str, holder: str, acquire_timeout: float | None = None,
                            hold_timeout: float | None = None) -> bool:
        return self.acquire_lock(key, holder, acquire_timeout, hold_timeout)

    async def arelease_lock(self, key: str, holder: str) -> None:
        self.release_lock(key, holder)

    async def await_for_lock(self, key: str, timeout: float | None = None) -> bool:
        return self.wait_for_lock(key, timeout)

    def __repr__(self) -> str:
        return "MemoryLockManager()"

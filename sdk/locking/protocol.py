"""What a lock manager does (Prefect's `LockManager` protocol).

A lock is on a key and held by a holder (a string naming who holds it). `hold_timeout`
bounds how long a lock is held before others may take it over (a crashed holder never
blocks for ever); `acquire_timeout` bounds how long `acquire_lock` waits (None: no limit).
The `a`-prefixed methods are the same for async code.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["LockManager"]


@runtime_checkable
class LockManager(Protocol):
    def acquire_lock(self, key: str, holder: str, acquire_timeout: float | None = None,
                     hold_timeout: float | None = None) -> bool:
        """Take the lock; True once held, False if `acquire_timeout` passed first."""

    def release_lock(self, key: str, holder: str) -> None:
        """Give the lock back; ValueError if `holder` does not hold it."""

    def is_locked(self, key: str) -> bool:
        """Whether someone holds a live lock on `key`."""

    def is_lock_holder(self, key: str, holder: str) -> bool:
        """Whether `holder` holds the live lock on `key`."""

    def wait_for_lock(self, key: str, timeout: float | None = None) -> bool:
        """Wait until `key` is free; True if it is, False if `timeout` passed first."""

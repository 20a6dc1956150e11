"""SERIALIZABLE isolation for a cache policy (`.configure(isolation_level=..., lock_manager=...)`):
one run per cache key at a time computes; the others wait for the lock, then find it cached."""
from __future__ import annotations

import os
import threading
from typing import Any

__all__ = ["key_lock"]


def key_lock(policy: Any, key: str) -> KeyLock | None:
    """The lock to hold around a run with this key, or None under READ_COMMITTED."""
    from sdk.transactions import IsolationLevel

    if IsolationLevel(policy.isolation_level) is not IsolationLevel.SERIALIZABLE:
        return None
    if policy.lock_manager is None:
        raise ValueError("a cache policy with SERIALIZABLE isolation needs a lock_manager "
                         "(.configure(lock_manager=sdk.locking.MemoryLockManager()))")
    return KeyLock(policy.lock_manager, key)


class KeyLock:
    """Holds `manager`'s lock on `key` for the duration of a `with` block."""

    def __init__(self, manager: Any, key: str) -> None:
        self.manager, self.key = manager, key
        self.holder = f"{os.urandom(16).hex()}:{threading.get_ident()}"

    def __enter__(self) -> None:
        self.manager.acquire_lock(self.key, self.holder)

    def __exit__(self, *exc_info: Any) -> None:
        self.manager.release_lock(self.key, self.holder)

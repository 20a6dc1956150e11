"""Locks on cache and transaction keys, for `IsolationLevel.SERIALIZABLE` (Prefect's
`prefect.locking`): `MemoryLockManager` for threads of one process, `FileSystemLockManager`
for processes sharing a directory."""
from sdk.locking.filesystem import FileSystemLockManager
from sdk.locking.memory import MemoryLockManager
from sdk.locking.protocol import LockManager

__all__ = ["LockManager", "MemoryLockManager", "FileSystemLockManager"]

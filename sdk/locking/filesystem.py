"""`FileSystemLockManager`: locks as files in a directory, shared by every process that uses
it (Prefect's `prefect.locking.filesystem`).

A lock is the file `<directory>/<sha256 of key>.lock`, created with O_EXCL (atomic on a
local file system) and holding JSON `{"key", "holder", "expires"}` (epoch seconds or
null). A lock whose `expires` has passed, or whose file cannot be read, is stale and may be
removed by anyone. Waiting polls the file (there is no cross-process notification) with a
short, growing pause.
"""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from sdk.caching.hashing import stable_digest

__all__ = ["FileSystemLockManager", "FileLockManager"]

_POLL_MIN, _POLL_MAX = 0.005, 0.1


class FileSystemLockManager:
    def __init__(self, lock_files_directory: str | os.PathLike) -> None:
        self.lock_files_directory = Path(lock_files_directory).expanduser()

    def _path(self, key: str) -> Path:
        return self.lock_files_directory / f"{stable_digest(key)}.lock"

    def _read(self, key: str) -> dict | None:
        """The live lock on `key`, or None (a stale or unreadable lock file is removed)."""
        path = self._path(key)
        try:
            info = json.loads(path.read_text("utf-8"))
            expires = info.get("expires")
            if expires is None or expires > time.time():
                return info
        except FileNotFoundError:
            return None
        except (OSError, ValueError, AttributeError):
            pass
        try:
            path.unlink()
        except OSError:
            pass
        return None

    def _poll(self, ready, timeout: float | None) -> bool:  # type: ignore[no-untyped-def]
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = _POLL_MIN
        while not ready():
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(pause if deadline is None else max(0.0, min(pause, deadline - time.monotonic())))
            pause = min(pause * 2, _POLL_MAX)
        return True

    def acquire_lock(self, key: str, holder: str, acquire_timeout: float | None = None,
                     hold_timeout: float | None = None) -> bool:
        self.lock_files_directory.mkdir(parents=True, exist_ok=True)
        path = self._path(key)
        expires = None if hold_timeout is None else time.time() + hold_timeout
        body = json.dumps({"key": key, "holder": holder, "expires": expires}).encode("utf-8")

        def take() -> bool:
            # The lock file appears whole (written aside, then linked or renamed into place): a reader
            # never sees it empty, which it would take for a stale lock and remove.
            current = self._read(key)
            if current is not None and current.get("holder") != holder:
                return False
            aside = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            aside.write_bytes(body)
            try:
                if current is not None:
                    os.replace(aside, path)  # already ours: renew
                    return True
                os.link(aside, path)
                return True
            except FileExistsError:
                return False
            finally:
                aside.unlink(missing_ok=True)

        return self._poll(take, acquire_timeout)

    def release_lock(self, key: str, holder: str) -> None:
        current = self._read(key)
        if current is None or current.get("holder") != holder:
            raise ValueError(f"No lock held by {holder!r} on {key!r} to release")
        self._path(key).unlink(missing_ok=True)

    def is_locked(self, key: str) -> bool:
        return self._read(key) is not None

    def is_lock_holder(self, key: str, holder: str) -> bool:
        current = self._read(key)
        return current is not None and current.get("holder") == holder

    def wait_for_lock(self, key: str, timeout: float | None = None) -> bool:
        return self._poll(lambda: self._read(key) is None, timeout)

    async def aacquire_lock(self, key: str, holder: str, acquire_timeout: float | None = None,
                            hold_timeout: float | None = None) -> bool:
        return self.acquire_lock(key, holder, acquire_timeout, hold_timeout)

    async def arelease_lock(self, key: str, holder: str) -> None:
        self.release_lock(key, holder)

    async def await_for_lock(self, key: str, timeout: float | None = None) -> bool:
        return self.wait_for_lock(key, timeout)

    def __repr__(self) -> str:
        return f"FileSystemLockManager({str(self.lock_files_directory)!r})"


FileLockManager = FileSystemLockManager  # the name Prefect's docs table uses

"""The result store: cached task results as files under $ORCHESTRATOR_HOME/results.

One file per cache key, shared by every process that uses the same
ORCHESTRATOR_HOME. A file is named after the SHA-256 of its key (keys may hold
any character) and holds:

    line 1   b"sdk-result 1\\n"                      format marker
    line 2   JSON header + b"\\n": key, created, expiration (ISO 8601 or null),
             serializer ("pickle"), size and crc32 of the payload
    rest     the value, serialised with pickle (protocol 4)

Pickle means a value read back is a copy, that values must be picklable, and
that the store must only be shared with processes you trust.

Writes are atomic: the file is written to a temporary name in the same
directory, fsynced, then renamed over the final name with `os.replace`, so a
reader sees the old entry or the new one, never a mix, whatever number of
processes write the same key. A read that finds a corrupt, truncated or
unreadable entry treats it as a miss and warns once (`ResultStoreWarning`,
naming the key); the next successful run overwrites it.
"""
from __future__ import annotations

import itertools
import json
import os
import pickle
import threading
import warnings
import zlib
from datetime import datetime, timezone
from typing import Any

from sdk.caching.hashing import stable_digest

__all__ = ["ResultRecord", "FileResultStore", "ResultStoreWarning", "UnpersistableResultError", "get_result_store"]

_MAGIC = b"sdk-result 1\n"
_MAX_HEADER = 1 << 20
_tmp_counter = itertools.count()


def _now() -> datetime:
    """The store's clock (UTC). Tests may replace it to move time forward."""
    return datetime.now(timezone.utc)


class ResultStoreWarning(UserWarning):
    """A result store entry could not be read and was treated as a miss."""


class UnpersistableResultError(TypeError):
    """A value could not be serialised for the result store (not picklable)."""


def _expired(expiration: datetime | None, now: datetime | None = None) -> bool:
    return expiration is not None and expiration <= (now or _now())


class ResultRecord:
    """One stored result: `.value`, `.created`, `.expiration` (aware datetimes; expiration may be None)."""

    __slots__ = ("key", "value", "created", "expiration")

    def __init__(self, key: str, value: Any, created: datetime, expiration: datetime | None) -> None:
        self.key = key
        self.value = value
        self.created = created
        self.expiration = expiration

    def is_expired(self, now: datetime | None = None) -> bool:
        return _expired(self.expiration, now)

    def __repr__(self) -> str:
        return f"ResultRecord(key={self.key!r}, created={self.created}, expiration={self.expiration})"


class FileResultStore:
    """Results stored as files in one directory (created on first write)."""

    def __init__(self, root: str) -> None:
        self.root = root

    def path_for(self, key: str) -> str:
        return os.path.join(self.root, stable_digest(key) + ".result")

    def read(self, key: str) -> ResultRecord | None:
        """The live record for `key`, or None when missing, expired or unreadable."""
        path = self.path_for(key)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            return self._unreadable(key, path, f"cannot open it: {exc}")
        try:
            header, payload_at = _parse_header(data)
            expiration = _parse_time(header["expiration"])
            created = _parse_time(header["created"])
            stored_key = header["key"]
            expired = _expired(expiration)  # inside the try: a naive stored time is a bad header
        except Exception as exc:
            return self._unreadable(key, path, f"bad header: {type(exc).__name__}: {exc}")
        if stored_key != key:
            return self._unreadable(key, path, f"it belongs to another key ({stored_key!r})")
        if expired:
            return None
        try:
            value = _load_payload(header, data, payload_at)
        except Exception as exc:
            return self._unreadable(key, path, f"bad payload: {type(exc).__name__}: {exc}")
        return ResultRecord(key, value, created, expiration)

    def write(self, key: str, value: Any, expiration: datetime | None = None) -> ResultRecord:
        """Store `value` under `key` atomically; `expiration=None` means it never expires.

        Raises `UnpersistableResultError` when the value can't be pickled (nothing
        is written then).
        """
        try:
            payload = pickle.dumps(value, protocol=4)
        except Exception as exc:
            raise UnpersistableResultError(
                f"cannot persist the result for cache key {key!r}: {type(value).__name__} "
                f"is not picklable ({exc})"
            ) from exc
        if expiration is not None and expiration.tzinfo is None:
            expiration = expiration.astimezone()  # naive means local time, as everywhere in Python
        created = _now()
        header = {
            "key": key,
            "created": created.isoformat(),
            "expiration": expiration.isoformat() if expiration is not None else None,
            "serializer": "pickle",
            "size": len(payload),
            "crc32": zlib.crc32(payload),
        }
        blob = b"".join((_MAGIC, json.dumps(header).encode("utf-8"), b"\n", payload))
        _atomic_write(self.path_for(key), blob)
        return ResultRecord(key, value, created, expiration)

    def _unreadable(self, key: str, path: str, why: str) -> None:
        warnings.warn(
            f"result store entry for cache key {key!r} is unreadable and was treated as a cache miss "
            f"({path}: {why})",
            ResultStoreWarning,
            stacklevel=3,
        )
        return None

    def __repr__(self) -> str:
        return f"FileResultStore({self.root!r})"


def _parse_header(data: bytes) -> tuple[dict, int]:
    if not data.startswith(_MAGIC):
        raise ValueError("not a result file" if data else "empty file")
    end = data.find(b"\n", len(_MAGIC), len(_MAGIC) + _MAX_HEADER)
    if end < 0:
        raise ValueError("truncated header")
    header = json.loads(data[len(_MAGIC):end])
    if not isinstance(header, dict):
        raise ValueError("header is not an object")
    return header, end + 1


def _parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a timezone: {text!r}")
    return moment


def _load_payload(header: dict, data: bytes, start: int) -> Any:
    if header.get("serializer") != "pickle":
        raise ValueError(f"unknown serializer {header.get('serializer')!r}")
    payload = memoryview(data)[start:]
    if len(payload) != header["size"]:
        raise ValueError(f"truncated: {len(payload)} of {header['size']} bytes")
    if zlib.crc32(payload) != header["crc32"]:
        raise ValueError("checksum mismatch")
    return pickle.loads(payload)


def _atomic_write(path: str, blob: bytes) -> None:
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(
        directory, f".tmp-{os.getpid()}-{threading.get_ident()}-{next(_tmp_counter)}-{os.path.basename(path)}"
    )
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


_stores: dict[str, FileResultStore] = {}


def results_dir() -> str:
    """`$ORCHESTRATOR_HOME/results`, read from the environment now (default home: ~/.orchestrator)."""
    home = os.environ.get("ORCHESTRATOR_HOME") or os.path.join("~", ".orchestrator")
    return os.path.join(os.path.abspath(os.path.expanduser(home)), "results")


def get_result_store() -> FileResultStore:
    """The result store for the current ORCHESTRATOR_HOME."""
    root = results_dir()
    store = _stores.get(root)
    if store is None:
        store = _stores.setdefault(root, FileResultStore(root))
    return store

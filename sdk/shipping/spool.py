"""The on-disk spool: events that could not be sent yet, kept across processes.

Layout: `$ORCHESTRATOR_HOME/spool/<hash of the API URL>/<time>-<pid>-<rand>.spool`.
Each process appends only to files it created and holds an exclusive
`fcntl.flock` on them while they are open, so a file whose lock can be taken
belongs to a process that is gone (or that closed it at exit): any process
reporting to the same URL may replay it. A file is deleted only after the
server acknowledged every event in it.

A file is a sequence of records, one event each:

    4 bytes big-endian payload length | 4 bytes CRC-32 of the payload | payload (JSON, UTF-8)

Each `append` is one unbuffered `write`, so a process killed (even SIGKILL)
loses at most the record being written; on replay a torn or corrupt record
ends the file (everything before it is delivered, the rest is reported).

fsync policy: the background thread fsyncs after each spill it makes and at
exit; records spilled by `emit` when the memory queue is full are written to
the OS (safe against a process crash) and fsynced with the next spill or at
exit (a power loss may lose them).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import struct
import threading
import time
import zlib
from pathlib import Path
from typing import Iterator

__all__ = ["Spool", "SpoolFile", "spool_dir", "encode_record", "read_records"]

log = logging.getLogger("sdk.shipping")

_HEADER = struct.Struct(">II")
_SUFFIX = ".spool"
# A record larger than this is corruption, not an event (events are ≤ 16 MiB per batch).
_MAX_RECORD = 64 * 1024 * 1024


def spool_dir(home: str | os.PathLike, api_url: str) -> Path:
    digest = hashlib.sha256(api_url.rstrip("/").encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return Path(home) / "spool" / digest


def encode_record(event: dict) -> bytes:
    payload = json.dumps(event, separators=(",", ":"), default=str).encode("utf-8", "surrogatepass")
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def read_records(fileobj, offset: int = 0) -> Iterator[tuple[dict, int]]:
    """Yield (event, offset after the record) from `offset`; stop at the first torn or bad record."""
    fileobj.seek(offset)
    while True:
        header = fileobj.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        length, crc = _HEADER.unpack(header)
        if length > _MAX_RECORD:
            return
        payload = fileobj.read(length)
        if len(payload) < length or zlib.crc32(payload) != crc:
            return
        try:
            event = json.loads(payload)
        except ValueError:
            return
        offset += _HEADER.size + length
        yield event, offset


class SpoolFile:
    """One locked spool file being replayed: read in chunks, remember what was acknowledged."""

    def __init__(self, path: Path, fd: int, own: bool) -> None:
        self.path = path
        self.fd = fd
        self.own = own
        self.acked = 0  # byte offset up to which the server acknowledged the events
        self.records = 0  # for own files: how many records this process wrote into it
        self.counted = 0  # of those, how many were counted as acknowledged (Spool.acked)
        self._torn_reported = False

    def read_chunk(self, max_events: int) -> tuple[list[dict], int]:
        """Events after the acknowledged offset (at most `max_events`) and the offset after them."""
        events: list[dict] = []
        end = self.acked
        with os.fdopen(os.dup(self.fd), "rb") as f:
            for event, end in read_records(f, self.acked):
                events.append(event)
                if len(events) >= max_events:
                    break
            if len(events) < max_events and not self._torn_reported:
                size = os.fstat(f.fileno()).st_size
                if size > end:
                    self._torn_reported = True
                    log.warning(
                        "spool file %s ends with a torn or corrupt record (%d bytes skipped); "
                        "the events before it are delivered", self.path, size - end,
                    )
        return events, end

    def remove(self) -> None:
        try:
            os.unlink(self.path)
        except OSError:
            pass
        self.release()

    def release(self) -> None:
        if self.fd >= 0:
            try:
                os.close(self.fd)  # closing the descriptor releases the flock
            except OSError:
                pass
            self.fd = -1


class Spool:
    """Append-only spool for one API URL, shared by every process reporting to it."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._fd = -1  # the file this process appends to, flock-ed
        self._path: Path | None = None
        self._size = 0
        self._sealed: list[SpoolFile] = []  # own files closed for appending, waiting for replay
        self._unsynced = False
        self._records = 0  # records in the file being appended to
        # Records this process wrote, and how many of them the server acknowledged (or were
        # found torn): own files are replayed in the order they were written, so "acked ≥ written
        # at time T" means everything spooled before T is acknowledged.
        self.written = 0
        self.acked = 0

    # -- writing ---------------------------------------------------------------

    def append(self, events: list[dict], fsync: bool = False) -> int:
        """Write events as records in one write; return how many were written."""
        records = []
        for event in events:
            try:
                records.append(encode_record(event))
            except Exception as exc:  # not JSON-encodable even with default=str
                log.warning("dropping an event that cannot be encoded as JSON: %s", exc)
        if not records:
            return 0
        data = b"".join(records)
        with self._lock:
            if self._fd < 0:
                self._open()
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            self._size += len(data)
            self._records += len(records)
            self.written += len(records)
            if fsync:
                os.fsync(self._fd)
                self._unsynced = False
            else:
                self._unsynced = True
        return len(records)

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}-{os.urandom(4).hex()}{_SUFFIX}"
        path = self.directory / name
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a fresh file: nobody else holds it
        self._fd, self._path, self._size, self._records = fd, path, 0, 0

    # -- replaying -------------------------------------------------------------

    def has_pending(self) -> bool:
        """True while events spooled (or claimed for replay) by this process wait for acknowledgement."""
        return self._size > 0 or bool(self._sealed)

    def claim(self, foreign: bool = True) -> list[SpoolFile]:
        """Files to replay, oldest first: this process's own, plus (if `foreign`) abandoned ones."""
        with self._lock:
            if self._fd >= 0 and self._size > 0:
                if self._unsynced:
                    os.fsync(self._fd)
                    self._unsynced = False
                # The same descriptor (O_RDWR) keeps the lock while the file is replayed.
                sealed = SpoolFile(self._path, self._fd, own=True)
                sealed.records = self._records
                self._sealed.append(sealed)
                self._fd, self._path, self._size, self._records = -1, None, 0, 0
            files = list(self._sealed)
        if foreign:
            mine = {f.path for f in files}
            files.extend(self._claim_abandoned(mine))
        files.sort(key=lambda f: f.path.name)
        return files

    def _claim_abandoned(self, skip: set[Path]) -> list[SpoolFile]:
        try:
            names = sorted(p for p in os.listdir(self.directory) if p.endswith(_SUFFIX))
        except OSError:
            return []
        claimed = []
        for name in names:
            path = self.directory / name
            if path in skip or path == self._path:
                continue
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                # It may have been replayed and deleted by another process meanwhile.
                if os.fstat(fd).st_ino != os.stat(path).st_ino:
                    raise OSError("replaced")
            except OSError:
                os.close(fd)
                continue
            spool_file = SpoolFile(path, fd, own=False)
            claimed.append(spool_file)
            with self._lock:
                self._sealed.append(spool_file)
        return claimed

    def acknowledged(self, spool_file: SpoolFile, count: int) -> None:
        """The server acknowledged `count` more events of `spool_file`."""
        if spool_file.own:
            count = min(count, spool_file.records - spool_file.counted)
            spool_file.counted += count
            self.acked += count

    def done(self, spool_file: SpoolFile) -> None:
        """Every event of `spool_file` was acknowledged (or is unreadable): delete it."""
        self.acknowledged(spool_file, spool_file.records)  # a torn tail counts as done
        with self._lock:
            if spool_file in self._sealed:
                self._sealed.remove(spool_file)
        spool_file.remove()

    def pending_records(self) -> int:
        """Events in this URL's spool files not acknowledged yet (files this process is
        replaying count from their acknowledged offset)."""
        with self._lock:
            held = {f.path: f.acked for f in self._sealed}
        try:
            names = sorted(p for p in os.listdir(self.directory) if p.endswith(_SUFFIX))
        except OSError:
            return 0
        total = 0
        for name in names:
            path = self.directory / name
            try:
                with open(path, "rb") as f:
                    total += sum(1 for _ in read_records(f, held.get(path, 0)))
            except OSError:  # replayed and deleted meanwhile
                continue
        return total

    # -- lifecycle -------------------------------------------------------------

    def close(self) -> None:
        """fsync and close everything; locks are released so another process may replay."""
        with self._lock:
            if self._fd >= 0:
                try:
                    if self._unsynced:
                        os.fsync(self._fd)
                finally:
                    os.close(self._fd)
                if self._size == 0 and self._path is not None:
                    try:
                        os.unlink(self._path)
                    except OSError:
                        pass
            self._fd, self._path, self._size, self._records = -1, None, 0, 0
            sealed, self._sealed = self._sealed, []
        for spool_file in sealed:
            spool_file.release()

    def forget_after_fork(self) -> None:
        """In a forked child: drop the parent's files without touching its locks or data."""
        for fd in [self._fd] + [f.fd for f in self._sealed]:
            if fd >= 0:
                try:
                    os.close(fd)  # the parent's descriptor keeps the flock
                except OSError:
                    pass
        self._lock = threading.Lock()
        self._fd, self._path, self._size, self._sealed, self._unsynced = -1, None, 0, [], False
        self._records = self.written = self.acked = 0

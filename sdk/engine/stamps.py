"""Unique ids and timestamps for runs and events, cheap enough to make several per task run."""
from __future__ import annotations

import os
import itertools
import time
from datetime import datetime

__all__ = ["new_id", "now", "iso_from_epoch", "parse_iso"]

# Ids have the UUID4 layout (version and variant bits set): 80 random bits
# drawn once per process, then a 48-bit counter. Unique without a syscall or a
# 128-bit random number per id, and index-friendly for the server.
_counter = itertools.count()
_prefix = ""


def _reseed() -> None:
    global _prefix, _counter
    h = "%020x" % int.from_bytes(os.urandom(10), "big")
    variant = "89ab"[int(h[16], 16) & 3]
    _prefix = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-"
    _counter = itertools.count()


_reseed()
if hasattr(os, "register_at_fork"):  # a forked child must not repeat its parent's ids
    os.register_at_fork(after_in_child=_reseed)


def new_id() -> str:
    """A UUID4-format string, unique across processes (see above)."""
    n = next(_counter)
    if n >= _COUNTER_LIMIT:
        _reseed()
    return f"{_prefix}{n:012x}"


_COUNTER_LIMIT = 1 << 48


_second_prefix: tuple[int, str] = (-1, "")


def iso_from_epoch(t: float) -> str:
    """`2026-11-26T10:00:00.123456+00:00` for a time.time() value (UTC)."""
    global _second_prefix
    sec = int(t)
    cached_sec, prefix = _second_prefix
    if sec != cached_sec:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        _second_prefix = (sec, prefix)
    return f"{prefix}.{int((t - sec) * 1_000_000):06d}+00:00"


def now() -> str:
    """The current time as an ISO 8601 string with timezone (UTC)."""
    return iso_from_epoch(time.time())


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)

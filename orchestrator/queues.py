"""Celery queue names for the keys workers serve: one queue per task key and per flow name.

The SDK computes the same names (sdk/workers/queues.py; a test checks they agree).
Queue names keep to [A-Za-z0-9_-] between dots, so every broker (and the filesystem
transport, which puts the name in file names) takes them; a key that needed
changing gets a hash of itself appended, so two keys never share a queue.
"""
from __future__ import annotations

import hashlib
import os
import re

DEFAULT_PREFIX = "orchestrator"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def queue_prefix() -> str:
    """`ORCHESTRATOR_QUEUE_PREFIX` (tests set a unique one per run), else "orchestrator"."""
    raw = os.environ.get("ORCHESTRATOR_QUEUE_PREFIX", "").strip() or DEFAULT_PREFIX
    return _UNSAFE.sub("_", raw)[:60]


def queue_name(kind: str, key: str, prefix: str | None = None) -> str:
    """`<prefix>.task.<key>` or `<prefix>.flow.<name>`."""
    if kind not in ("task", "flow"):
        raise ValueError(f"kind must be 'task' or 'flow', got {kind!r}")
    safe = _UNSAFE.sub("_", key)[:120]
    if safe != key:
        safe += "-" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{prefix or queue_prefix()}.{kind}.{safe}"

"""Celery queue names for served keys; the server computes the same (orchestrator/queues.py)."""
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

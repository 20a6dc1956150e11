"""Where the SDK's events go: a pluggable sink.

Every run, state change and log record becomes a plain dict event (format in
docs/events.md). The engine calls `emit(event)`; the active sink decides what
happens to it. Emitting must stay as cheap as a list append: user code never
waits on reporting.
"""
from __future__ import annotations

import os
import threading
from typing import Protocol

__all__ = ["EventSink", "NullSink", "MemorySink", "get_sink", "set_sink", "emit", "flush"]


class EventSink(Protocol):
    def emit(self, event: dict) -> None:
        """Take one event. Never blocks on I/O, never raises."""

    def flush(self, timeout: float | None = None) -> bool:
        """Return True once everything emitted before the call is delivered."""

    def close(self, timeout: float | None = None) -> None:
        """Deliver or persist what is left and release resources."""


class NullSink:
    """Reporting off: events are built and dropped."""

    def emit(self, event: dict) -> None:
        pass

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self, timeout: float | None = None) -> None:
        pass


class MemorySink:
    """Keeps every event in a list; for tests and benchmarks."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.emit = self.events.append  # list.append is atomic under the GIL

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self, timeout: float | None = None) -> None:
        pass

    def of_type(self, type_: str) -> list[dict]:
        return [e for e in self.events if e["type"] == type_]


_sink: EventSink | None = None
_sink_lock = threading.Lock()


def _default_sink() -> EventSink:
    url = os.environ.get("ORCHESTRATOR_API_URL")
    if not url:
        return NullSink()
    from sdk.shipping import ShippingSink  # imported only when reporting is on

    return ShippingSink.from_environment()


def get_sink() -> EventSink:
    global _sink
    if _sink is None:
        with _sink_lock:
            if _sink is None:
                _sink = _default_sink()
    return _sink


def set_sink(sink: EventSink | None) -> EventSink | None:
    """Install `sink` (None: choose again from the environment); return the old one."""
    global _sink
    with _sink_lock:
        old, _sink = _sink, sink
    return old


def emit(event: dict) -> None:
    (_sink or get_sink()).emit(event)


def flush(timeout: float | None = None) -> bool:
    """Send everything emitted so far; True once the server acknowledged it."""
    return get_sink().flush(timeout)

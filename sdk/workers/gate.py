"""The worker's event sink: what the engine emits passes through here on its way to shipping.

Two jobs: hold back a run's final state until its worker has stored a result that is
not JSON (so a waiting `.result()` never looks for it too early), and drop the state
events of a run cancelled on the server (its Cancelled state stands).
"""
from __future__ import annotations

import threading

_FINAL_TYPES = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})


def _run_of(event: dict) -> str | None:
    kind = event.get("type")
    if kind == "task_run.state":
        return event.get("task_run_id")
    if kind == "flow_run.state":
        return event.get("flow_run_id")
    return None


class EventGate:
    def __init__(self, inner) -> None:
        self.inner = inner
        self._lock = threading.Lock()
        self._held: dict[str, list[dict]] = {}  # run id → final-state events waiting for release
        self._cancelled: set[str] = set()

    def emit(self, event: dict) -> None:
        if self._held or self._cancelled:
            run_id = _run_of(event)
            if run_id is not None:
                with self._lock:
                    if run_id in self._cancelled:
                        return
                    held = self._held.get(run_id)
                    if held is not None and event.get("state_type") in _FINAL_TYPES:
                        held.append(event)
                        return
        self.inner.emit(event)

    def hold(self, run_id: str) -> None:
        with self._lock:
            self._held[run_id] = []

    def release(self, run_id: str) -> None:
        with self._lock:
            held = self._held.pop(run_id, [])
            if run_id in self._cancelled:
                return
        for event in held:
            self.inner.emit(event)

    def cancel(self, run_id: str) -> None:
        with self._lock:
            self._cancelled.add(run_id)
            self._held.pop(run_id, None)

    def forget(self, run_id: str) -> None:
        with self._lock:
            self._cancelled.discard(run_id)

    def flush(self, timeout: float | None = None) -> bool:
        return self.inner.flush(timeout)

    def close(self, timeout: float | None = None) -> None:
        self.inner.close(timeout)

"""States the server itself gives runs (Scheduled, AwaitingRetry, Cancelled, Crashed).

They go through ingestion like any SDK event, so a run's timeline and current state
follow the same rules whoever reported them. `seq` is the clock in microseconds: it only
breaks ties of `occurred`, and a worker resuming a run numbers its events the same way.
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime

from django.utils import timezone

from orchestrator.ingest import IngestResult, ingest_batch


def clock_seq() -> int:
    return time.time_ns() // 1000


def state_event(kind: str, run_id: uuid.UUID, state_type: str, state_name: str, message: str = "", *,
                run_count: int = 0, flow_run_id: uuid.UUID | None = None, occurred: datetime | None = None) -> dict:
    """A `task_run.state` / `flow_run.state` event (docs/events.md)."""
    event = {
        "id": str(uuid.uuid4()),
        "type": f"{kind}_run.state",
        "occurred": (occurred or timezone.now()).isoformat(),
        "seq": clock_seq(),
        f"{kind}_run_id": str(run_id),
        "run_count": run_count,
        "state_type": str(state_type),
        "state_name": state_name,
        "state_message": message,
    }
    if kind == "task":
        event["flow_run_id"] = str(flow_run_id) if flow_run_id else None
    return event


def record(events: list[dict], *, savepoint: bool = True) -> IngestResult:
    """Store server-made events inside the caller's transaction (ingest_batch publishes the change
    to live pages and long polls once it commits). `savepoint=False`: no savepoint (nor retry) of its
    own, for a caller whose transaction is short and may simply fail."""
    result = ingest_batch(events, savepoint=savepoint)
    if result.rejected:  # our own events: a rejection is a bug, never the user's input
        raise ValueError(f"server-made events were rejected: {result.rejected}")
    return result

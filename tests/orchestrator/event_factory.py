"""Building SDK-shaped events for tests (docs/events.md)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def at(seconds: float) -> str:
    return iso(T0 + timedelta(seconds=seconds))


def new_id() -> str:
    return str(uuid.uuid4())


def event(type_: str, seq: int, occurred: str, **fields: Any) -> dict:
    return {"id": new_id(), "type": type_, "occurred": occurred, "seq": seq, **fields}


PENDING = {"state_type": "PENDING", "state_name": "Pending", "state_message": None}


def flow_run_created(flow_run_id: str, occurred: str = at(0), flow_name: str = "etl", initial: bool = True,
                     **fields: Any) -> dict:
    """As the SDK sends it: with the initial Pending state (`initial=False`: without, as older SDKs did)."""
    fields = {"name": "brave-otter", "parameters": {}, "tags": [], "parent_task_run_id": None,
              "parent_flow_run_id": None, "version": None, **(PENDING if initial else {}), **fields}
    return event("flow_run.created", 0, occurred, flow_run_id=flow_run_id, flow_name=flow_name, **fields)


def task_run_created(task_run_id: str, flow_run_id: str | None, occurred: str = at(1), initial: bool = True,
                     **fields: Any) -> dict:
    """As the SDK sends it: with the initial Pending state (`initial=False`: without, as older SDKs did)."""
    fields = {"task_key": "add-5f3a9c1e", "task_name": "add", "name": "add-3fa", "parameters": {}, "tags": [],
              "parent_task_run_id": None, "upstream_task_run_ids": [], **(PENDING if initial else {}), **fields}
    return event("task_run.created", 0, occurred, task_run_id=task_run_id, flow_run_id=flow_run_id, **fields)


def state(kind: str, run_id: str, seq: int, occurred: str, state_type: str, name: str | None = None,
          run_count: int = 0, flow_run_id: str | None = None, message: str | None = None, **fields: Any) -> dict:
    """kind: "flow_run" or "task_run"."""
    flat = {"state_type": state_type, "state_name": name or state_type.title(), "state_message": message}
    ids = {f"{kind}_id": run_id}
    if kind == "task_run":
        ids["flow_run_id"] = flow_run_id
    return event(f"{kind}.state", seq, occurred, run_count=run_count, **flat, **ids, **fields)


def log(seq: int, occurred: str, message: str, flow_run_id: str | None = None, task_run_id: str | None = None,
        level: int = 20, logger: str = "sdk") -> dict:
    return event("log", seq, occurred, flow_run_id=flow_run_id, task_run_id=task_run_id, level=level,
                 logger=logger, message=message)


def heartbeat(worker_name: str, seq: int, occurred: str, task_keys: list[str] | None = None) -> dict:
    return event("worker.heartbeat", seq, occurred, worker_name=worker_name, hostname="host", pid=42,
                 task_keys=task_keys or [], flow_names=[])


def completed_task_run(flow_run_id: str, start: float = 1.0) -> tuple[str, list[dict]]:
    """A task run's whole life: created (with Pending), Running, Completed, one log line."""
    tr = new_id()
    events = [
        task_run_created(tr, flow_run_id, at(start)),
        state("task_run", tr, 1, at(start + 0.2), "RUNNING", run_count=1, flow_run_id=flow_run_id),
        log(2, at(start + 0.3), "working", flow_run_id=flow_run_id, task_run_id=tr),
        state("task_run", tr, 3, at(start + 0.4), "COMPLETED", run_count=1, flow_run_id=flow_run_id),
    ]
    return tr, events

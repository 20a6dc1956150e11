"""What ingestion stores, the read API serves: one flow with a failed and a retried task, end to end."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from orchestrator.ingest import ingest_batch

T = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
FLOW_RUN, LOAD, SAVE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def at(seconds: float) -> str:
    return (T + timedelta(seconds=seconds)).isoformat()


def event(type_: str, seconds: float, seq: int, **fields) -> dict:
    return {"id": str(uuid.uuid4()), "type": type_, "occurred": at(seconds), "seq": seq, **fields}


def state(run: str, run_id: uuid.UUID, type_: str, name: str, seconds: float, seq: int, run_count: int, **extra) -> dict:
    ids = {"flow_run_id": str(FLOW_RUN)} | ({"task_run_id": str(run_id)} if run == "task_run" else {})
    return event(
        f"{run}.state", seconds, seq, run_count=run_count, **ids,
        state_type=type_, state_name=name, state_message=None, **extra,
    )


PENDING = {"state_type": "PENDING", "state_name": "Pending", "state_message": None}  # created events carry it


def task_created(run_id: uuid.UUID, name: str, seconds: float, upstream=()) -> dict:
    return event(
        "task_run.created", seconds, 0, task_run_id=str(run_id), flow_run_id=str(FLOW_RUN), task_key=f"{name}-5f3a",
        task_name=name, name=f"{name}-1ab", parameters={"x": 1}, tags=["etl"], parent_task_run_id=None,
        upstream_task_run_ids=[str(u) for u in upstream], **PENDING,
    )


@pytest.fixture
def ingested(db) -> list[dict]:
    events = [
        event("flow_run.created", 0, 0, flow_run_id=str(FLOW_RUN), flow_name="nightly", name="calm-heron",
              parameters={}, tags=["etl"], parent_task_run_id=None, parent_flow_run_id=None, version=None, **PENDING),
        state("flow_run", FLOW_RUN, "RUNNING", "Running", 1, 1, 1),
        task_created(LOAD, "load", 2),
        state("task_run", LOAD, "RUNNING", "Running", 3, 1, 1),
        state("task_run", LOAD, "FAILED", "Failed", 4, 2, 1, error={"type": "IOError", "message": "disk", "traceback": "..."}),
        task_created(SAVE, "save", 5, upstream=[LOAD]),
        state("task_run", SAVE, "RUNNING", "Running", 6, 1, 1),
        state("task_run", SAVE, "FAILED", "Failed", 7, 2, 1),
        state("task_run", SAVE, "SCHEDULED", "AwaitingRetry", 8, 3, 1),
        state("task_run", SAVE, "RUNNING", "Retrying", 9, 4, 2),
        state("task_run", SAVE, "COMPLETED", "Completed", 10, 5, 2),
        state("flow_run", FLOW_RUN, "FAILED", "Failed", 11, 2, 1),
        event("log", 4, 3, flow_run_id=str(FLOW_RUN), task_run_id=str(LOAD), level=40, logger="t", message="disk full"),
    ]
    result = ingest_batch(list(reversed(events)))
    assert result.rejected == []
    return events


def test_failed_task_runs_across_flow_runs(api, ingested):
    items = api.get("/api/task-runs/?state=FAILED").json()["results"]
    assert [(i["id"], i["flow_name"], i["state"]["name"]) for i in items] == [(str(LOAD), "nightly", "Failed")]


def test_flow_run_with_task_run_counts(api, ingested):
    item = api.get("/api/flow-runs/?flow=nightly&tag=etl").json()["results"][0]
    assert (item["id"], item["state"]["type"], item["task_run_counts"]["FAILED"], item["task_run_counts"]["COMPLETED"]) == (
        str(FLOW_RUN), "FAILED", 1, 1,
    )


def test_timeline_of_a_flow_run(api, ingested):
    items = api.get(f"/api/flow-runs/{FLOW_RUN}/task-runs/").json()["results"]
    assert [(i["id"], i["upstream_task_run_ids"]) for i in items] == [(str(LOAD), []), (str(SAVE), [str(LOAD)])]


def test_retried_task_run_states(api, ingested):
    states = api.get(f"/api/task-runs/{SAVE}/states/").json()["results"]
    assert [(s["name"], s["run_count"]) for s in states] == [
        ("Pending", 0), ("Running", 1), ("Failed", 1), ("AwaitingRetry", 1), ("Retrying", 2), ("Completed", 2),
    ]


def test_initial_state_is_stored_under_the_created_events_id_and_time(api, ingested):
    (created,) = [e for e in ingested if e["type"] == "task_run.created" and e["task_run_id"] == str(SAVE)]
    first = api.get(f"/api/task-runs/{SAVE}/states/").json()["results"][0]
    assert (first["id"], first["type"], first["timestamp"]) == (created["id"], "PENDING", at(5).replace("+00:00", "Z"))


def test_error_logs_of_the_flow_run(api, ingested):
    logs = api.get(f"/api/logs/?flow_run={FLOW_RUN}&level=ERROR").json()["results"]
    assert [(log["message"], log["level_name"]) for log in logs] == [("disk full", "ERROR")]

"""Rows made directly with the ORM, so API tests need no ingestion."""
from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta, timezone

from orchestrator.models import Flow, FlowRun, FlowRunState, Log, RunTag, TaskRun, TaskRunState, Worker

T0 = datetime(2026, 11, 26, 10, 0, 0, tzinfo=timezone.utc)
_clock = itertools.count(1)


def later() -> datetime:
    """A distinct, increasing timestamp per call, so 'newest first' is well defined."""
    return T0 + timedelta(seconds=next(_clock))


def make_flow_run(flow: str = "etl", state: tuple[str, str] | None = ("COMPLETED", "Completed"), tags=(), **fields) -> FlowRun:
    run = FlowRun.objects.create(
        id=fields.pop("id", None) or uuid.uuid4(),
        flow=Flow.objects.get_or_create(name=flow)[0] if flow else None,
        name=fields.pop("name", "brave-otter"),
        created=fields.pop("created", None) or later(),
        tags=list(tags),
        **with_state(state),
        **fields,
    )
    RunTag.objects.bulk_create([RunTag(tag=tag, flow_run=run) for tag in tags])
    return run


def make_task_run(flow_run: FlowRun | None = None, state: tuple[str, str] | None = ("COMPLETED", "Completed"), tags=(), **fields) -> TaskRun:
    task_name = fields.pop("task_name", "add")
    run = TaskRun.objects.create(
        id=fields.pop("id", None) or uuid.uuid4(),
        flow_run=flow_run,
        task_name=task_name,
        task_key=fields.pop("task_key", f"{task_name}-5f3a9c1e"),
        name=fields.pop("name", f"{task_name}-3fa"),
        created=fields.pop("created", None) or later(),
        tags=list(tags),
        **with_state(state),
        **fields,
    )
    RunTag.objects.bulk_create([RunTag(tag=tag, task_run=run) for tag in tags])
    return run


def with_state(state: tuple[str, str] | None) -> dict:
    if state is None:
        return {}
    return {"state_type": state[0], "state_name": state[1], "state_timestamp": later(), "state_seq": 1}


def make_state(run: FlowRun | TaskRun, type_: str, name: str, **fields) -> FlowRunState | TaskRunState:
    model, link = (FlowRunState, "flow_run") if isinstance(run, FlowRun) else (TaskRunState, "task_run")
    return model.objects.create(
        id=uuid.uuid4(), type=type_, name=name, timestamp=fields.pop("timestamp", None) or later(), **{link: run}, **fields
    )


def make_log(message: str = "hello", level: int = 20, flow_run=None, task_run=None, **fields) -> Log:
    return Log.objects.create(
        id=uuid.uuid4(), message=message, level=level, flow_run=flow_run, task_run=task_run,
        timestamp=fields.pop("timestamp", None) or later(), **fields,
    )


def make_worker(name: str = "host:1", seen_ago: timedelta = timedelta(seconds=5), **fields) -> Worker:
    from django.utils import timezone as dj_timezone

    seen = dj_timezone.now() - seen_ago
    return Worker.objects.create(name=name, first_seen=seen, last_seen=seen, **fields)




def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def ids(response) -> list[str]:
    return [item["id"] for item in results(response)]

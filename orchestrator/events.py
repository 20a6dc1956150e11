"""The event format (docs/events.md): parsing and validating one event.

`parse_event(raw)` turns one decoded JSON object into a typed event or raises
`InvalidEvent` with a message that names the offending field (the checks of
single fields live in orchestrator/event_fields.py).

States travel flat: `state_type`, `state_name`, `state_message`, at the event's
`occurred`. A `*.created` event may carry its run's initial state the same way;
it is parsed into `initial_state`, a StateEvent with the created event's id,
occurred and seq, stored like any state event.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, NamedTuple

from orchestrator.event_fields import (
    JSON_ENCODER,
    MISSING,
    MAX_RUN_COUNT,
    MAX_LEVEL,
    MAX_PID,
    MAX_SEQ,
    MAX_STATE_NAME_CHARS,
    MAX_TAGS,
    MAX_TEXT_CHARS,
    MAX_UPSTREAM_TASK_RUNS,
    MAX_WORKER_KEYS,
    InvalidEvent,
    dump_json,
    fail,
    non_empty,
    read_int,
    read_object,
    read_str,
    read_str_list,
    read_timestamp,
    read_uuid,
    read_uuid_list,
    type_name,
)
from orchestrator.models import StateType

STATE_TYPES = frozenset(StateType.values)


class EventHeader(NamedTuple):
    """The fields every event has, in the order they open every Event (so `Kind(*header, ...)` builds one)."""

    id: str
    type: str
    occurred: datetime
    seq: int


@dataclass(slots=True)
class Event:
    id: str
    type: str
    occurred: datetime
    seq: int


@dataclass(slots=True)
class FlowRunCreated(Event):
    flow_run_id: str
    flow_name: str
    name: str
    parameters: str  # JSON text, ready to store
    tags: list[str]
    parent_task_run_id: str | None
    parent_flow_run_id: str | None
    version: str
    initial_state: StateEvent | None = None  # the run's first timeline entry, if the event carries one

    @property
    def run_id(self) -> str:
        return self.flow_run_id


@dataclass(slots=True)
class TaskRunCreated(Event):
    task_run_id: str
    flow_run_id: str | None
    task_key: str
    task_name: str
    name: str
    parameters: str  # JSON text
    tags: list[str]
    parent_task_run_id: str | None
    upstream_task_run_ids: str  # JSON text: a list of canonical UUID strings
    initial_state: StateEvent | None = None  # the run's first timeline entry, if the event carries one

    @property
    def run_id(self) -> str:
        return self.task_run_id


@dataclass(slots=True)
class StateEvent(Event):
    """`flow_run.state` or `task_run.state`: one entry of a run's timeline."""

    run_id: str
    flow_run_id: str | None  # for task runs: the flow run it belongs to, if known
    run_count: int
    state_type: str
    state_name: str
    message: str
    error: str | None  # JSON text
    result: str | None  # JSON text

    @property
    def is_task_run(self) -> bool:
        return self.type == "task_run.state"


@dataclass(slots=True)
class LogEvent(Event):
    flow_run_id: str | None
    task_run_id: str | None
    level: int
    logger: str
    message: str


@dataclass(slots=True)
class WorkerHeartbeat(Event):
    worker_name: str
    hostname: str
    pid: int | None
    task_keys: str  # JSON text: list of strings
    flow_names: str  # JSON text: list of strings


# --- one reader per event type ---


def not_self(value: Any, run_id: str, field: str, run_field: str) -> Any:
    """A run cannot be its own parent, flow run or upstream: refuse the link (the value, or a list of ids)."""
    if value == run_id or (type(value) is list and run_id in value):
        raise fail(field, f"names the run itself (`{run_field}` {run_id})")
    return value


def _flow_run_created(data: dict, header: EventHeader) -> FlowRunCreated:
    flow_run_id = read_uuid(data, "flow_run_id")
    return FlowRunCreated(
        *header,
        flow_run_id=flow_run_id,
        flow_name=non_empty(read_str(data, "flow_name"), "flow_name"),
        name=read_str(data, "name", default=""),
        parameters=read_object(data, "parameters", default="{}"),
        tags=read_str_list(data, "tags", max_items=MAX_TAGS),
        parent_task_run_id=not_self(read_uuid(data, "parent_task_run_id", nullable=True), flow_run_id,
                                    "parent_task_run_id", "flow_run_id"),
        parent_flow_run_id=not_self(read_uuid(data, "parent_flow_run_id", nullable=True), flow_run_id,
                                    "parent_flow_run_id", "flow_run_id"),
        version=read_str(data, "version", default=""),
        initial_state=_initial_state(data, header, "flow_run.state", flow_run_id, flow_run_id),
    )


def _task_run_created(data: dict, header: EventHeader) -> TaskRunCreated:
    task_run_id = read_uuid(data, "task_run_id")
    flow_run_id = not_self(read_uuid(data, "flow_run_id", nullable=True), task_run_id, "flow_run_id", "task_run_id")
    return TaskRunCreated(
        *header,
        task_run_id=task_run_id,
        flow_run_id=flow_run_id,
        task_key=non_empty(read_str(data, "task_key"), "task_key"),
        task_name=read_str(data, "task_name", default=""),
        name=read_str(data, "name", default=""),
        parameters=read_object(data, "parameters", default="{}"),
        tags=read_str_list(data, "tags", max_items=MAX_TAGS),
        parent_task_run_id=not_self(read_uuid(data, "parent_task_run_id", nullable=True), task_run_id,
                                    "parent_task_run_id", "task_run_id"),
        upstream_task_run_ids=JSON_ENCODER.encode(
            not_self(read_uuid_list(data, "upstream_task_run_ids", max_items=MAX_UPSTREAM_TASK_RUNS),
                     task_run_id, "upstream_task_run_ids", "task_run_id")
        ),
        initial_state=_initial_state(data, header, "task_run.state", task_run_id, flow_run_id),
    )


def _state_type(data: dict) -> str:
    state_type = data.get("state_type", MISSING)
    if state_type is MISSING:
        raise fail("state_type", "is required")
    if type(state_type) is not str or state_type not in STATE_TYPES:
        shown = repr(state_type[:40]) if type(state_type) is str else type_name(state_type)
        raise fail("state_type", f"must be one of {', '.join(StateType.values)}, got {shown}")
    return state_type


def _state_fields(data: dict, state_type: str) -> tuple[str, str]:
    """`state_name` (absent: the type, title-cased) and `state_message` (absent or null: "")."""
    return (
        read_str(data, "state_name", max_chars=MAX_STATE_NAME_CHARS, default=state_type.title()),
        read_str(data, "state_message", max_chars=MAX_TEXT_CHARS, default=""),
    )


def _initial_state(data: dict, header: EventHeader, state_event_type: str, run_id: str, flow_run_id: str | None) -> StateEvent | None:
    """A created event's initial state (optional on the server: older spools lack it)."""
    if "state_type" not in data:
        for field in ("state_name", "state_message"):
            if field in data:
                raise fail("state_type", f"is required with `{field}`")
        return None
    state_type = _state_type(data)
    state_name, message = _state_fields(data, state_type)
    return StateEvent(
        *header._replace(type=state_event_type),
        run_id=run_id,
        flow_run_id=flow_run_id,
        run_count=0,
        state_type=state_type,
        state_name=state_name,
        message=message,
        error=None,
        result=None,
    )


def _state(data: dict, header: EventHeader, run_field: str) -> StateEvent:
    run_id = read_uuid(data, run_field)
    flow_run_id = read_uuid(data, "flow_run_id", nullable=True) if run_field == "task_run_id" else run_id
    state_type = _state_type(data)
    state_name, message = _state_fields(data, state_type)
    error = data.get("error")
    if error is not None and type(error) is not dict:
        raise fail("error", f"must be an object, got {type_name(error)}")
    return StateEvent(
        *header,
        run_id=run_id,
        flow_run_id=flow_run_id,
        run_count=read_int(data, "run_count", maximum=MAX_RUN_COUNT, default=0),
        state_type=state_type,
        state_name=state_name,
        message=message,
        error=None if error is None else dump_json(error, "error"),
        result=None if data.get("result") is None else dump_json(data["result"], "result"),
    )


def _log(data: dict, header: EventHeader) -> LogEvent:
    return LogEvent(
        *header,
        flow_run_id=read_uuid(data, "flow_run_id", nullable=True),
        task_run_id=read_uuid(data, "task_run_id", nullable=True),
        level=read_int(data, "level", maximum=MAX_LEVEL),
        logger=read_str(data, "logger", default=""),
        message=read_str(data, "message", max_chars=MAX_TEXT_CHARS),
    )


def _worker_heartbeat(data: dict, header: EventHeader) -> WorkerHeartbeat:
    return WorkerHeartbeat(
        *header,
        worker_name=non_empty(read_str(data, "worker_name"), "worker_name"),
        hostname=read_str(data, "hostname", default=""),
        pid=read_int(data, "pid", maximum=MAX_PID, nullable=True),
        task_keys=JSON_ENCODER.encode(read_str_list(data, "task_keys", max_items=MAX_WORKER_KEYS)),
        flow_names=JSON_ENCODER.encode(read_str_list(data, "flow_names", max_items=MAX_WORKER_KEYS)),
    )


READERS: dict[str, Callable[[dict, EventHeader], Event]] = {
    "flow_run.created": _flow_run_created,
    "task_run.created": _task_run_created,
    "flow_run.state": lambda data, header: _state(data, header, "flow_run_id"),
    "task_run.state": lambda data, header: _state(data, header, "task_run_id"),
    "log": _log,
    "worker.heartbeat": _worker_heartbeat,
}
EVENT_TYPES = tuple(READERS)


def parse_event(data: Any, latest: datetime | None = None) -> Event:
    """One raw event → a typed event, or `InvalidEvent` naming the field at fault.

    `latest`: the latest `occurred` accepted (the server's clock plus the allowed skew).
    """
    if type(data) is not dict:
        raise InvalidEvent(f"an event must be a JSON object, got {type_name(data)}")
    event_id = read_uuid(data, "id")
    event_type = data.get("type", MISSING)
    if event_type is MISSING:
        raise fail("type", "is required")
    reader = READERS.get(event_type) if type(event_type) is str else None
    if reader is None:
        shown = event_type if type(event_type) is str and len(event_type) <= 64 else type_name(event_type)
        raise fail("type", f"unknown event type {shown!r}; expected one of {', '.join(EVENT_TYPES)}")
    header = EventHeader(event_id, event_type, read_timestamp(data, "occurred", latest), read_int(data, "seq", maximum=MAX_SEQ))
    return reader(data, header)

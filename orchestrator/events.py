"""The event format (docs/events.md): parsing and validating one event.

`parse_event(raw)` turns one decoded JSON object into a typed event or raises
`InvalidEvent` with a message that names the offending field. UUIDs become
canonical strings (lowercase, hyphenated: they sort like the UUIDs). Strings are kept
verbatim except for the two things no database text column can hold: NUL
characters and unpaired surrogates, which become U+FFFD.
"""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from orchestrator.models import STATE_NAMES, StateType

MAX_NAME_CHARS = 255  # every CharField(max_length=255): names, keys, tags, logger
MAX_STATE_NAME_CHARS = 32
MAX_TEXT_CHARS = 1024 * 1024  # messages and tracebacks
MAX_JSON_CHARS = 1024 * 1024  # parameters, result, error (JSON-encoded)
MAX_SEQ = 2**63 - 1  # BigIntegerField
MAX_RUN_COUNT = 2**31 - 1  # PositiveIntegerField
MAX_LEVEL = 32767  # PositiveSmallIntegerField
MAX_PID = 2**31 - 1

STATE_TYPES = frozenset(StateType.values)
KNOWN_STATE_NAMES = frozenset(STATE_NAMES)


class InvalidEvent(ValueError):
    """The event breaks the format; the message says which field and why."""


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


# --- field readers: each takes the event dict and a field name, returns a clean value ---

_MISSING = object()
_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_CANONICAL_UUID = re.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


def _fail(field: str, problem: str) -> InvalidEvent:
    return InvalidEvent(f"`{field}`: {problem}")


def _clean_text(value: str) -> str:
    if value.isascii() and "\x00" not in value:
        return value
    return _UNSTORABLE.sub("\ufffd", value)


def read_str(data: dict, field: str, *, max_chars: int = MAX_NAME_CHARS, default: Any = _MISSING, nullable: bool = False) -> Any:
    value = data.get(field, _MISSING)
    if value is _MISSING:
        if default is _MISSING:
            raise _fail(field, "is required")
        return default
    if value is None:
        if nullable or default is not _MISSING:
            return default if default is not _MISSING else None
        raise _fail(field, "must be a string, got null")
    if type(value) is not str:
        raise _fail(field, f"must be a string, got {_type_name(value)}")
    if len(value) > max_chars:
        raise _fail(field, f"is {len(value)} characters long; the limit is {max_chars}")
    return _clean_text(value)


def read_int(data: dict, field: str, *, minimum: int = 0, maximum: int, default: Any = _MISSING, nullable: bool = False) -> Any:
    value = data.get(field, _MISSING)
    if value is _MISSING:
        if default is not _MISSING:
            return default
        if nullable:
            return None
        raise _fail(field, "is required")
    if value is None and nullable:
        return None
    if type(value) is not int:
        raise _fail(field, f"must be an integer, got {_type_name(value)}")
    if not minimum <= value <= maximum:
        raise _fail(field, f"must be between {minimum} and {maximum}, got {value}")
    return value


def read_uuid(data: dict, field: str, *, nullable: bool = False) -> str | None:
    value = data.get(field, _MISSING)
    if value is _MISSING:
        if nullable:
            return None
        raise _fail(field, "is required")
    if value is None:
        if nullable:
            return None
        raise _fail(field, "must be a UUID string, got null")
    return _as_uuid(value, field)


def _as_uuid(value: Any, field: str) -> str:
    if type(value) is not str:
        raise _fail(field, f"must be a UUID string, got {_type_name(value)}")
    if len(value) == 36 and _CANONICAL_UUID.fullmatch(value):
        return value
    if len(value) > 45:
        raise _fail(field, "is not a valid UUID")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise _fail(field, f"is not a valid UUID: {value!r}") from None


def read_timestamp(data: dict, field: str) -> datetime:
    value = data.get(field, _MISSING)
    if value is _MISSING:
        raise _fail(field, "is required")
    if type(value) is not str:
        raise _fail(field, f"must be an ISO 8601 string with a timezone, got {_type_name(value)}")
    if len(value) > 64:
        raise _fail(field, "is not an ISO 8601 timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(field, f"is not an ISO 8601 timestamp: {value!r}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _fail(field, f"has no timezone: {value!r} (add +00:00 or Z)")
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:
        raise _fail(field, f"is out of range: {value!r}") from None


def dump_json(value: Any, field: str) -> str:
    """JSON text for a JSON column; NULs and unpaired surrogates become U+FFFD."""
    try:
        text = _JSON.encode(value)
    except ValueError:  # NaN/Infinity cannot come from strict JSON, only from Python callers
        raise _fail(field, "contains a number that is not finite") from None
    except TypeError as exc:
        raise _fail(field, f"is not JSON-serialisable: {exc}") from None
    if len(text) > MAX_JSON_CHARS:
        raise _fail(field, f"is {len(text)} characters long when encoded as JSON; the limit is {MAX_JSON_CHARS}")
    if "\\u0000" in text or _UNSTORABLE.search(text):
        text = _JSON.encode(_clean_json(value))
    return text


def _clean_json(value: Any) -> Any:
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dict):
        return {_clean_text(str(k)): _clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_json(v) for v in value]
    return value


def read_object(data: dict, field: str, *, default: Any = _MISSING, nullable: bool = False) -> str | None:
    value = data.get(field, _MISSING)
    if value is _MISSING or value is None:
        if value is None and nullable:
            return None
        if default is _MISSING:
            raise _fail(field, "is required" if value is _MISSING else "must be an object, got null")
        return default
    if type(value) is not dict:
        raise _fail(field, f"must be an object, got {_type_name(value)}")
    return dump_json(value, field)


def read_str_list(data: dict, field: str) -> list[str]:
    value = data.get(field)
    if value is None:
        return []
    if type(value) is not list:
        raise _fail(field, f"must be an array of strings, got {_type_name(value)}")
    out = []
    for i, item in enumerate(value):
        if type(item) is not str:
            raise _fail(f"{field}[{i}]", f"must be a string, got {_type_name(item)}")
        if len(item) > MAX_NAME_CHARS:
            raise _fail(f"{field}[{i}]", f"is {len(item)} characters long; the limit is {MAX_NAME_CHARS}")
        out.append(_clean_text(item))
    return out


def read_uuid_list(data: dict, field: str) -> list[str]:
    value = data.get(field)
    if value is None:
        return []
    if type(value) is not list:
        raise _fail(field, f"must be an array of UUID strings, got {_type_name(value)}")
    return [_as_uuid(item, f"{field}[{i}]") for i, item in enumerate(value)]


# --- one reader per event type ---


def _flow_run_created(data: dict, common: tuple) -> FlowRunCreated:
    return FlowRunCreated(
        *common,
        flow_run_id=read_uuid(data, "flow_run_id"),
        flow_name=_non_empty(read_str(data, "flow_name"), "flow_name"),
        name=read_str(data, "name", default=""),
        parameters=read_object(data, "parameters", default="{}"),
        tags=read_str_list(data, "tags"),
        parent_task_run_id=read_uuid(data, "parent_task_run_id", nullable=True),
        parent_flow_run_id=read_uuid(data, "parent_flow_run_id", nullable=True),
        version=read_str(data, "version", default=""),
    )


def _task_run_created(data: dict, common: tuple) -> TaskRunCreated:
    return TaskRunCreated(
        *common,
        task_run_id=read_uuid(data, "task_run_id"),
        flow_run_id=read_uuid(data, "flow_run_id", nullable=True),
        task_key=_non_empty(read_str(data, "task_key"), "task_key"),
        task_name=read_str(data, "task_name", default=""),
        name=read_str(data, "name", default=""),
        parameters=read_object(data, "parameters", default="{}"),
        tags=read_str_list(data, "tags"),
        parent_task_run_id=read_uuid(data, "parent_task_run_id", nullable=True),
        upstream_task_run_ids=_JSON.encode(read_uuid_list(data, "upstream_task_run_ids")),
    )


def _state(data: dict, common: tuple, run_field: str) -> StateEvent:
    run_id = read_uuid(data, run_field)
    flow_run_id = read_uuid(data, "flow_run_id", nullable=True) if run_field == "task_run_id" else run_id
    state = data.get("state", _MISSING)
    if state is _MISSING:
        raise _fail("state", "is required")
    if type(state) is not dict:
        raise _fail("state", f"must be an object, got {_type_name(state)}")
    state_type = state.get("type", _MISSING)
    if state_type is _MISSING:
        raise _fail("state.type", "is required")
    if type(state_type) is not str or state_type not in STATE_TYPES:
        shown = repr(state_type[:40]) if type(state_type) is str else _type_name(state_type)
        raise _fail("state.type", f"must be one of {', '.join(StateType.values)}, got {shown}")
    error = data.get("error")
    if error is not None and type(error) is not dict:
        raise _fail("error", f"must be an object, got {_type_name(error)}")
    return StateEvent(
        *common,
        run_id=run_id,
        flow_run_id=flow_run_id,
        run_count=read_int(data, "run_count", maximum=MAX_RUN_COUNT, default=0),
        state_type=state_type,
        state_name=_prefixed(read_str, "state.", state, "name", max_chars=MAX_STATE_NAME_CHARS, default=state_type.title()),
        message=_prefixed(read_str, "state.", state, "message", max_chars=MAX_TEXT_CHARS, default=""),
        error=None if error is None else dump_json(error, "error"),
        result=None if data.get("result") is None else dump_json(data["result"], "result"),
    )


def _log(data: dict, common: tuple) -> LogEvent:
    return LogEvent(
        *common,
        flow_run_id=read_uuid(data, "flow_run_id", nullable=True),
        task_run_id=read_uuid(data, "task_run_id", nullable=True),
        level=read_int(data, "level", maximum=MAX_LEVEL),
        logger=read_str(data, "logger", default=""),
        message=read_str(data, "message", max_chars=MAX_TEXT_CHARS),
    )


def _worker_heartbeat(data: dict, common: tuple) -> WorkerHeartbeat:
    return WorkerHeartbeat(
        *common,
        worker_name=_non_empty(read_str(data, "worker_name"), "worker_name"),
        hostname=read_str(data, "hostname", default=""),
        pid=read_int(data, "pid", maximum=MAX_PID, nullable=True),
        task_keys=_JSON.encode(read_str_list(data, "task_keys")),
        flow_names=_JSON.encode(read_str_list(data, "flow_names")),
    )


def _prefixed(reader: Callable, prefix: str, data: dict, field: str, **kwargs: Any) -> Any:
    try:
        return reader(data, field, **kwargs)
    except InvalidEvent as exc:
        raise InvalidEvent(str(exc).replace(f"`{field}`", f"`{prefix}{field}`", 1)) from None


def _non_empty(value: str, field: str) -> str:
    if not value:
        raise _fail(field, "must not be empty")
    return value


READERS: dict[str, Callable[[dict, tuple], Event]] = {
    "flow_run.created": _flow_run_created,
    "task_run.created": _task_run_created,
    "flow_run.state": lambda data, common: _state(data, common, "flow_run_id"),
    "task_run.state": lambda data, common: _state(data, common, "task_run_id"),
    "log": _log,
    "worker.heartbeat": _worker_heartbeat,
}
EVENT_TYPES = tuple(READERS)


def parse_event(data: Any) -> Event:
    """One raw event → a typed event, or `InvalidEvent` naming the field at fault."""
    if type(data) is not dict:
        raise InvalidEvent(f"an event must be a JSON object, got {_type_name(data)}")
    event_id = read_uuid(data, "id")
    event_type = data.get("type", _MISSING)
    if event_type is _MISSING:
        raise _fail("type", "is required")
    reader = READERS.get(event_type) if type(event_type) is str else None
    if reader is None:
        shown = event_type if type(event_type) is str and len(event_type) <= 64 else _type_name(event_type)
        raise _fail("type", f"unknown event type {shown!r}; expected one of {', '.join(EVENT_TYPES)}")
    common = (event_id, event_type, read_timestamp(data, "occurred"), read_int(data, "seq", maximum=MAX_SEQ))
    return reader(data, common)

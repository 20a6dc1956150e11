"""Reading one field of an event: type, range and size checks, with messages
that name the field (`InvalidEvent`). UUIDs become canonical strings
(lowercase, hyphenated: they sort like the UUIDs); NUL characters and unpaired
surrogates, which no database text column can hold, become U+FFFD.
"""
from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone
from typing import Any

MAX_NAME_CHARS = 255  # every CharField(max_length=255): names, keys, tags, logger
MAX_STATE_NAME_CHARS = 32
MAX_TEXT_CHARS = 1024 * 1024  # messages and tracebacks
MAX_JSON_CHARS = 1024 * 1024  # parameters, result, error (JSON-encoded)
# Deeper values are refused: reading one back would exhaust Python's recursion limit.
MAX_JSON_DEPTH = 64
# The SDK counts events per run from 0; a run never emits two billion, and a huge seq would win every tie.
MAX_SEQ = 2**31 - 1
MAX_TAGS = 100  # per run: each tag is one indexed row
MAX_UPSTREAM_TASK_RUNS = 10_000  # per task run
MAX_WORKER_KEYS = 1_000  # task_keys and flow_names of one worker
MAX_RUN_COUNT = 2**31 - 1  # PositiveIntegerField
MAX_LEVEL = 32767  # PositiveSmallIntegerField
MAX_PID = 2**31 - 1


class InvalidEvent(ValueError):
    """The event breaks the format; the message says which field and why."""


MISSING = object()
JSON_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_CANONICAL_UUID = re.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


def fail(field: str, problem: str) -> InvalidEvent:
    return InvalidEvent(f"`{field}`: {problem}")


def _clean_text(value: str) -> str:
    if value.isascii() and "\x00" not in value:
        return value
    return _UNSTORABLE.sub("\ufffd", value)


def read_str(data: dict, field: str, *, max_chars: int = MAX_NAME_CHARS, default: Any = MISSING, nullable: bool = False) -> Any:
    value = data.get(field, MISSING)
    if value is MISSING:
        if default is MISSING:
            raise fail(field, "is required")
        return default
    if value is None:
        if nullable or default is not MISSING:
            return default if default is not MISSING else None
        raise fail(field, "must be a string, got null")
    if type(value) is not str:
        raise fail(field, f"must be a string, got {type_name(value)}")
    if len(value) > max_chars:
        raise fail(field, f"is {len(value)} characters long; the limit is {max_chars}")
    return _clean_text(value)


def read_int(data: dict, field: str, *, minimum: int = 0, maximum: int, default: Any = MISSING, nullable: bool = False) -> Any:
    value = data.get(field, MISSING)
    if value is MISSING:
        if default is not MISSING:
            return default
        if nullable:
            return None
        raise fail(field, "is required")
    if value is None and nullable:
        return None
    if type(value) is not int:
        raise fail(field, f"must be an integer, got {type_name(value)}")
    if not minimum <= value <= maximum:
        raise fail(field, f"must be between {minimum} and {maximum}, got {value}")
    return value


def read_uuid(data: dict, field: str, *, nullable: bool = False) -> str | None:
    value = data.get(field, MISSING)
    if value is MISSING:
        if nullable:
            return None
        raise fail(field, "is required")
    if value is None:
        if nullable:
            return None
        raise fail(field, "must be a UUID string, got null")
    return _as_uuid(value, field)


def _as_uuid(value: Any, field: str) -> str:
    if type(value) is not str:
        raise fail(field, f"must be a UUID string, got {type_name(value)}")
    if len(value) == 36 and _CANONICAL_UUID.fullmatch(value):
        return value
    if len(value) > 45:
        raise fail(field, "is not a valid UUID")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise fail(field, f"is not a valid UUID: {value!r}") from None


# No event of this product happened before this; earlier dates are forged or a broken clock.
EARLIEST_OCCURRED = datetime(2000, 1, 1, tzinfo=timezone.utc)


def read_timestamp(data: dict, field: str, latest: datetime | None = None) -> datetime:
    """An ISO 8601 time with a timezone, in UTC, between 2000-01-01 and `latest` (the server's
    clock plus the allowed skew: a time far ahead would stay a run's current state forever)."""
    value = data.get(field, MISSING)
    if value is MISSING:
        raise fail(field, "is required")
    if type(value) is not str:
        raise fail(field, f"must be an ISO 8601 string with a timezone, got {type_name(value)}")
    if len(value) > 64:
        raise fail(field, "is not an ISO 8601 timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise fail(field, f"is not an ISO 8601 timestamp: {value!r}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise fail(field, f"has no timezone: {value!r} (add +00:00 or Z)")
    try:
        parsed = parsed.astimezone(timezone.utc)
    except OverflowError:
        raise fail(field, f"is out of range: {value!r}") from None
    if parsed < EARLIEST_OCCURRED:
        raise fail(field, f"is {value!r}, before 2000-01-01: not a real time")
    if latest is not None and parsed > latest:
        raise fail(field, f"is {value!r}, later than the server's clock allows ({latest.isoformat()}); check the client's clock")
    return parsed


def dump_json(value: Any, field: str) -> str:
    """JSON text for a JSON column; NULs and unpaired surrogates become U+FFFD."""
    try:
        text = JSON_ENCODER.encode(value)
        if "\\u0000" in text or _UNSTORABLE.search(text):
            text = JSON_ENCODER.encode(_clean_json(value))
    except ValueError:  # NaN or Infinity, which Python's json reads
        raise fail(field, "contains a number that is not finite") from None
    except TypeError as exc:
        raise fail(field, f"is not JSON-serialisable: {exc}") from None
    except RecursionError:
        raise too_deep(field, json_depth(value)) from None
    if len(text) > MAX_JSON_CHARS:
        raise fail(field, f"is {len(text)} characters long when encoded as JSON; the limit is {MAX_JSON_CHARS}")
    # Fewer brackets than the limit cannot nest deeper than it (the usual case: no walk at all).
    if text.count("{") + text.count("[") > MAX_JSON_DEPTH:
        depth = json_depth(value)
        if depth > MAX_JSON_DEPTH:
            raise too_deep(field, depth)
    return text


def too_deep(field: str, depth: int) -> InvalidEvent:
    return fail(field, f"is nested {depth} levels deep; the limit is {MAX_JSON_DEPTH}")


def json_depth(value: Any) -> int:
    """How many objects/arrays deep a decoded JSON value nests (a scalar: 0), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list, tuple)))
    return deepest


def _clean_json(value: Any) -> Any:
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dict):
        return {_clean_text(str(k)): _clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_json(v) for v in value]
    return value


def read_object(data: dict, field: str, *, default: Any = MISSING, nullable: bool = False) -> str | None:
    value = data.get(field, MISSING)
    if value is MISSING or value is None:
        if value is None and nullable:
            return None
        if default is MISSING:
            raise fail(field, "is required" if value is MISSING else "must be an object, got null")
        return default
    if type(value) is not dict:
        raise fail(field, f"must be an object, got {type_name(value)}")
    return dump_json(value, field)


def _list(data: dict, field: str, of: str, max_items: int) -> list:
    value = data.get(field)
    if value is None:
        return []
    if type(value) is not list:
        raise fail(field, f"must be an array of {of}, got {type_name(value)}")
    if len(value) > max_items:
        raise fail(field, f"has {len(value)} items; the limit is {max_items}")
    return value


def read_str_list(data: dict, field: str, *, max_items: int) -> list[str]:
    out = []
    for i, item in enumerate(_list(data, field, "strings", max_items)):
        if type(item) is not str:
            raise fail(f"{field}[{i}]", f"must be a string, got {type_name(item)}")
        if len(item) > MAX_NAME_CHARS:
            raise fail(f"{field}[{i}]", f"is {len(item)} characters long; the limit is {MAX_NAME_CHARS}")
        out.append(_clean_text(item))
    return out


def read_uuid_list(data: dict, field: str, *, max_items: int) -> list[str]:
    return [_as_uuid(item, f"{field}[{i}]") for i, item in enumerate(_list(data, field, "UUID strings", max_items))]


def non_empty(value: str, field: str) -> str:
    if not value:
        raise fail(field, "must not be empty")
    return value

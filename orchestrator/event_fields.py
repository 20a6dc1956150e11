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
MAX_SEQ = 2**63 - 1  # BigIntegerField
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


def read_timestamp(data: dict, field: str) -> datetime:
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
        return parsed.astimezone(timezone.utc)
    except OverflowError:
        raise fail(field, f"is out of range: {value!r}") from None


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
        raise fail(field, "is nested too deeply") from None
    if len(text) > MAX_JSON_CHARS:
        raise fail(field, f"is {len(text)} characters long when encoded as JSON; the limit is {MAX_JSON_CHARS}")
    return text


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


def _list(data: dict, field: str, of: str) -> list:
    value = data.get(field)
    if value is None:
        return []
    if type(value) is not list:
        raise fail(field, f"must be an array of {of}, got {type_name(value)}")
    return value


def read_str_list(data: dict, field: str) -> list[str]:
    out = []
    for i, item in enumerate(_list(data, field, "strings")):
        if type(item) is not str:
            raise fail(f"{field}[{i}]", f"must be a string, got {type_name(item)}")
        if len(item) > MAX_NAME_CHARS:
            raise fail(f"{field}[{i}]", f"is {len(item)} characters long; the limit is {MAX_NAME_CHARS}")
        out.append(_clean_text(item))
    return out


def read_uuid_list(data: dict, field: str) -> list[str]:
    return [_as_uuid(item, f"{field}[{i}]") for i, item in enumerate(_list(data, field, "UUID strings"))]


def non_empty(value: str, field: str) -> str:
    if not value:
        raise fail(field, "must not be empty")
    return value

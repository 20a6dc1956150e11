"""JSON-safe renderings of parameters and results for events (docs/events.md)."""
from __future__ import annotations

import math
from typing import Any

from sdk.annotations import BaseAnnotation
from sdk.futures import TaskRunFuture
from sdk.states import State

__all__ = ["render", "render_parameters", "json_result", "NO_RESULT"]

MAX_STRING = 10_000
MAX_RESULT_BYTES = 64 * 1024
_MAX_DEPTH = 32


def _truncate(text: str) -> str:
    return text if len(text) <= MAX_STRING else text[:MAX_STRING] + "…"


def _repr(value: Any) -> str:
    try:
        return _truncate(repr(value))
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"


def render(value: Any, depth: int = 0) -> Any:
    """None, bools, ints, finite floats and strings as they are; lists/tuples/sets as lists;
    dicts with string keys as objects; futures and states as `{"__upstream__": id}`; else repr."""
    t = type(value)
    if t is str:
        return value if len(value) <= MAX_STRING else value[:MAX_STRING] + "…"
    if t is int or t is bool or value is None:
        return value
    if t is float:
        return value if math.isfinite(value) else repr(value)
    if depth >= _MAX_DEPTH:
        return _repr(value)
    if t is list or t is tuple or t is set or t is frozenset:
        return [render(v, depth + 1) for v in value]
    if t is dict and all(type(k) is str for k in value):
        return {k: render(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (TaskRunFuture, State)) and value.task_run_id is not None:
        return {"__upstream__": value.task_run_id}
    if isinstance(value, BaseAnnotation):
        return render(value.value, depth + 1)
    return _repr(value)


_PLAIN = frozenset({int, bool, type(None)})


def render_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    plain = _PLAIN
    return {name: value if type(value) in plain else render(value) for name, value in parameters.items()}


NO_RESULT = object()  # json_result: "not JSON-serialisable or too big"


def json_result(value: Any) -> Any:
    """`value` as JSON data if it is JSON-serialisable and small, else a sentinel (`NO_RESULT`)."""
    t = type(value)
    if value is None or t is int or t is bool:
        return value
    if t is float:
        return value if math.isfinite(value) else NO_RESULT
    if t is str and len(value) <= MAX_RESULT_BYTES // 4:
        return value
    if t in (str, list, tuple, dict):
        import json

        try:
            text = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError, RecursionError):
            return NO_RESULT
        if len(text) > MAX_RESULT_BYTES or (t is not str and len(text.encode()) > MAX_RESULT_BYTES):
            return NO_RESULT
        return json.loads(text)  # a copy: the caller may mutate its value later
    return NO_RESULT


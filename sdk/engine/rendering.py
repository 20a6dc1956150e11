"""JSON-safe renderings of parameters and results for events (docs/events.md)."""
from __future__ import annotations

import math
from typing import Any

from sdk.annotations import BaseAnnotation
from sdk.futures import TaskRunFuture
from sdk.states import State

__all__ = ["render", "render_parameters", "json_result", "NO_RESULT"]

MAX_STRING = 10_000
MAX_RENDERED = 256 * 1024  # approximate characters of one rendered parameter
MAX_RESULT_BYTES = 64 * 1024
_MAX_DEPTH = 32


def _truncate(text: str) -> str:
    return text if len(text) <= MAX_STRING else text[:MAX_STRING] + "…"


def _repr(value: Any) -> str:
    try:
        return _truncate(repr(value))
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"


class _Budget:
    """Characters a rendering may still use, so one huge argument cannot make a huge event."""

    __slots__ = ("left",)

    def __init__(self, left: int) -> None:
        self.left = left


def render(value: Any, depth: int = 0, budget: _Budget | None = None) -> Any:
    """None, bools, ints, finite floats and strings as they are; lists/tuples/sets as lists;
    dicts with string keys as objects; futures and states as `{"__upstream__": id}`; else repr.
    Past MAX_RENDERED characters, the rest of a container becomes one `"… N more"` item."""
    if budget is None:
        budget = _Budget(MAX_RENDERED)
    t = type(value)
    if t is str:
        text = value if len(value) <= MAX_STRING else value[:MAX_STRING] + "…"
        budget.left -= len(text) + 2
        return text
    if t is int or t is bool or value is None:
        budget.left -= 8
        return value
    if t is float:
        budget.left -= 8
        return value if math.isfinite(value) else repr(value)
    if depth >= _MAX_DEPTH:
        return _charged(_repr(value), budget)
    if t is list or t is tuple or t is set or t is frozenset:
        items: list = []
        for v in value:
            if budget.left <= 0:
                items.append(f"… {len(value) - len(items)} more")
                break
            items.append(render(v, depth + 1, budget))
        return items
    if t is dict and all(type(k) is str for k in value):
        rendered: dict = {}
        for k, v in value.items():
            if budget.left <= 0:
                rendered["…"] = f"{len(value) - len(rendered)} more"
                break
            budget.left -= len(k) + 4
            rendered[k] = render(v, depth + 1, budget)
        return rendered
    if isinstance(value, (TaskRunFuture, State)) and value.task_run_id is not None:
        return {"__upstream__": value.task_run_id}
    if isinstance(value, BaseAnnotation):
        return render(value.value, depth + 1, budget)
    return _charged(_repr(value), budget)


def _charged(text: str, budget: _Budget) -> str:
    budget.left -= len(text) + 2
    return text


_PLAIN = frozenset({int, bool, type(None)})


def render_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    plain = _PLAIN
    rendered = {}
    for name, value in parameters.items():  # a loop, not a comprehension: no extra frame per run
        rendered[name] = value if type(value) in plain else render(value)
    return rendered


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
        import json  # on first use: it costs a quarter of `import sdk`

        try:
            text = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError, RecursionError):
            return NO_RESULT
        if len(text) > MAX_RESULT_BYTES or (t is not str and len(text.encode()) > MAX_RESULT_BYTES):
            return NO_RESULT
        return json.loads(text)  # a copy: the caller may mutate its value later
    return NO_RESULT


"""The current task run, attribute by attribute (`sdk.runtime.task_run.id`, `.name`, ...).

Outside a task run: `id`, `name`, `task_name` are None, `parameters` is `{}`, `tags` is
`[]`, `run_count` is 0.
"""
from __future__ import annotations

from typing import Any

from sdk.context import task_run_var
from sdk.runtime.mocking import MISSING, mocked

__all__ = ["id", "name", "task_name", "parameters", "tags", "run_count", "api_url", "ui_url"]

_READERS = {
    "id": lambda ctx: ctx.task_run.id,
    "name": lambda ctx: ctx.task_run.name,
    "task_name": lambda ctx: ctx.task.name,
    "parameters": lambda ctx: dict(ctx.parameters),
    "tags": lambda ctx: list(ctx.task_run.tags),
    "run_count": lambda ctx: ctx.task_run.run_count,
}
_OUTSIDE = {"parameters": dict, "tags": list, "run_count": lambda: 0}


def _value(name: str) -> Any:
    ctx = task_run_var.get()
    reader = _READERS.get(name)
    if ctx is None or reader is None:
        empty = _OUTSIDE.get(name)
        return empty() if empty is not None else None
    return reader(ctx)


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    value = mocked("task_run", name, lambda: _value(name))
    if value is not MISSING:
        return value
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _value(name)


def __dir__() -> list[str]:
    return list(__all__)

"""The current task run, attribute by attribute (`sdk.runtime.task_run.id`, `.name`, ...).

Outside a task run: `id`, `name`, `task_name` are None, `parameters` is `{}`, `tags` is
`[]`, `run_count` is 0.
"""
from __future__ import annotations

from typing import Any

from sdk.context import task_run_var
from sdk.runtime.mocking import RuntimeValues

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


_VALUES = RuntimeValues("task_run", __all__, task_run_var.get, _READERS, _OUTSIDE)


def __getattr__(name: str) -> Any:
    return _VALUES.attribute(__name__, name)


def __dir__() -> list[str]:
    return list(__all__)

"""The current flow run, attribute by attribute (`sdk.runtime.flow_run.id`, `.name`, ...).

Inside a task, these describe the flow run the task belongs to. Outside a flow run:
`id`, `name`, `flow_name`, `flow_version` and the parent ids are None, `parameters` is
`{}`, `tags` is `[]`, `run_count` is 0, `scheduled_start_time` is now.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sdk.context import flow_run_var, task_run_var
from sdk.runtime.mocking import RuntimeValues

__all__ = ["id", "name", "flow_name", "flow_version", "parameters", "tags", "run_count",
           "parent_flow_run_id", "parent_deployment_id", "root_flow_run_id", "scheduled_start_time",
           "deployment_id", "api_url", "ui_url", "job_variables"]


def _current() -> Any:
    ctx = flow_run_var.get()
    if ctx is None:
        task_ctx = task_run_var.get()
        ctx = task_ctx.flow_run_context if task_ctx is not None else None
    return ctx


def _root_id(ctx: Any) -> Any:
    return ctx.flow_run.id  # ids of ancestors live on the server; the run itself is the best answer here


_READERS = {
    "id": lambda ctx: ctx.flow_run.id,
    "name": lambda ctx: ctx.flow_run.name,
    "flow_name": lambda ctx: ctx.flow.name,
    "flow_version": lambda ctx: ctx.flow.version,
    "parameters": lambda ctx: dict(ctx.parameters),
    "tags": lambda ctx: list(ctx.flow_run.tags),
    "run_count": lambda ctx: ctx.flow_run.run_count,
    "parent_flow_run_id": lambda ctx: ctx.flow_run.parent_flow_run_id,
    "root_flow_run_id": _root_id,
    # when the run started running (runs here are never scheduled ahead)
    "scheduled_start_time": lambda ctx: ctx.flow_run.state.timestamp if ctx.flow_run.state is not None else None,
}
# Outside a run, as Prefect: empty values, and "now" for the start time (so it formats).
_OUTSIDE = {"parameters": dict, "tags": list, "run_count": lambda: 0, "job_variables": dict,
            "scheduled_start_time": lambda: datetime.now(timezone.utc)}


_VALUES = RuntimeValues("flow_run", __all__, _current, _READERS, _OUTSIDE)


def __getattr__(name: str) -> Any:
    return _VALUES.attribute(__name__, name)


def __dir__() -> list[str]:
    return list(__all__)

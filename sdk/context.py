"""What is running right now: the flow run and task run contexts, and `tags`.

Context lives in contextvars, so each thread (and each submitted task, which
runs in a copy of its submitter's context) sees its own.
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from sdk.exceptions import MissingContextError

if TYPE_CHECKING:
    from sdk.flows import Flow
    from sdk.engine.runs import FlowRun, TaskRun
    from sdk.task_runners import ThreadPoolTaskRunner
    from sdk.tasks import Task

__all__ = ["FlowRunContext", "TaskRunContext", "get_run_context", "tags", "current_tags"]


class FlowRunContext:
    """The flow run being executed.

    Attributes: `flow` (the Flow), `flow_run` (its FlowRun: `.id`, `.name`,
    `.run_count`), `parameters` (the call's parameters), `task_runner` (where
    `.submit()` and `.map()` send work), `log_prints` (effective setting).
    """

    __slots__ = ("flow", "flow_run", "parameters", "task_runner", "log_prints")

    def __init__(self, flow: Flow, flow_run: FlowRun, parameters: dict, task_runner: ThreadPoolTaskRunner, log_prints: bool) -> None:
        self.flow = flow
        self.flow_run = flow_run
        self.parameters = parameters
        self.task_runner = task_runner
        self.log_prints = log_prints


class TaskRunContext:
    """The task run being executed; also what `cache_key_fn(context, parameters)` receives.

    Attributes: `task` (the Task: `.fn`, `.name`, `.task_key`), `task_run`
    (its TaskRun: `.id`, `.name`, `.run_count`, `.flow_run_id`), `parameters`
    (the resolved inputs the function is called with), `flow_run_context`
    (the enclosing FlowRunContext or None), `log_prints` (effective setting).
    """

    __slots__ = ("task", "task_run", "parameters", "flow_run_context", "log_prints")

    def __init__(self, task: Task, task_run: TaskRun, parameters: dict, flow_run_context: FlowRunContext | None, log_prints: bool) -> None:
        self.task = task
        self.task_run = task_run
        self.parameters = parameters
        self.flow_run_context = flow_run_context
        self.log_prints = log_prints

    @property
    def flow_run(self) -> FlowRun | None:
        ctx = self.flow_run_context
        return ctx.flow_run if ctx is not None else None


flow_run_var: contextvars.ContextVar[FlowRunContext | None] = contextvars.ContextVar("sdk_flow_run", default=None)
# The innermost task run; a flow run called from a task resets it to None for its body.
task_run_var: contextvars.ContextVar[TaskRunContext | None] = contextvars.ContextVar("sdk_task_run", default=None)
_tags_var: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("sdk_tags", default=())


def innermost_run() -> TaskRunContext | FlowRunContext | None:
    return task_run_var.get() or flow_run_var.get()


def get_run_context() -> TaskRunContext | FlowRunContext:
    """The innermost task or flow run context; MissingContextError outside any run."""
    ctx = innermost_run()
    if ctx is None:
        raise MissingContextError("No flow or task run is active: call this from inside a @flow or @task.")
    return ctx


def current_tags() -> tuple[str, ...]:
    return _tags_var.get()


@contextmanager
def tags(*new_tags: str) -> Iterator[set[str]]:
    """Add tags to every flow and task run created inside the block."""
    for tag in new_tags:
        if not isinstance(tag, str):
            raise TypeError(f"tags must be strings, got {type(tag).__name__}: {tag!r}")
    current = _tags_var.get()
    merged = current + tuple(t for t in dict.fromkeys(new_tags) if t not in current)
    token = _tags_var.set(merged)
    try:
        yield set(merged)
    finally:
        _tags_var.reset(token)


def merge_tags(own: tuple[str, ...]) -> tuple[str, ...]:
    """A run's tags: its task's own tags, then those of the enclosing `tags()` blocks."""
    ctx_tags = _tags_var.get()
    if not own:
        return ctx_tags
    if not ctx_tags:
        return own
    return tuple(dict.fromkeys((*own, *ctx_tags)))

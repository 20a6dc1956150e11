"""Everything the workers use from the SDK's engine, imported here and nowhere else in sdk/workers,
so a move of the engine's internals changes this one file."""
from __future__ import annotations

import itertools
import time
from typing import Any

from sdk import events, logs
from sdk.context import FlowRunContext, flow_run_var, task_run_var
from sdk.flow_engine import _run_attempts as _run_flow_attempts
from sdk.flows import Flow
from sdk.hooks import run_state_hooks
from sdk.rendering import NO_RESULT, json_result
from sdk.runs import FlowRun, TaskRun, describe_error
from sdk.states import Crashed, State, StateType
from sdk.task_engine import run_task
from sdk.tasks import Task

__all__ = [
    "Flow", "Task", "State", "StateType", "TaskRun", "FlowRun", "Crashed", "existing_task_run", "existing_flow_run",
    "run_task_run", "run_flow_run", "is_json_result", "store_result", "read_result", "get_sink", "set_sink",
    "emit", "flush", "replay_spool", "describe_error", "result_key", "background_context",
]

get_sink = events.get_sink
set_sink = events.set_sink
emit = events.emit
flush = events.flush


def _resume_numbering(run: TaskRun | FlowRun, run_id: str, run_count: int) -> None:
    """The run keeps the server's id and attempt count; its events are numbered by the clock, like the
    server's own (orchestrator/run_states.py), so they sort after everything already in its timeline."""
    run.id = run_id
    run.run_count = run_count
    run._seq = itertools.count(time.time_ns() // 1000)


def existing_task_run(task: Task, run_id: str, name: str, flow_run_id: str | None, tags: list[str],
                      run_count: int) -> TaskRun:
    run = TaskRun(name or task.name, task.task_key, task.name, flow_run_id, None, tuple(tags or ()), ())
    _resume_numbering(run, run_id, run_count)
    return run


def existing_flow_run(flow: Flow, run_id: str, name: str, parameters: dict[str, Any], tags: list[str],
                      run_count: int) -> FlowRun:
    run = FlowRun(name or flow.name, flow.name, parameters, tuple(tags or ()), None, None, flow.version)
    _resume_numbering(run, run_id, run_count)
    return run


def run_task_run(task: Task, run: TaskRun, parameters: dict[str, Any]) -> State:
    """Run an existing task run's attempts in this thread; returns the final state."""
    return run_task(task, run, parameters, None, False)


def run_flow_run(flow: Flow, run: FlowRun, parameters: dict[str, Any]) -> State:
    """Run an existing flow run again (what sdk.flow_engine.run_flow does after creating one)."""
    runner = flow.task_runner.duplicate()
    ctx = FlowRunContext(flow, run, parameters, runner, logs.effective_log_prints(flow.log_prints))
    flow_token = flow_run_var.set(ctx)
    task_token = task_run_var.set(None)
    try:
        state = _run_flow_attempts(flow, run, ctx)
        logs.flow_run_finished(run, state)
        run_state_hooks(flow, run, state)
    finally:
        task_run_var.reset(task_token)
        flow_run_var.reset(flow_token)
        runner.shutdown()
    return state


def is_json_result(value: Any) -> bool:
    return json_result(value) is not NO_RESULT


def result_key(run_id: str) -> str:
    """The result-store key of a background run's result that is not JSON."""
    return f"background-result:{run_id}"


def store_result(run_id: str, value: Any) -> None:
    from sdk.results import get_result_store

    get_result_store().write(result_key(run_id), value)


def read_result(run_id: str) -> tuple[bool, Any]:
    """(found, value) from the local result store."""
    from sdk.results import get_result_store

    record = get_result_store().read(result_key(run_id))
    return (False, None) if record is None else (True, record.value)


def replay_spool() -> None:
    """Send events a dead process left in the spool.
    # hook: calls the SDK's public replay function once engineer `sdk` adds it; until then the
    # shipping sink replays the spool by itself on its first successful delivery, which flush() causes.
    """
    replay = getattr(__import__("sdk.shipping", fromlist=["replay_spool"]), "replay_spool", None)
    if replay is not None:
        replay()
        return
    flush(timeout=5)


def background_context(task: Task) -> tuple[str | None, str | None, tuple[str, ...]]:
    """(flow run id, parent task run id, tags) for a `.delay()` made here: the caller's run, if any."""
    from sdk.context import merge_tags

    flow_ctx = flow_run_var.get()
    task_ctx = task_run_var.get()
    return (
        flow_ctx.flow_run.id if flow_ctx is not None else None,
        task_ctx.task_run.id if task_ctx is not None else None,
        tuple(merge_tags(task.tags)),
    )

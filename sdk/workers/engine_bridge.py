"""Everything the workers use from the SDK's engine, imported here and nowhere else in sdk/workers,
so a move of the engine's internals changes this one file."""
from __future__ import annotations

import itertools
import time
from typing import Any

from sdk import events, logs
from sdk.caching.result_store import get_result_store
from sdk.context import FlowRunContext, flow_run_var, task_run_var
from sdk.engine.attempts import run_to_final_state
from sdk.engine.errors import describe_error
from sdk.engine.flow_engine import _run_attempts as _run_flow_attempts
from sdk.engine.rendering import NO_RESULT, json_result
from sdk.engine.runs import FlowRun, TaskRun
from sdk.engine.task_engine import run_task
from sdk.flows import Flow
from sdk.shipping import replay_spool as _replay_spool
from sdk.states import Crashed, State, StateType
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
    run = TaskRun(name=name or task.name, task_key=task.task_key, task_name=task.name, flow_run_id=flow_run_id,
                  parent_task_run_id=None, tags=tuple(tags or ()))
    _resume_numbering(run, run_id, run_count)
    return run


def existing_flow_run(flow: Flow, run_id: str, name: str, parameters: dict[str, Any], tags: list[str],
                      run_count: int) -> FlowRun:
    run = FlowRun(name=name or flow.name, flow_name=flow.name, parameters=parameters, tags=tuple(tags or ()),
                  version=flow.version)
    _resume_numbering(run, run_id, run_count)
    return run


def run_task_run(task: Task, run: TaskRun, parameters: dict[str, Any]) -> State:
    """Run an existing task run's attempts in this thread; returns the final state."""
    return run_task(task, run, parameters, None, False)


def run_flow_run(flow: Flow, run: FlowRun, parameters: dict[str, Any]) -> State:
    """Run an existing flow run again (what sdk.flow_engine.run_flow does after creating one)."""
    runner = flow.task_runner.duplicate()
    ctx = FlowRunContext(flow=flow, flow_run=run, parameters=parameters, task_runner=runner,
                         log_prints=logs.effective_log_prints(flow.log_prints))
    try:
        return run_to_final_state(flow, run, ctx, ((flow_run_var, ctx), (task_run_var, None)),
                                  _run_flow_attempts, logs.flow_run_finished)
    finally:
        runner.shutdown()


def is_json_result(value: Any) -> bool:
    return json_result(value) is not NO_RESULT


def result_key(run_id: str) -> str:
    """The result-store key of a background run's result that is not JSON."""
    return f"background-result:{run_id}"


def store_result(run_id: str, value: Any) -> None:
    get_result_store().write(result_key(run_id), value)


def read_result(run_id: str) -> tuple[bool, Any]:
    """(found, value) from the local result store."""
    record = get_result_store().read(result_key(run_id))
    return (False, None) if record is None else (True, record.value)


def replay_spool() -> None:
    """Send events a dead process left in the spool (a worker does this when it starts)."""
    _replay_spool()


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

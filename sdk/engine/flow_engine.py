"""Running flow runs: attempts with retries and a time limit, waiting for every submitted
task, and the final state derived from what the flow returned.

    created (Pending) → Running → [Completed | Failed/TimedOut | AwaitingRetry → Retrying → ...]
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from sdk import logs
from sdk.context import FlowRunContext, flow_run_var, merge_tags, task_run_var
from sdk.engine.attempts import run_to_final_state, wait_for_next_attempt
from sdk.engine.errors import describe_error
from sdk.engine.rendering import render_parameters
from sdk.engine.resolution import UpstreamNotReady, collect_upstream_states, resolve, resolve_parameters
from sdk.engine.retries import next_delay
from sdk.engine.runs import FlowRun
from sdk.engine.timeouts import TimeLimitReached, call_with_timeout
from sdk.exceptions import FlowRunTimeout, UpstreamTaskError
from sdk.states import Completed, Crashed, Failed, Pending, Retrying, Running, State, TimedOut, worst_state

if TYPE_CHECKING:
    from sdk.flows import Flow

__all__ = ["run_flow"]


def run_flow(flow: Flow, parameters: dict[str, Any], return_state: bool) -> Any:
    parent_flow = flow_run_var.get()
    parent_task = task_run_var.get()
    run = FlowRun(
        name=flow.run_name(parameters),
        flow_name=flow.name,
        parameters=parameters,
        tags=merge_tags(()),
        parent_flow_run_id=parent_flow.flow_run.id if parent_flow is not None else None,
        parent_task_run_id=parent_task.task_run.id if parent_task is not None else None,
        version=flow.version,
    )
    run.emit_created(render_parameters(parameters), Pending())  # the created event carries Pending
    logs.flow_run_created(run)

    runner = flow.task_runner.duplicate()
    ctx = FlowRunContext(flow=flow, flow_run=run, parameters=parameters, task_runner=runner,
                         log_prints=logs.effective_log_prints(flow.log_prints))
    # The flow body is not inside the task that called it (if any): no current task run.
    context = ((flow_run_var, ctx), (task_run_var, None))
    try:
        state = run_to_final_state(flow, run, ctx, context, _run_attempts, logs.flow_run_finished)
    finally:
        runner.shutdown()
    if return_state:
        return state
    return state.result()


def _run_attempts(flow: Flow, run: FlowRun, ctx: FlowRunContext) -> State:
    while True:
        run.run_count += 1
        run.set_state(Running() if run.run_count == 1 else Retrying())
        try:
            state, error = _run_body(flow, ctx)
        except BaseException as exc:
            run.set_state(Crashed(f"Execution was interrupted by {type(exc).__name__}", exc))
            raise
        if state.is_failed() and run.run_count <= flow.retries:
            delay = next_delay(flow.retry_delays, retries_done=run.run_count - 1)
            wait_for_next_attempt(run, state.data, delay=delay, retries=flow.retries)
            continue
        if error is not None:
            logs.run_failed(run, error, retries_exhausted=flow.retries > 0)
        return run.set_state(state)


def _run_body(flow: Flow, ctx: FlowRunContext) -> tuple[State, BaseException | None]:
    """One attempt: call the function, wait for its tasks, derive the state.

    Returns the state and the exception the body raised, if it did."""
    runner = ctx.task_runner
    seconds = flow.timeout_seconds
    deadline = None if seconds is None else time.monotonic() + seconds
    try:  # a child flow may be given futures of its parent's tasks
        ctx.parameters = resolve_parameters(ctx.parameters)
    except UpstreamNotReady as exc:
        return Failed(str(exc), UpstreamTaskError(str(exc))), None
    except Exception as exc:  # rebuilding an argument failed
        return Failed(f"Could not resolve the flow's parameters: {describe_error(exc)}", exc), exc
    try:
        if seconds is None:
            value = flow.signature.call(flow.fn, ctx.parameters)
        else:
            value = call_with_timeout(flow.signature.call, (flow.fn, ctx.parameters), {}, seconds)
    except TimeLimitReached:
        return _timed_out(seconds), None
    except Exception as exc:
        runner.wait_for_all(_remaining(deadline))
        return Failed(f"Flow run encountered an exception: {describe_error(exc)}", exc), exc
    if not runner.wait_for_all(_remaining(deadline)):
        return _timed_out(seconds), None
    return state_from_return(value), None


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def _timed_out(seconds: float | None) -> State:
    message = f"Flow run exceeded timeout of {seconds:g} second(s)"
    return TimedOut(message, FlowRunTimeout(message))


def state_from_return(value: Any) -> State:
    """A returned State is the final state; returned futures/states give the worst of theirs."""
    if isinstance(value, State):
        return value
    states = collect_upstream_states(value)
    if not states:
        return Completed(data=value)
    state = worst_state(states)
    if state.is_completed():
        state.data = resolve(value)
    return state

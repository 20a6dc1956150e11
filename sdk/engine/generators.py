"""Flows and tasks that are generator functions, as in Prefect: calling one returns a
generator; each value the body yields is passed on as it comes; the run is `Running`
while the caller iterates and ends when the body returns (its return value is the run's
result), raises (Failed, the error reaches the caller) or is closed early (Completed).

The run's context is set only while the body runs (each `next()`), never while the
caller holds a value, so what the caller does between values is not part of the run.
A generator run is not retried (values already handed out cannot be taken back) and
cannot be `.submit()`-ted or mapped.
"""
from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING, Any, Callable, Iterator

from sdk import logs
from sdk.context import TaskRunContext, flow_run_var, task_run_var
from sdk.engine.errors import describe_error
from sdk.engine.hooks import run_hooks, run_state_hooks
from sdk.engine.resolution import UpstreamNotReady, resolve_parameters
from sdk.exceptions import UpstreamTaskError
from sdk.states import Completed, Crashed, Failed, NotReady, Running, State

if TYPE_CHECKING:
    from sdk.flows import Flow
    from sdk.tasks import Task

__all__ = ["generator_flow", "generator_task"]

Context = tuple[tuple[contextvars.ContextVar, Any], ...]


def _enter(context: Context) -> list:
    return [(var, var.set(value)) for var, value in context]


def _leave(tokens: list) -> None:
    for var, token in reversed(tokens):
        var.reset(token)


def _drive(owner: Any, run: Any, ctx: Any, context: Context, report_final: Callable[[Any, State], None],
           final_state: Callable[[Any], State], finish: Callable[[], None]) -> Iterator[Any]:
    """Run the body of `owner` as a generator inside its run (see the module docstring)."""

    def end(state: State, error: BaseException | None = None) -> None:
        tokens = _enter(context)
        try:
            finish()
            if error is not None:
                logs.run_failed(run, error)
            run.set_state(state)
            report_final(run, state)
        finally:
            _leave(tokens)
        run_state_hooks(owner, run, state)  # outside the run, as for other runs

    tokens = _enter(context)
    try:
        run.run_count += 1
        running = run.set_state(Running())
        if owner.on_running_hooks:
            run_hooks(owner.on_running_hooks, owner, run, running)
        body = owner.signature.call(owner.fn, ctx.parameters)
    except BaseException as exc:
        _leave(tokens)
        end(Failed(f"Run encountered an exception: {describe_error(exc)}", exc), exc)
        raise
    _leave(tokens)
    try:
        while True:
            tokens = _enter(context)
            try:
                value = next(body)
            except StopIteration as stop:
                returned = stop.value
                break
            finally:
                _leave(tokens)
            yield value
    except GeneratorExit:  # the caller stopped iterating: the run ends there, completed
        body.close()
        end(Completed(message="Generator closed before it was exhausted"))
        raise
    except Exception as exc:
        end(Failed(f"Run encountered an exception: {describe_error(exc)}", exc), exc)
        raise
    except BaseException as exc:
        end(Crashed(f"Execution was interrupted by {type(exc).__name__}", exc))
        raise
    state = final_state(returned)
    end(state)
    return returned


def generator_flow(flow: Flow, parameters: dict[str, Any]) -> Iterator[Any]:
    """A generator flow's call: the run starts when the caller asks for the first value."""
    from sdk.engine.flow_engine import start_flow_run, state_from_return, validate_before_start

    run, ctx, context = start_flow_run(flow, parameters)
    if flow.parameter_validator is not None:
        tokens = _enter(context)
        try:
            failed = validate_before_start(flow, run, ctx)
        finally:
            _leave(tokens)
        if failed is not None:
            ctx.task_runner.shutdown()
            logs.flow_run_finished(run, failed)
            run_state_hooks(flow, run, failed)
            failed.result()  # raises the validation error

    def finish() -> None:
        ctx.task_runner.wait_for_all(None)  # a flow waits for every task it submitted
        ctx.task_runner.shutdown()

    return (yield from _drive(flow, run, ctx, context, logs.flow_run_finished, state_from_return, finish))


def generator_task(task: Task, parameters: dict[str, Any], wait_for: Any) -> Iterator[Any]:
    """A generator task's direct call (inputs resolved first, as for any task)."""
    from sdk.engine.task_engine import create_task_run

    run, needs_resolution = create_task_run(task, parameters, wait_for)
    try:
        inputs = resolve_parameters(parameters, wait_for) if needs_resolution else parameters
    except UpstreamNotReady as exc:
        state = run.set_state(NotReady(str(exc), UpstreamTaskError(str(exc))))
        logs.task_run_finished(run, state)
        raise state.data from None
    ctx = TaskRunContext(task=task, task_run=run, parameters=inputs, flow_run_context=flow_run_var.get(),
                         log_prints=logs.effective_log_prints(task.log_prints))
    return (yield from _drive(task, run, ctx, ((task_run_var, ctx),), logs.task_run_finished,
                              lambda returned: Completed(data=returned), lambda: None))

"""Running task runs: create the run, resolve its inputs, run its attempts, report the result.

The one place a task run's life is decided. Retries, time limits, hooks and
caching each live in their own module; this file only sequences them:

    created (Pending) → (inputs resolved, or NotReady) → Running
            → [Cached | Completed | Failed/TimedOut | AwaitingRetry → Retrying → ...]
"""
from __future__ import annotations

import contextvars
import os
from typing import TYPE_CHECKING, Any

from sdk import logs
from sdk.caching import task_cache
from sdk.context import TaskRunContext, flow_run_var, merge_tags, task_run_var
from sdk.engine.attempts import run_to_final_state, wait_for_next_attempt
from sdk.engine.errors import describe_error
from sdk.engine.rendering import render_parameters
from sdk.engine.resolution import UpstreamNotReady, find_upstreams, resolve_parameters
from sdk.engine.retries import condition_allows, next_delay
from sdk.engine.runs import TaskRun
from sdk.engine.timeouts import TimeLimitReached, call_with_timeout
from sdk.exceptions import TaskRunTimeout, UpstreamTaskError
from sdk.futures import TaskRunFuture
from sdk.states import (Cached, Completed, Crashed, Failed, NotReady, Pending, Retrying, Running, State,
                        TimedOut)
from sdk.task_runners import ThreadPoolTaskRunner

if TYPE_CHECKING:
    from sdk.tasks import Task

__all__ = ["call_task", "submit_task", "default_task_runner"]

_default_runner: ThreadPoolTaskRunner | None = None


def default_task_runner() -> ThreadPoolTaskRunner:
    """The runner for `.submit()` outside any flow run."""
    global _default_runner
    if _default_runner is None:
        _default_runner = ThreadPoolTaskRunner()
    return _default_runner


def _forget_default_runner() -> None:
    global _default_runner
    _default_runner = None  # its threads did not survive the fork


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_default_runner)


def create_task_run(task: Task, parameters: dict[str, Any], wait_for: Any) -> tuple[TaskRun, bool]:
    """Make the run record and report it (a created event carrying Pending); also says if inputs need resolving."""
    flow_ctx = flow_run_var.get()
    parent = task_run_var.get()
    upstream_ids, needs_resolution = find_upstreams(parameters, wait_for)
    run = TaskRun(
        name=task.run_name(parameters),
        task_key=task.task_key,
        task_name=task.name,
        flow_run_id=flow_ctx.flow_run.id if flow_ctx is not None else None,
        parent_task_run_id=parent.task_run.id if parent is not None else None,
        tags=merge_tags(task.tags),
        upstream_task_run_ids=upstream_ids,
    )
    run.emit_created(render_parameters(parameters), Pending())  # the created event carries Pending
    return run, needs_resolution


def call_task(task: Task, parameters: dict[str, Any], wait_for: Any, return_state: bool) -> Any:
    """A direct call: run in this thread, return the result (or the final state)."""
    run, needs_resolution = create_task_run(task, parameters, wait_for)
    state = run_task(task, run, parameters, wait_for, needs_resolution)
    if return_state:
        return state
    return state.result()


def submit_task(task: Task, parameters: dict[str, Any], wait_for: Any) -> TaskRunFuture:
    """`.submit()`: create the run now, run it on the flow's task runner, return its future."""
    flow_ctx = flow_run_var.get()
    runner = flow_ctx.task_runner if flow_ctx is not None else default_task_runner()
    run, needs_resolution = create_task_run(task, parameters, wait_for)
    future = TaskRunFuture(run, runner)
    runner.submit_job(future, _Job(task, run, parameters, wait_for, needs_resolution, future))
    return future


class _Job:
    """One submitted task run, to be run by whichever thread claims it first."""

    __slots__ = ("task", "run", "parameters", "wait_for", "needs_resolution", "future", "context")

    def __init__(self, task: Task, run: TaskRun, parameters: dict[str, Any], wait_for: Any,
                 needs_resolution: bool, future: TaskRunFuture) -> None:
        self.task = task
        self.run = run
        self.parameters = parameters
        self.wait_for = wait_for
        self.needs_resolution = needs_resolution
        self.future = future
        self.context = contextvars.copy_context()  # the submitter's flow, task and tags

    def __call__(self) -> None:
        run = self.run
        try:
            state = self.context.run(run_task, self.task, run, self.parameters, self.wait_for, self.needs_resolution)
        except BaseException as exc:  # an interrupt, or a bug in the engine: never leave a future hanging
            state = run.set_state(Crashed(f"Execution was interrupted by {describe_error(exc)}", exc))
        self.future.set_final(state)


def run_task(task: Task, run: TaskRun, parameters: dict[str, Any], wait_for: Any, needs_resolution: bool) -> State:
    """Resolve inputs, run the attempts, run hooks; returns the final state (never raises an Exception)."""
    flow_ctx = flow_run_var.get()
    try:
        inputs = resolve_parameters(parameters, wait_for) if needs_resolution else parameters
    except UpstreamNotReady as exc:
        state = run.set_state(NotReady(str(exc), UpstreamTaskError(str(exc))))
        logs.task_run_finished(run, state)
        return state
    except Exception as exc:  # rebuilding an argument failed, e.g. a __post_init__ that raises
        logs.run_failed(run, exc)
        state = run.set_state(Failed(f"Could not resolve the task's inputs: {describe_error(exc)}", exc))
        logs.task_run_finished(run, state)
        return state
    ctx = TaskRunContext(task, run, inputs, flow_ctx, logs.effective_log_prints(task.log_prints))
    return run_to_final_state(task, run, ctx, ((task_run_var, ctx),), _run_attempts, logs.task_run_finished)


def _run_attempts(task: Task, run: TaskRun, ctx: TaskRunContext) -> State:
    key = None
    if task.cache_policy_in_effect is not None:
        try:
            key = task_cache.compute_key(task.cache_policy_in_effect, ctx)
        except Exception as exc:
            logs.run_failed(run, exc)
            return run.set_state(Failed(f"Could not compute the cache key: {describe_error(exc)}", exc))
    while True:
        run.run_count += 1
        run.set_state(Running() if run.run_count == 1 else Retrying())
        if key is not None and not task.refresh_cache:
            value = task_cache.read(key)
            if value is not task_cache.MISS:
                return run.set_state(Cached(data=value))
        try:
            result = _call(task, ctx)
        except Exception as exc:
            if isinstance(exc, TimeLimitReached):
                message = f"Task run {exc}"
                state = TimedOut(message, TaskRunTimeout(message))
                exc = state.data
            else:
                state = Failed(f"Task run encountered an exception {describe_error(exc)}", exc)
            retries_done = run.run_count - 1
            if retries_done < task.retries and condition_allows(task.retry_condition_fn, task, run, state):
                delay = next_delay(task.retry_delays, jitter=task.retry_jitter_factor, retries_done=retries_done)
                wait_for_next_attempt(run, exc, delay=delay, retries=task.retries)
                continue
            logs.run_failed(run, exc, retries_exhausted=task.retries > 0)
            return run.set_state(state)
        except BaseException as exc:
            run.set_state(Crashed(f"Execution was interrupted by {type(exc).__name__}", exc))
            raise
        if isinstance(result, State):  # a task may decide its own final state, as in Prefect
            return run.set_state(result)
        if key is not None and task.persist_result is not False:
            task_cache.write(key, result, task.cache_expiration, run.label)
        return run.set_state(Completed(data=result))


def _call(task: Task, ctx: TaskRunContext) -> Any:
    if task.timeout_seconds is None:
        return task.signature.call(task.fn, ctx.parameters)
    return call_with_timeout(task.signature.call, (task.fn, ctx.parameters), {}, task.timeout_seconds)

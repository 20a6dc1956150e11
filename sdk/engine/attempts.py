"""What the task and flow engines share around a run's attempts: entering the run's
context, waiting before a retry, and the end of a run (final state reported, state
hooks run, context left as it was)."""
from __future__ import annotations

import contextvars
import time
from typing import Any, Callable

from sdk import logs
from sdk.engine.hooks import run_state_hooks
from sdk.engine.runs import FlowRun, TaskRun
from sdk.states import AwaitingRetry, State

__all__ = ["run_to_final_state", "wait_for_next_attempt"]


def run_to_final_state(owner: Any, run: Any, run_context: Any,
                       context: tuple[tuple[contextvars.ContextVar, Any], ...],
                       attempts: Callable[[Any, Any, Any], State],
                       report_final: Callable[[Any, State], None]) -> State:
    """With `context` (context variables and their values) set, run `attempts(owner, run,
    run_context)` to the final state, report it, run `owner`'s state hooks (a hook never
    changes the state); the context is restored after."""
    tokens = []
    for var, value in context:
        tokens.append(var.set(value))
    try:
        state = attempts(owner, run, run_context)
        report_final(run, state)
        run_state_hooks(owner, run, state)
        return state
    finally:
        for token in tokens:  # distinct variables: any order restores them
            token.var.reset(token)


def wait_for_next_attempt(run: TaskRun | FlowRun, error: BaseException | None, *, delay: float, retries: int) -> None:
    """A failed attempt will be retried: log it, enter AwaitingRetry, wait the delay."""
    logs.attempt_will_be_retried(run, error, retries=retries, delay=delay)
    run.set_state(AwaitingRetry(f"Retry {run.run_count}/{retries} will start {delay:g} second(s) from now"))
    if delay > 0:
        time.sleep(delay)

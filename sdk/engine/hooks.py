"""State hooks: `on_running` when a run starts an attempt; `on_completion`, `on_failure`,
`on_crashed` (flows), `on_cancellation` (flows) after its final state."""
from __future__ import annotations

import inspect
import logging
from typing import Any, Callable

from sdk.engine.coroutines import run_to_completion

__all__ = ["check_hooks", "run_state_hooks", "run_hooks"]

Hook = Callable[[Any, Any, Any], Any]


def check_hooks(option: str, hooks: Any) -> list[Hook]:
    if hooks is None:
        return []
    if callable(hooks):
        hooks = [hooks]
    hooks = list(hooks) if isinstance(hooks, (list, tuple)) else hooks
    if not isinstance(hooks, list) or not all(callable(h) for h in hooks):
        raise TypeError(f"{option} must be a list of callables f(obj, run, state), got {hooks!r}")
    return hooks


def run_state_hooks(owner: Any, run: Any, state: Any) -> None:
    """Call the task's/flow's hooks that match the final `state`; a hook that raises is logged
    and does not change the state. A crashed flow runs `on_crashed`; a crashed task, `on_failure`."""
    if state.is_completed():
        hooks = owner.on_completion_hooks
    elif state.is_failed():
        hooks = owner.on_failure_hooks
    elif state.is_crashed():
        hooks = getattr(owner, "on_crashed_hooks", None)
        if hooks is None:
            hooks = owner.on_failure_hooks
    elif state.is_cancelled():
        hooks = getattr(owner, "on_cancellation_hooks", ())
    else:
        return
    if hooks:
        run_hooks(hooks, owner, run, state)


def run_hooks(hooks: list[Hook], owner: Any, run: Any, state: Any) -> None:
    """Call each hook `hook(owner, run, state)`; one that raises is logged and ignored."""
    for hook in hooks:
        try:
            result = hook(owner, run, state)
            if inspect.iscoroutine(result):  # an `async def` hook
                run_to_completion(result)
        except Exception:
            name = getattr(hook, "__name__", repr(hook))
            logging.getLogger("sdk.engine").exception("Hook %r for %s raised; ignored", name, run.label)

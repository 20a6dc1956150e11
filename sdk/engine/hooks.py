"""State hooks: `on_completion` / `on_failure` callables run after a run's final state."""
from __future__ import annotations

import inspect
import logging
from typing import Any, Callable

from sdk.engine.coroutines import run_to_completion

__all__ = ["check_hooks", "run_state_hooks"]

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
    """Call the task's/flow's hooks that match `state` (`on_completion` or `on_failure`);
    a hook that raises is logged and does not change the state."""
    if state.is_completed():
        hooks = owner.on_completion
    elif state.is_failed() or state.is_crashed():
        hooks = owner.on_failure
    else:
        return
    for hook in hooks:
        try:
            result = hook(owner, run, state)
            if inspect.iscoroutine(result):  # an `async def` hook
                run_to_completion(result)
        except Exception:
            name = getattr(hook, "__name__", repr(hook))
            logging.getLogger("sdk.engine").exception("Hook %r for %s raised; ignored", name, run.label)

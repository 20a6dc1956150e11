"""Time limits: run a body on a daemon thread and stop waiting for it at the deadline.

Python cannot kill a thread, so a body that overruns is abandoned: the caller
gets the timeout error at the deadline and carries on; the body thread keeps
running in the background until its code returns, and its result is dropped.
"""
from __future__ import annotations

import contextvars
import threading
from typing import Any, Callable

__all__ = ["call_with_timeout", "TimeLimitReached"]


class TimeLimitReached(Exception):
    """This run's own time limit passed (the engine turns it into a TimedOut state).

    Not the public TaskRunTimeout/FlowRunTimeout: a nested run that timed out raises
    those out of the body, and must not be taken for the time limit of the run around it."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"exceeded timeout of {seconds:g} second(s)")
        self.seconds = seconds


def call_with_timeout(fn: Callable[..., Any], args: tuple, kwargs: dict, seconds: float) -> Any:
    """`fn(*args, **kwargs)` in the current context; raises TimeLimitReached after `seconds`."""
    outcome: list[Any] = []
    finished = threading.Lock()
    finished.acquire()
    context = contextvars.copy_context()

    def body() -> None:
        try:
            outcome.append((True, context.run(fn, *args, **kwargs)))
        except BaseException as exc:  # handed to the waiting caller
            outcome.append((False, exc))
        finally:
            finished.release()

    name = f"sdk-timeout-{getattr(fn, '__name__', 'body')}"
    threading.Thread(target=body, name=name, daemon=True).start()
    if not finished.acquire(timeout=seconds):
        raise TimeLimitReached(seconds)
    ok, value = outcome[0]
    if ok:
        return value
    raise value

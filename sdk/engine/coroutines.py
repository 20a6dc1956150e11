"""Async tasks and flows on a synchronous engine.

The engine is synchronous (STYLE: sync first). An `async def` task or flow
body runs to completion on an event loop of its own (`asyncio.run`) in the
thread that runs the engine. Calling an async task or flow returns a
coroutine, as in Prefect; awaiting it runs the engine in a worker thread
(`asyncio.to_thread`, context included), so the caller's loop keeps going.
`.submit()` and `.map()` work as for sync tasks.

The one difference from Prefect: the body's loop is not the caller's, so an
object bound to the caller's event loop (a client session, an asyncio.Lock)
cannot be used inside the task. asyncio is imported on first use.
"""
from __future__ import annotations

from typing import Any, Callable, Coroutine

__all__ = ["run_to_completion", "in_worker_thread"]


def run_to_completion(coroutine: Coroutine[Any, Any, Any]) -> Any:
    import asyncio

    return asyncio.run(coroutine)


async def _in_thread(fn: Callable[..., Any], args: tuple) -> Any:
    import asyncio

    return await asyncio.to_thread(fn, *args)


def in_worker_thread(fn: Callable[..., Any], *args: Any) -> Coroutine[Any, Any, Any]:
    """A coroutine that runs `fn(*args)` in a worker thread and returns its result."""
    return _in_thread(fn, args)

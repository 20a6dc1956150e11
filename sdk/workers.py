"""Background task workers (`serve`, `Task.delay`): not available yet (SPEC §5, a later issue)."""
from __future__ import annotations

from typing import Any, NoReturn

__all__ = ["serve", "NOT_AVAILABLE"]

NOT_AVAILABLE = (
    "Background task workers are not available yet: serve() and Task.delay() need the "
    "server-side task queue, which this version of the SDK does not ship. Call the task "
    "directly or use .submit() inside a flow instead."
)


def serve(*tasks_or_flows: Any, **options: Any) -> NoReturn:
    """Start a task worker for these tasks/flows (not available yet)."""
    raise NotImplementedError(NOT_AVAILABLE)

"""Task workers and background runs (SPEC §5).

    serve(*tasks_or_flows)                      run a task worker for these (blocks)
    python -m sdk serve module:name [...]       the same from a shell
    my_task.delay(*args, **kwargs)              a background run; returns a future

One concept per module: `app` (the Celery app, from the environment), `queues`,
`served` (what a worker serves), `runner` (executing a run by id), `gate` (the
worker's event sink), `heartbeat`, `serve`, `cli`, `delay` (the client side),
`api` (HTTP calls), `engine_bridge` (the only import of engine internals).
Celery is imported only by the worker modules, never by `import sdk`.
"""
from __future__ import annotations

from typing import Any

__all__ = ["serve"]


def serve(*tasks_or_flows: Any, **options: Any) -> None:
    """Start a task worker serving these tasks and flows; returns when the worker stops (SIGTERM, Ctrl-C).

    Options: `concurrency` (runs at once, default 1), `name` (default `hostname:pid`).
    """
    from sdk.workers.serve import serve as _serve

    _serve(*tasks_or_flows, **options)

"""The SDK: Prefect 3 style `@flow` and `@task` that run in your process and report
every run, state and log line as events (SPEC §3).

    from sdk import flow, task

Import cost matters (a CLI imports this): nothing heavy is imported here;
caching, result storage and shipping are imported when first used.
"""
from __future__ import annotations

from sdk import _old_paths
from sdk.annotations import allow_failure, opaque, quote, unmapped
from sdk.context import get_run_context, tags
from sdk.events import flush
from sdk.flows import Flow, flow
from sdk.logs import get_run_logger
from sdk.states import State, StateType
from sdk.tasks import Task, task
from sdk.workers import serve

_old_paths.install()

__all__ = [
    "flow", "task", "get_run_logger", "serve", "flush", "tags", "quote", "opaque", "unmapped",
    "allow_failure", "Flow", "Task", "State", "StateType", "get_run_context",
]

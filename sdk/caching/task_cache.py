"""The engine's side of caching: key, lookup and write through `sdk.cache_policies` and
`sdk.caching.result_store` (imported only by tasks that cache).

A task with neither `cache_policy` nor `cache_key_fn` caches nothing. A key
that cannot be computed because an input has no stable hash is a warning and
the run goes on uncached; a `cache_key_fn` that raises fails the run. A store
that cannot read or write is a cache miss / a warning, never a failed run.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable

from sdk import cache_policies
from sdk.cache_policies import UnhashableInputsError

if TYPE_CHECKING:
    from sdk.context import TaskRunContext

__all__ = ["effective_policy", "compute_key", "read", "write", "MISS"]

_log = logging.getLogger("sdk.engine")
MISS = object()


def effective_policy(cache_policy: Any, cache_key_fn: Callable[..., Any] | None) -> Any:
    """The CachePolicy a task's options amount to, or None."""
    if cache_policy is None and cache_key_fn is None:
        return None
    if cache_key_fn is not None and not callable(cache_key_fn):
        raise TypeError(f"cache_key_fn must be callable f(context, parameters), got {cache_key_fn!r}")
    return cache_policies.effective_policy(cache_policy, cache_key_fn)


def compute_key(policy: Any, ctx: TaskRunContext) -> str | None:
    """The run's cache key, None when it won't be cached; raises when `cache_key_fn` fails."""
    flow_ctx = ctx.flow_run_context
    flow_parameters = flow_ctx.parameters if flow_ctx is not None else None
    try:
        return policy.compute_key(ctx, ctx.parameters, flow_parameters)
    except UnhashableInputsError as exc:
        _log.warning("%s - not cached: %s", ctx.task_run.label, exc)
        return None


def read(key: str) -> Any:
    """The cached value for `key`, or MISS."""
    from sdk.caching.result_store import get_result_store  # on first use: pickle is a slow import

    try:
        record = get_result_store().read(key)
    except Exception as exc:
        _log.warning("Cache entry %r could not be read (%s); running the task", key, exc)
        return MISS
    return MISS if record is None else record.value


def write(key: str, value: Any, expires_after: timedelta | None, label: str) -> None:
    from sdk.caching.result_store import get_result_store  # on first use: pickle is a slow import

    expiration = datetime.now(timezone.utc) + expires_after if expires_after is not None else None
    try:
        get_result_store().write(key, value, expiration)
    except Exception as exc:
        _log.warning("%s - result not cached: %s", label, exc)

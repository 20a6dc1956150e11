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


def effective_policy(cache_policy: Any, cache_key_fn: Callable[..., Any] | None,
                     result_storage_key: str | None = None, persist_result: bool | None = None) -> Any:
    """The CachePolicy a task's options amount to, or None. Without a policy, `result_storage_key`
    is the key (as in Prefect, where it replaces the computed key and a `cache_key_fn`), and
    `persist_result=True` alone means Prefect's DEFAULT (same inputs, same source, same run)."""
    if cache_policy is None and result_storage_key is not None:  # it wins over a cache_key_fn (Prefect's docs)
        from sdk.caching.results import StorageKeyPolicy

        return StorageKeyPolicy(result_storage_key)
    if cache_policy is None and cache_key_fn is None:
        if persist_result:
            return cache_policies.DEFAULT
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


def read(key: str, root: str | None = None) -> Any:
    """The cached value for `key` (in the store at `root`, default $ORCHESTRATOR_HOME/results), or MISS."""
    from sdk.caching.result_store import get_result_store  # on first use: pickle is a slow import

    try:
        record = (get_result_store() if root is None else get_result_store(root)).read(key)
    except Exception as exc:
        _log.warning("Cache entry %r could not be read (%s); running the task", key, exc)
        return MISS
    return MISS if record is None else record.value


def serializable_lock(policy: Any, key: str | None) -> Any:
    """A context manager holding the policy's lock on `key` under SERIALIZABLE isolation, else None."""
    if key is None or getattr(policy, "isolation_level", None) is None:
        return None
    from sdk.caching.isolation import key_lock  # only for policies configured with an isolation level

    return key_lock(policy, key)


def write(key: str, value: Any, expires_after: timedelta | None, label: str,
          root: str | None = None, serializer: str = "pickle") -> None:
    from sdk.caching.result_store import get_result_store  # on first use: pickle is a slow import

    expiration = datetime.now(timezone.utc) + expires_after if expires_after is not None else None
    try:
        store = get_result_store() if root is None else get_result_store(root)
        if serializer == "pickle":
            store.write(key, value, expiration)
        else:
            store.write(key, value, expiration, serializer)
    except Exception as exc:
        _log.warning("%s - result not cached: %s", label, exc)

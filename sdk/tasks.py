"""`@task` and the Task object: direct call, `.submit()`, `.map()`, `.with_options()`."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable, Iterable

from sdk.annotations import BaseAnnotation, allow_failure, quote, unmapped
from sdk.caching import hashing, task_cache
from sdk.engine import names
from sdk.engine.coroutines import in_worker_thread
from sdk.engine.options import DecoratedFunction, check_optional_bool
from sdk.engine.resolution import resolve
from sdk.engine.retries import check_jitter, exponential_backoff
from sdk.engine.task_engine import call_task, submit_task
from sdk.exceptions import MappingLengthMismatch, MappingMissingIterable
from sdk.futures import TaskRunFuture, TaskRunFutureList
from sdk.states import State
from sdk.workers import NOT_AVAILABLE

__all__ = ["Task", "task", "exponential_backoff", "task_input_hash"]

TASK_OPTIONS = (
    "name", "description", "tags", "version", "retries", "retry_delay_seconds", "retry_jitter_factor",
    "retry_condition_fn", "timeout_seconds", "log_prints", "cache_policy", "cache_key_fn",
    "cache_expiration", "refresh_cache", "persist_result", "task_run_name", "on_completion", "on_failure",
)


class Task(DecoratedFunction):
    """A function whose calls become observable task runs (see SPEC §3)."""

    DECORATOR = "@task"
    OPTIONS = TASK_OPTIONS
    RUN_NAME_OPTION = "task_run_name"

    def __init__(
        self,
        fn: Callable[..., Any],
        name: str | None = None,
        description: str | None = None,
        tags: Iterable[str] | None = None,
        version: str | None = None,
        retries: int | None = None,
        retry_delay_seconds: float | list[float] | Callable[[int], list[float]] | None = None,
        retry_jitter_factor: float | None = None,
        retry_condition_fn: Callable[[Any, Any, State], bool] | None = None,
        timeout_seconds: float | None = None,
        log_prints: bool | None = None,
        cache_policy: Any = None,
        cache_key_fn: Callable[[Any, dict[str, Any]], str | None] | None = None,
        cache_expiration: timedelta | None = None,
        refresh_cache: bool | None = None,
        persist_result: bool | None = None,
        task_run_name: str | Callable[..., str] | None = None,
        on_completion: list[Callable[..., Any]] | None = None,
        on_failure: list[Callable[..., Any]] | None = None,
    ) -> None:
        self._set_shared_options(fn, locals(), default_name=getattr(fn, "__name__", type(fn).__name__))
        if isinstance(tags, str) or (tags is not None and not all(isinstance(t, str) for t in tags)):
            raise TypeError(f"tags must be a list of strings, got {tags!r}")
        self.tags = tuple(dict.fromkeys(tags or ()))
        self.retry_jitter_factor = check_jitter(retry_jitter_factor)
        if retry_condition_fn is not None and not callable(retry_condition_fn):
            raise TypeError(f"retry_condition_fn must be callable f(task, task_run, state), got {retry_condition_fn!r}")
        self.retry_condition_fn = retry_condition_fn
        self.cache_policy = cache_policy
        self.cache_key_fn = cache_key_fn
        self.cache_policy_in_effect = task_cache.effective_policy(cache_policy, cache_key_fn)
        if cache_expiration is not None and not isinstance(cache_expiration, timedelta):
            raise TypeError(f"cache_expiration must be a datetime.timedelta, got {cache_expiration!r}")
        self.cache_expiration = cache_expiration
        self.refresh_cache = check_optional_bool("refresh_cache", refresh_cache)
        self.persist_result = check_optional_bool("persist_result", persist_result)
        self._task_key: str | None = None

    # -- identity ------------------------------------------------------------------------

    @property
    def task_key(self) -> str:
        """`<name>-<hash of module.qualname>`: the same in every process (SPEC §3.1)."""
        if self._task_key is None:
            self._task_key = hashing.task_key(self.fn, self.name)
        return self._task_key

    def run_name(self, parameters: dict[str, Any]) -> str:
        if self._run_name is None:
            return names.task_run_name(self.name)
        return self._run_name.render(parameters)

    def __repr__(self) -> str:
        return f"Task(name={self.name!r}, task_key={self._task_key or '…'!r})"

    # -- running -------------------------------------------------------------------------

    def __call__(self, *args: Any, return_state: bool = False, wait_for: Any = None, **kwargs: Any) -> Any:
        """Run now, in this thread; return the result (or the final State with `return_state=True`).
        For an `async def` task: a coroutine that does so (see sdk/engine/coroutines.py)."""
        parameters = self.signature.bind(args, kwargs)
        if self.signature.is_async:
            return in_worker_thread(call_task, self, parameters, wait_for, return_state)
        return call_task(self, parameters, wait_for, return_state)

    def submit(self, *args: Any, return_state: bool = False, wait_for: Any = None, **kwargs: Any) -> Any:
        """Run on the flow's task runner; returns a future at once (the final State, after
        waiting, with `return_state=True`)."""
        future = submit_task(self, self.signature.bind(args, kwargs), wait_for)
        if return_state:
            future.wait()
            return future.state
        return future

    def map(self, *args: Any, wait_for: Any = None, **kwargs: Any) -> TaskRunFutureList:
        """Submit one run per element of the iterable arguments (`unmapped(x)` is passed whole)."""
        return TaskRunFutureList(
            submit_task(self, parameters, wait_for) for parameters in map_parameters(self.signature.bind(args, kwargs))
        )

    def delay(self, *args: Any, **kwargs: Any) -> TaskRunFuture:
        """Run on a background task worker (not available yet)."""
        raise NotImplementedError(NOT_AVAILABLE)


def _is_iterable(value: Any) -> bool:
    if isinstance(value, (str, bytes, bytearray)) or hasattr(value, "read"):
        return False
    try:
        iter(value)
    except TypeError:
        return False
    return True


def map_parameters(parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """One parameters dict per mapped run; raises at once on bad input."""
    mapped: dict[str, list[Any]] = {}
    static: dict[str, Any] = {}
    wrappers: dict[str, type] = {}
    for name, value in parameters.items():
        if isinstance(value, unmapped):
            static[name] = value.value
            continue
        if isinstance(value, (quote, allow_failure)):  # map over the inside, keep each item wrapped
            wrappers[name] = type(value)
            value = value.value
        if isinstance(value, (TaskRunFuture, State)):
            value = resolve(value)
        if _is_iterable(value) and not isinstance(value, BaseAnnotation):
            mapped[name] = list(value)
        else:
            static[name] = wrappers[name](value) if name in wrappers else value
    if not mapped:
        raise MappingMissingIterable(
            "No iterable parameters were received. Parameters for map must include at least one iterable; "
            f"got {', '.join(f'{k}={v!r}' for k, v in parameters.items()) or 'none'}."
        )
    lengths = {name: len(values) for name, values in mapped.items()}
    if len(set(lengths.values())) > 1:
        raise MappingLengthMismatch(
            "Received iterable parameters with different lengths. Parameters for map must all be the "
            f"same length. Got lengths: {lengths}"
        )
    count = next(iter(lengths.values()))
    runs = []
    for i in range(count):
        params = {}
        for name in parameters:
            value = mapped[name][i] if name in mapped else static[name]
            wrapper = wrappers.get(name)
            params[name] = wrapper(value) if wrapper is not None and name in mapped else value
        runs.append(params)
    return runs


def task(__fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """`@task` or `@task(name=..., retries=..., ...)`: make a function a Task (options: SPEC §3.1)."""
    return Task.decorate(__fn, options)


def task_input_hash(context: Any, arguments: dict[str, Any]) -> str | None:
    """A `cache_key_fn` (Prefect's helper): the task's key and source, and the call's arguments."""
    return hashing.hash_objects(context.task.task_key, hashing.hash_source(context.task.fn), arguments)

"""`@flow` and the Flow object: calling a flow runs it (a child flow run inside another run)."""
from __future__ import annotations

import functools
from typing import Any, Callable

from sdk.engine import names
from sdk.engine.coroutines import in_worker_thread
from sdk.engine.flow_engine import run_flow
from sdk.engine.hooks import check_hooks
from sdk.engine.options import DecoratedFunction, RunNameTemplate, check_callable, check_optional_bool, check_timeout, check_unknown
from sdk.engine.retries import check_retries, normalize_delays
from sdk.engine.signatures import CallSignature
from sdk.task_runners import ThreadPoolTaskRunner

__all__ = ["Flow", "flow"]

FLOW_OPTIONS = (
    "name", "description", "version", "retries", "retry_delay_seconds", "timeout_seconds", "log_prints",
    "task_runner", "flow_run_name", "on_completion", "on_failure",
)


class Flow(DecoratedFunction):
    """A function whose calls become flow runs; tasks called inside belong to the run."""

    OPTIONS = FLOW_OPTIONS

    def __init__(
        self,
        fn: Callable[..., Any],
        name: str | None = None,
        description: str | None = None,
        version: str | None = None,
        retries: int | None = None,
        retry_delay_seconds: float | list[float] | None = None,
        timeout_seconds: float | None = None,
        log_prints: bool | None = None,
        task_runner: ThreadPoolTaskRunner | type[ThreadPoolTaskRunner] | None = None,
        flow_run_name: str | Callable[..., str] | None = None,
        on_completion: list[Callable[..., Any]] | None = None,
        on_failure: list[Callable[..., Any]] | None = None,
    ) -> None:
        check_callable("@flow", fn)
        self._options = {k: v for k, v in locals().items() if k in FLOW_OPTIONS}
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.name = name if name is not None else getattr(fn, "__name__", type(fn).__name__).replace("_", "-")
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty string, got {name!r}")
        self.description = description if description is not None else (getattr(fn, "__doc__", None) or None)
        self.version = version
        self.retries = check_retries(retries)
        self.retry_delay_seconds = retry_delay_seconds
        self.retry_delays = normalize_delays(retry_delay_seconds, self.retries)
        self.timeout_seconds = check_timeout(timeout_seconds)
        self.log_prints = check_optional_bool("log_prints", log_prints)
        if isinstance(task_runner, type) and issubclass(task_runner, ThreadPoolTaskRunner):
            task_runner = task_runner()
        if task_runner is not None and not isinstance(task_runner, ThreadPoolTaskRunner):
            raise TypeError(f"task_runner must be a ThreadPoolTaskRunner, got {task_runner!r}")
        self.task_runner = task_runner or ThreadPoolTaskRunner()
        self.flow_run_name = flow_run_name
        self._run_name = RunNameTemplate("flow_run_name", flow_run_name) if flow_run_name is not None else None
        self.on_completion = check_hooks("on_completion", on_completion)
        self.on_failure = check_hooks("on_failure", on_failure)
        self.signature = CallSignature(fn)

    def run_name(self, parameters: dict[str, Any]) -> str:
        if self._run_name is None:
            return names.flow_run_name()
        return self._run_name.render(parameters)

    def __call__(self, *args: Any, return_state: bool = False, **kwargs: Any) -> Any:
        """Run the flow now; return its result (or its final State with `return_state=True`);
        for an `async def` flow, a coroutine that does so."""
        parameters = self.signature.bind(args, kwargs)
        if self.signature.is_async:  # a coroutine, as in Prefect (see sdk/engine/coroutines.py)
            return in_worker_thread(run_flow, self, parameters, return_state)
        return run_flow(self, parameters, return_state)

    def serve(self, *args: Any, **kwargs: Any) -> Any:
        from sdk.workers import serve

        return serve(self, *args, **kwargs)

    def __repr__(self) -> str:
        return f"Flow(name={self.name!r})"


def flow(__fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """`@flow` or `@flow(name=..., retries=..., ...)`: make a function a Flow (options: SPEC §3.1)."""
    check_unknown("@flow", options, FLOW_OPTIONS)
    if __fn is None:
        return lambda fn: Flow(fn, **options)
    return Flow(__fn, **options)

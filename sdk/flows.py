"""`@flow` and the Flow object: calling a flow runs it (a child flow run inside another run)."""
from __future__ import annotations

from typing import Any, Callable

from sdk.engine import names
from sdk.engine.coroutines import in_worker_thread
from sdk.engine.flow_engine import run_flow
from sdk.engine.options import DecoratedFunction
from sdk.task_runners import ThreadPoolTaskRunner

__all__ = ["Flow", "flow"]

FLOW_OPTIONS = (
    "name", "description", "version", "retries", "retry_delay_seconds", "timeout_seconds", "log_prints",
    "task_runner", "flow_run_name", "on_completion", "on_failure",
)


class Flow(DecoratedFunction):
    """A function whose calls become flow runs; tasks called inside belong to the run."""

    DECORATOR = "@flow"
    OPTIONS = FLOW_OPTIONS
    RUN_NAME_OPTION = "flow_run_name"

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
        self._set_shared_options(fn, locals(), default_name=getattr(fn, "__name__", type(fn).__name__).replace("_", "-"))
        if isinstance(task_runner, type) and issubclass(task_runner, ThreadPoolTaskRunner):
            task_runner = task_runner()
        if task_runner is not None and not isinstance(task_runner, ThreadPoolTaskRunner):
            raise TypeError(f"task_runner must be a ThreadPoolTaskRunner, got {task_runner!r}")
        self.task_runner = task_runner or ThreadPoolTaskRunner()

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
        from sdk.workers import serve  # the worker side imports sdk.flows: import it when used

        return serve(self, *args, **kwargs)

    def __repr__(self) -> str:
        return f"Flow(name={self.name!r})"


def flow(__fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """`@flow` or `@flow(name=..., retries=..., ...)`: make a function a Flow (options: SPEC §3.1)."""
    return Flow.decorate(__fn, options)

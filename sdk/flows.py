"""`@flow` and the Flow object: calling a flow runs it (a child flow run inside another run)."""
from __future__ import annotations

from typing import Any, Callable

from sdk.engine import names
from sdk.engine.coroutines import in_worker_thread
from sdk.engine.flow_engine import run_flow
from sdk.engine.options import DecoratedFunction, check_optional_bool
from sdk.task_runners import ThreadPoolTaskRunner

__all__ = ["Flow", "flow"]

FLOW_OPTIONS = (
    "name", "description", "version", "retries", "retry_delay_seconds", "timeout_seconds", "log_prints",
    "task_runner", "flow_run_name", "on_completion", "on_failure", "on_running", "on_crashed",
    "on_cancellation", "validate_parameters", "persist_result", "result_storage", "result_serializer",
    "cache_result_in_memory",
)


class Flow(DecoratedFunction):
    """A function whose calls become flow runs; tasks called inside belong to the run."""

    DECORATOR = "@flow"
    OPTIONS = FLOW_OPTIONS
    RUN_NAME_OPTION = "flow_run_name"
    HOOK_OPTIONS = ("on_completion", "on_failure", "on_running", "on_crashed", "on_cancellation")

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
        on_running: list[Callable[..., Any]] | None = None,
        on_crashed: list[Callable[..., Any]] | None = None,
        on_cancellation: list[Callable[..., Any]] | None = None,
        validate_parameters: bool = True,
        persist_result: bool | None = None,
        result_storage: Any = None,
        result_serializer: Any = None,
        cache_result_in_memory: bool = True,
    ) -> None:
        self._set_shared_options(fn, locals(), default_name=getattr(fn, "__name__", type(fn).__name__).replace("_", "-"))
        if isinstance(task_runner, type) and issubclass(task_runner, ThreadPoolTaskRunner):
            task_runner = task_runner()
        if task_runner is not None and not isinstance(task_runner, ThreadPoolTaskRunner):
            raise TypeError(f"task_runner must be a ThreadPoolTaskRunner, got {task_runner!r}")
        self.task_runner = task_runner or ThreadPoolTaskRunner()
        self.should_validate_parameters = check_optional_bool("validate_parameters", validate_parameters) is not False
        # None when there is nothing to check: a flow without annotations pays nothing per call.
        self.parameter_validator = None
        if self.should_validate_parameters and any(
                p.annotation is not p.empty for p in self.signature.signature.parameters.values()):
            from sdk.engine.validation import validator_for  # only flows with annotations need it

            self.parameter_validator = validator_for(self.fn, self.signature.signature)
        self.persist_result = check_optional_bool("persist_result", persist_result)
        self.result_storage: str | None = None
        self.result_serializer = result_serializer
        if result_storage is not None:
            from sdk.caching.results import check_storage  # only for flows that use it: import sdk stays cheap

            self.result_storage = check_storage(result_storage)
        # As in Prefect: persistence on for the flow (explicitly, or by choosing where or how results
        # are stored) means its tasks persist and cache by default.
        self.persists_results = persist_result is True or (
            persist_result is None and (result_storage is not None or result_serializer is not None))
        self.cache_result_in_memory = check_optional_bool("cache_result_in_memory", cache_result_in_memory) is not False

    def validate_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """The parameters checked against the annotations and coerced (ParameterTypeError if they don't fit)."""
        from sdk.engine.validation import validator_for

        validator = validator_for(self.fn, self.signature.signature)
        return parameters if validator is None else validator.validate(parameters)

    @property
    def parameters(self) -> Any:
        """The JSON schema of the flow's parameters (a `ParameterSchema`), as Prefect's `Flow.parameters`."""
        from sdk.engine.validation import ParameterSchema, parameter_schema

        return ParameterSchema(parameter_schema(self.fn, self.signature.signature))

    def on_crashed(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        return self._add_hook("on_crashed", fn)

    def on_cancellation(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        return self._add_hook("on_cancellation", fn)

    def run_name(self, parameters: dict[str, Any]) -> str:
        if self._run_name is None:
            return names.flow_run_name()
        return self._run_name.render(parameters)

    def __call__(self, *args: Any, return_state: bool = False, **kwargs: Any) -> Any:
        """Run the flow now; return its result (or its final State with `return_state=True`);
        for an `async def` flow, a coroutine that does so."""
        parameters = self.signature.bind(args, kwargs)
        if self.is_generator:
            from sdk.engine.generators import generator_flow

            return generator_flow(self, parameters)
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

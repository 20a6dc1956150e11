"""The options @task and @flow share, checked at decoration time with clear TypeErrors."""
from __future__ import annotations

import copy
import functools
import inspect
import numbers
import types
from typing import Any, Callable

from sdk.engine.hooks import check_hooks
from sdk.engine.retries import check_retries, normalize_delays
from sdk.engine.signatures import CallSignature

__all__ = ["check_unknown", "check_callable", "check_timeout", "check_optional_bool", "RunNameTemplate",
           "DecoratedFunction"]


def check_unknown(decorator: str, given: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = [name for name in given if name not in allowed]
    if unknown:
        raise TypeError(
            f"{decorator} got unknown option(s): {', '.join(repr(u) for u in unknown)}. "
            f"Valid options: {', '.join(allowed)}"
        )


def check_callable(decorator: str, fn: Any) -> None:
    if not callable(fn):
        raise TypeError(f"{decorator} must decorate a function (a callable), got {type(fn).__name__}: {fn!r}")
    if inspect.isasyncgenfunction(fn) or inspect.isgeneratorfunction(fn):
        raise TypeError(f"{decorator} does not support generator functions: {getattr(fn, '__name__', fn)!r}")


def check_timeout(value: Any) -> float | None:
    if value is None:
        return None
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or value <= 0:
        raise TypeError(f"timeout_seconds must be a positive number, got {value!r}")
    return float(value)


def check_optional_bool(option: str, value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"{option} must be True, False or None, got {value!r}")
    return value


class RunNameTemplate:
    """`task_run_name` / `flow_run_name`: a format string over the parameters, or a callable
    (called with `parameters=` if it accepts that keyword, else with no arguments)."""

    __slots__ = ("template", "takes_parameters")

    def __init__(self, option: str, template: str | Callable[..., str]) -> None:
        if not isinstance(template, str) and not callable(template):
            raise TypeError(f"{option} must be a format string or a callable, got {template!r}")
        self.template = template
        self.takes_parameters = False
        if callable(template):
            try:
                self.takes_parameters = "parameters" in inspect.signature(template).parameters
            except (TypeError, ValueError):
                pass

    def render(self, parameters: dict[str, Any]) -> str:
        template = self.template
        if isinstance(template, str):
            try:
                return template.format(**parameters)
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(f"run name template {template!r} does not fit the parameters {list(parameters)}: {exc!r}") from exc
        name = template(parameters=parameters) if self.takes_parameters else template()
        if not isinstance(name, str):
            raise TypeError(f"run name callable {template!r} must return a str, got {name!r}")
        return name


class DecoratedFunction:
    """What Task and Flow share: the options both take (checked here, with clear TypeErrors
    at decoration time), the run name, options kept for `with_options`, and binding on classes.

    Subclasses set `DECORATOR` ("@task"), `OPTIONS` (their option names) and
    `RUN_NAME_OPTION`, and call `_set_shared_options` first in `__init__`.
    """

    DECORATOR = ""
    OPTIONS: tuple[str, ...] = ()
    RUN_NAME_OPTION = ""
    fn: Callable[..., Any]
    _options: dict[str, Any]

    @classmethod
    def decorate(cls, fn: Callable[..., Any] | None, options: dict[str, Any]) -> Any:
        """`@task` / `@task(...)` (and the same for flows): an instance, or a decorator making one."""
        check_unknown(cls.DECORATOR, options, cls.OPTIONS)
        if fn is None:
            return lambda fn: cls(fn, **options)
        return cls(fn, **options)

    def _set_shared_options(self, fn: Callable[..., Any], options: dict[str, Any], default_name: str) -> None:
        check_callable(self.DECORATOR, fn)
        self._options = {k: v for k, v in options.items() if k in self.OPTIONS}
        functools.update_wrapper(self, fn)
        self.fn = fn
        name = options["name"]
        self.name = name if name is not None else default_name
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty string, got {name!r}")
        description = options["description"]
        self.description = description if description is not None else (getattr(fn, "__doc__", None) or None)
        self.version = options["version"]
        self.retries = check_retries(options["retries"])
        self.retry_delay_seconds = options["retry_delay_seconds"]
        self.retry_delays = normalize_delays(self.retry_delay_seconds, self.retries)
        self.timeout_seconds = check_timeout(options["timeout_seconds"])
        self.log_prints = check_optional_bool("log_prints", options["log_prints"])
        template = options[self.RUN_NAME_OPTION]
        setattr(self, self.RUN_NAME_OPTION, template)  # `task_run_name` / `flow_run_name`, as given
        self._run_name = RunNameTemplate(self.RUN_NAME_OPTION, template) if template is not None else None
        self.on_completion = check_hooks("on_completion", options["on_completion"])
        self.on_failure = check_hooks("on_failure", options["on_failure"])
        self.signature = CallSignature(fn)  # once per task/flow: binding a call must stay cheap

    def with_options(self, **overrides: Any) -> Any:
        """A new task/flow with some options changed."""
        check_unknown("with_options()", overrides, self.OPTIONS)
        return type(self)(self.fn, **{**self._options, **overrides})

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        # Defined on a class: bind the instance as a method would be.
        if instance is None:
            return self
        bound = copy.copy(self)
        bound.fn = types.MethodType(self.fn, instance)
        bound.signature = CallSignature(bound.fn)  # type: ignore[attr-defined]
        return bound

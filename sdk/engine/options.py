"""Checks shared by @task and @flow options: clear TypeErrors at decoration time."""
from __future__ import annotations

import inspect
import numbers
from typing import Any, Callable

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
    """What Task and Flow share: options kept for `with_options`, and binding on classes.

    Subclasses set `OPTIONS` (their option names), keep the options they were
    built with in `_options`, and hold `fn` and `signature`.
    """

    OPTIONS: tuple[str, ...] = ()
    fn: Callable[..., Any]
    _options: dict[str, Any]

    def with_options(self, **overrides: Any) -> Any:
        """A new task/flow with some options changed."""
        check_unknown("with_options()", overrides, self.OPTIONS)
        return type(self)(self.fn, **{**self._options, **overrides})

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        # Defined on a class: bind the instance as a method would be.
        if instance is None:
            return self
        import copy
        import types

        from sdk.engine.signatures import CallSignature

        bound = copy.copy(self)
        bound.fn = types.MethodType(self.fn, instance)
        bound.signature = CallSignature(bound.fn)  # type: ignore[attr-defined]
        return bound

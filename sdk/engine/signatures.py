"""Binding call arguments to a function's parameters, computed once per function.

`inspect.signature` costs tens of microseconds, so a `CallSignature` is built
once per Task/Flow and binds plain positional-or-keyword signatures with a
fast path; anything else (positional-only, *args, **kwargs) goes through
`Signature.bind`.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

from sdk.engine.coroutines import run_to_completion

__all__ = ["CallSignature"]

_P = inspect.Parameter
_EMPTY = _P.empty


class CallSignature:
    __slots__ = ("signature", "names", "positional", "defaults", "allowed", "simple", "fn_name", "is_async")

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.signature = inspect.signature(fn)
        params = list(self.signature.parameters.values())
        self.fn_name = getattr(fn, "__name__", repr(fn))
        self.names = tuple(p.name for p in params)
        self.positional = tuple(p.name for p in params if p.kind is _P.POSITIONAL_OR_KEYWORD)
        self.defaults = tuple((p.name, p.default) for p in params)
        self.allowed = frozenset(p.name for p in params if p.kind in (_P.POSITIONAL_OR_KEYWORD, _P.KEYWORD_ONLY))
        kinds = {p.kind for p in params}
        self.simple = kinds <= {_P.POSITIONAL_OR_KEYWORD, _P.KEYWORD_ONLY}
        self.is_async = inspect.iscoroutinefunction(fn)

    def bind(self, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The call's parameters by name, defaults applied, in signature order (TypeError if they don't fit)."""
        if not self.simple:
            bound = self.signature.bind(*args, **kwargs)
            bound.apply_defaults()
            return dict(bound.arguments)
        positional = self.positional
        if len(args) > len(positional):
            raise TypeError(f"{self.fn_name}() takes {len(positional)} positional argument(s) but {len(args)} were given")
        params = dict(zip(positional, args))
        if kwargs:
            for name, value in kwargs.items():
                if name not in self.allowed:
                    raise TypeError(f"{self.fn_name}() got an unexpected keyword argument {name!r}")
                if name in params:
                    raise TypeError(f"{self.fn_name}() got multiple values for argument {name!r}")
                params[name] = value
        if len(params) != len(self.names):
            for name, default in self.defaults:
                if name not in params:
                    if default is _EMPTY:
                        raise TypeError(f"{self.fn_name}() missing required argument: {name!r}")
                    params[name] = default
        if kwargs:
            params = {name: params[name] for name in self.names}
        return params

    def call(self, fn: Callable[..., Any], params: dict[str, Any]) -> Any:
        """Call `fn` with `params`; an async function is run to completion on its own loop."""
        if self.simple:
            result = fn(**params)
        else:
            args, kwargs = self.split(params)
            result = fn(*args, **kwargs)
        if self.is_async:
            return run_to_completion(result)
        return result

    def split(self, params: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
        """(args, kwargs) that call the function with `params`."""
        if self.simple:
            return (), params
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for p in self.signature.parameters.values():
            if p.name not in params:
                continue
            value = params[p.name]
            if p.kind is _P.POSITIONAL_ONLY:
                args.append(value)
            elif p.kind is _P.VAR_POSITIONAL:
                args.extend(value)
            elif p.kind is _P.VAR_KEYWORD:
                kwargs.update(value)
            elif p.kind is _P.POSITIONAL_OR_KEYWORD and not kwargs:
                args.append(value)
            else:
                kwargs[p.name] = value
        return tuple(args), kwargs

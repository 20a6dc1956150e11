"""Mocking runtime values from the environment, as Prefect documents: a variable
`PREFECT__RUNTIME__{SUBMODULE}__{KEY}` (or `ORCHESTRATOR__RUNTIME__...`) overrides
`sdk.runtime.<submodule>.<key>`, even a key the module does not have. The text is cast to
the type of the value it replaces when that is a bool, int, float, str or datetime."""
from __future__ import annotations

import os
from datetime import datetime
from typing import Any, Callable

__all__ = ["MISSING", "mocked", "RuntimeValues"]

MISSING = object()
_PREFIXES = ("ORCHESTRATOR__RUNTIME__", "PREFECT__RUNTIME__")


def _cast(text: str, like: Any) -> Any:
    if isinstance(like, bool):
        return text.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(like, (int, float)):
        return type(like)(text)
    if isinstance(like, datetime):
        return datetime.fromisoformat(text)
    return text


def mocked(submodule: str, key: str, real: Callable[[], Any]) -> Any:
    """The mocked value of `submodule.key` if one is set in the environment, else MISSING."""
    for prefix in _PREFIXES:
        text = os.environ.get(f"{prefix}{submodule.upper()}__{key.upper()}")
        if text is not None:
            try:
                return _cast(text, real())
            except (ValueError, TypeError, AttributeError):
                return text
    return MISSING


class RuntimeValues:
    """What one `sdk.runtime` submodule's attributes read: a mocked value first, else the current
    run's (`readers` over the context `current()` returns), else the value Prefect gives outside a run."""

    def __init__(self, submodule: str, names: list[str], current: Callable[[], Any],
                 readers: dict[str, Callable[[Any], Any]], outside: dict[str, Callable[[], Any]]) -> None:
        self.submodule, self.names, self.current = submodule, names, current
        self.readers, self.outside = readers, outside

    def value(self, name: str) -> Any:
        ctx = self.current()
        reader = self.readers.get(name)
        if ctx is None or reader is None:
            empty = self.outside.get(name)
            return empty() if empty is not None else None
        return reader(ctx)

    def attribute(self, module_name: str, name: str) -> Any:
        """A module `__getattr__`: unknown names raise AttributeError as for any module."""
        if name.startswith("__"):
            raise AttributeError(name)
        value = mocked(self.submodule, name, lambda: self.value(name))
        if value is not MISSING:
            return value
        if name not in self.names:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        return self.value(name)

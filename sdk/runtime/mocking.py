"""Mocking runtime values from the environment, as Prefect documents: a variable
`PREFECT__RUNTIME__{SUBMODULE}__{KEY}` (or `ORCHESTRATOR__RUNTIME__...`) overrides
`sdk.runtime.<submodule>.<key>`, even a key the module does not have. The text is cast to
the type of the value it replaces when that is a bool, int, float, str or datetime."""
from __future__ import annotations

import os
from datetime import datetime
from typing import Any, Callable

__all__ = ["MISSING", "mocked"]

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

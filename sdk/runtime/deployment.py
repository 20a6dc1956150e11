"""Deployments are a server-side Prefect concept this SDK does not have: every attribute is
None (`parameters` is `{}`), as Prefect reports for a run that is not from a deployment."""
from __future__ import annotations

from typing import Any

__all__ = ["id", "name", "version", "flow_run_id", "parameters"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return {} if name == "parameters" else None


def __dir__() -> list[str]:
    return list(__all__)

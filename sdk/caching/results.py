"""Prefect's result options on a task: `result_storage` (a directory), `result_serializer`
("pickle" or "json") and `result_storage_key` (a key template that is also the cache key).

Kept light: imported with `sdk.tasks`, so nothing here imports pickle or the store.
"""
from __future__ import annotations

import os
import warnings
from typing import Any

from sdk.engine.options import IgnoredOptionWarning

__all__ = ["SERIALIZERS", "check_storage", "check_serializer", "record_root", "StorageKeyPolicy"]

SERIALIZERS = ("pickle", "json")


def check_storage(value: Any) -> str | None:
    """A directory for the task's results (a path, or a block with a `basepath`, such as
    Prefect's LocalFileSystem); None means $ORCHESTRATOR_HOME/results. Other blocks are ignored."""
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        return os.path.abspath(os.path.expanduser(os.fspath(value)))
    basepath = getattr(value, "basepath", None)
    if isinstance(basepath, (str, os.PathLike)):
        return os.path.abspath(os.path.expanduser(os.fspath(basepath)))
    warnings.warn(f"result_storage={value!r} is not a directory: results go to the default store",
                  IgnoredOptionWarning, stacklevel=4)
    return None


def check_serializer(value: Any) -> str:
    """`"pickle"` (the default) or `"json"`; anything else is warned about and pickle is used."""
    if value is None:
        return "pickle"
    name = value if isinstance(value, str) else getattr(value, "type", None)
    if name in SERIALIZERS:
        return name
    warnings.warn(f"result_serializer={value!r} is not supported (use 'pickle' or 'json'): pickle is used",
                  IgnoredOptionWarning, stacklevel=4)
    return "pickle"


def record_root(policy: Any, result_storage: str | None) -> str | None:
    """Where a task's cache records go: the policy's `key_storage` if configured, else its
    `result_storage` (None: the default store)."""
    key_storage = getattr(policy, "key_storage", None)
    if key_storage is not None:
        return check_storage(key_storage)
    return result_storage


class StorageKeyPolicy:
    """The cache key of a task with `result_storage_key` and no cache policy: the template
    rendered with `parameters` and Prefect's runtime names (`flow_run`, `task_run`, `flow`, `task`)."""

    def __init__(self, template: str) -> None:
        self.template = template

    def compute_key(self, task_ctx: Any, inputs: dict[str, Any], flow_parameters: Any, **_: Any) -> str:
        from sdk import runtime

        return self.template.format(parameters=inputs, flow_run=runtime.flow_run, task_run=runtime.task_run)

    def __repr__(self) -> str:
        return f"StorageKeyPolicy({self.template!r})"

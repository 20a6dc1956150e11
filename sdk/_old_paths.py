"""Module paths from before the SDK was laid out in subpackages.

Code written against them (`from sdk.runs import TaskRun`, `from sdk.spool import
Spool`) keeps importing: the old name is the same module object as the new one,
so monkeypatching either affects both. New code imports the new paths.
"""
from __future__ import annotations

import importlib
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType

__all__ = ["MOVED", "install"]

MOVED = {
    **{f"sdk.{name}": f"sdk.engine.{name}" for name in (
        "task_engine", "flow_engine", "runs", "resolution", "rendering", "retries", "timeouts",
        "hooks", "signatures", "options", "names", "stamps", "coroutines")},
    "sdk.hashing": "sdk.caching.hashing",
    "sdk.results": "sdk.caching.result_store",
    "sdk.spool": "sdk.shipping.spool",
    "sdk.shipping_http": "sdk.shipping.transport",
    "sdk.shipping_settings": "sdk.shipping.settings",
    "sdk.shipping_warnings": "sdk.shipping.problems",
}


class _MovedModuleFinder:
    """A meta path finder and loader (importlib.abc is not imported: it costs tens of ms),
    consulted last: an old path resolves to the module at its new path."""

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return ModuleSpec(fullname, self)

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module: ModuleType) -> None:
        pass  # the new path already ran it


def install() -> None:
    if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(_MovedModuleFinder())

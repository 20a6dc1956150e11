"""Module paths from before the SDK's subpackages still import, as the very module at the new path."""
from __future__ import annotations

import importlib

import pytest

import sdk  # noqa: F401  (installs the old paths)
from sdk._old_paths import MOVED


@pytest.mark.parametrize("old, new", sorted(MOVED.items()))
def test_an_old_module_path_is_the_module_at_its_new_path(old, new):
    assert importlib.import_module(old) is importlib.import_module(new)


def test_names_import_from_old_paths_as_before():
    from sdk.runs import TaskRun
    from sdk.shipping import ShippingSink
    from sdk.spool import Spool

    from sdk.engine.runs import TaskRun as NewTaskRun
    from sdk.shipping.sink import ShippingSink as NewShippingSink
    from sdk.shipping.spool import Spool as NewSpool

    assert (TaskRun, ShippingSink, Spool) == (NewTaskRun, NewShippingSink, NewSpool)


def test_an_unknown_sdk_module_still_fails_to_import():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("sdk.no_such_module")

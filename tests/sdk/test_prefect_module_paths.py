"""Swapping `prefect` for `sdk` in an import works for the modules Prefect users import from."""
from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PATHS = {
    "sdk.logging": ["get_run_logger", "disable_run_logger", "get_logger"],
    "sdk.logging.loggers": ["flow_run_logger", "task_run_logger", "get_run_logger", "disable_run_logger"],
    "sdk.context": ["FlowRunContext", "TaskRunContext", "get_run_context", "tags"],
    "sdk.runtime": ["flow_run", "task_run", "deployment"],
    "sdk.runtime.flow_run": ["id", "name", "parameters", "run_count", "tags", "flow_name"],
    "sdk.runtime.task_run": ["id", "name", "parameters", "run_count", "tags", "task_name"],
    "sdk.testing.utilities": ["prefect_test_harness"],
    "sdk.transactions": ["transaction", "get_transaction", "IsolationLevel", "CommitMode", "Transaction"],
    "sdk.locking": ["MemoryLockManager", "FileSystemLockManager"],
    "sdk.locking.memory": ["MemoryLockManager"],
    "sdk.locking.filesystem": ["FileSystemLockManager"],
    "sdk.utilities.annotations": ["quote", "unmapped", "allow_failure", "opaque"],
    "sdk.annotations": ["quote", "unmapped", "allow_failure", "opaque"],
    "sdk.futures": ["PrefectFuture", "wait", "as_completed"],
    "sdk.task_runners": ["ThreadPoolTaskRunner", "ProcessPoolTaskRunner"],
    "sdk.tasks": ["task", "Task", "exponential_backoff", "task_input_hash"],
    "sdk.flows": ["flow", "Flow"],
    "sdk.exceptions": ["ParameterTypeError", "MissingContextError"],
    "sdk.results": ["ResultStore"],
    "sdk.cache_policies": ["INPUTS", "DEFAULT", "CacheKeyFnPolicy"],
}


@pytest.mark.parametrize("module", sorted(PATHS))
def test_prefect_module_path_has_prefects_names(module):
    imported = importlib.import_module(module)
    missing = [name for name in PATHS[module] if not hasattr(imported, name)]
    assert missing == []


def test_the_same_objects_under_both_annotation_paths():
    from sdk import annotations
    from sdk.utilities import annotations as prefect_path

    assert prefect_path.quote is annotations.quote and prefect_path.unmapped is annotations.unmapped


def test_new_modules_are_not_loaded_by_import_sdk():
    code = ("import sys, sdk; print(sorted(m for m in ('sdk.transactions', 'sdk.locking', 'sdk.runtime', "
            "'sdk.testing', 'sdk.engine.validation', 'sdk.engine.process_pool', 'uuid', 'pydantic') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


def test_every_prefect_option_is_accepted_and_meaningless_ones_warn_once():
    import warnings

    from sdk import flow, task
    from sdk.engine.options import IgnoredOptionWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        @task(name="t", description="d", tags=["a"], version="1", cache_policy=None, cache_key_fn=None,
              cache_expiration=None, task_run_name="t-{x}", retries=0, retry_delay_seconds=0,
              retry_jitter_factor=None, persist_result=None, result_storage=None, result_storage_key=None,
              result_serializer=None, cache_result_in_memory=True, timeout_seconds=None, log_prints=False,
              refresh_cache=None, on_completion=[], on_failure=[], on_running=[], on_commit=[], on_rollback=[],
              retry_condition_fn=None, viz_return_value=1, asset_deps=None)
        def t(x):
            return x

        @flow(name="f", version="1", flow_run_name="f", retries=0, retry_delay_seconds=0, task_runner=None,
              description="d", timeout_seconds=None, validate_parameters=True, persist_result=None,
              result_storage=None, result_serializer=None, cache_result_in_memory=True, log_prints=None,
              on_completion=[], on_failure=[], on_cancellation=[], on_crashed=[], on_running=[])
        def f():
            return t(1)

    assert f() == 1
    assert [str(w.message) for w in caught if w.category is IgnoredOptionWarning] == [
        "@task option viz_return_value=1 has no effect in this SDK and is ignored"]
    assert t.with_options(name="u").name == "u"
    with pytest.raises(TypeError, match="unknown option"):
        task(not_an_option=1)

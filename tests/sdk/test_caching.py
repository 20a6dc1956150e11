"""Caching end to end through `@task`: policies, options, and the shared file store."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import threading
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from sdk import flow, task
from sdk.caching import result_store as results
from sdk.cache_policies import (
    DEFAULT,
    FLOW_PARAMETERS,
    INPUTS,
    NO_CACHE,
    RUN_ID,
    TASK_SOURCE,
    CacheKeyFnError,
)
from sdk.events import MemorySink, set_sink
from sdk.caching.result_store import ResultStoreWarning, get_result_store
from sdk.states import StateType

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_HOME", str(tmp_path))
    return tmp_path


def counting_task(**options):
    """A task returning (x, how many times its body ran so far), with the body's call list."""
    calls: list = []

    @task(**options)
    def compute(x, debug=False):
        calls.append(x)
        return (x, len(calls))

    return compute, calls


def bounded(fn, *args, timeout=30, **kwargs):
    """Call fn in a thread; fail the test instead of hanging if it doesn't return in time."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"{fn} did not return within {timeout} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def result_files(home: Path) -> list[Path]:
    directory = home / "results"
    return sorted(directory.glob("*.result")) if directory.exists() else []


def test_task_without_policy_or_key_fn_caches_nothing(home):
    compute, calls = counting_task()
    compute(1)
    compute(1)
    assert calls == [1, 1]
    assert result_files(home) == []


def test_cache_hit_ends_cached_without_running_the_function():
    compute, calls = counting_task(cache_policy=INPUTS)
    first = compute(1, return_state=True)
    second = compute(1, return_state=True)
    assert calls == [1]
    assert first.name == "Completed"
    assert second.name == "Cached" and second.type is StateType.COMPLETED and second.is_completed()
    assert second.result() == first.result() == (1, 1)


def test_inputs_policy_runs_again_for_different_inputs():
    compute, calls = counting_task(cache_policy=INPUTS)
    compute(1)
    compute(2)
    compute(1)
    assert calls == [1, 2]


def test_inputs_policy_hits_across_flow_runs():
    compute, calls = counting_task(cache_policy=INPUTS)

    @flow
    def pipeline():
        return compute(1)

    assert pipeline() == pipeline() == (1, 1)
    assert calls == [1]


def test_inputs_minus_a_parameter_ignores_it():
    compute, calls = counting_task(cache_policy=INPUTS - "debug")
    compute(1, debug=True)
    assert compute(1, debug=False) == (1, 1)
    assert calls == [1]


def test_task_source_policy_ignores_inputs():
    compute, calls = counting_task(cache_policy=TASK_SOURCE)
    compute(1)
    assert compute(2) == (1, 1)
    assert calls == [1]


def test_task_source_policy_separates_tasks_with_different_source():
    @task(cache_policy=TASK_SOURCE)
    def one():
        return 1

    @task(cache_policy=TASK_SOURCE)
    def two():
        return 2

    assert (one(), two()) == (1, 2)


def test_flow_parameters_policy_hits_in_a_later_flow_run_with_the_same_parameters():
    compute, calls = counting_task(cache_policy=FLOW_PARAMETERS)

    @flow
    def pipeline(n):
        return compute(n)

    pipeline(1)
    assert pipeline(1) == (1, 1)
    pipeline(2)
    assert calls == [1, 2]


def test_run_id_policy_caches_within_a_flow_run_only():
    compute, calls = counting_task(cache_policy=RUN_ID)

    @flow
    def pipeline():
        return [compute(1), compute(2)]

    assert pipeline() == [(1, 1), (1, 1)]
    assert pipeline() == [(1, 2), (1, 2)]
    assert calls == [1, 1]


def test_run_id_policy_outside_a_flow_never_hits():
    compute, calls = counting_task(cache_policy=RUN_ID)
    compute(1)
    compute(1)
    assert calls == [1, 1]


def test_no_cache_policy_caches_nothing(home):
    compute, calls = counting_task(cache_policy=NO_CACHE)
    compute(1)
    compute(1)
    assert calls == [1, 1]
    assert result_files(home) == []


def test_default_policy_caches_same_inputs_within_a_flow_run():
    compute, calls = counting_task(cache_policy=DEFAULT)

    @flow
    def pipeline():
        return [compute(1), compute(1), compute(2)]

    assert pipeline() == [(1, 1), (1, 1), (2, 2)]
    pipeline()
    assert calls == [1, 2, 1, 2]


def test_combined_policy_needs_every_part_to_match():
    compute, calls = counting_task(cache_policy=INPUTS + FLOW_PARAMETERS)

    @flow
    def pipeline(n, x):
        return compute(x)

    pipeline(1, 10)
    pipeline(1, 10)
    pipeline(2, 10)
    pipeline(1, 20)
    assert calls == [10, 10, 20]


def test_cache_hit_through_submit():
    compute, calls = counting_task(cache_policy=INPUTS)

    @flow
    def pipeline():
        first = compute.submit(1)
        first.wait()
        second = compute.submit(1)
        return first.result(), second.result(), second.state.name

    assert pipeline() == ((1, 1), (1, 1), "Cached")
    assert calls == [1]


def test_cache_key_fn_key_decides_the_hit():
    compute, calls = counting_task(cache_key_fn=lambda context, parameters: f"parity-{parameters['x'] % 2}")
    compute(1)
    assert compute(3) == (1, 1)
    compute(2)
    assert calls == [1, 2]


def test_cache_key_fn_receives_the_run_context_and_parameters():
    seen = []

    def key_fn(context, parameters):
        seen.append((context.task.name, context.task_run.id is not None, dict(parameters)))
        return "k"

    compute, _ = counting_task(cache_key_fn=key_fn)
    compute(5, debug=True)
    assert seen == [("compute", True, {"x": 5, "debug": True})]


def test_cache_key_fn_returning_none_caches_nothing():
    compute, calls = counting_task(cache_key_fn=lambda context, parameters: None)
    compute(1)
    compute(1)
    assert calls == [1, 1]


def test_cache_key_fn_that_raises_fails_the_run_clearly_without_running_it():
    def broken_key(context, parameters):
        raise KeyError("no such column")

    compute, calls = counting_task(cache_key_fn=broken_key)
    state = bounded(compute, 1, return_state=True)
    assert state.is_failed()
    with pytest.raises(CacheKeyFnError, match="broken_key.*no such column"):
        state.result()
    with pytest.raises(CacheKeyFnError):
        bounded(compute, 1)
    assert calls == []


def test_cache_key_fn_that_raises_in_a_submitted_run_fails_its_future():
    def broken_key(context, parameters):
        raise RuntimeError("boom")

    compute, calls = counting_task(cache_key_fn=broken_key)

    @flow
    def pipeline():
        future = compute.submit(1)
        return future.result(timeout=30, raise_on_failure=False), future.state.is_failed()

    error, failed = bounded(pipeline)
    assert isinstance(error, CacheKeyFnError) and "boom" in str(error)
    assert failed and calls == []


def test_cache_expiration_in_the_future_still_hits():
    compute, calls = counting_task(cache_policy=INPUTS, cache_expiration=timedelta(hours=1))
    compute(1)
    compute(1)
    assert calls == [1]


def test_expired_entry_runs_the_task_again(monkeypatch):
    compute, calls = counting_task(cache_policy=INPUTS, cache_expiration=timedelta(hours=1))
    compute(1)
    later = datetime.now(timezone.utc) + timedelta(hours=2)
    monkeypatch.setattr(results, "_now", lambda: later)
    assert compute(1) == (1, 2)
    assert calls == [1, 1]


def test_zero_cache_expiration_is_expired_at_once():
    compute, calls = counting_task(cache_policy=INPUTS, cache_expiration=timedelta(0))
    compute(1)
    compute(1)
    assert calls == [1, 1]


def test_refresh_cache_runs_the_task_and_replaces_the_entry():
    compute, calls = counting_task(cache_policy=INPUTS)
    compute(1)
    refreshed = compute.with_options(refresh_cache=True)
    assert refreshed(1) == (1, 2)
    assert compute(1) == (1, 2)
    assert calls == [1, 1]


def test_persist_result_false_writes_nothing(home):
    compute, calls = counting_task(cache_policy=INPUTS, persist_result=False)
    compute(1)
    compute(1)
    assert calls == [1, 1]
    assert result_files(home) == []


def test_failed_run_is_not_cached(home):
    attempts = []

    @task(cache_policy=INPUTS)
    def flaky(x):
        attempts.append(x)
        if len(attempts) == 1:
            raise ValueError("first time fails")
        return x

    with pytest.raises(ValueError):
        flaky(1)
    assert flaky(1) == 1
    assert attempts == [1, 1]


def test_corrupt_entry_is_a_miss_with_a_warning_and_the_task_runs(home):
    compute, calls = counting_task(cache_key_fn=lambda context, parameters: "fixed-key")
    compute(1)
    path = Path(get_result_store().path_for("fixed-key"))
    path.write_bytes(path.read_bytes()[:25])
    with pytest.warns(ResultStoreWarning, match="'fixed-key'"):
        assert bounded(compute, 1) == (1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResultStoreWarning)
        assert compute(1) == (1, 2)  # the run rewrote the entry
    assert calls == [1, 1]


class RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_unhashable_input_runs_uncached_with_a_warning_naming_it():
    handler = RecordingHandler()
    logging.getLogger("sdk").addHandler(handler)
    try:
        compute, calls = counting_task(cache_policy=INPUTS)
        lock = threading.Lock()
        compute(lock)
        compute(lock)
    finally:
        logging.getLogger("sdk").removeHandler(handler)
    assert calls == [lock, lock]
    assert any("'x'" in message and "cache_key_fn" in message for message in handler.messages)


CROSS_PROCESS_SCRIPT = """
import sys
from sdk import task
from sdk.cache_policies import INPUTS, TASK_SOURCE


@task(cache_policy=INPUTS + TASK_SOURCE)
def expensive(x):
    print("BODY RAN", flush=True)
    return {"tenfold": x * 10}


state = expensive(int(sys.argv[1]), return_state=True)
print("STATE", state.name, state.result()["tenfold"], flush=True)
"""


def test_cache_hit_in_another_process_sharing_orchestrator_home(home, tmp_path):
    script = tmp_path / "expensive_job.py"
    script.write_text(textwrap.dedent(CROSS_PROCESS_SCRIPT))
    env = {**os.environ, "ORCHESTRATOR_HOME": str(home), "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "random"}

    def run(x: int) -> list[str]:
        done = subprocess.run(
            [sys.executable, str(script), str(x)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    assert run(3) == ["BODY RAN", "STATE Completed 30"]
    assert run(3) == ["STATE Cached 30"]
    assert run(4) == ["BODY RAN", "STATE Completed 40"]


def test_inputs_policy_hashes_resolved_upstream_results_not_futures():
    @task
    def upstream(x):
        return x + 1

    compute, calls = counting_task(cache_policy=INPUTS)

    @flow
    def pipeline():
        return compute(upstream.submit(1))

    assert pipeline() == pipeline() == (2, 1)
    assert calls == [2]


def test_unpicklable_result_completes_without_being_cached(home):
    handler = RecordingHandler()
    logging.getLogger("sdk").addHandler(handler)
    runs = []
    try:
        @task(cache_policy=INPUTS)
        def make_lock(x):
            runs.append(x)
            return threading.Lock()

        first = make_lock(1, return_state=True)
        second = make_lock(1, return_state=True)
    finally:
        logging.getLogger("sdk").removeHandler(handler)
    assert first.name == second.name == "Completed"
    assert runs == [1, 1]
    assert result_files(home) == []
    assert any("not cached" in message for message in handler.messages)


def test_cached_run_reports_cached_as_its_final_state_event():
    sink = MemorySink()
    previous = set_sink(sink)
    try:
        compute, _ = counting_task(cache_policy=INPUTS)
        compute(1)
        state = compute(1, return_state=True)
    finally:
        set_sink(previous)
    events = [e for e in sink.events if e.get("task_run_id") == state.task_run_id and e["type"] == "task_run.state"]
    assert events[-1]["state_name"] == "Cached"
    assert events[-1]["state_type"] == "COMPLETED"

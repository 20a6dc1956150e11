"""timeout_seconds on tasks and flows."""
from __future__ import annotations

import threading
import time

import pytest

from sdk import flow, task
from sdk.exceptions import FlowRunTimeout, TaskRunTimeout

from .conftest import created, state_names


def test_task_past_its_timeout_ends_timed_out_within_half_a_second(sink):
    release = threading.Event()

    @task(timeout_seconds=0.3)
    def sleepy():
        release.wait(30)

    start = time.monotonic()
    with pytest.raises(TaskRunTimeout):
        sleepy()
    elapsed = time.monotonic() - start
    release.set()
    assert 0.3 <= elapsed < 0.8
    (run,) = created(sink, "task_run", "sleepy")
    assert state_names(sink, run["task_run_id"])[-1] == "TimedOut"


def test_timed_out_state_is_failed_type():
    release = threading.Event()
    state = task(timeout_seconds=0.1, name="t")(lambda: release.wait(30))(return_state=True)
    release.set()
    assert state.is_failed() and state.name == "TimedOut"
    assert isinstance(state.result(raise_on_failure=False), TaskRunTimeout)


def test_timed_out_submitted_task_does_not_block_the_flow():
    release = threading.Event()

    @task(timeout_seconds=0.2)
    def sleepy():
        release.wait(30)

    @flow
    def f():
        return sleepy.submit().result(raise_on_failure=False)

    start = time.monotonic()
    error = f()
    release.set()
    assert isinstance(error, TaskRunTimeout) and time.monotonic() - start < 2


def test_task_within_its_timeout_completes():
    assert task(timeout_seconds=5)(lambda: 7)() == 7


def test_task_with_timeout_sees_its_run_context():
    from sdk import get_run_logger

    @task(timeout_seconds=5)
    def logs():
        get_run_logger().info("inside")
        return True

    assert logs()


def test_timed_out_task_can_be_retried():
    calls = []

    @task(timeout_seconds=0.1, retries=1)
    def slow_once():
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.5)
        return len(calls)

    assert slow_once() == 2


def test_nested_task_timeout_fails_the_parent_not_times_it_out():
    release = threading.Event()
    inner = task(timeout_seconds=0.1, name="inner")(lambda: release.wait(30))

    @task
    def outer():
        inner()

    state = outer(return_state=True)
    release.set()
    assert state.name == "Failed"


def test_flow_past_its_timeout_ends_timed_out_and_raises(sink):
    release = threading.Event()

    @flow(timeout_seconds=0.3)
    def slow_flow():
        release.wait(30)

    start = time.monotonic()
    with pytest.raises(FlowRunTimeout):
        slow_flow()
    release.set()
    assert time.monotonic() - start < 0.8
    (run,) = created(sink, "flow_run", "slow-flow")
    assert state_names(sink, run["flow_run_id"])[-1] == "TimedOut"


def test_flow_timeout_covers_waiting_for_its_tasks():
    release = threading.Event()

    @task
    def slow():
        release.wait(30)

    @flow(timeout_seconds=0.3)
    def f():
        slow.submit()

    start = time.monotonic()
    with pytest.raises(FlowRunTimeout):
        f()
    release.set()
    assert time.monotonic() - start < 0.8

"""timeout_seconds on tasks and flows."""
from __future__ import annotations

import threading
import time

import pytest

from sdk import flow, task
from sdk.exceptions import FlowRunTimeout, TaskRunTimeout

from .conftest import created, state_names


# The bodies below wait up to a minute; returning within NOT_WAITING_FOR_THE_BODY seconds shows the
# caller stopped waiting at the timeout (the margin is for a loaded machine; speed belongs in bench/).
NOT_WAITING_FOR_THE_BODY = 15


def test_task_past_its_timeout_ends_timed_out_without_waiting_for_the_body(sink):
    release = threading.Event()

    @task(timeout_seconds=0.3)
    def sleepy():
        release.wait(60)

    start = time.monotonic()
    with pytest.raises(TaskRunTimeout):
        sleepy()
    elapsed = time.monotonic() - start
    release.set()
    assert 0.3 <= elapsed < NOT_WAITING_FOR_THE_BODY
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
        release.wait(60)

    @flow
    def f():
        return sleepy.submit().result(raise_on_failure=False)

    start = time.monotonic()
    error = f()
    release.set()
    assert isinstance(error, TaskRunTimeout) and time.monotonic() - start < NOT_WAITING_FOR_THE_BODY


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
    release = threading.Event()

    @task(timeout_seconds=1, retries=1)
    def slow_once():
        calls.append(1)
        if len(calls) == 1:
            release.wait(60)  # only the first attempt overruns; the second returns at once
        return len(calls)

    try:
        assert slow_once() == 2
    finally:
        release.set()


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
        release.wait(60)

    start = time.monotonic()
    with pytest.raises(FlowRunTimeout):
        slow_flow()
    release.set()
    assert time.monotonic() - start < NOT_WAITING_FOR_THE_BODY
    (run,) = created(sink, "flow_run", "slow-flow")
    assert state_names(sink, run["flow_run_id"])[-1] == "TimedOut"


def test_flow_timeout_covers_waiting_for_its_tasks():
    release = threading.Event()

    @task
    def slow():
        release.wait(60)

    @flow(timeout_seconds=0.3)
    def f():
        slow.submit()

    start = time.monotonic()
    with pytest.raises(FlowRunTimeout):
        f()
    release.set()
    assert time.monotonic() - start < NOT_WAITING_FOR_THE_BODY

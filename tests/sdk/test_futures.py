"""TaskRunFuture API, sdk.futures.wait and as_completed."""
from __future__ import annotations

import threading

import pytest

from sdk import flow, task
from sdk.exceptions import UpstreamTaskError
from sdk.futures import as_completed, wait


@task
def echo(x):
    return x


@task
def fail():
    raise RuntimeError("nope")


def test_future_result_returns_the_value():
    assert echo.submit(5).result(timeout=10) == 5


def test_future_result_raises_the_task_exception():
    with pytest.raises(RuntimeError, match="nope"):
        fail.submit().result(timeout=10)


def test_future_result_without_raising_returns_the_exception():
    error = fail.submit().result(timeout=10, raise_on_failure=False)
    assert isinstance(error, RuntimeError)


def test_future_exposes_its_task_run_id_and_state(sink):
    future = echo.submit(1)
    future.wait(10)
    assert future.state.is_completed()
    ids = {e["task_run_id"] for e in sink.of_type("task_run.created")}
    assert future.task_run_id in ids


def test_future_state_before_the_run_starts_is_pending():
    gate = threading.Event()

    @task
    def slow():
        gate.wait(10)

    @flow
    def f():
        first = slow.submit()
        later = echo.submit(first)  # waits for `first`, so it stays Pending
        state_name = later.state.name
        gate.set()
        later.wait(10)
        return state_name

    assert f() == "Pending"


def test_future_result_with_timeout_raises_timeout_error():
    gate = threading.Event()

    @task
    def slow():
        gate.wait(10)

    future = slow.submit()
    try:
        with pytest.raises(TimeoutError):
            future.result(timeout=0.05)
    finally:
        gate.set()
    future.wait(10)


def test_add_done_callback_is_called_with_the_future():
    seen = []
    done = threading.Event()
    future = echo.submit(3)

    def callback(fut):
        seen.append(fut)
        done.set()

    future.add_done_callback(callback)
    assert done.wait(10)
    assert seen == [future]


def test_add_done_callback_on_a_finished_future_runs_at_once():
    future = echo.submit(3)
    future.wait(10)
    seen = []
    future.add_done_callback(seen.append)
    assert seen == [future]


def test_wait_returns_done_and_not_done():
    gate = threading.Event()

    @task
    def slow():
        gate.wait(10)

    quick, stuck = echo.submit(1), slow.submit()
    quick.wait(10)
    done, not_done = wait([quick, stuck], timeout=0.05)
    assert done == {quick} and not_done == {stuck}
    gate.set()
    assert wait([quick, stuck], timeout=10).not_done == set()


def test_as_completed_yields_in_completion_order():
    gate = threading.Event()

    @task
    def slow():
        gate.wait(10)
        return "slow"

    slow_future = slow.submit()
    fast_future = echo.submit("fast")
    order = []
    for future in as_completed([slow_future, fast_future], timeout=10):
        order.append(future.result())
        gate.set()
    assert order == ["fast", "slow"]


def test_as_completed_times_out():
    gate = threading.Event()

    @task
    def slow():
        gate.wait(10)

    future = slow.submit()
    try:
        with pytest.raises(TimeoutError):
            list(as_completed([future], timeout=0.05))
    finally:
        gate.set()


def test_result_of_a_run_whose_upstream_failed_raises_upstream_task_error():
    @flow
    def f():
        return echo.submit(fail.submit())

    with pytest.raises(UpstreamTaskError):
        f()

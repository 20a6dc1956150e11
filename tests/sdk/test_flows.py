"""Flow runs: child flows, waiting for every future, final state from the returned value."""
from __future__ import annotations

import threading
import time

import pytest

from sdk import allow_failure, flow, task
from sdk.exceptions import UpstreamTaskError
from sdk.task_runners import ThreadPoolTaskRunner

from .conftest import created, state_names


@task
def echo(x):
    return x


@task
def fail():
    raise ValueError("bad")


def test_flow_returns_its_value():
    @flow
    def f(x):
        return x * 2

    assert f(21) == 42


def test_flow_raising_raises_to_the_caller_and_ends_failed(sink):
    @flow
    def f():
        raise KeyError("k")

    with pytest.raises(KeyError):
        f()
    (run,) = created(sink, "flow_run", "f")
    assert state_names(sink, run["flow_run_id"])[-1] == "Failed"


def test_flow_return_state_gives_the_final_state():
    @flow
    def f():
        raise KeyError("k")

    state = f(return_state=True)
    assert state.is_failed() and isinstance(state.result(raise_on_failure=False), KeyError)


def test_flow_inside_a_flow_is_a_child_flow_run(sink):
    @flow
    def child():
        return echo(1)

    @flow
    def parent():
        return child()

    assert parent() == 1
    (parent_run,) = created(sink, "flow_run", "parent")
    (child_run,) = created(sink, "flow_run", "child")
    assert child_run["parent_flow_run_id"] == parent_run["flow_run_id"]
    (task_run,) = created(sink, "task_run", "echo")
    assert task_run["flow_run_id"] == child_run["flow_run_id"]


def test_top_level_flow_has_no_parent(sink):
    flow(lambda: None, name="solo")()
    (run,) = created(sink, "flow_run", "solo")
    assert run["parent_flow_run_id"] is None and run["parent_task_run_id"] is None


def test_flow_waits_for_futures_it_did_not_wait_for(sink):
    finished = []

    @task
    def slow():
        time.sleep(0.2)
        finished.append(True)

    @flow
    def f():
        slow.submit()

    f()
    assert finished == [True]


def test_flow_returning_a_failed_future_ends_failed_and_raises():
    @flow
    def f():
        return fail.submit()

    state = f(return_state=True)
    assert state.is_failed() and "1/1 states failed" in state.message
    with pytest.raises(ValueError, match="bad"):
        f()


def test_flow_returning_completed_futures_returns_their_results():
    @flow
    def f():
        return {"a": echo.submit(1), "b": [echo.submit(2)]}

    assert f() == {"a": 1, "b": [2]}


def test_flow_reports_the_worst_state_of_what_it_returned():
    @flow
    def f():
        return [echo.submit(1), fail.submit()]

    state = f(return_state=True)
    assert state.is_failed() and state.message == "1/2 states failed."


def test_flow_returning_a_not_ready_future_fails():
    @flow
    def f():
        return echo.submit(fail.submit())

    state = f(return_state=True)
    assert state.is_failed()
    with pytest.raises(UpstreamTaskError):
        state.result()


def test_flow_that_ignores_a_failed_future_completes():
    @flow
    def f():
        fail.submit()
        return "ok"

    assert f() == "ok"


def test_flow_with_allowed_failure_completes():
    @task
    def summary(x):
        return type(x).__name__

    @flow
    def f():
        return summary(allow_failure(fail.submit()))

    assert f() == "ValueError"


def test_flow_task_runner_limits_concurrency():
    running = []
    peak = []
    lock = threading.Lock()

    @task
    def work(i):
        with lock:
            running.append(i)
            peak.append(len(running))
        time.sleep(0.02)
        with lock:
            running.remove(i)

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=2))
    def f():
        work.map(range(6)).wait(10)

    f()
    assert max(peak) <= 2


def test_flow_run_name_from_format_string(sink):
    @flow(flow_run_name="nightly-{day}")
    def f(day):
        return day

    f("mon")
    assert created(sink, "flow_run", "f")[0]["name"] == "nightly-mon"


def test_flow_run_name_from_callable(sink):
    @flow(flow_run_name=lambda: "custom")
    def f():
        pass

    f()
    assert created(sink, "flow_run", "f")[0]["name"] == "custom"


def test_generated_flow_run_name_is_adjective_animal(sink):
    flow(lambda: None, name="g")()
    name = created(sink, "flow_run", "g")[0]["name"]
    assert len(name.split("-")) == 2


def test_flow_parameters_and_version_are_reported(sink):
    @flow(version="v3")
    def f(a, b=2):
        return a + b

    f(1)
    (run,) = created(sink, "flow_run", "f")
    assert run["parameters"] == {"a": 1, "b": 2} and run["version"] == "v3"


def test_child_flow_receives_resolved_futures_of_its_parent():
    @flow
    def child(x):
        return x + 1

    @flow
    def parent():
        return child(echo.submit(1))

    assert parent() == 2


def test_child_flow_given_a_failed_future_fails_without_running():
    ran = []

    @flow
    def child(x):
        ran.append(x)

    @flow
    def parent():
        return child(fail.submit(), return_state=True).is_failed()

    assert parent() is True and ran == []


def test_flow_on_a_method_binds_the_instance():
    class Pipeline:
        factor = 3

        @flow
        def run(self, x):
            return self.factor * echo(x)

    assert Pipeline().run(2) == 6

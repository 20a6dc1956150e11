"""Prefect's task runners page (concepts/task-runners) and the process pool runner: `.submit()`
gives a `PrefectFuture`, futures passed to tasks arrive as values, `.result()` raises or returns
the exception, `max_workers` bounds the threads; `ProcessPoolTaskRunner` runs bodies in worker
processes with results, states, logs and events coming back to this process."""
from __future__ import annotations

import os
import threading
import time

import pytest

from sdk import flow, get_run_logger, task
from sdk.futures import PrefectFuture, wait
from sdk.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner
from tests.sdk.conftest import created, state_names


def test_max_workers_bounds_the_bodies_running_at_once():
    running, peak, lock = [0], [0], threading.Lock()
    release = threading.Event()

    @task
    def stop_at_floor(floor):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        release.wait(0.05)
        with lock:
            running[0] -= 1
        return floor

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=3))
    def elevator():
        floors = [stop_at_floor.submit(floor) for floor in range(10, 0, -1)]
        wait(floors)
        return [f.result() for f in floors]

    assert elevator() == list(range(10, 0, -1))
    assert 1 <= peak[0] <= 3


def test_submit_returns_a_prefect_future_and_a_future_passed_to_a_task_arrives_as_its_value(capsys):
    @task
    def say_hello(name):
        return f"Hello {name}!"

    @task
    def print_result(result):
        print(type(result))
        print(result)

    @flow(name="hello-flow")
    def hello_world():
        future = say_hello.submit("Marvin")
        assert isinstance(future, PrefectFuture)
        print_result.submit(future).wait()

    hello_world()
    assert capsys.readouterr().out == "<class 'str'>\nHello Marvin!\n"


def test_result_raises_or_returns_the_exception():
    @task
    def fails():
        raise ValueError("nope")

    @flow
    def my_flow():
        future = fails.submit()
        result = future.result(raise_on_failure=False)
        with pytest.raises(ValueError):
            future.result()
        return future.state.is_failed(), result

    failed, result = my_flow(return_state=True).result(raise_on_failure=False) or (None, None)
    assert failed is True and isinstance(result, ValueError)


# -- ProcessPoolTaskRunner: tasks at module level, found by name in the worker processes -----------

def remember_tag(tag: str) -> None:
    os.environ["SDK_TEST_WORKER_TAG"] = tag


@task
def square_in_worker(x: int) -> tuple[int, int, str | None]:
    get_run_logger().info("squaring %s", x)
    return x * x, os.getpid(), os.environ.get("SDK_TEST_WORKER_TAG")


@task
def fail_in_worker() -> None:
    raise ValueError("raised in a worker process")


@task(retries=1, retry_delay_seconds=0)
def fail_then_count() -> None:
    raise KeyError("always")


@pytest.fixture(scope="module")
def process_runner():
    runner = ProcessPoolTaskRunner(max_workers=2, initializer=remember_tag, initargs=("from-initializer",))
    yield runner


def test_process_pool_runs_bodies_in_other_processes_with_results_states_and_logs(sink, process_runner):
    @flow(task_runner=process_runner)
    def parallel():
        futures = square_in_worker.map([1, 2, 3])
        failing = fail_in_worker.submit()
        retried = fail_then_count.submit()
        wait([failing, retried])
        return [f.result() for f in futures], failing.state, retried.state

    results, failing, retried = parallel()
    assert [r[0] for r in results] == [1, 4, 9]
    assert all(pid != os.getpid() for _, pid, _ in results)
    assert {tag for _, _, tag in results} == {"from-initializer"}
    assert failing.is_failed() and isinstance(failing.data, ValueError)
    assert "Traceback in the worker process" in "".join(getattr(failing.data, "__notes__", []))
    assert retried.is_failed() and retried.name == "Failed"
    retried_run = created(sink, "task_run", "fail_then_count")[0]["task_run_id"]
    assert state_names(sink, retried_run) == ["Pending", "Running", "AwaitingRetry", "Retrying", "Failed"]
    # events reach this process's sink: each task run's states and the logs made in the worker
    runs = created(sink, "task_run", "square_in_worker")
    assert len(runs) == 3
    logs = [e for e in sink.of_type("log") if e["message"].startswith("squaring")]
    assert sorted(e["message"] for e in logs) == ["squaring 1", "squaring 2", "squaring 3"]
    for log in logs:
        own = [e["seq"] for e in sink.events if e.get("task_run_id") == log["task_run_id"]]
        assert len(own) == len(set(own))  # renumbered into the run's own sequence


def test_a_direct_call_under_a_process_pool_runs_here(process_runner):
    @flow(task_runner=process_runner)
    def direct():
        return square_in_worker(5)

    value, pid, _ = direct()
    assert value == 25 and pid == os.getpid()


def test_a_task_that_is_not_importable_by_name_fails_clearly(process_runner):
    @task
    def local_task():
        return 1

    @flow(task_runner=process_runner)
    def uses_local():
        future = local_task.submit()
        future.wait()
        return future.state.is_failed(), str(future.state.data)

    failed, message = uses_local(return_state=True).result(raise_on_failure=False)
    assert failed and "cannot run in a worker process" in message


def test_process_pool_runner_class_is_accepted_as_a_class_and_duplicates_settings():
    runner = ProcessPoolTaskRunner(max_workers=3)
    copy = runner.duplicate()
    assert isinstance(copy, ProcessPoolTaskRunner) and copy.max_workers == 3

    @flow(task_runner=ProcessPoolTaskRunner)
    def noop():
        return time.time() > 0

    assert noop() is True

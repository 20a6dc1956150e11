"""Prefect's states concept page (concepts/states): names and types, a task returning a state
decides its own, `return_state=True`, hook signatures, and RolledBack after a rollback."""
from __future__ import annotations

import pytest

from sdk import flow, task
from sdk.exceptions import FailedRun
from sdk.states import (AwaitingRetry, Cached, Completed, Crashed, Failed, Late, Pending, Retrying, Running,
                        Scheduled, StateType, TimedOut)
from sdk.transactions import transaction
from tests.sdk.conftest import created, state_names


@pytest.mark.parametrize("make, name, type_", [
    (Scheduled, "Scheduled", "SCHEDULED"), (Late, "Late", "SCHEDULED"), (AwaitingRetry, "AwaitingRetry", "SCHEDULED"),
    (Pending, "Pending", "PENDING"), (Running, "Running", "RUNNING"), (Retrying, "Retrying", "RUNNING"),
    (Completed, "Completed", "COMPLETED"), (Cached, "Cached", "COMPLETED"), (Failed, "Failed", "FAILED"),
    (TimedOut, "TimedOut", "FAILED"), (Crashed, "Crashed", "CRASHED"),
])
def test_state_names_and_types(make, name, type_):
    state = make()
    assert (state.name, state.type) == (name, StateType(type_))
    assert make(name="Renamed").name == "Renamed" and make(name="Renamed").type == StateType(type_)


@task
def toggle_task(fail: bool):
    if fail:
        return Failed(message="I was instructed to fail.")
    return Completed(message="I was instructed to succeed.")


def test_a_task_returning_a_state_takes_it():
    failed = toggle_task(fail=True, return_state=True)
    assert failed.is_failed() and failed.message == "I was instructed to fail."
    assert toggle_task(fail=False, return_state=True).message == "I was instructed to succeed."
    with pytest.raises(FailedRun, match="I was instructed to fail."):
        toggle_task(fail=True)


def test_a_flow_returning_a_failed_task_state_fails():
    @flow
    def example():
        return toggle_task(fail=True, return_state=True), toggle_task(fail=False, return_state=True)

    assert example(return_state=True).is_failed()


def test_return_state_gives_the_state():
    @task
    def add_one(x):
        return x + 1

    @flow
    def my_flow():
        result = add_one(1)
        assert isinstance(result, int) and result == 2
        state = add_one(1, return_state=True)
        assert state.is_completed() is True
        assert state.result() == 2
        return "ok"

    assert my_flow() == "ok"


def test_state_hooks_get_the_object_its_run_and_the_state():
    seen = []

    def my_task_state_hook(task_obj, run, state):
        seen.append((task_obj.name, run.id == state.task_run_id, state.name))

    @task(on_completion=[my_task_state_hook])
    def quick():
        return 1

    quick()
    assert seen == [("quick", True, "Completed")]


def test_a_rolled_back_task_run_ends_rolled_back(sink):
    @task
    def staged():
        return 1

    @flow
    def pipeline():
        with transaction():
            staged()
            raise RuntimeError("later step failed")

    assert pipeline(return_state=True).is_failed()
    run_id = created(sink, "task_run", "staged")[0]["task_run_id"]
    assert state_names(sink, run_id) == ["Pending", "Running", "Completed", "RolledBack"]

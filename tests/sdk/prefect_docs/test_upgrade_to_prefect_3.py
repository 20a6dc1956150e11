"""Prefect's "upgrade to Prefect 3" guide (how-to-guides/migrate/upgrade-to-prefect-3): flow
final states come from what the flow returns or raises, futures are synchronous, and caching
is opt-in (`cache_policy=None` turns it off)."""
from __future__ import annotations

import pytest

from sdk import flow, task
from sdk.exceptions import FailedRun
from sdk.states import Failed


@task
def failing_task():
    raise ValueError("Task failed")


def test_an_unhandled_task_exception_fails_the_flow():
    @flow
    def my_flow():
        failing_task()

    with pytest.raises(ValueError, match="Task failed"):
        my_flow()


def test_return_state_and_raise():
    @flow
    def my_flow():
        state = failing_task(return_state=True)
        if state.is_failed():
            raise ValueError(state.result(raise_on_failure=False))
        return "Flow completed successfully"

    with pytest.raises(ValueError, match="Task failed"):
        my_flow()


def test_try_except_and_return_a_failed_state():
    @flow
    def my_flow():
        try:
            failing_task()
        except ValueError:
            return Failed(message="Flow failed due to task failure")
        return "Flow completed successfully"

    state = my_flow(return_state=True)
    assert state.is_failed() and state.message == "Flow failed due to task failure"
    with pytest.raises(FailedRun, match="Flow failed due to task failure"):
        my_flow()


def test_a_failed_task_whose_failure_is_not_used_leaves_the_flow_completed():
    @flow
    def my_flow():
        failing_task.submit().wait()
        return "done"

    assert my_flow() == "done"


def test_submit_is_synchronous_in_an_async_flow():
    import asyncio

    @task
    async def my_task():
        return 1

    @flow
    async def my_flow():
        future = my_task.submit()
        return future.result()

    assert asyncio.run(my_flow()) == 1


def test_cache_policy_none_runs_every_time():
    calls = []

    @task(cache_policy=None)
    def side_effect(x):
        calls.append(x)

    @flow
    def f():
        side_effect(1)
        side_effect(1)

    f()
    assert calls == [1, 1]

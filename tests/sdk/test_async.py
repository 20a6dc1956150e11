"""`async def` tasks and flows: calling one returns a coroutine, as in Prefect."""
from __future__ import annotations

import asyncio

import pytest

from sdk import flow, get_run_logger, task

from .conftest import created, state_names


@task
async def double(x):
    await asyncio.sleep(0)
    return 2 * x


def test_calling_an_async_task_returns_a_coroutine_with_its_result():
    coroutine = double(2)
    assert asyncio.iscoroutine(coroutine)
    assert asyncio.run(coroutine) == 4


def test_async_flow_awaits_async_tasks(sink):
    @flow
    async def pipeline(x):
        get_run_logger().info("in async flow")
        return await double(x) + await double(1)

    assert asyncio.run(pipeline(3)) == 8
    (run,) = created(sink, "flow_run", "pipeline")
    assert state_names(sink, run["flow_run_id"])[-1] == "Completed"
    assert {e["flow_run_id"] for e in created(sink, "task_run", "double")} == {run["flow_run_id"]}


def test_async_task_submitted_from_a_sync_flow():
    @flow
    def f():
        return [fut.result(timeout=10) for fut in double.map([1, 2, 3])]

    assert f() == [2, 4, 6]


def test_async_task_failure_raises_when_awaited():
    @task
    async def broken():
        raise KeyError("async boom")

    with pytest.raises(KeyError):
        asyncio.run(broken())


def test_async_task_retries_and_timeout():
    calls = []

    @task(retries=1, timeout_seconds=0.2)
    async def slow_once():
        calls.append(1)
        if len(calls) == 1:
            await asyncio.sleep(5)
        return len(calls)

    assert asyncio.run(slow_once()) == 2


def test_async_flow_return_state():
    @flow
    async def failing():
        raise ValueError("x")

    state = asyncio.run(failing(return_state=True))
    assert state.is_failed()

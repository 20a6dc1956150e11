"""Prefect's "run work concurrently" page (how-to-guides/workflows/run-work-concurrently):
`.submit()`, `.wait()`, `wait()`, futures passed between tasks, `.map()` and asyncio."""
from __future__ import annotations

import asyncio
import threading

from sdk import flow, task
from sdk.futures import PrefectFuture, wait


def test_submitted_tasks_run_concurrently():
    started = []
    all_started = threading.Event()

    @task
    def stop_at_floor(floor: int):
        started.append(floor)
        if len(started) == 3:
            all_started.set()
        # each waits for the others: only concurrent runs can all get here
        assert all_started.wait(30)
        return floor

    @flow
    def elevator():
        floors = [stop_at_floor.submit(floor) for floor in (3, 2, 1)]
        done, not_done = wait(floors)
        return sorted(f.result() for f in done), not_done

    assert elevator() == ([1, 2, 3], set())


@task
def cool_task():
    return "sup"


def test_result_wait_and_wait_utility(capsys):
    @flow
    def my_workflow():
        future = cool_task.submit()
        assert isinstance(future, PrefectFuture)
        print(future.result())
        other = cool_task.submit()
        other.wait()
        futures = [cool_task.submit() for _ in range(10)]
        wait(futures)
        return other.state.is_completed(), all(f.state.is_completed() for f in futures)

    assert my_workflow() == (True, True)
    assert capsys.readouterr().out == "sup\n"


def test_a_future_passed_to_a_task_is_waited_for(capsys):
    @task
    def what_did_cool_task_say(what_it_said: str):
        return f"cool task said {what_it_said}"

    @flow
    def my_workflow():
        future = cool_task.submit()
        print(what_did_cool_task_say(future))

    my_workflow()
    assert capsys.readouterr().out == "cool task said sup\n"


def test_map_submits_one_run_per_item():
    @task
    def stop_at_floor(floor: int):
        return floor * 10

    @flow
    def elevator():
        floors = stop_at_floor.map(list(range(3, 0, -1)))
        wait(floors)
        return floors.result()

    assert elevator() == [30, 20, 10]


def test_async_tasks_gather_in_an_async_flow(capsys):
    @task
    async def stop_at_floor(floor: int):
        print(f"elevator moving to floor {floor}")
        await asyncio.sleep(0)
        return floor

    @flow
    async def elevator():
        return await asyncio.gather(*[stop_at_floor(floor) for floor in (3, 2, 1)])

    assert asyncio.run(elevator()) == [3, 2, 1]
    assert sorted(capsys.readouterr().out.splitlines()) == [f"elevator moving to floor {n}" for n in (1, 2, 3)]
